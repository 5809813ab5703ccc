"""Running git: the one place flowloop starts a git process or looks for a repository's git data.

Every git command goes through :func:`run_git` (short commands) or :func:`stream_git` (one long
``git log`` read in chunks), so "git is missing" and "not a git repository" read the same
everywhere. Where the repository's data lives is asked of git itself (``git rev-parse
--show-toplevel`` / ``--git-dir`` / ``--git-common-dir``) instead of assuming ``.git`` is a
folder: in a linked worktree (``git worktree add``) or a submodule, ``.git`` is a file that
points at the real git directory. The one exception is :func:`current_branch`, on the agent
hooks' hot path, which reads that pointer file the way git does rather than start a process.

Errors are :class:`GitError`, a ``CollectorError`` (what git-reading code raised before).
"""

from __future__ import annotations

import codecs
import subprocess
from collections.abc import Iterator
from pathlib import Path

from flowloop.errors import GitError

CHUNK = 1 << 16


def run_git(root: Path, *args: str, timeout: float | None = None) -> str:
    """A short git command's stdout; a clear error when git is missing or this is no repository."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, encoding="utf-8", errors="replace",
            timeout=timeout,
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH", hint="install git") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitError(f"git {args[0] if args else ''} took longer than {timeout:g} s", path=root) from exc
    if done.returncode != 0:
        message = done.stderr.strip() or f"git {' '.join(args)} failed"
        if "not a git repository" in message:
            raise GitError("not a git repository", path=root, hint="run inside a git work tree")
        raise GitError(message, path=root)
    return done.stdout


def stream_git(root: Path, *args: str) -> Iterator[str]:
    """The stdout of one long git command, decoded, in chunks as it arrives (memory stays flat).

    The exit status is checked when the output ends: a failure raises :class:`GitError`."""
    try:
        proc = subprocess.Popen(["git", "-C", str(root), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH", hint="install git") from exc
    assert proc.stdout is not None
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        while True:
            chunk = proc.stdout.read(CHUNK)
            text = decoder.decode(chunk, final=not chunk)
            if text:
                yield text
            if not chunk:
                break
    finally:
        proc.stdout.close()
        stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        code = proc.wait()
    if code != 0:
        raise GitError(f"git {_subcommand(args)} failed: {stderr.strip()}", path=root)


def _subcommand(args: tuple[str, ...]) -> str:
    """``log`` of ``-c core.quotePath=false log --reverse ...`` (for messages)."""
    rest = list(args)
    while rest and rest[0].startswith("-"):
        rest = rest[2:] if rest[0] in ("-c", "-C") else rest[1:]
    return rest[0] if rest else ""


def head_commit(root: Path) -> str | None:
    """The sha of HEAD, or None in a repository with no commits yet."""
    run_git(root, "rev-parse", "--git-dir")  # raises the clear "not a git repository" error
    try:
        return run_git(root, "rev-parse", "--verify", "-q", "HEAD^{commit}").strip() or None
    except GitError:
        return None


def is_ancestor(root: Path, older: str, newer: str) -> bool:
    """Whether commit ``older`` is reachable from ``newer`` (False when either is unknown)."""
    try:
        subprocess.run(["git", "-C", str(root), "merge-base", "--is-ancestor", older, newer], check=True, capture_output=True)
    except subprocess.CalledProcessError:
        return False
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH", hint="install git") from exc
    return True


def toplevel(root: Path) -> Path | None:
    """The top folder of the work tree ``root`` is in (a linked worktree's own), else None."""
    try:
        top = run_git(root, "rev-parse", "--show-toplevel").strip()
    except GitError:
        return None  # not in a work tree, a bare repository, or no git at all
    return Path(top).resolve() if top else None


def is_toplevel(root: Path) -> bool:
    """Whether ``root`` is the top of its own work tree (main checkout or linked worktree).

    A ``.flow`` project in a subfolder of a bigger checkout (an example folder) is not: its
    parent's history is not its own."""
    return toplevel(root) == Path(root).resolve()


def git_dir(root: Path) -> Path | None:
    """The git directory of ``root``'s work tree (a linked worktree has its own), else None."""
    return _rev_parse_path(root, "--git-dir")


def common_dir(root: Path) -> Path | None:
    """The git directory shared by all worktrees (objects, refs, hooks, config), else None."""
    return _rev_parse_path(root, "--git-common-dir")


def _rev_parse_path(root: Path, flag: str) -> Path | None:
    try:
        found = run_git(root, "rev-parse", flag).strip()
    except GitError:
        return None
    path = Path(found)
    return (path if path.is_absolute() else Path(root) / path).resolve()


def own_git_dir(root: Path) -> Path | None:
    """``root``'s own git directory without starting a process, or None when ``root`` has none.

    ``.git`` is either that directory, or (worktree, submodule) a file ``gitdir: <path>`` that
    points at it, relative to ``root`` or absolute: git's own "gitfile" format. Only ``root``
    itself is looked at, not its parents, like :func:`is_toplevel`."""
    dotgit = Path(root) / ".git"
    if dotgit.is_dir():
        return dotgit
    try:
        first = dotgit.read_text(encoding="utf-8").splitlines()[0].strip()
    except (OSError, UnicodeDecodeError, IndexError):
        return None
    if not first.startswith("gitdir:"):
        return None
    target = Path(first.removeprefix("gitdir:").strip())
    return target if target.is_absolute() else (Path(root) / target)


def current_branch(root: Path) -> str | None:
    """The branch checked out in ``root``'s own work tree, None when detached or not a repository."""
    directory = own_git_dir(root)
    if directory is None:
        return None
    try:
        text = (directory / "HEAD").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text.removeprefix("ref: refs/heads/") if text.startswith("ref: refs/heads/") else None


class BlobReader:
    """Many ``rev:path`` file versions through one ``git cat-file --batch`` process.

    Mining training pairs from history reads two versions of every changed document in every
    commit (thousands); a process per read would cost more than the mining itself."""

    def __init__(self, root: Path) -> None:
        try:
            self._proc = subprocess.Popen(["git", "-C", str(root), "cat-file", "--batch"],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except FileNotFoundError as exc:
            raise GitError("git is not installed or not on PATH", hint="install git") from exc
        self.root = root

    def read(self, rev: str, path: str) -> bytes | None:
        """The bytes of ``path`` at ``rev``, or None when it does not exist there."""
        return self.read_object(f"{rev}:{path}")

    def read_object(self, name: str) -> bytes | None:
        """The bytes of the blob ``name`` (an id, or ``rev:path``); None when missing or not a blob."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        if "\n" in name:
            return None  # cat-file reads one request per line
        self._proc.stdin.write(f"{name}\n".encode("utf-8"))
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().decode("utf-8", "replace").split()
        if len(header) != 3:
            if not header:
                raise GitError("git cat-file stopped answering", path=self.root)
            return None  # "<name> missing" (or ambiguous)
        size = int(header[2])
        data = self._proc.stdout.read(size)
        self._proc.stdout.read(1)  # the newline after the contents
        return data if header[1] == "blob" else None

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc.wait()

    def __enter__(self) -> "BlobReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""Where a flowloop repository keeps its files, and ``flow init``.

A repository is any folder (normally a git work tree) with a ``.flow/`` folder:
``config.toml`` and ``pilrs/`` are committed; ``state/`` (index, signals, datasets, models,
reports) is ignored and can always be rebuilt or re-imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flowloop.atomic import atomic_write_text
from flowloop.config import DEFAULT_CONFIG_TOML, Settings, load_settings
from flowloop.errors import InitError, NotInitializedError

PILR_TYPES = ("ephemeral", "evergreen", "cumulative")
FLOW_DIR = ".flow"
GITIGNORE_TEXT = "# flowloop: derived state (index, signals, datasets, models) stays local\nstate/\n"


@dataclass(frozen=True)
class FlowRepo:
    """Paths of one repository. Cheap to build; reads nothing until asked."""

    root: Path
    _settings: list[Settings] = field(default_factory=list, compare=False, repr=False)

    @property
    def flow_dir(self) -> Path:
        return self.root / FLOW_DIR

    @property
    def config_path(self) -> Path:
        return self.flow_dir / "config.toml"

    @property
    def pilrs_dir(self) -> Path:
        return self.flow_dir / "pilrs"

    @property
    def state_dir(self) -> Path:
        return self.flow_dir / "state"

    def pilr_dir(self, pilr_type: str) -> Path:
        return self.pilrs_dir / pilr_type

    def state_path(self, *parts: str) -> Path:
        """A path under ``.flow/state/``, creating its parent folder (``state/`` itself owner-only:
        it holds prompts, signals and models that are nobody else's business)."""
        if not self.state_dir.is_dir():
            self.state_dir.parent.mkdir(parents=True, exist_ok=True)
            self.state_dir.mkdir(mode=0o700, exist_ok=True)
        path = self.state_dir.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def settings(self) -> Settings:
        """Settings from ``.flow/config.toml`` and ``FLOW_*``, loaded once per repo object."""
        if not self._settings:
            self._settings.append(load_settings(self.config_path))
        return self._settings[0]

    def is_initialized(self) -> bool:
        return self.config_path.is_file()

    def require_initialized(self) -> "FlowRepo":
        if not self.is_initialized():
            raise NotInitializedError(
                "no .flow/config.toml here",
                path=self.root,
                hint="run `flow init` in the repository, or pass -C PATH",
            )
        return self


def find_repo(start: Path) -> FlowRepo:
    """The nearest folder at or above ``start`` with ``.flow/config.toml``; else ``start`` itself."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / FLOW_DIR / "config.toml").is_file():
            return FlowRepo(candidate)
    return FlowRepo(start)


@dataclass(frozen=True)
class InitResult:
    repo: FlowRepo
    created: list[Path]
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created)


def git_toplevel(path: Path) -> Path | None:
    """The top folder of the git work tree holding ``path`` (None: not in git, or no git)."""
    import subprocess

    try:
        done = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    top = done.stdout.strip()
    return Path(top).resolve() if done.returncode == 0 and top else None


def init_repo(start: Path, name: str | None = None) -> InitResult:
    """Create the ``.flow/`` layout at the git top level of ``start`` (``start`` itself outside
    git, with a warning). Existing files are never touched (idempotent); a ``.flow/`` that would
    nest inside, or shadow, another one of the same project is refused."""
    start = start.resolve()
    top = git_toplevel(start)
    root = top or start
    warnings = [] if top else [
        f"{start} is not in a git repository: .flow/config.toml and .flow/pilrs/ are meant to be "
        "committed and reviewed; run `git init` (then `flow init` again is harmless)"
    ]
    existing = find_repo(start)
    if existing.is_initialized() and existing.root != root:
        outside_this_repo = top is not None and top not in (existing.root, *existing.root.parents)
        if not outside_this_repo:
            raise InitError(
                "would nest a second .flow/ inside the project at " + str(existing.root)
                if existing.root in root.parents else
                f"this project already has a .flow/ at {existing.root}, below the git top level {root}",
                path=existing.flow_dir,
                hint="run flow commands from anywhere inside the project (they find its .flow/), or move "
                     f"{existing.flow_dir} to {root / FLOW_DIR}",
            )
    repo = FlowRepo(root)
    created: list[Path] = []
    for pilr_type in PILR_TYPES:
        folder = repo.pilr_dir(pilr_type)
        if not folder.is_dir():
            folder.mkdir(parents=True)
            created.append(folder)
        keep = folder / ".gitkeep"  # git keeps no empty folder; this one must arrive with a clone
        if not any(folder.iterdir()):
            keep.write_text("", encoding="utf-8")
            created.append(keep)
    if not repo.config_path.exists():
        project = name or repo.root.name
        atomic_write_text(repo.config_path, DEFAULT_CONFIG_TOML.format(name=project))
        created.append(repo.config_path)
    gitignore = repo.flow_dir / ".gitignore"
    if not gitignore.exists():
        atomic_write_text(gitignore, GITIGNORE_TEXT)
        created.append(gitignore)
    return InitResult(repo=repo, created=created, warnings=warnings)

"""Context injection for ``SessionStart`` and ``UserPromptSubmit``: no server needed.

The pack comes from a running ``flow serve`` when there is one (about 30 ms), else it is built
in this process from the index on disk (the cold path: about 0.4 s on the example project with
the hook's start-up, measured in ``benchmarks/hooks.py``, also with the other core busy). Either
fits easily in the time the agent gives a hook (Claude Code's default for these events is 30 s;
the installer writes its timeout into the command as ``--timeout``), so a server is an
optimisation, never a requirement.

The work runs in a daemon thread that is abandoned at the deadline, so nothing (a stuck warm
server, a slow disk) can hold the agent past its timeout; when no pack comes, the reason goes to
``HookResponse.problems``, which the agent shows the user as a ``systemMessage``.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowloop.errors import FlowError
from flowloop.integrations.hooks.common import DOCTOR_SESSION
from flowloop.integrations.hooks.dispatch import HookResponse
from flowloop.repo import FlowRepo

CONTEXT_LIMIT = 9_500  # Claude Code caps injected text at 10,000 characters (longer: a preview only)
WARM_WAIT_S = 1.0  # a running server answers in ~30 ms; past this, the cold path is the better bet
MIN_BUDGET_S = 0.1
_DEFAULT_BRANCHES = {"main", "master", "trunk", "develop", "dev"}


@dataclass
class ContextResult:
    """A context pack's text (None: nothing to inject), where it came from, and why not."""

    text: str | None
    source: str = ""  # "warm" (a running `flow serve`) or "cold" (built in this process)
    seconds: float = 0.0
    problem: str | None = None


def inject_context(repo: FlowRepo, name: str, payload: dict[str, Any], response: HookResponse, timeout_s: float) -> None:
    """Put the pack for this prompt (or this new session) into ``response``."""
    if name == "UserPromptSubmit":
        task = str(payload.get("prompt") or "").strip()
        if not task or task.startswith("/"):
            return  # nothing to look up, or a slash command
    else:
        task = session_query(repo)
    task = task[: repo.settings.index.max_query_chars]
    session = payload.get("session_id") if isinstance(payload.get("session_id"), str) else None
    result = fetch_context(repo, task, timeout_s, session=session)
    if result.problem:
        response.problems.append(result.problem)
    if result.text:
        response.context = result.text[:CONTEXT_LIMIT]


def fetch_context(repo: FlowRepo, task: str, timeout_s: float, session: str | None = None) -> ContextResult:
    """The context pack for ``task`` within ``timeout_s`` seconds: warm if a server runs, else cold."""
    started = time.monotonic()
    if timeout_s < MIN_BUDGET_S:
        return ContextResult(None, problem=f"only {max(timeout_s, 0):.2f}s of the hook's time left after start-up; "
                             "no context this time (raise the hook's timeout)")
    box: list[Any] = []

    def run() -> None:
        try:
            box.append(_pack(repo, task, timeout_s, session))
        except FlowError as exc:
            box.append(exc.render())
        except Exception as exc:  # a thread boundary: report it instead of dying silently
            box.append(f"context failed: {type(exc).__name__}: {exc}")

    worker = threading.Thread(target=run, name="flow-hook-context", daemon=True)
    worker.start()
    worker.join(timeout_s)
    seconds = time.monotonic() - started
    if not box:
        return ContextResult(None, seconds=seconds, problem=f"no context pack within {timeout_s:.1f}s "
                             "(the hook's time budget); the prompt went on without it")
    if isinstance(box[0], str):
        return ContextResult(None, seconds=seconds, problem=box[0])
    pack, source, note = box[0]
    text = getattr(pack, "text", "")
    return ContextResult(text if isinstance(text, str) and text.strip() else None, source=source, seconds=seconds,
                         problem=note)


def _pack(repo: FlowRepo, task: str, timeout_s: float, session: str | None) -> tuple[Any, str, str | None]:
    """The pack, where it came from, and a note for the user (a refused warm address)."""
    from flowloop.errors import ConfigError
    from flowloop.index.warm import state_file, warm_context

    settings = repo.settings
    wants_warm = state_file(repo).exists() or settings.index.warm_url or "index.warm_url" in settings.refused_from_file
    note = None
    if wants_warm:  # a server has announced itself (it may be gone: wait briefly) or one is named
        try:
            pack = warm_context(repo, task, settings.index.budget, min(WARM_WAIT_S, timeout_s / 2), session=session)
        except ConfigError as exc:  # an address the user did not choose: nothing was sent there
            pack, note = None, exc.render()
        if pack is not None:
            return pack, "warm", None
    from flowloop.index.api import context_pack

    try:
        return context_pack(repo, task, session=session, log=session != DOCTOR_SESSION), "cold", note
    except FlowError as exc:
        if note is None:
            raise
        return None, "cold", f"{note}\n{exc.render()}"  # the user hears of both


def session_query(repo: FlowRepo) -> str:
    """What a new session is likely about: the branch name's words, else the project's description."""
    branch = current_branch(repo.root)
    if branch and branch not in _DEFAULT_BRANCHES:
        words = re.sub(r"[/_.-]+", " ", branch.rsplit("/", 1)[-1]).strip()
        if words:
            return words
    project = repo.settings.project
    return (project.description or project.name).strip() or "project overview"


def current_branch(root: Path) -> str | None:
    """The checked-out branch (None when detached or not in git); git itself answers, so linked
    worktrees and submodules (where ``.git`` is a file) work too."""
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "--abbrev-ref", "HEAD"],
                              capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    name = done.stdout.strip()
    return name if done.returncode == 0 and name and name != "HEAD" else None

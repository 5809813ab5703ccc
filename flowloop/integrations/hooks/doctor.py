"""``flow hooks doctor``: run each installed context hook exactly as the agent would.

For every ``SessionStart`` / ``UserPromptSubmit`` entry of ours, the installed command string
goes to ``/bin/sh -c`` with a sample payload of the agent's documented shape on stdin, in the
project folder, with the environment the caller passes (the CLI passes the user's environment
with PATH cut down to the system's, because an agent started from a desktop or another shell
may not have a virtual environment on its PATH), and is killed at the entry's timeout. The
answer is read the way the agent reads it (exit 0 and JSON; exit 2 blocks; anything else is a
non-blocking error) and reported as what the model and the user would see, with the time taken.

Transcript hooks (``Stop``, ``SessionEnd``, ``PostToolUse``) would record sample data, so they
are checked statically (``installed_hooks``), not run. The sample carries
``common.DOCTOR_SESSION`` as its session, so its retrieval is not logged as usage.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flowloop.integrations.hooks.common import DOCTOR_SESSION
from flowloop.integrations.hooks.install import InstalledHook, installed_hooks
from flowloop.repo import FlowRepo

CONTEXT_EVENTS = ("SessionStart", "UserPromptSubmit")
AGENT_CONTEXT_CAP = 10_000  # characters Claude Code injects whole; past it only a preview
DEFAULT_TIMEOUT_S = 30.0  # Claude Code's default for these events when an entry names none


@dataclass
class DoctorRun:
    """One installed context hook, run once, as the agent would see it."""

    hook: InstalledHook
    prompt: str
    exit_code: int | None  # None: killed at the timeout
    seconds: float
    timeout: float
    stdout: str = ""
    stderr: str = ""
    context: str | None = None  # what the model would get (additionalContext or plain stdout)
    message: str | None = None  # what the user would see (systemMessage)
    verdict: str = ""
    ok: bool = False
    notes: list[str] = field(default_factory=list)


def sample_payload(repo: FlowRepo, agent: str, event: str, prompt: str) -> dict[str, Any]:
    """A hook input of the documented shape for ``agent`` and ``event``."""
    payload: dict[str, Any] = {
        "session_id": DOCTOR_SESSION,
        "transcript_path": None if agent == "codex" else str(repo.state_dir / f"{DOCTOR_SESSION}.jsonl"),
        "cwd": str(repo.root),
        "hook_event_name": event,
    }
    if agent == "codex":
        payload.update(turn_id=f"{DOCTOR_SESSION}-turn", model="gpt-5-codex", permission_mode="default")
    if event == "UserPromptSubmit":
        payload.update(prompt=prompt, permission_mode="default")
    else:
        payload.update(source="startup", model=payload.get("model", "claude-sonnet-4-5"))
    return payload


def default_prompt(repo: FlowRepo) -> str:
    """A prompt the index can answer: the title of its first evergreen document, else the project's."""
    from flowloop.errors import FlowError
    from flowloop.index.store import IndexReader

    try:
        reader = IndexReader(repo)
    except FlowError:
        reader = None
    if reader is not None:
        try:
            docs = sorted(reader.documents.values(), key=lambda d: (d.type != "evergreen", d.id))
            if docs:
                return docs[0].title
        finally:
            reader.close()
    project = repo.settings.project
    return (project.description or project.name).strip() or "project overview"


def run_doctor(repo: FlowRepo, env: Mapping[str, str], prompt: str | None = None) -> list[DoctorRun]:
    """Run every installed context hook of ours once (see the module docstring)."""
    prompt = prompt or default_prompt(repo)
    runs = []
    for hook in installed_hooks(repo):
        if hook.event in CONTEXT_EVENTS and hook.command:
            runs.append(run_one(repo, hook, prompt, env))
    return runs


def run_one(repo: FlowRepo, hook: InstalledHook, prompt: str, env: Mapping[str, str]) -> DoctorRun:
    """Pipe a sample payload through ``hook.command`` and read the answer as the agent does."""
    timeout = hook.timeout or DEFAULT_TIMEOUT_S
    child_env = dict(env)
    if hook.agent == "claude-code":
        child_env["CLAUDE_PROJECT_DIR"] = str(repo.root)
    stdin = json.dumps(sample_payload(repo, hook.agent, hook.event, prompt))
    started = time.monotonic()
    try:
        done = subprocess.run(["/bin/sh", "-c", hook.command], input=stdin, capture_output=True, text=True,
                              cwd=repo.root, env=child_env, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        run = DoctorRun(hook, prompt, None, time.monotonic() - started, timeout,
                        stdout=_text(exc.stdout), stderr=_text(exc.stderr))
        run.verdict = f"killed at its {timeout:g}s timeout: the agent would go on without context"
        return run
    run = DoctorRun(hook, prompt, done.returncode, time.monotonic() - started, timeout, done.stdout, done.stderr)
    _read_answer(run)
    return run


def _read_answer(run: DoctorRun) -> None:
    if run.exit_code == 2:
        run.verdict = "exit 2: the agent would BLOCK the prompt and show: " + run.stderr.strip()[:300]
        return
    if run.exit_code != 0:
        run.verdict = f"exit {run.exit_code}: a non-blocking error; nothing injected ({run.stderr.strip()[:300]})"
        return
    out = run.stdout.strip()
    if out:
        try:
            data = json.loads(out)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            specific = data.get("hookSpecificOutput")
            if isinstance(specific, dict) and isinstance(specific.get("additionalContext"), str):
                run.context = specific["additionalContext"]
            if isinstance(data.get("systemMessage"), str):
                run.message = data["systemMessage"]
        else:
            run.context = out  # plain stdout of these two events is added as context
    if run.context and len(run.context) > AGENT_CONTEXT_CAP:
        run.notes.append(f"{len(run.context)} characters: past {AGENT_CONTEXT_CAP}, the agent injects a preview only")
    if run.message:
        run.verdict = f"the user would see: {run.message}"
        run.ok = False
    elif run.context:
        run.verdict = f"injects {len(run.context)} characters of context"
        run.ok = True
    else:
        run.verdict = "injects nothing: no document passed the relevance floor for this prompt (try --prompt)"
        run.ok = True


def _text(raw: Any) -> str:
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    return raw or ""

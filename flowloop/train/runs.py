"""Run work folders: where a training run keeps its checkpoints so an interrupted run resumes.

Each run gets ``.flow/state/runs/<pass>-<key>-<n>/`` with ``run.json`` (status, identity,
timestamps) and ``checkpoints/checkpoint-<step>/`` written by the Trainer. ``key`` hashes what
makes two runs the same training job: the pass, dataset content hash, base model, parent
version and the settings that change the result (not the step cap, epochs or time budget, so a run capped at
2 steps can be continued to 4, nor how often it checkpoints or how many threads it uses). An unfinished run with the
same key resumes from its last checkpoint automatically (``resume="auto"``); ``"require"``
fails when there is none; ``"never"`` abandons it and starts over. A finished run is never
resumed: the same job again is a new run (``-<n+1>``). A file lock keeps two processes out of
the same run folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from flowloop.atomic import atomic_write_text
from flowloop.errors import FlowError, LockError, TrainingError
from flowloop.models.registry import now_iso
from flowloop.repo import FlowRepo

RUN_FILE = "run.json"
NOT_IDENTITY = ("max_steps", "epochs", "save_steps", "threads", "max_minutes")
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def run_key(identity: dict[str, Any]) -> str:
    """A short stable hash of a run's identity (see the module docstring for what counts)."""
    settings = {k: v for k, v in (identity.get("settings") or {}).items() if k not in NOT_IDENTITY}
    hardware = {k: v for k, v in (identity.get("hardware") or {}).items() if k not in NOT_IDENTITY}
    payload = json.dumps({**identity, "settings": settings, "hardware": hardware}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]


@dataclass
class Run:
    """An open run folder; hold it with ``with`` (the lock is released on exit)."""

    id: str
    path: Path
    state: dict[str, Any]
    resume_from: Path | None = None
    main: bool = True  # False on the other processes of an `accelerate launch`: they never write
    _lock: IO[str] | None = field(default=None, repr=False)

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def final_dir(self) -> Path:
        return self.path / "final"

    def mark(self, status: str, **fields: Any) -> None:
        if not self.main:
            return
        self.state.update(fields, status=status, updated_at=now_iso())
        atomic_write_text(self.path / RUN_FILE, json.dumps(self.state, indent=2, default=str) + "\n")

    def last_checkpoint(self) -> Path | None:
        return last_checkpoint(self.checkpoints_dir)

    def cleanup(self) -> None:
        """After the version is registered, checkpoints and the saved adapter are copies."""
        if not self.main:
            return
        shutil.rmtree(self.checkpoints_dir, ignore_errors=True)
        shutil.rmtree(self.final_dir, ignore_errors=True)

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def last_checkpoint(folder: Path) -> Path | None:
    """The highest-step complete checkpoint (one with ``trainer_state.json``)."""
    if not folder.is_dir():
        return None
    found = []
    for child in folder.iterdir():
        match = _CHECKPOINT.match(child.name)
        if match and (child / "trainer_state.json").is_file():
            found.append((int(match.group(1)), child))
    return max(found)[1] if found else None


def checkpoint_step(checkpoint: Path | None) -> int:
    return int(checkpoint.name.split("-")[-1]) if checkpoint is not None else 0


def open_run(repo: FlowRepo, pass_name: str, identity: dict[str, Any], resume: str = "auto") -> Run:
    """The run folder for ``identity``: an unfinished one to resume, or a new one."""
    if resume not in ("auto", "require", "never"):
        raise TrainingError(f"bad resume mode {resume!r}", hint="auto, require or never")
    key = run_key({"pass": pass_name, **identity})
    root = repo.state_dir / "runs"
    root.mkdir(parents=True, exist_ok=True)
    siblings = sorted(
        (int(m.group(1)), child)
        for child in root.iterdir()
        if child.is_dir() and (m := re.match(rf"^{pass_name}-{key}-(\d+)$", child.name))
    )
    if siblings:
        _n, latest = siblings[-1]
        state = _read_state(latest)
        if state.get("status") not in ("done", "abandoned"):
            run = _locked(Run(latest.name, latest, state))
            if resume == "never":
                run.mark("abandoned")
                run.cleanup()
                run.__exit__()
            else:
                run.resume_from = run.last_checkpoint()
                if run.resume_from is None and resume == "require":
                    run.__exit__()
                    raise TrainingError("the unfinished run has no checkpoint yet to resume from",
                                        path=latest, hint="run without --resume to start over")
                return run
    if resume == "require":
        raise TrainingError(f"no unfinished {pass_name.upper()} run with this dataset and these settings",
                            path=root, hint="run without --resume to start a new run")
    number = (siblings[-1][0] if siblings else 0) + 1
    path = root / f"{pass_name}-{key}-{number}"
    path.mkdir()
    run = _locked(Run(path.name, path, {"id": path.name, "pass": pass_name, "identity": identity,
                                        "created_at": now_iso()}))
    run.mark("running")
    return run


def open_shared_run(repo: FlowRepo, pass_name: str, identity: dict[str, Any], resume: str = "auto") -> Run:
    """:func:`open_run` under ``accelerate launch``: the main process picks (and locks) the run
    folder and broadcasts it; the other processes use it without writing. One process: plain."""
    from accelerate import PartialState
    from accelerate.utils import broadcast_object_list

    # The first PartialState of a process fixes its distributed setup for the Trainer too; on a
    # CPU, accelerate joins the processes (gloo) only when told cpu=True, so say it here.
    state = PartialState(cpu=(identity.get("hardware") or {}).get("device") == "cpu")
    if state.num_processes <= 1:
        return open_run(repo, pass_name, identity, resume)
    holder: list[Any] = [None]
    run, error = None, None
    if state.is_main_process:
        try:
            run = open_run(repo, pass_name, identity, resume)
            holder = [str(run.path)]
        except FlowError as exc:  # the other processes must hear about it, not wait forever
            error, holder = exc, [f"error:{exc.render()}"]
    broadcast_object_list(holder)
    if error is not None:
        raise error
    if str(holder[0]).startswith("error:"):
        raise TrainingError(str(holder[0])[len("error:"):])
    if run is not None:
        return run
    path = Path(holder[0])
    return Run(path.name, path, _read_state(path), last_checkpoint(path / "checkpoints"), main=False)


def _read_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads((path / RUN_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"id": path.name}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TrainingError(f"corrupt run state: {exc}", path=path / RUN_FILE,
                            hint="remove the run folder to start over") from exc
    return data if isinstance(data, dict) else {"id": path.name}


def _locked(run: Run) -> Run:
    handle = open(run.path / ".lock", "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise LockError("another training process is using this run", path=run.path,
                        hint="wait for it to finish") from exc
    run._lock = handle
    return run

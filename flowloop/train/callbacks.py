"""Trainer callbacks: progress with loss for the CLI's bar, this session's timing and tokens, a time budget.

The trainer runs with tqdm disabled and reports nothing itself; :class:`ProgressReporter`
forwards ``(step, total)`` to the caller's ``progress`` callable (the team's convention) and
each logged step's numbers (``loss``, ``grad_norm``, DPO's ``rewards/*``) to ``on_log``, so
the CLI can draw a Rich bar with the loss; it also measures what a resumed session really did: steps, seconds, tokens seen, so the
manifest's tokens/s is honest after a resume.
"""

from __future__ import annotations

import time
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from flowloop.train.types import LogSink
from flowloop.types import Progress


class ProgressReporter(TrainerCallback):
    """Feeds a progress callable and records per-session metrics."""

    def __init__(self, progress: Progress | None = None, on_log: LogSink | None = None) -> None:
        self.progress = progress
        self.on_log_sink = on_log
        self.start_step = 0
        self.start_tokens = 0
        self.started = 0.0
        self.seconds = 0.0
        self.step_seconds: list[float] = []
        self.last_loss: float | None = None
        self.last_log: dict[str, float] = {}
        self._step_started = 0.0

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any) -> None:
        self.start_step = state.global_step
        self.start_tokens = int(state.num_input_tokens_seen or 0)
        self.started = time.perf_counter()
        if self.progress:
            self.progress(state.global_step, state.max_steps)

    def on_step_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any) -> None:
        self._step_started = time.perf_counter()

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any) -> None:
        self.step_seconds.append(time.perf_counter() - self._step_started)
        self.seconds = time.perf_counter() - self.started

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
               logs: dict[str, Any] | None = None, **kw: Any) -> None:
        logs = logs or {}
        if "loss" in logs:
            self.last_loss = float(logs["loss"])
            self.last_log = {k: float(v) for k, v in logs.items() if isinstance(v, (int, float))}
            if self.on_log_sink:
                self.on_log_sink({**self.last_log, "step": float(state.global_step)})
        if self.progress:
            self.progress(state.global_step, state.max_steps)

    def metrics(self, state: TrainerState) -> dict[str, Any]:
        """This session's figures (a resumed run counts only what it trained itself)."""
        steps = state.global_step - self.start_step
        tokens = int(state.num_input_tokens_seen or 0) - self.start_tokens
        seconds = self.seconds
        timed = sorted(self.step_seconds)
        kept = ("loss", "grad_norm", "mean_token_accuracy", "rewards/accuracies", "rewards/margins")
        return {
            "loss": self.last_loss,
            "steps": state.global_step,
            "session_steps": steps,
            "resumed_from_step": self.start_step,
            "seconds": round(seconds, 3),
            "seconds_per_step": round(seconds / steps, 3) if steps else None,
            "median_step_seconds": round(timed[len(timed) // 2], 3) if timed else None,
            "tokens": tokens,
            "tokens_per_second": round(tokens / seconds, 1) if seconds > 0 else None,
            "last_log": {k: v for k, v in self.last_log.items() if k in kept},
        }


class TimeBudget(TrainerCallback):
    """Stops training before a step would pass ``minutes`` of wall clock, with a checkpoint.

    The clock starts when this session's training starts (a resumed run gets a fresh budget).
    After each step it predicts the next one from the slowest of the last few (steps vary with
    their batch's length; a nightly job must not overrun), and stops when that step would
    end past the budget; the Trainer then writes a checkpoint, so the next run of the same job
    resumes from there (:mod:`flowloop.train.runs`). ``stopped`` says whether it fired.
    """

    RECENT = 5

    def __init__(self, minutes: float, clock: Any = time.monotonic) -> None:
        self.seconds = minutes * 60.0
        self.clock = clock
        self.stopped = False
        self.stopped_at_step: int | None = None
        self._started = 0.0
        self._step_started = 0.0
        self._recent: list[float] = []

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any) -> None:
        self._started = self.clock()

    def on_step_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any) -> None:
        self._step_started = self.clock()

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any) -> None:
        now = self.clock()
        self._recent = [*self._recent[-(self.RECENT - 1):], now - self._step_started]
        if state.global_step >= state.max_steps:
            return  # the run ends here anyway; a normal finish, not a budget stop
        if now - self._started + max(self._recent) > self.seconds:
            self.stopped = True
            self.stopped_at_step = state.global_step
            control.should_training_stop = True
            control.should_save = True

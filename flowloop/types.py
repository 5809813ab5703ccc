"""Basic types shared by every layer, defined once here so their meaning cannot drift.

A chat message is the OpenAI/transformers shape (``{"role": ..., "content": ...}``); a progress
callback is told how much of a long step is done. Steps made of named stages (evaluation, the
loop) report the stage too. This module imports nothing from flowloop, so any module may use it.
"""

from __future__ import annotations

from collections.abc import Callable

Message = dict[str, str]
"""One chat turn: ``{"role": "system" | "user" | "assistant", "content": text}``."""

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called as a long step advances (the CLI draws a bar)."""

StageProgress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: the same for a run of named stages (one bar per stage)."""

__all__ = ["Message", "Progress", "StageProgress"]

"""The reward model kept warm in ``flow serve``, so ``flow validate`` need not load it each time.

A fresh ``flow validate`` spends seconds importing torch and loading the classifier before the
first score (``benchmarks/validate_latency.py``). With ``flow serve``
running, the server holds the promoted reward model (loaded when it starts) and answers
``POST /score`` ``{"version": "vN", "texts": [...]}`` with ``{"version", "scores"}``; the texts are
classifier inputs (:func:`flowloop.models.reward.reward_input`), scored exactly as in process.

The client, :func:`warm_scores`, asks only when a server has announced itself (or
``FLOW_INDEX__WARM_URL`` names one) and returns None on anything else: no server, a refused
address, a timeout, another version's answer. ``flow validate`` then scores in process, so the
warm path can only make it faster, never change a verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowloop.errors import ConfigError
from flowloop.repo import FlowRepo

SCORE_PATH = "/score"
TIMEOUT_S = 120.0  # a long diff takes seconds to score even warm; a stuck server falls back


def score_route(repo: FlowRepo) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The ``/score`` route of ``flow serve``; loads the promoted reward model now, if there is one
    and it loads (a failure here is answered per request instead, and the client falls back)."""
    from flowloop.errors import FlowError
    from flowloop.models.registry import Registry
    from flowloop.models.reward import FAMILY, load_reward, resolve_version

    try:
        current = resolve_version(repo, "current")
        if current is not None:
            load_reward(repo, current)
    except FlowError:
        pass  # e.g. its base model is missing: every /score answers 400 with that error

    def score(body: dict[str, Any]) -> dict[str, Any]:
        texts = body.get("texts")
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise ValueError("texts must be a list of strings")
        version = Registry(repo, FAMILY).get(str(body.get("version") or ""))
        return {"version": version.version, "scores": load_reward(repo, version).score(texts)}

    return score


def warm_scores(repo: FlowRepo, version: str, texts: list[str], timeout_s: float = TIMEOUT_S) -> list[float] | None:
    """The warm server's scores of ``texts`` by reward ``version``, or None (see the module docstring)."""
    from flowloop.index.warm import request, state_file

    if not state_file(repo).exists() and not repo.settings.index.warm_url:
        return None
    try:
        data = request(repo, SCORE_PATH, {"version": version, "texts": texts}, timeout_s)
    except ConfigError:
        return None  # a refused address: the hooks say so; validation just scores in process
    if data is None or data.get("version") != version:
        return None
    scores = data.get("scores")
    if not isinstance(scores, list) or len(scores) != len(texts):
        return None
    if not all(isinstance(s, (int, float)) and not isinstance(s, bool) and 0.0 <= s <= 1.0 for s in scores):
        return None
    return [float(s) for s in scores]

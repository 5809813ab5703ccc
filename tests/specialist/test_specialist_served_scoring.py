"""A model served by ``flow serve-model`` scores through the ``openai`` backend as it does in process.

The real base model (SmolLM2-135M) behind the real server (uvicorn on 127.0.0.1): the backend
renders the chat with the base model's template, asks ``/v1/completions`` for the prompt's own
log-probabilities and must get the in-process numbers; an evaluation run through the registry's
``openai`` backend gives the in-process suite results.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flowloop.evaluate.runner import evaluate_model
from flowloop.repo import FlowRepo, find_repo, init_repo
from helpers_serving import serving

KEY = "served-key-0123456789"
PROMPT = [{"role": "system", "content": "You explain how the team works."},
          {"role": "user", "content": "How should we store an invoice amount?"}]
REPLIES = ["As integer minor units with a currency code.", "As a float in dollars.", "OK"]


def write_pairs(repo: FlowRepo) -> None:
    """Dataset v1 with held-out preference pairs only, laid out as contract 3 says."""
    rows = [{"id": f"pair-{i}", "prompt": PROMPT[1:], "chosen": [{"role": "assistant", "content": good}],
             "rejected": [{"role": "assistant", "content": bad}], "kind": "preference", "source": "test",
             "task": f"T-{i}", "time": None, "weight": 1.0}
            for i, (good, bad) in enumerate([(REPLIES[0], REPLIES[1]), ("Integer cents.", "Floats."),
                                             ("Round half to even once, at the end.", "Round every step.")])]
    folder = repo.state_dir / "datasets" / "v1"
    folder.mkdir(parents=True)
    blob = "".join(json.dumps(r) + "\n" for r in rows).encode()
    (folder / "dpo_heldout.jsonl").write_bytes(blob)
    digest = hashlib.sha256(b"dpo_heldout.jsonl" + hashlib.sha256(blob).digest()).hexdigest()
    manifest = {"version": 1, "created_at": dt.datetime.now(dt.timezone.utc).isoformat(), "content_hash": digest,
                "counts": {"sft_documents": 0, "dpo_pairs": 0}, "thresholds": {"sft": 50, "dpo": 200},
                "split": {"holdout_share": 0.2, "cutoff": None, "train_tasks": [], "heldout_tasks": []},
                "files": {"dpo_heldout": "dpo_heldout.jsonl"}}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Iterator[tuple[str, Any, FlowRepo]]:
    from flowloop.models.loader import load_specialist
    from flowloop.specialist.server import create_app

    repo = init_repo(tmp_path_factory.mktemp("served") / "proj").repo
    with pytest.MonkeyPatch.context() as env:  # the session's model cache, offline, before the per-test fixture runs
        env.setenv("FLOW_CACHE_DIR", str(model_cache))
        env.setenv("HF_HUB_OFFLINE", "1")
        env.setenv("TRANSFORMERS_OFFLINE", "1")
        loaded = load_specialist(repo, "base")
    with serving(create_app(loaded, api_key=KEY)) as url:
        yield url, loaded, repo


@pytest.mark.slow
def test_served_scores_equal_in_process_scores(served: tuple[str, Any, FlowRepo]) -> None:
    from flowloop.inference.openai_backend import OpenAIBackend, template_render

    url, loaded, repo = served
    backend = OpenAIBackend(url, "base", api_key=KEY, render=template_render(repo))
    pairs = [(PROMPT, reply) for reply in REPLIES]
    for end_of_turn in (True, False):
        remote = backend.loglikelihood_many(pairs, end_of_turn=end_of_turn)
        local = loaded.loglikelihood_many(pairs, end_of_turn=end_of_turn)
        for (r_sum, r_n), (l_sum, l_n) in zip(remote, local):
            assert r_n == l_n and r_sum == pytest.approx(l_sum, abs=1e-3)
    assert backend.generate(PROMPT, 8) == loaded.generate(PROMPT, 8)


@pytest.mark.slow
def test_the_completions_endpoint_speaks_the_openai_shape(served: tuple[str, Any, FlowRepo]) -> None:
    url, _, _ = served
    auth = {"Authorization": f"Bearer {KEY}"}
    prompt = "The capital of France is"
    plain = httpx.post(f"{url}/completions", json={"prompt": prompt, "max_tokens": 3, "logprobs": 2}, headers=auth).json()
    choice = plain["choices"][0]
    assert plain["object"] == "text_completion" and plain["usage"]["completion_tokens"] == 3
    assert len(choice["logprobs"]["tokens"]) == 3 and all(len(t) == 2 for t in choice["logprobs"]["top_logprobs"])
    assert choice["logprobs"]["text_offset"][0] == 0 and "".join(choice["logprobs"]["tokens"]) == choice["text"]
    echoed = httpx.post(f"{url}/completions", json={"prompt": prompt, "max_tokens": 0, "echo": True, "logprobs": 0},
                        headers=auth).json()["choices"][0]
    assert echoed["text"] == prompt and echoed["logprobs"]["token_logprobs"][0] is None
    assert "".join(echoed["logprobs"]["tokens"]) == prompt
    assert httpx.post(f"{url}/completions", json={"prompt": prompt}).status_code == 401
    assert httpx.post(f"{url}/completions", json={"prompt": ""}, headers=auth).status_code == 422


@pytest.mark.slow
def test_evaluation_through_the_openai_backend_matches_in_process(served: tuple[str, Any, FlowRepo], tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    url, _, _ = served
    repo = init_repo(tmp_path / "proj").repo
    write_pairs(repo)
    local = evaluate_model(repo, "base", ["preference"])
    monkeypatch.setenv("FLOW_EVAL__BACKEND", "openai")
    monkeypatch.setenv("FLOW_INFERENCE__URL", url)
    monkeypatch.setenv("FLOW_INFERENCE__API_KEY", KEY)
    remote = evaluate_model(find_repo(repo.root), "base", ["preference"])
    assert remote.settings["backend"] == "openai"
    for name, value in local.suites["preference"].metrics.items():
        assert remote.suites["preference"].metrics[name] == pytest.approx(value, abs=1e-3), name

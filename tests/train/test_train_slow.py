"""The whole training path on the real SmolLM2, a few steps each (marked slow).

One repository per module: `flow train sft` registers v1, `flow train dpo` continues it as v2,
then the models answer through `flow ask`, the Python API and an OpenAI-compatible server.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from helpers_train import small_repo, write_dataset
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import InferenceError
from flowloop.repo import FlowRepo
from flowloop.train.registry import Registry

pytestmark = pytest.mark.slow
runner = CliRunner()
EXAMPLE_PILR = Path(__file__).resolve().parents[2] / "examples/ledgerline/.flow/pilrs/evergreen"


def flow(repo: FlowRepo, *args: str) -> Any:
    return runner.invoke(app, ["-C", str(repo.root), *args])


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, base_checkpoint: Path) -> FlowRepo:
    """v1 (SFT, 2 steps) and v2 (DPO from v1, 2 steps) trained through the CLI."""
    repo = small_repo(tmp_path_factory.mktemp("trained") / "repo")
    write_dataset(repo)
    sft = flow(repo, "train", "sft", "--max-steps", "2", "--json")
    assert sft.exit_code == 0, sft.output
    assert json.loads(sft.stdout)["version"] == "v1"
    dpo = flow(repo, "train", "dpo", "--max-steps", "2", "--json")
    assert dpo.exit_code == 0, dpo.output
    assert json.loads(dpo.stdout)["version"] == "v2"
    return repo


def test_sft_registers_v1_with_its_lineage_and_metrics(trained: FlowRepo) -> None:
    v1 = Registry(trained).get("v1")
    m = v1.manifest
    assert (m["pass"], m["parent"], m["base_model"], m["dataset_version"]) == ("sft", None, "smollm2", 1)
    assert len(m["dataset_hash"]) == 64 and m["settings"]["lora_r"] == 4 and m["settings"]["max_steps"] == 2
    assert m["metrics"]["steps"] == 2 and m["metrics"]["tokens"] > 0 and m["metrics"]["loss"] > 0
    assert m["metrics"]["tokens_per_second"] > 0 and m["hardware"]["device"] in ("cpu", "cuda")
    adapter = v1.adapter_dir
    assert (adapter / "adapter_model.safetensors").is_file() and (adapter / "adapter_config.json").is_file()
    # The exported adapter carries the chat template and EOS token it was trained with.
    config = json.loads((adapter / "tokenizer_config.json").read_text())
    assert config["eos_token"] == "<|im_end|>"
    assert (adapter / "chat_template.jinja").is_file() or config.get("chat_template")
    run = json.loads((trained.state_dir / "runs" / m["run_id"] / "run.json").read_text())
    assert run["status"] == "done" and run["version"] == "v1"
    assert not (trained.state_dir / "runs" / m["run_id"] / "checkpoints").exists()


def test_dpo_continues_from_the_sft_version(trained: FlowRepo) -> None:
    v2 = Registry(trained).get("v2")
    assert (v2.pass_name, v2.parent) == ("dpo", "v1")
    assert v2.metrics["steps"] == 2
    assert "rewards/accuracies" in v2.metrics["last_log"]
    assert not (v2.adapter_dir / "ref").exists()  # the frozen reference copy is not exported


def test_ask_base_and_v2_through_cli_and_api(trained: FlowRepo) -> None:
    from flowloop.index.api import build_index
    from flowloop.specialist.ask import ask

    for name in ("evg-api-authentication-and-rate-limits.md",):
        shutil.copy(EXAMPLE_PILR / name, trained.pilr_dir("evergreen") / name)
    build_index(trained)
    base = flow(trained, "ask", "--model", "base", "--max-new-tokens", "12", "How are API keys stored?")
    assert base.exit_code == 0, base.output
    assert base.stdout.strip()
    assert "evg-api-authentication-and-rate-limits" in base.output  # cited context
    v2 = flow(trained, "ask", "--model", "v2", "--role", "plan", "--max-new-tokens", "12", "--json",
              "Add a refund endpoint")
    assert v2.exit_code == 0, v2.output
    answer = json.loads(v2.stdout)
    assert answer["model"] == "v2" and answer["role"] == "plan" and answer["text"]
    assert answer["messages"][0]["content"].startswith("You are the domain specialist for ledgerline")
    api = ask(trained, "Review: amounts are floats", role="review", model="base", max_new_tokens=8)
    assert api.model == "base" and api.backend == "transformers" and "Review this" in api.messages[-1]["content"]
    missing = flow(trained, "ask", "--model", "v9", "hi")
    assert missing.exit_code == 1 and "no model version v9" in missing.output


def test_loaded_model_scores_and_generates(trained: FlowRepo) -> None:
    from flowloop.specialist.loader import load_specialist

    v2 = load_specialist(trained, "v2")
    prompt = [{"role": "system", "content": "You review work."}, {"role": "user", "content": "Review: x = 1.5 dollars"}]
    total, n = v2.loglikelihood(prompt, "VIOLATION: money is integer cents.")
    assert total < 0 and n > 3
    bare, n_bare = v2.loglikelihood(prompt, "VIOLATION", end_of_turn=False)
    assert n_bare == len(v2.tokenizer("VIOLATION", add_special_tokens=False)["input_ids"]) and bare < 0
    assert v2.generate(prompt, 6) == v2.generate(prompt, 6)  # greedy: reproducible
    assert v2.version == "v2" and load_specialist(trained, "current").version == "base"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(trained: FlowRepo) -> Iterator[tuple[str, Any]]:
    """`flow serve-model`'s app on a real local HTTP server, serving v2 with an API key."""
    import uvicorn

    from flowloop.specialist.loader import load_specialist
    from flowloop.specialist.server import create_app

    loaded = load_specialist(trained, "v2")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(loaded, api_key="s3cret"), host="127.0.0.1", port=port,
                                           log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1", loaded
    server.should_exit = True
    thread.join(timeout=10)


def test_openai_backend_against_a_real_server(served: tuple[str, Any], trained: FlowRepo,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from flowloop.inference.openai_backend import OpenAIBackend

    url, loaded = served
    messages = [{"role": "user", "content": "Name one file in a ledger project."}]
    remote = OpenAIBackend(url, "v2", api_key="s3cret").generate(messages, 10)
    assert remote == loaded.generate(messages, 10)
    with pytest.raises(InferenceError, match="HTTP 401"):
        OpenAIBackend(url, "v2", api_key="wrong").generate(messages, 4)
    with pytest.raises(InferenceError, match="cannot reach"):
        OpenAIBackend(f"http://127.0.0.1:{_free_port()}/v1", "v2", timeout_s=2).generate(messages, 4)
    # `flow ask` through the configured openai backend
    monkeypatch.setenv("FLOW_INFERENCE__BACKEND", "openai")
    monkeypatch.setenv("FLOW_INFERENCE__URL", url)
    monkeypatch.setenv("FLOW_INFERENCE__API_KEY", "s3cret")
    result = flow(trained, "ask", "--no-context", "--max-new-tokens", "6", "--json", "Where is money stored?")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["backend"] == "openai" and data["text"]

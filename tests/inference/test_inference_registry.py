"""The backend registry: the one list of names, the fake through the front door, unknown names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.config import load_settings
from flowloop.errors import InferenceError
from flowloop.inference.fake import TableScorer
from flowloop.inference import Model, backend_names, get_model, register_backend, unregister_backend
from flowloop.repo import FlowRepo, find_repo, init_repo
from flowloop.specialist.ask import ask


@pytest.fixture
def repo(tmp_path: Path) -> FlowRepo:
    return init_repo(tmp_path / "proj").repo


@pytest.fixture
def tables() -> Iterator[str]:
    """A backend of the test's own, registered the way any package would register one."""
    register_backend("tables", lambda repo, which: TableScorer(which, answers={"money": "Integer minor units."}))
    yield "tables"
    unregister_backend("tables")


def test_built_in_backends_are_registered_in_one_place() -> None:
    assert backend_names()[:3] == ["transformers", "openai", "fake"]


def test_the_fake_comes_through_the_registry_and_answers_the_protocol(repo: FlowRepo) -> None:
    model = get_model(repo, "v3", "fake")
    assert isinstance(model, TableScorer) and isinstance(model, Model)
    assert (model.name, model.version) == ("fake", "v3")
    assert model.generate_many([[{"role": "user", "content": "hi"}]] * 2, 4) == ["", ""]
    assert model.loglikelihood_many([([{"role": "user", "content": "q"}], "two words")]) == [(-10.0, 2)]


def test_every_backend_satisfies_the_protocol_without_loading_a_model(repo: FlowRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOW_INFERENCE__URL", "http://127.0.0.1:9/v1")
    fresh = find_repo(repo.root)
    for name in ("transformers", "openai", "fake"):
        model = get_model(fresh, "base", name)
        assert isinstance(model, Model), name
        assert model.name == name


def test_a_registered_backend_is_taken_from_the_config(repo: FlowRepo, tables: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOW_INFERENCE__BACKEND", tables)
    answer = ask(find_repo(repo.root), "How do we store money?", use_context=False)
    assert answer.text == "Integer minor units." and answer.backend == "fake" and answer.model == "current"


def test_registering_a_taken_name_is_refused(tables: str) -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_backend(tables, lambda repo, which: TableScorer(which))
    register_backend(tables, lambda repo, which: TableScorer("swapped"), replace=True)


def test_an_unknown_backend_is_refused_at_lookup_with_the_registered_names(repo: FlowRepo, tables: str,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOW_INFERENCE__BACKEND", "vllm-typo")
    assert load_settings(repo.config_path).inference.backend == "vllm-typo"  # config keeps a plain name
    with pytest.raises(InferenceError) as info:
        get_model(find_repo(repo.root))
    err = info.value
    assert "unknown inference backend 'vllm-typo'" in err.message and err.field == "inference.backend"
    assert err.hint is not None and all(name in err.hint for name in ("transformers", "openai", "fake", "tables"))


def test_flow_ask_with_an_unknown_backend_is_a_clear_error(repo: FlowRepo) -> None:
    result = CliRunner().invoke(app, ["-C", str(repo.root), "ask", "--backend", "nope", "--no-context", "hi"])
    assert result.exit_code == 1
    assert "unknown inference backend 'nope'" in result.output and "transformers, openai, fake" in result.output
    assert "Traceback" not in result.output


def test_flow_ask_through_the_fake_backend(repo: FlowRepo, tables: str) -> None:
    result = CliRunner().invoke(app, ["-C", str(repo.root), "ask", "--backend", tables, "--no-context", "--json",
                                      "where is money?"])
    assert result.exit_code == 0, result.output
    assert '"text": "Integer minor units."' in result.output


def test_a_backend_registered_by_a_path_that_does_not_import_is_a_clear_error(repo: FlowRepo) -> None:
    register_backend("missing", "flowloop_plugin_that_is_not_installed.backend:create")
    try:
        with pytest.raises(InferenceError, match="cannot be loaded from flowloop_plugin_that_is_not_installed") as info:
            get_model(repo, "base", "missing")
        assert info.value.field == "inference.backend"
    finally:
        unregister_backend("missing")


def test_a_backend_registered_by_path_loads_on_first_use(repo: FlowRepo) -> None:
    register_backend("fake-by-path", "flowloop.inference.fake:create")
    try:
        assert isinstance(get_model(repo, "v1", "fake-by-path"), TableScorer)
    finally:
        unregister_backend("fake-by-path")

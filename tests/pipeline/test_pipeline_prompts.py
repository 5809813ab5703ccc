"""Prompts are the contract between the dataset, training, `flow ask` and eval."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flowloop.config import Settings
from flowloop.pipeline import prompts


def _settings() -> Settings:
    return Settings(project={"name": "Ledgerline", "description": "A B2B invoicing API."})


def test_system_prompt_carries_domain_context_for_every_role() -> None:
    settings = _settings()
    texts = {role: prompts.system_prompt(settings, role) for role in prompts.ROLES}
    for text in texts.values():
        assert "Ledgerline" in text and "A B2B invoicing API." in text
    assert len(set(texts.values())) == 3
    assert "VIOLATION" in texts["review"] and "OK" in texts["review"]


def test_unknown_role_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="unknown role"):
        prompts.system_prompt(_settings(), "chat")


def test_planning_messages_put_task_then_context() -> None:
    messages = prompts.planning_messages(_settings(), "Add refunds", "## Similar past tasks\n- T-1")
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    assert user.index("Task: Add refunds") < user.index("## Similar past tasks")


def test_files_answer_lists_areas_then_files() -> None:
    text = prompts.format_files_answer(["src/ledgerline/api/payments.py", "src/ledgerline/payments/refunds.py",
                                        "tests/test_payments.py", "pyproject.toml"])
    assert text.splitlines()[0] == "Areas: api, payments, tests, ."
    assert prompts.parse_files_answer(text) == [
        "src/ledgerline/api/payments.py", "src/ledgerline/payments/refunds.py", "tests/test_payments.py", "pyproject.toml"]


def test_parse_reads_loose_model_answers() -> None:
    text = ("The change touches `src/app/api.py` and src/app/db.py.\n1. tests/test_api.py\n"
            "* docs/adr/0001.md, e.g. nothing else\nFiles: src/app/models.py")
    assert prompts.parse_files_answer(text) == [
        "src/app/api.py", "src/app/db.py", "tests/test_api.py", "docs/adr/0001.md", "src/app/models.py"]


_segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=8)
_path = st.builds(lambda parts, ext: "/".join(parts) + "." + ext, st.lists(_segment, min_size=2, max_size=4),
                  st.sampled_from(["py", "md", "toml", "rst", "sql"]))


@given(st.lists(_path, min_size=1, max_size=8))
def test_files_answer_round_trips(files: list[str]) -> None:
    unique = list(dict.fromkeys(files))
    assert prompts.parse_files_answer(prompts.format_files_answer(files)) == unique


def test_review_answers_parse() -> None:
    assert prompts.parse_review_answer("VIOLATION: floats for money")
    assert not prompts.parse_review_answer("OK")

"""User text is data: markup-looking titles print verbatim, and no title or id can break a file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import DocumentError
from flowloop.pilr.model import PilrMeta, PilrType
from flowloop.pilr.parse import parse_text, render

runner = CliRunner()
TITLE = "Parse [/x] tags of list[str] in [pilr] blocks [bold]"


def flow(root: Path, *args: str):
    return runner.invoke(app, ["-C", str(root), *args])


def test_markup_looking_text_prints_verbatim_in_list_show_and_search(tmp_path: Path) -> None:
    assert flow(tmp_path, "init").exit_code == 0
    made = flow(tmp_path, "pilr", "new", "--type", "evergreen", "--title", TITLE, "--tags", "[red]x,list[int]")
    assert made.exit_code == 0, made.output
    doc_id = json.loads(flow(tmp_path, "pilr", "list", "--json").output)[0]["id"]

    listed = flow(tmp_path, "pilr", "list")
    assert listed.exit_code == 0, listed.output
    flat = " ".join(listed.output.split())  # the table may wrap a long title
    for part in ("[/x]", "list[str]", "[pilr]", "[bold]", "[red]x", "list[int]"):
        assert part in flat, (part, listed.output)

    shown = flow(tmp_path, "pilr", "show", doc_id)
    assert shown.exit_code == 0 and TITLE in shown.output

    assert flow(tmp_path, "index").exit_code == 0
    found = flow(tmp_path, "search", "parse tags")
    assert found.exit_code == 0, found.output
    assert "[/x]" in " ".join(found.output.split()) and "Traceback" not in found.output


def test_error_hints_keep_their_brackets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert flow(tmp_path, "init").exit_code == 0
    assert flow(tmp_path, "pilr", "new", "--type", "evergreen", "--title", "Big").exit_code == 0
    monkeypatch.setenv("FLOW_PILR__MAX_FILE_BYTES", "10")
    for args in (("pilr", "show", "evg-big"), ("pilr", "lint")):
        done = flow(tmp_path, *args)
        assert done.exit_code == 1
        assert "[pilr] max_file_bytes" in done.output, done.output  # the hint, brackets and all


@pytest.mark.parametrize(
    "title", ["x\nstatus: archived\n---\ninjected", "tab\there", "x\r\ny", "line\u2028sep"]
)
def test_a_title_cannot_inject_front_matter(tmp_path: Path, title: str) -> None:
    assert flow(tmp_path, "init").exit_code == 0
    assert flow(tmp_path, "pilr", "new", "--type", "evergreen", "--title", "Kept").exit_code == 0
    done = flow(tmp_path, "pilr", "new", "--type", "evergreen", "--title", title)
    assert done.exit_code == 1 and "title" in done.output and "Traceback" not in done.output
    assert sorted(p.name for p in (tmp_path / ".flow" / "pilrs" / "evergreen").glob("*.md")) == ["evg-kept.md"]
    assert flow(tmp_path, "pilr", "show", "evg-kept").exit_code == 0  # the store still reads


def test_a_tag_with_a_newline_is_refused(tmp_path: Path) -> None:
    assert flow(tmp_path, "init").exit_code == 0
    done = flow(tmp_path, "pilr", "new", "--type", "evergreen", "--title", "T", "--tags", "a\n---\nb")
    assert done.exit_code == 1 and "tags" in done.output


def test_an_id_with_a_trailing_newline_fails_the_pattern() -> None:
    with pytest.raises(ValueError, match="lowercase"):
        PilrMeta(id="evg-x\n", type=PilrType.EVERGREEN, title="t", created=dt.date(2025, 1, 1), updated=dt.date(2025, 1, 1))


def test_rendered_front_matter_has_no_yaml_anchors() -> None:
    day = dt.date(2025, 1, 1)
    meta = PilrMeta(id="evg-x", type=PilrType.EVERGREEN, title="t", created=day, updated=day)
    text = render(meta, "body")
    assert "&id" not in text and "*id" not in text
    assert "created: 2025-01-01" in text and "updated: 2025-01-01" in text
    edited = text.replace("updated: 2025-01-01", "updated: 2025-02-02")
    again = parse_text(Path("evg-x.md"), edited).meta
    assert again.created == day and again.updated == dt.date(2025, 2, 2)


def test_render_refuses_what_would_not_read_back() -> None:
    day = dt.date(2025, 1, 1)
    meta = PilrMeta(id="evg-x", type=PilrType.EVERGREEN, title="t", created=day, updated=day)
    broken = meta.model_copy(update={"title": "a\n---\nb"})  # model_copy skips validation
    with pytest.raises(DocumentError, match="read back"):
        render(broken, "body")

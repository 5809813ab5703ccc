"""Property tests: any valid document survives render -> parse unchanged; writes are atomic."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowloop.atomic import atomic_write_text
from flowloop.pilr.model import PilrMeta, PilrStatus, PilrType
from flowloop.pilr.parse import parse_text, render

ids = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,30}", fullmatch=True)
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\x85"),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() == s and s)
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1))
bodies = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
    max_size=300,
).map(lambda s: "\n".join(line for line in s.split("\n") if line.strip() != "---").strip("\n"))


@st.composite
def metas(draw: st.DrawFn) -> PilrMeta:
    created = draw(dates)
    return PilrMeta(
        id=draw(ids),
        type=draw(st.sampled_from(PilrType)),
        title=draw(text),
        status=draw(st.sampled_from(PilrStatus)),
        tags=draw(st.lists(text.filter(lambda s: "," not in s), max_size=4)),
        created=created,
        updated=created + dt.timedelta(days=draw(st.integers(0, 400))),
        task=draw(st.none() | text),
        supersedes=draw(st.lists(ids, max_size=3)),
        superseded_by=draw(st.none() | ids),
        derived_from=draw(st.lists(ids, max_size=3)),
        sources=draw(st.lists(text.filter(lambda s: "," not in s), max_size=3)),
    )


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(meta=metas(), body=bodies)
def test_render_then_parse_is_identity(meta: PilrMeta, body: str) -> None:
    doc = parse_text(Path("doc.md"), render(meta, body))
    assert doc.meta == meta
    assert doc.body.rstrip("\n") == body.rstrip("\n").lstrip("\n") or doc.body == body.strip("\n")


@settings(max_examples=100)
@given(meta=metas(), body=bodies)
def test_render_is_stable(meta: PilrMeta, body: str) -> None:
    once = render(meta, body)
    doc = parse_text(Path("doc.md"), once)
    assert render(doc.meta, doc.body) == once


def test_crash_mid_write_leaves_old_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "doc.md"
    target.write_text("old content\n")

    import os

    def boom(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_text(target, "new content that never lands\n")
    assert target.read_text() == "old content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["doc.md"]

"""Untrusted writes land as proposed, are never indexed nor trained on, until a human accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers_pilr import make_store
from payloads import GOODSIDE_2022, REHBERGER_IMAGE_2023

from flowloop.errors import QuarantineError
from flowloop.pilr import quarantine
from flowloop.pilr.model import PilrStatus, PilrType
from flowloop.pilr.parse import parse_file

BODY = "## Symptoms\n\nDuplicate webhooks.\n\n## What worked\n\nA unique index on the event id.\n"


@pytest.mark.parametrize("origin", quarantine.ORIGINS)
def test_every_origin_lands_proposed_with_its_origin(tmp_path: Path, origin: str) -> None:
    store = make_store(tmp_path / "r")
    proposal = quarantine.propose(store, PilrType.CUMULATIVE, "Duplicate webhooks", BODY, origin)
    doc = parse_file(proposal.document.path)
    assert doc.status is PilrStatus.PROPOSED and doc.meta.origin == origin
    assert quarantine.trusted(store.load()) == []


@pytest.mark.parametrize("payload", [GOODSIDE_2022, REHBERGER_IMAGE_2023])
def test_the_worst_is_refused_and_nothing_is_written(tmp_path: Path, payload: str) -> None:
    store = make_store(tmp_path / "r")
    with pytest.raises(QuarantineError) as caught:
        quarantine.propose(store, PilrType.CUMULATIVE, "Tip", BODY + "\n" + payload + "\n", "mcp")
    assert caught.value.line is not None and caught.value.line > 10  # the payload's line in the file
    assert caught.value.findings
    assert store.load() == []


def test_accept_makes_it_trusted_and_reject_deletes_it(tmp_path: Path) -> None:
    store = make_store(tmp_path / "r")
    kept = quarantine.propose(store, PilrType.CUMULATIVE, "Keep", BODY, "agent").document
    dropped = quarantine.propose(store, PilrType.CUMULATIVE, "Drop", BODY, "http").document
    assert [d.id for d, _ in quarantine.pending(store.load())] == sorted([kept.id, dropped.id])
    accepted = quarantine.accept(store, kept.id)
    assert accepted.status is PilrStatus.ACTIVE
    quarantine.reject(store, dropped.id)
    assert not dropped.path.exists()
    assert [d.id for d in quarantine.trusted(store.load())] == [kept.id]
    with pytest.raises(QuarantineError):
        quarantine.accept(store, kept.id)  # only proposed documents


def test_accept_screens_again_after_a_hand_edit(tmp_path: Path) -> None:
    store = make_store(tmp_path / "r")
    doc = quarantine.propose(store, PilrType.CUMULATIVE, "Tip", BODY, "transcript").document
    doc.path.write_text(doc.path.read_text(encoding="utf-8") + "\n" + GOODSIDE_2022 + "\n", encoding="utf-8")
    with pytest.raises(QuarantineError):
        quarantine.accept(store, doc.id)
    assert parse_file(doc.path).status is PilrStatus.PROPOSED


def test_proposed_documents_are_never_trained_on(tmp_path: Path) -> None:
    from flowloop.pipeline.inputs import load_inputs

    store = make_store(tmp_path / "r")
    proposed = quarantine.propose(store, PilrType.CUMULATIVE, "Pending", BODY, "curate").document
    assert proposed.id not in {d.id for d in load_inputs(store.repo).pilrs}
    quarantine.accept(store, proposed.id)
    assert proposed.id in {d.id for d in load_inputs(store.repo).pilrs}


def test_proposed_documents_are_never_indexed(tmp_path: Path) -> None:
    from flowloop.index.sources import collect

    store = make_store(tmp_path / "r")
    proposed = quarantine.propose(store, PilrType.CUMULATIVE, "Pending", BODY, "mcp").document
    assert proposed.id not in {d.id for d in collect(store.repo)}
    quarantine.accept(store, proposed.id)
    assert proposed.id in {d.id for d in collect(store.repo)}

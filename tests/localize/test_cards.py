"""File cards as localizer evidence, on a real git history: a file's card is made from its
content at its last change before the task (a later commit never leaks, even once cached); no
git repository or no commits means no card and nothing breaks; a model saved before the card
features existed still loads and answers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from flowloop.errors import RegistryError
from flowloop.localize.api import Localizer
from flowloop.localize.cards import card_root
from flowloop.localize.features import FEATURES, FeatureBuilder
from flowloop.localize.model import MODEL_FILE, LocalizerModel
from flowloop.pipeline.inputs import load_work_history
from flowloop.repo import init_repo
from flowloop.signals.collect_git import collect_git
from helpers_localize import DAY0, commit

CARD = ("card_score", "card_rank")
EXPORT = "src/ledger/export.py"


def _history(git_repo: Path) -> FeatureBuilder:
    flow = init_repo(git_repo).repo
    commit(git_repo, "Start the ledger", {EXPORT: '"""Write the ledger as spreadsheet rows."""\n\ndef rows(ledger):\n    pass\n',
                                          "src/ledger/tax.py": '"""Sales tax per region."""\n\ndef tax(amount):\n    pass\n'},
           day=0)
    commit(git_repo, "Tax rounding", {"src/ledger/tax.py": '"""Sales tax per region, rounded."""\n'}, day=1)
    # after the task below was planned: the export module becomes the currency converter
    commit(git_repo, "Rework export", {EXPORT: '"""Currency conversion of ledger amounts."""\n\ndef convert(amount, rate):\n'
                                               '    """Convert with the day\'s currency rate."""\n'}, day=6)
    collect_git(flow)
    return FeatureBuilder(load_work_history(flow), root=card_root(git_repo))


def _rows(builder: FeatureBuilder, task: str, before: dt.datetime) -> dict[str, list[float]]:
    found = builder.candidates(task, before)
    return dict(zip(found.paths, found.rows))


def test_a_card_reads_the_file_as_it_was_before_the_task(git_repo: Path) -> None:
    builder = _history(git_repo)
    planned = DAY0 + dt.timedelta(days=3)
    task = "Currency conversion rates for spreadsheet export"
    before = _rows(builder, task, planned)
    # as of day 3 the export card says "spreadsheet", not "currency": it matches on that word only
    n = builder.files.cutoff(planned)
    card, _ = builder.cards.cards_as_of(n)[EXPORT]
    assert "spreadsheet" in card and "currency" not in card and "convert" not in card
    assert before[EXPORT][FEATURES.index("card_score")] == 1.0
    assert before[EXPORT][FEATURES.index("card_rank")] == 1.0
    # the later version was read ahead into the cache; the earlier task still never sees it
    assert builder.cards.blob_reads == 3
    assert _rows(builder, task, planned) == before
    fresh = _history_again(builder)
    assert _rows(fresh, task, planned) == before
    # asked after the rework, the new content counts
    later = builder.cards.cards_as_of(builder.files.cutoff(DAY0 + dt.timedelta(days=8)))[EXPORT][0]
    assert "currency" in later and "spreadsheet" not in later


def _history_again(builder: FeatureBuilder) -> FeatureBuilder:
    """A builder over the same records with an empty cache."""
    return FeatureBuilder(builder.files.records, root=builder.cards.root)


def test_the_best_cards_become_candidates(git_repo: Path) -> None:
    builder = _history(git_repo)
    # no earlier task shares a word with this one and no path word matches: only the cards find it
    rows = _rows(builder, "regional sales figures", DAY0 + dt.timedelta(days=3))
    assert list(rows) == ["src/ledger/tax.py"]
    assert rows["src/ledger/tax.py"][FEATURES.index("card_score")] == 1.0


def test_without_git_or_commits_the_card_features_are_zero(git_repo: Path, tmp_path: Path) -> None:
    records = _history(git_repo).files.records
    signals_only = [dataclasses.replace(r, commit=None) for r in records]
    plain = tmp_path / "plain"
    plain.mkdir()
    assert card_root(plain) is None and card_root(git_repo / "src") is None and card_root(None) is None
    for builder in (FeatureBuilder(records), FeatureBuilder(signals_only, root=git_repo)):
        rows = _rows(builder, "Currency conversion rates for spreadsheet export", DAY0 + dt.timedelta(days=8))
        assert rows and all(row[FEATURES.index(name)] == 0.0 for row in rows.values() for name in CARD)
        assert builder.cards.blob_reads == 0


def test_a_model_saved_before_the_card_features_still_answers(git_repo: Path, tmp_path: Path) -> None:
    builder = _history(git_repo)
    records = builder.files.records
    keep = [i for i, name in enumerate(FEATURES) if name not in CARD]
    old = LocalizerModel([FEATURES[i] for i in keep], [0.0] * len(keep), [1.0] * len(keep),
                         [1.0 if FEATURES[i] == "path_shared" else 0.0 for i in keep], -1.0)
    loaded = LocalizerModel.load(old.save(tmp_path / "v1").parent)
    answer = Localizer(records, loaded, "v1", builder=builder).localize("Sales tax rounding", DAY0 + dt.timedelta(days=3))
    assert answer.method == "learned" and answer.files[0] == "src/ledger/tax.py"

    unknown = json.loads((tmp_path / "v1" / MODEL_FILE).read_text())
    unknown["features"][0] = "a_feature_from_the_future"
    (tmp_path / "v2").mkdir()
    (tmp_path / "v2" / MODEL_FILE).write_text(json.dumps(unknown))
    with pytest.raises(RegistryError, match="features this version does not compute: a_feature_from_the_future"):
        LocalizerModel.load(tmp_path / "v2")

"""``flow retrieval``: pairs as of a moment, listing, and a gate refusal that changes nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "pipeline"))

from retrieval_kit import day, make_history  # noqa: E402

from flowloop.cli.main import app  # noqa: E402

runner = CliRunner()


def test_pairs_as_of_a_moment_and_an_empty_listing(tmp_path: Path) -> None:
    repo = make_history(tmp_path / "repo")
    early = runner.invoke(app, ["-C", str(repo.root), "retrieval", "pairs", "--as-of", day(2).isoformat(), "--json"])
    assert early.exit_code == 0, early.output
    late = json.loads(runner.invoke(app, ["-C", str(repo.root), "retrieval", "pairs", "--json"]).output)
    assert json.loads(early.output)["counts"]["commit"] == 4 and late["counts"]["commit"] == 6
    listed = runner.invoke(app, ["-C", str(repo.root), "retrieval", "list", "embedder"])
    assert listed.exit_code == 0 and "serving: the configured model" in listed.output


def test_a_bad_date_and_an_unknown_family_are_named(tmp_path: Path) -> None:
    repo = make_history(tmp_path / "repo")
    bad = runner.invoke(app, ["-C", str(repo.root), "retrieval", "pairs", "--as-of", "yesterday"])
    assert bad.exit_code == 2 and "not an ISO date" in bad.output
    unknown = runner.invoke(app, ["-C", str(repo.root), "retrieval", "list", "planner"])
    assert unknown.exit_code == 2 and "embedder, reranker" in unknown.output
    missing = runner.invoke(app, ["-C", str(repo.root), "retrieval", "promote", "embedder", "v3"])
    assert missing.exit_code == 1 and "no model version v3" in missing.output


def test_flow_search_corpus_files(tmp_path: Path) -> None:
    repo = make_history(tmp_path / "repo")
    built = runner.invoke(app, ["-C", str(repo.root), "index", "--files"])
    assert built.exit_code == 0 and "file index: 1 file" in built.output
    found = runner.invoke(app, ["-C", str(repo.root), "search", "retry schedule", "--corpus", "files", "--json"])
    assert found.exit_code == 0 and json.loads(found.output)[0]["path"] == "src/pay/retry.py"
    bad = runner.invoke(app, ["-C", str(repo.root), "search", "x", "--corpus", "code"])
    assert bad.exit_code == 2

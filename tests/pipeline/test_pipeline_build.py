"""A full build on a small real repository: files, provenance, leakage, split, weights, secrets."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import DatasetError
from flowloop.pilr.store import PilrStore
from flowloop.pipeline.api import (
    DatasetManifest,
    PlanningContextBuilder,
    build_dataset,
    check_threshold,
    dataset_stats,
    load_manifest,
    read_rows,
)
from flowloop.pipeline.inputs import load_inputs
from flowloop.repo import FlowRepo, init_repo
from flowloop.scrub import scrub
from flowloop.signals.store import open_store

from pipeline_kit import SECRET, WORK, add_pilr, make_small_repo

runner = CliRunner()
SFT_FIELDS = ["id", "prompt", "completion", "kind", "source", "task", "time", "weight"]
DPO_FIELDS = ["id", "prompt", "chosen", "rejected", "kind", "source", "task", "time", "weight"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Iterator[tuple[FlowRepo, DatasetManifest]]:
    """One build shared by the read-only tests below (the index model loads once)."""
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith("FLOW_"):
                mp.delenv(key)
        mp.setenv("FLOW_CACHE_DIR", str(model_cache))
        mp.setenv("HF_HUB_OFFLINE", "1")
        repo = make_small_repo(tmp_path_factory.mktemp("build") / "acme")
        yield repo, build_dataset(repo)


def rows(manifest: DatasetManifest, name: str) -> list[dict[str, Any]]:
    return read_rows(manifest.file(name)) if name in manifest.files else []


def all_examples(manifest: DatasetManifest) -> list[dict[str, Any]]:
    return [r for name in ("sft_train", "sft_heldout", "dpo_train", "dpo_heldout", "sft_drafts") for r in rows(manifest, name)]


def test_files_follow_the_contract_and_load_with_datasets(built: tuple[FlowRepo, DatasetManifest]) -> None:
    import datasets

    repo, manifest = built
    assert manifest.path == repo.state_dir / "datasets" / "v1"
    on_disk = json.loads((manifest.path / "manifest.json").read_text())
    for key in ("version", "created_at", "content_hash", "counts", "thresholds", "split", "files"):
        assert key in on_disk
    assert set(on_disk["counts"]) >= {"by_source", "by_kind"}
    assert set(on_disk["split"]) == {"holdout_share", "cutoff", "train_tasks", "heldout_tasks"}
    assert {"sft": 50, "dpo": 200}.items() <= on_disk["thresholds"].items()
    for name, filename in manifest.files.items():
        loaded = datasets.load_dataset("json", data_files=str(manifest.path / filename), split="train")
        assert loaded.num_rows == manifest.counts["files"][name] > 0
        if name.startswith("sft"):
            assert loaded.column_names == SFT_FIELDS
        elif name.startswith("dpo"):
            assert loaded.column_names == DPO_FIELDS
    for row in rows(manifest, "sft_train"):
        assert [m["role"] for m in row["prompt"]] == ["system", "user"]
        assert "Acme is an invoicing API" in row["prompt"][0]["content"]
        assert row["completion"][0]["role"] == "assistant" and row["completion"][0]["content"]
    assert {r["kind"] for r in rows(manifest, "sft_train")} == {"files", "plan", "solution", "review", "explain"}
    assert "correction" in {r["kind"] for r in rows(manifest, "sft_heldout")}  # T-10's correction
    assert set(manifest.counts["by_kind"]["dpo"]) == {"preference", "rewrite", "correction"}
    assert [list(r) for r in rows(manifest, "eval_validation")][0] == ["id", "text", "context", "label", "source"]


def test_every_example_carries_resolvable_provenance(built: tuple[FlowRepo, DatasetManifest]) -> None:
    repo, manifest = built
    pilrs = {d.id for d in PilrStore(repo).load()}
    with open_store(repo) as store:
        events = {e.id for e in store.query()}
    for row in all_examples(manifest) + rows(manifest, "eval_validation"):
        kind, _, rest = row["source"].partition(":")
        ident = rest.split("#", 1)[0]
        if kind == "pilr":
            assert ident in pilrs
        elif kind == "doc":
            assert (repo.root / ident).is_file()
        else:
            assert kind == "event" and ident in events, row["source"]
    assert manifest.counts["by_source"]["doc"] >= 3  # ADR + runbook sections


def _cited(prompt_text: str) -> list[str]:
    return re.findall(r"^id: (\S+) \|", prompt_text, flags=re.MULTILINE)


def test_planning_prompts_never_see_the_future(built: tuple[FlowRepo, DatasetManifest]) -> None:
    repo, manifest = built
    inputs = load_inputs(repo)
    created = {d.id: d.meta.created for d in inputs.pilrs}
    finished = {w.task: w.time for w in inputs.work}
    builder = PlanningContextBuilder(repo)
    checked = 0
    for row in rows(manifest, "sft_train") + rows(manifest, "sft_heldout"):
        if row["kind"] != "files":
            continue
        work = next(w for w in inputs.work if w.task == row["task"])
        user = row["prompt"][1]["content"]
        for doc_id in _cited(user):
            if doc_id in created:  # documentation sources have no date: always known
                assert created[doc_id] <= work.as_of.date(), (row["task"], doc_id)
                assert created[doc_id] < work.time.date()
        for task, _day in re.findall(r"^- (T-\d+) \((\d{4}-\d\d-\d\d)\)", user, flags=re.MULTILINE):
            assert finished[task] < work.as_of, (row["task"], task)
        # The prompt is exactly what the shared planning_context function gives (eval uses it too).
        context = builder.build(work.description, work.as_of, exclude_task=work.task)
        assert scrub(context.text) in user  # the dataset is scrubbed; the live context is not
        checked += 1
    assert checked == len([w for w in WORK if w[0] != "T-7"])
    # The pack of T-10 may cite evg-errors (written in April); T-3 (February) must not.
    by_task = {r["task"]: r["prompt"][1]["content"] for r in all_examples(manifest) if r["kind"] == "files"}
    assert "evg-errors" not in _cited(by_task["T-3"])
    assert "Similar past tasks" in by_task["T-5"] and "T-9 (" not in by_task["T-5"]
    # Held-out planning rows carry the moment their context must be retrieved as of.
    for row in rows(manifest, "eval_planning"):
        work = next(w for w in inputs.work if w.task == row["task"])
        assert row["as_of"] == work.as_of.isoformat() and row["time"] == work.time.isoformat()


def test_newest_tasks_are_held_out(built: tuple[FlowRepo, DatasetManifest]) -> None:
    _, manifest = built
    split = manifest.split
    assert split["heldout_tasks"] == ["T-9", "T-10"] and len(split["train_tasks"]) == 8
    assert split["cutoff"] == dt.datetime(2025, 7, 1, 12, tzinfo=dt.timezone.utc).isoformat()
    held = set(split["heldout_tasks"])
    for name in ("sft_train", "dpo_train"):
        assert not {r["task"] for r in rows(manifest, name)} & held
    for name in ("sft_heldout", "dpo_heldout"):
        for r in rows(manifest, name):
            assert r["task"] in held or (r["task"] is None and r["time"] >= split["cutoff"])
    assert {r["task"] for r in rows(manifest, "eval_planning")} == held
    # Explanations of documents have no task: they always train.
    assert all(r["kind"] != "explain" for r in rows(manifest, "sft_heldout"))
    # A cumulative entry written after the cutoff (no task) is held out, with its validation items.
    held_sources = {r["source"] for r in rows(manifest, "sft_heldout")}
    assert "pilr:cum-refund-race" in held_sources
    labels = {(r["source"], r["label"]) for r in rows(manifest, "eval_validation")}
    assert ("pilr:cum-refund-race", "violating") in labels and ("pilr:cum-refund-race", "compliant") in labels
    assert all(not r["source"].startswith("pilr:cum-webhook") for r in rows(manifest, "eval_validation"))


def test_outcomes_weight_their_task(built: tuple[FlowRepo, DatasetManifest]) -> None:
    _, manifest = built
    weights: dict[str, set[float]] = {}
    for r in all_examples(manifest):
        if r["task"]:
            weights.setdefault(r["task"], set()).add(r["weight"])
    assert weights["T-3"] == {0.5}  # hotfix
    assert weights["T-2"] == {0.7}  # CI failed first
    assert weights["T-6"] == {1.1}  # green within the hour
    assert weights["T-1"] == {1.0}
    assert "T-7" not in weights  # reverted: dropped
    assert manifest.counts["removed"]["reverted_examples"] == 1
    # ... and the reverted work never becomes an evaluation target either.
    assert "T-7" not in {r["task"] for r in rows(manifest, "eval_planning")}


def test_secrets_are_scrubbed_everywhere(built: tuple[FlowRepo, DatasetManifest]) -> None:
    _, manifest = built
    blob = b"".join(p.read_bytes() for p in manifest.path.iterdir())
    assert SECRET.encode() not in blob
    assert b"[REDACTED:stripe_key]" in blob


def test_same_inputs_same_hash_and_reuse(built: tuple[FlowRepo, DatasetManifest], tmp_path: Path) -> None:
    repo, manifest = built
    again = build_dataset(repo)
    assert again.reused and again.version == 1 and again.content_hash == manifest.content_hash
    copy = tmp_path / "copy"
    shutil.copytree(repo.root, copy, ignore=shutil.ignore_patterns("datasets", "index"))
    other = build_dataset(FlowRepo(copy))
    assert other.content_hash == manifest.content_hash and not other.reused
    for name, filename in manifest.files.items():
        assert (other.path / filename).read_bytes() == (manifest.path / filename).read_bytes(), name


def test_stats_and_thresholds(built: tuple[FlowRepo, DatasetManifest]) -> None:
    repo, manifest = built
    # Evergreen + cumulative documents used by training examples: evg-money, evg-errors,
    # cum-webhook-dupes (cum-refund-race is held out) and the two documentation files.
    assert check_threshold(manifest, "sft") == (5, 50, False)
    assert check_threshold(manifest, "sft", threshold=5) == (5, 5, True)
    assert check_threshold(manifest, "dpo") == (manifest.counts["files"]["dpo_train"], 200, False)
    with pytest.raises(DatasetError, match="unknown training pass"):
        check_threshold(manifest, "rlhf")
    stats = dataset_stats(repo).to_dict()
    sft = dict(stats["thresholds"]["sft"])
    assert sft.pop("next").startswith("needs 45 more documents: ")
    assert sft == {"count": 5, "threshold": 50, "ok": False, "unit": "documents"}
    result = runner.invoke(app, ["-C", str(repo.root), "dataset", "stats", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["version"] == 1 and data["split"]["heldout_tasks"] == 2
    assert data["counts"]["by_kind"]["sft"]["files"] >= 1
    result = runner.invoke(app, ["-C", str(repo.root), "dataset", "stats"])
    assert result.exit_code == 0 and "Thresholds" in result.stdout


def test_empty_inputs_are_a_clear_error(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "empty").repo
    with pytest.raises(DatasetError, match="nothing to build from"):
        build_dataset(repo)
    result = runner.invoke(app, ["-C", str(repo.root), "dataset", "build"])
    assert result.exit_code == 1 and "nothing to build from" in result.output
    add_pilr(repo, "evg-x", "evergreen", "Tiny", "Too short.", dt.date(2025, 1, 1))
    with pytest.raises(DatasetError, match="would be empty"):
        build_dataset(repo)
    assert not (repo.state_dir / "datasets").exists() or not list((repo.state_dir / "datasets").iterdir())
    result = runner.invoke(app, ["-C", str(repo.root), "dataset", "stats"])
    assert result.exit_code == 1 and "no dataset has been built yet" in result.output


def test_corrupt_manifest_is_named(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "acme").repo
    add_pilr(repo, "evg-money", "evergreen", "Money", "## Decision\n\nAll amounts are integer minor units.\n",
             dt.date(2025, 1, 1))
    manifest = build_dataset(repo)
    path = manifest.path / "manifest.json"
    path.write_text('{"version": 1, "created_at": ')
    with pytest.raises(DatasetError, match="corrupt manifest") as info:
        load_manifest(repo)
    assert info.value.path == path
    result = runner.invoke(app, ["-C", str(repo.root), "dataset", "stats"])
    assert result.exit_code == 1 and "manifest.json" in result.output
    path.write_text(json.dumps({"version": 1}))
    with pytest.raises(DatasetError, match="corrupt manifest") as info:
        load_manifest(repo, "v1")
    assert info.value.field == "created_at"
    # A corrupt latest version is never reused: the next build writes v2.
    rebuilt = build_dataset(repo)
    assert rebuilt.version == 2 and not rebuilt.reused
    with pytest.raises(DatasetError, match="no dataset version v7"):
        load_manifest(repo, "v7")


def test_the_reward_pass_gets_the_labelled_outputs_split_like_the_validation_items(
    built: tuple[FlowRepo, DatasetManifest],
) -> None:
    _, manifest = built
    train, heldout = rows(manifest, "reward_train"), rows(manifest, "reward_heldout")
    assert {r["label"] for r in train} == {"compliant", "violating"}
    assert [r["id"] for r in heldout] == [r["id"] for r in rows(manifest, "eval_validation")]
    assert not {r["id"] for r in train} & {r["id"] for r in heldout}
    assert manifest.counts["reward_labels"] == len(train)
    # reverted work, corrections' agent side and rejected options are the violations it learns
    sources = {r["source"].split(":")[0] for r in train if r["label"] == "violating"}
    assert sources <= {"event", "pilr"} and "event" in sources
    count, threshold, _ = check_threshold(manifest, "reward", 40)
    assert (count, threshold) == (len(train), 40)

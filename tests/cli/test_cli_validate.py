"""`flow validate` end to end: a real git repository, the CLI, exit codes 0 / 1 / 2.

The scoring runs use the session's reward model (`reward_trained`, a few real steps on the
packaged SmolLM2), copied into the repository's registry; `--threshold` pins the verdict, since
a model trained 4 steps scores near chance.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.repo import FlowRepo
from helpers_validate import change, git, project

runner = CliRunner()


def flow(root: Path, *args: str, stdin: str | None = None):  # noqa: ANN201
    return runner.invoke(app, ["-C", str(root), "validate", *args], input=stdin)


def test_bad_input_exits_2_and_names_it(git_repo: Path) -> None:
    project(git_repo)
    missing = flow(git_repo, "--plan", "nowhere.md")
    assert missing.exit_code == 2 and "nowhere.md: field '--plan': plan file not found" in missing.output
    bad_range = flow(git_repo, "--diff", "v9..HEAD")
    assert bad_range.exit_code == 2 and "revision 'v9' of range 'v9..HEAD' does not exist" in bad_range.output
    fmt = flow(git_repo, "--format", "xml")
    assert fmt.exit_code == 2 and "unknown format 'xml'" in fmt.output
    change(git_repo)
    needs = flow(git_repo, "--require-model")
    assert needs.exit_code == 2 and "no reward model has been promoted yet" in needs.output


def test_an_empty_diff_exits_0_and_says_so(git_repo: Path) -> None:
    project(git_repo)
    done = flow(git_repo, "--format", "json")
    assert done.exit_code == 0
    assert json.loads(done.stdout)["notes"][0].startswith("nothing to validate")


@pytest.fixture
def with_reward(git_repo: Path, reward_trained: FlowRepo) -> Path:
    repo = project(git_repo)
    shutil.copytree(reward_trained.state_dir / "models" / "reward", repo.state_dir / "models" / "reward")
    change(git_repo)
    return git_repo


@pytest.mark.slow
def test_a_diff_scored_by_the_reward_model_in_each_format(with_reward: Path) -> None:
    passed = flow(with_reward, "--format", "json", "--threshold", "0")
    assert passed.exit_code == 0, passed.output
    data = json.loads(passed.stdout)
    assert data["scorer"] == "reward v1" and data["flagged"] == 0 and data["units"] >= 1
    assert data["calibration"]["target_precision"] == 0.8
    assert all(0.0 <= r["score"] <= 1.0 for r in data["results"])
    assert data["skipped"] == [{"path": "logo.png", "reason": "binary file"}]
    flagged = flow(with_reward, "--format", "github", "--threshold", "1")
    assert flagged.exit_code == 1 and flagged.stdout.startswith("::error file=src/ledger.py,line=1")
    sarif = flow(with_reward, "--format", "sarif", "--threshold", "1")
    assert sarif.exit_code == 1 and json.loads(sarif.stdout)["runs"][0]["results"][0]["ruleId"] == "flowloop/convention"
    text = flow(with_reward, "--threshold", "1")
    assert text.exit_code == 1 and "FLAG" in text.stdout and "scored by reward v1" in text.stdout
    default = flow(with_reward, "--format", "json")
    assert default.exit_code in (0, 1)
    assert json.loads(default.stdout)["threshold"] == data["calibration"]["threshold"]


@pytest.mark.slow
def test_a_plan_from_a_file_and_from_stdin(with_reward: Path) -> None:
    (with_reward / "plan.md").write_text("Store the refund amount as a float.\n")
    from_file = flow(with_reward, "--plan", "plan.md", "--format", "json", "--threshold", "1")
    assert from_file.exit_code == 1
    assert json.loads(from_file.stdout)["results"][0]["id"] == "plan"
    from_stdin = flow(with_reward, "--plan", "-", "--format", "json", "--threshold", "0", stdin="Use Money.\n")
    assert from_stdin.exit_code == 0 and json.loads(from_stdin.stdout)["results"][0]["path"] == "<stdin>"


@pytest.mark.slow
def test_the_readme_ci_and_pre_commit_command_lines(with_reward: Path) -> None:
    
    git(with_reward, "checkout", "-q", "-b", "feature")
    git(with_reward, "add", "-A")
    git(with_reward, "commit", "-qm", "floats")
    # the GitHub Actions step, against the base branch of the pull request
    ci = flow(with_reward, "--diff", "main...HEAD", "--format", "github", "--threshold", "1")
    assert ci.exit_code == 1 and ci.stdout.startswith("::error file=src/ledger.py,line=1")
    sarif = flow(with_reward, "--diff", "main...HEAD", "--format", "sarif")
    assert sarif.exit_code in (0, 1) and json.loads(sarif.stdout)["version"] == "2.1.0"
    # the pre-commit hook: the working tree against HEAD, clean after the commit
    clean = flow(with_reward, "--format", "text")
    assert clean.exit_code == 0 and "passed: nothing below threshold" in clean.stdout
    assert "nothing to validate" in clean.output


@pytest.mark.slow
def test_without_a_reward_model_the_generative_reviewer_scores_and_says_so(git_repo: Path, base_checkpoint: Path) -> None:
    project(git_repo)
    change(git_repo)
    done = flow(git_repo, "--format", "json")
    assert done.exit_code in (0, 1), done.output
    data = json.loads(done.stdout)
    assert data["scorer"].startswith("reviewer ") and data["threshold"] == 0.5
    assert data["notes"][0].startswith("no reward model yet: scored by the generative reviewer")

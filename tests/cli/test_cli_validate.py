"""`flow validate` end to end: a real git repository, the CLI, exit codes 0 / 1 / 2.

The scoring runs use the session's reward model (`reward_trained`, a few real steps on the
packaged SmolLM2), copied into the repository's registry; `--threshold` pins the verdict, since
a model trained 4 steps scores near chance.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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


def readme_command_lines() -> tuple[list[str], str]:
    """The `flow validate` lines of the README's GitHub Actions workflow, and its pre-commit entry."""
    import re

    import yaml

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, flags=re.S)]
    workflow = next(b for b in blocks if isinstance(b, dict) and "jobs" in b)
    runs = [step["run"] for job in workflow["jobs"].values() for step in job["steps"]
            if "flow validate" in step.get("run", "")]
    hooks = next(b for b in blocks if isinstance(b, dict) and "repos" in b)
    entry = next(h["entry"] for r in hooks["repos"] for h in r["hooks"] if h["id"] == "flow-validate")
    return runs, entry


def shell(root: Path, line: str) -> subprocess.CompletedProcess[str]:
    """``line`` as a workflow step runs it (bash), in ``root``, with this environment's `flow`."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["bash", "-c", line], cwd=root, capture_output=True, text=True, env=env)


@pytest.mark.slow
def test_the_readme_ci_and_pre_commit_command_lines(with_reward: Path, tmp_path: Path) -> None:
    runs, entry = readme_command_lines()  # the README's YAML parses: GitHub would load it
    assert len(runs) == 2 and entry == "flow validate --format text"
    # a pull request: the base branch pushed to origin, the change committed on a feature branch
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(tmp_path / "origin.git"))
    git(with_reward, "remote", "add", "origin", str(tmp_path / "origin.git"))
    git(with_reward, "push", "-q", "origin", "main")
    git(with_reward, "fetch", "-q", "origin")
    git(with_reward, "checkout", "-q", "-b", "feature")
    # the pre-commit hook first: what is staged, the working tree against HEAD
    git(with_reward, "add", "-A")
    staged = shell(with_reward, entry)
    assert staged.returncode in (0, 1), staged.stderr
    assert "src/ledger.py:1" in staged.stdout and "skipped logo.png: binary file" in staged.stdout
    git(with_reward, "commit", "-qm", "floats")
    clean = shell(with_reward, entry)
    assert clean.returncode == 0 and "passed: nothing below threshold" in clean.stdout
    assert "nothing to validate" in clean.stderr
    # the workflow's steps, with the pull request's base branch filled in as GitHub would
    annotate, upload = (line.replace("${{ github.base_ref }}", "main") for line in runs)
    annotations = shell(with_reward, annotate)
    assert annotations.returncode in (0, 1), annotations.stderr
    assert all(line.startswith("::") for line in annotations.stdout.splitlines())
    assert (annotations.returncode == 1) == any(line.startswith("::error file=") for line in annotations.stdout.splitlines())
    flagged = shell(with_reward, annotate + " --threshold 1")
    assert flagged.returncode == 1 and flagged.stdout.startswith("::error file=src/ledger.py,line=1")
    sarif = shell(with_reward, upload)
    assert sarif.returncode == 0  # `|| true`: the upload step runs whatever the verdict
    assert json.loads((with_reward / "flow.sarif").read_text())["version"] == "2.1.0"
    # the same workflow where the cache lost the reward model: a clear failure, not a fallback
    shutil.rmtree(with_reward / ".flow" / "state" / "models" / "reward")
    missing = shell(with_reward, annotate)
    assert missing.returncode == 2 and "no reward model has been promoted yet" in missing.stderr


@pytest.mark.slow
def test_without_a_reward_model_the_generative_reviewer_scores_and_says_so(git_repo: Path, base_checkpoint: Path) -> None:
    project(git_repo)
    change(git_repo)
    done = flow(git_repo, "--format", "json")
    assert done.exit_code in (0, 1), done.output
    data = json.loads(done.stdout)
    assert data["scorer"].startswith("reviewer ") and data["threshold"] == 0.5
    assert data["notes"][0].startswith("no reward model yet: scored by the generative reviewer")


def test_a_diff_of_only_binary_and_huge_files_names_them_and_exits_0(git_repo: Path) -> None:
    project(git_repo)
    (git_repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0binary")
    (git_repo / "generated.py").write_text("".join(f"X_{i} = {i}\n" for i in range(40)))
    git(git_repo, "add", "-A")
    done = flow(git_repo, "--max-file-lines", "10")  # no model is loaded: there is nothing to score
    assert done.exit_code == 0, done.output
    assert "skipped logo.png: binary file" in done.stdout and "skipped generated.py: 40 changed lines (over 10)" in done.stdout
    assert "nothing to validate: every change in the diff of the working tree against HEAD was skipped" in done.output
    data = json.loads(flow(git_repo, "--max-file-lines", "10", "--format", "json").stdout)
    assert data["units"] == 0 and [s["path"] for s in data["skipped"]] == ["generated.py", "logo.png"]


def test_a_plan_that_is_not_text_or_is_empty(git_repo: Path) -> None:
    project(git_repo)
    (git_repo / "plan.pdf").write_bytes(b"%PDF-1.7\n\0\0binary")
    binary = flow(git_repo, "--plan", "plan.pdf")
    assert binary.exit_code == 2 and "plan.pdf: field '--plan': the plan file is not text" in binary.output
    folder = flow(git_repo, "--plan", "src")
    assert folder.exit_code == 2 and "the plan is a folder, not a file" in folder.output
    empty = flow(git_repo, "--plan", "-", "--format", "json", stdin="  \n")
    assert empty.exit_code == 0 and json.loads(empty.stdout)["notes"] == ["nothing to validate: the plan <stdin> is empty"]


def test_help_documents_the_exit_codes_and_what_is_skipped() -> None:
    done = runner.invoke(app, ["validate", "--help"], env={"COLUMNS": "200"})
    text = " ".join(done.output.split())
    assert "Exit codes: 0 nothing below threshold (or nothing to validate); 1 at least one unit below threshold; 2" in text
    assert "Skipped, and named with the reason: binary files" in text and "nothing to validate: exit 0" in text

"""``flow collect git`` and ``flow collect junit``: signals from history and from CI.

Both commands parse, call one collector (``flowloop.signals.collect_git`` /
``collect_junit``) and render what was stored. The collectors (and SQLAlchemy behind them) are
imported inside the commands so ``flow --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import typer

from flowloop.cli.common import console, err_console, markup, print_json, progress_bar, repo_of

collect_app = typer.Typer(help="Mine signals from git history and CI test reports.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(collect_app, name="collect")


def _parse_since(value: Optional[str]) -> Optional[dt.datetime]:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD or an ISO time", param_hint="--since")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


@collect_app.command("git")
def git_command(
    ctx: typer.Context,
    since: Optional[str] = typer.Option(None, "--since", help="Only commits from this date on (YYYY-MM-DD).", metavar="DATE"),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Turn the repository's commits into work records, and reverts/hotfixes into outcomes."""
    from flowloop.signals.collect_git import collect_git

    repo = repo_of(ctx)
    start = _parse_since(since)
    with progress_bar("mining git history", disable=as_json) as progress:
        result = collect_git(repo, since=start, progress=progress)
    if as_json:
        print_json({**result.__dict__, "hotfix_share": round(result.hotfix_share, 4)})
        return
    if result.head is None:
        console.print("no commits yet: nothing to mine")
        return
    mode = "full scan" if result.full_scan else "incremental"
    console.print(
        f"{result.new_commits} new of {result.commits_seen} commits read ({mode}): "
        f"{result.work_records} work records, {result.reverted} reverted, {result.hotfixes} hotfix outcomes; "
        f"stored {result.added} new events ({result.duplicates} already there)",
        highlight=False,
    )
    for warning in result.warnings:
        err_console.print(f"warning: {warning}", markup=False, highlight=False)


@collect_app.command("junit")
def junit_command(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="JUnit XML report files.", metavar="PATH..."),
    commit: Optional[str] = typer.Option(
        None, "--commit", help="Commit the reports test (default: $GITHUB_SHA, $CI_COMMIT_SHA, else HEAD).",
        envvar=["GITHUB_SHA", "CI_COMMIT_SHA"], metavar="SHA", show_envvar=False,
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Record ci_passed, tests_total and tests_failed outcomes of a commit from JUnit XML."""
    from flowloop.signals.collect_junit import collect_junit

    result = collect_junit(repo_of(ctx), paths, commit=commit)
    counts = result.counts
    if as_json:
        print_json({"commit": result.commit, "tests_total": counts.total, "tests_failed": counts.failed,
                    "tests_skipped": counts.skipped, "ci_passed": counts.passed, "added": result.added,
                    "duplicates": result.duplicates, "files": counts.files})
        return
    verdict = "[green]passed[/green]" if counts.passed else "[red]failed[/red]"
    console.print(markup(
        "{}: " + verdict + ", {}", result.commit[:12], f"{counts.total} tests, {counts.failed} failed, {counts.skipped} skipped "
        f"({len(counts.files)} file(s)); stored {result.added} outcomes ({result.duplicates} already there)"
    ))

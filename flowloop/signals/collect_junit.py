"""``flow collect junit``: test results from any CI as outcomes of a commit.

Every CI writes JUnit XML (pytest ``--junitxml``, Maven Surefire, jest-junit, GitHub/GitLab
reporters): a ``<testsuites>`` root or a single ``<testsuite>``, suites possibly nested, each
``<testcase>`` holding ``<failure>``, ``<error>`` or ``<skipped>``. Test cases are counted rather
than trusting the suites' ``tests=``/``failures=`` attributes, which some tools double-count in
nested suites. The result is three outcomes of the commit: ``ci_passed`` (1/0), ``tests_total``
and ``tests_failed``.

Parsing is with the standard library, made safe by refusing any document with a DOCTYPE: JUnit
never needs one, and without it there are no entity definitions to expand (billion laughs) or
external entities to fetch.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from flowloop.errors import CollectorError
from flowloop.repo import FlowRepo
from flowloop.signals.events import OutcomeEvent

SOURCE = "junit"
MAX_BYTES = 200 * 1024 * 1024
_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass
class JunitCounts:
    total: int = 0
    failed: int = 0
    skipped: int = 0
    files: list[str] = field(default_factory=list)
    digest: str = ""

    @property
    def passed(self) -> bool:
        return self.failed == 0


@dataclass
class JunitResult:
    commit: str
    counts: JunitCounts
    added: int = 0
    duplicates: int = 0


def parse_junit_bytes(data: bytes, name: str = "<body>") -> JunitCounts:
    """Count the test cases of one JUnit XML document; ``name`` is used in errors."""
    if len(data) > MAX_BYTES:
        raise CollectorError(f"larger than {MAX_BYTES // (1024 * 1024)} MiB", path=name, hint="split the report")
    doctype = _DOCTYPE.search(data)
    if doctype:
        line = data.count(b"\n", 0, doctype.start()) + 1
        raise CollectorError(
            "refusing a JUnit file with a DOCTYPE or entity declaration (unsafe XML)",
            path=name,
            line=line,
            hint="JUnit reports never need one; remove it",
        )
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise CollectorError(
            f"not well-formed XML ({exc})", path=name, line=line, hint="is this a complete JUnit XML report?"
        ) from exc
    tag = _local(root.tag)
    if tag not in ("testsuites", "testsuite"):
        raise CollectorError(
            f"root element is <{tag}>, not <testsuites> or <testsuite>", path=name, line=1,
            hint="pass a JUnit XML report",
        )
    counts = JunitCounts(files=[name], digest=hashlib.sha256(data).hexdigest())
    cases = [el for el in root.iter() if _local(el.tag) == "testcase"]
    if cases:
        for case in cases:
            children = {_local(child.tag) for child in case}
            counts.total += 1
            if children & {"failure", "error"}:
                counts.failed += 1
            elif "skipped" in children:
                counts.skipped += 1
    else:
        # Summary-only reports (no test cases listed): trust the outermost counters.
        suites = [root] if tag == "testsuite" or root.get("tests") else [s for s in root if _local(s.tag) == "testsuite"]
        for suite in suites:
            counts.total += _int_attr(suite, "tests", name)
            counts.failed += _int_attr(suite, "failures", name) + _int_attr(suite, "errors", name)
            counts.skipped += _int_attr(suite, "skipped", name)
    return counts


def parse_junit_files(paths: Iterable[Path]) -> JunitCounts:
    """The sum over several reports (one CI run often writes one file per module)."""
    total = JunitCounts()
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise CollectorError("no such file", path=path, hint="check the path to the JUnit report") from exc
        except IsADirectoryError as exc:
            raise CollectorError("is a folder", path=path, hint="pass the XML files inside it") from exc
        one = parse_junit_bytes(data, str(path))
        total.total += one.total
        total.failed += one.failed
        total.skipped += one.skipped
        total.files.append(str(path))
        digest.update(one.digest.encode())
    if not total.files:
        raise CollectorError("no JUnit files given", hint="pass one or more XML report paths")
    total.digest = digest.hexdigest()
    return total


def junit_events(counts: JunitCounts, commit: str, task: str | None, source: str = SOURCE) -> list[OutcomeEvent]:
    """The three outcomes of one CI run. Keys include the reports' hash: a re-run is a new run."""
    base = f"junit:{commit}:{counts.digest[:16]}"
    values = {
        "ci_passed": 1.0 if counts.passed else 0.0,
        "tests_total": float(counts.total),
        "tests_failed": float(counts.failed),
    }
    return [
        OutcomeEvent(task=task, metric=metric, value=value, commit=commit, repo_commit=commit,
                     idempotency_key=f"{base}:{metric}", source=source)
        for metric, value in values.items()
    ]


def check_commit(commit: str) -> str:
    if not _SHA.match(commit):
        raise CollectorError(f"{commit!r} is not a commit sha", field="commit", hint="pass 7-64 hex digits")
    return commit.lower()


_REVISION = re.compile(r"[A-Za-z0-9._/~^@{}][A-Za-z0-9._/~^@{}-]{0,199}")  # never a leading '-' (an option)


def _resolve_revision(root: Path, revision: str) -> str:
    from flowloop.errors import GitError
    from flowloop.git import run_git

    if not _REVISION.fullmatch(revision):
        raise CollectorError(f"{revision!r} is not a commit sha or revision", field="commit",
                             hint="pass a sha, HEAD, a branch or a tag")
    try:
        sha = run_git(root, "rev-parse", "--verify", "-q", f"{revision}^{{commit}}").strip()
    except GitError as exc:
        raise CollectorError(f"{revision!r} names no commit of this repository", field="commit",
                             hint="pass a sha, HEAD, a branch or a tag") from exc
    return check_commit(sha)


def collect_junit(repo: FlowRepo, paths: Iterable[Path], commit: str | None = None) -> JunitResult:
    """Parse the reports at ``paths`` and store their outcomes for ``commit`` (default: HEAD)."""
    from flowloop.git import head_commit
    from flowloop.signals.collect_git import commit_task
    from flowloop.signals.store import open_store

    counts = parse_junit_files(paths)  # parse everything before resolving or storing anything
    if commit is None:
        try:
            commit = head_commit(repo.root)
        except CollectorError as exc:
            raise CollectorError(f"cannot tell which commit was tested: {exc.message}", field="commit",
                                 hint="pass --commit SHA") from exc
        if commit is None:
            raise CollectorError("the repository has no commits", field="commit", hint="pass --commit SHA")
    elif not _SHA.match(commit):
        commit = _resolve_revision(repo.root, commit)  # HEAD, HEAD~1, a branch or tag
    else:
        commit = check_commit(commit)
        # An abbreviated sha names the same commit as the full one: store the full one when known.
        if len(commit) < 40:
            from flowloop.git import run_git

            try:
                commit = run_git(repo.root, "rev-parse", "--verify", "-q", f"{commit}^{{commit}}").strip() or commit
            except CollectorError:
                pass  # not in this clone (CI of another checkout): keep what was given
    events = junit_events(counts, commit, commit_task(repo, commit))
    with open_store(repo) as store:
        added = store.add(events)
    return JunitResult(commit=commit, counts=counts, added=added.added, duplicates=added.duplicates)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]  # namespaced reports: {urn:...}testcase


def _int_attr(element: ET.Element, attr: str, name: str) -> int:
    raw = element.get(attr, "0") or "0"
    try:
        return int(float(raw))
    except ValueError as exc:
        raise CollectorError(f"attribute {attr}={raw!r} is not a number", path=name, field=attr) from exc

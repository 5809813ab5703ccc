"""Chunking real Sphinx pages (click's MyST and reST docs, an httpx page) and packing long sections.

Labels and navigation are not chunks, no split and no pack heading falls inside fenced code,
and the chunks of one long section print under one heading.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.index.api import build_index, context_pack
from flowloop.index.chunking import Chunk, chunk_text
from flowloop.index.render import chunk_section
from flowloop.index.tokens import counter_for
from flowloop.repo import FlowRepo
from index_kb import make_repo  # type: ignore[import-not-found]

FIXTURES = Path(__file__).parent / "fixtures"
LABEL = re.compile(r"^\s*(\([^)]+\)=|\.\. _[^:]+:)\s*$", re.M)
NAVIGATION = ("toctree", ":maxdepth:", "currentmodule", "{contents}", "local: true")


def chunks_of(name: str, title: str, minilm_dir: Path, max_tokens: int = 400) -> list[Chunk]:
    path = FIXTURES / name
    fmt = "rst" if path.suffix == ".rst" else "md"
    return chunk_text(title, path.read_text(encoding="utf-8"), fmt, counter_for(minilm_dir), max_tokens)


def assert_no_navigation(chunks: list[Chunk]) -> None:
    for chunk in chunks:
        assert not LABEL.search(chunk.text), chunk
        assert not any(word in chunk.text for word in NAVIGATION), chunk


def test_myst_labels_attach_to_their_heading(minilm_dir: Path) -> None:
    chunks = chunks_of("click_parameters.md", "Parameters", minilm_dir)
    # Before: a chunk "(parameters)=" of its own and "(parameter-names)=" at the end of Arguments.
    assert [c.heading for c in chunks] == ["", "Options", "Arguments", "Parameter Names"]
    assert_no_navigation(chunks)
    assert chunks[0].text.startswith("Click supports only two principle types")
    assert chunks[2].text.endswith("help with the handling of those types.")
    assert "@click.argument('filename')" in chunks[3].text  # the eval-rst example is content


def test_myst_navigation_only_sections_are_dropped(minilm_dir: Path) -> None:
    chunks = chunks_of("click_command_line_reference.md", "General Command Line Topics", minilm_dir)
    assert [c.heading for c in chunks] == ["Exit Codes"]  # the intro is only currentmodule + contents
    assert_no_navigation(chunks)
    api = chunks_of("click_api_head.md", "API", minilm_dir)
    # "Decorators" holds only `.. autofunction::` directives: nothing to retrieve until Sphinx runs.
    assert [c.heading for c in api] == [""]
    assert api[0].text == ("This part of the documentation lists the full API reference of all public\n"
                           "classes and functions.")


def test_rst_labels_comments_and_toctrees(minilm_dir: Path) -> None:
    chunks = chunks_of("click_parameters.rst", "Parameters", minilm_dir)
    assert [c.heading for c in chunks] == ["", "Options", "Arguments", "Parameter Names"]
    assert_no_navigation(chunks)
    assert ".. click:example::" in chunks[3].text and "def multi_echo" in chunks[3].text
    index = chunks_of("click_index.rst", "Welcome to Click", minilm_dir)
    assert_no_navigation(index)
    headings = [c.heading for c in index]
    # Sections that are only a toctree ("Tutorials", "How to Guides", ...) are gone.
    assert "Documentation > Tutorials" not in headings and "Documentation > How to Guides" not in headings
    assert any("pip install click" in c.text for c in index)
    assert not any(c.text.startswith(".. rst-class") for c in index)


def fence_state_violations(text: str) -> list[str]:
    """Heading lines that sit inside an open fence of ``text``."""
    fence: str | None = None
    bad = []
    for line in text.splitlines():
        marker = re.match(r"^\s{0,3}(`{3,}|~{3,})", line)
        if marker:
            fence = None if fence and line.strip() == fence else (fence or marker.group(1))
        elif fence and line.startswith("### "):
            bad.append(line)
    return bad


@pytest.mark.parametrize("max_tokens", [30, 45, 80])
def test_code_fences_are_never_cut_open(minilm_dir: Path, max_tokens: int) -> None:
    counter = counter_for(minilm_dir)
    chunks = chunks_of("httpx_event_hooks.md", "Event Hooks", minilm_dir, max_tokens=max_tokens)
    assert len(chunks) > 3
    for chunk in chunks:
        fences = [ln for ln in chunk.text.splitlines() if re.match(r"^\s{0,3}```", ln)]
        assert len(fences) % 2 == 0, chunk.text  # each piece opens and closes its own fences
        assert chunk.tokens <= max_tokens + counter.count("```python\n```")
    rendered = "".join(chunk_section(f"Event Hooks part {c.ord}", c.text) for c in chunks)
    assert fence_state_violations(rendered) == []
    # A code block too long for one chunk is closed and reopened, its language kept.
    pieces = [c.text for c in chunks if "def log_request" in c.text or "def log_response" in c.text]
    if max_tokens == 30:
        assert len(pieces) >= 2 and all(p.startswith("```python") and p.endswith("```") for p in pieces)


PARAGRAPHS = [
    "A refund never exceeds the refundable balance of its invoice line: the sum of earlier refunds is "
    "subtracted first, and the request is rejected with 422 when the amount is larger.",
    "Amounts travel as integer cents in every request and response body; the API refuses decimal strings "
    "and floating point numbers with a validation error naming the field.",
    "Each refund carries a reason code from the published list (duplicate, fraudulent, requested_by_customer), "
    "which the ledger stores next to the journal entry for auditors.",
    "Refunds of card payments settle through the original acquirer within five business days; bank transfers "
    "are refunded by a new outgoing transfer that finance approves.",
    "Partial refunds are allowed on paid invoices only. Draft and void invoices answer 409 Conflict, "
    "and the error body points to the invoice state machine documentation.",
    "Webhook consumers receive refund.created and refund.settled events, signed with the tenant's secret and "
    "retried with exponential backoff for up to three days.",
]
LONG_SECTION = "## Refunds\n\n" + "\n\n".join(PARAGRAPHS) + "\n"


def test_long_section_packs_under_one_heading(tmp_path: Path, minilm_dir: Path) -> None:
    assert len(chunk_text("API contract: /payments", LONG_SECTION, "md", counter_for(minilm_dir), 90)) >= 3
    docs = [{"id": "evg-refunds", "type": "evergreen", "title": "API contract: /payments", "created": "2025-01-01",
             "body": "# API contract: /payments\n\n" + LONG_SECTION}]
    repo = make_repo(tmp_path / "refunds", docs=docs, sources=False, extra_config="chunk_max_tokens = 90")
    build_index(repo)
    pack = context_pack(repo, "refund an invoice line up to its refundable balance", budget=4000, log=False)
    assert pack.text.count("### Refunds") == 1, pack.text  # before: once per chunk
    assert sum(p[:40] in pack.text for p in PARAGRAPHS) >= 4
    assert pack.text.endswith("\n") and not pack.text.endswith("\n\n")
    assert pack.documents[0].headings == ["Refunds"]
    out = CliRunner().invoke(app, ["-C", str(repo.root), "context", "refund an invoice line", "--budget", "4000"])
    assert out.exit_code == 0, out.output
    assert out.stdout.endswith("\n") and not out.stdout.endswith("\n\n")
    assert "1 document," in out.stderr and "1 documents" not in out.stderr


def test_colon_fences_stay_whole(minilm_dir: Path) -> None:
    note = ":::{note}\nFirst paragraph of the note.\n\nSecond paragraph of the note.\n:::"
    body = "# Guide\n\n## Setup\n\n" + "Intro words here. " * 12 + "\n\n" + note + "\n\n" + "Closing words. " * 12 + "\n"
    chunks = chunk_text("Guide", body, "md", counter_for(minilm_dir), max_tokens=60)
    holding = [c.text for c in chunks if "First paragraph of the note" in c.text]
    assert len(holding) == 1 and note in holding[0]


def test_dataset_sections_of_sphinx_sources_skip_navigation(tmp_path: Path) -> None:
    """The dataset reads documentation sources as the index does: no question about a toctree."""
    from flowloop.pipeline.inputs import doc_sections

    repo = make_repo(tmp_path / "docs", docs=[], sources=False)
    (repo.root / "docs").mkdir()
    for name in ("click_parameters.md", "click_index.rst", "click_api_head.md"):
        shutil.copy(FIXTURES / name, repo.root / "docs" / name)
    config = repo.config_path.read_text()
    repo.config_path.write_text(config + '\n[[sources]]\nglob = "docs/*"\ntype = "evergreen"\n')
    sections = doc_sections(FlowRepo(repo.root))
    assert sections and not any(LABEL.search(s.text) or any(w in s.text for w in NAVIGATION) for s in sections)
    assert ("docs/click_api_head.md", "Decorators") not in {(s.path, s.heading) for s in sections}

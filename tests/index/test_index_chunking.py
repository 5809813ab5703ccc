"""Chunking: markdown by headings, reStructuredText by section titles, long sections split."""

from __future__ import annotations

from pathlib import Path

from flowloop.index.chunking import chunk_text, markdown_sections, rst_sections
from flowloop.index.tokens import counter_for

MD = """Intro paragraph before any heading.

# Guide

## Install
Run the installer.

```bash
# not a heading: inside a code fence
make install
```

### Offline
Copy the wheel.

## Use
Call the API.
"""

RST = """=========
 Runbook
=========

Overview text.

Workers
=======

Worker text.

Restart
-------

Restart text.

Queues
======

Queue text.
"""


def test_markdown_sections_keep_heading_paths_and_ignore_fences() -> None:
    sections = {" > ".join(path): body for path, body in markdown_sections(MD) if body}
    assert sections[""] == "Intro paragraph before any heading."
    assert "# not a heading" in sections["Guide > Install"]
    assert sections["Guide > Install > Offline"] == "Copy the wheel."
    assert sections["Guide > Use"] == "Call the API."


def test_rst_sections_follow_adornment_levels() -> None:
    sections = {" > ".join(path): body for path, body in rst_sections(RST) if body}
    assert sections == {
        "Runbook": "Overview text.",
        "Runbook > Workers": "Worker text.",
        "Runbook > Workers > Restart": "Restart text.",
        "Runbook > Queues": "Queue text.",
    }


def test_chunks_drop_the_title_heading_and_split_long_sections(minilm_dir: Path) -> None:
    counter = counter_for(minilm_dir)
    chunks = chunk_text("Guide", MD, "md", counter, max_tokens=400)
    assert [c.heading for c in chunks] == ["", "Install", "Install > Offline", "Use"]
    long_body = "# Notes\n\n" + "\n\n".join(f"Paragraph {i} " + "word " * 40 for i in range(30))
    pieces = chunk_text("Notes", long_body, "md", counter, max_tokens=64)
    assert len(pieces) > 10
    assert all(c.tokens <= 64 for c in pieces)
    assert all(c.tokens == counter.count(c.text) for c in pieces)
    one_line = chunk_text("Line", "word " * 500, "txt", counter, max_tokens=50)
    assert all(c.tokens <= 50 for c in one_line) and len(one_line) >= 10


def test_empty_body_still_gives_a_findable_chunk(minilm_dir: Path) -> None:
    chunks = chunk_text("Only a title", "", "md", counter_for(minilm_dir), max_tokens=400)
    assert len(chunks) == 1 and chunks[0].text == "Only a title"

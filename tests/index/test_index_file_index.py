"""The file index: tracked sources as cards, searched by BM25 + dense, updated incrementally."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "pipeline"))

from retrieval_kit import commit, day, make_history  # noqa: E402

from flowloop.index.file_index import build_file_index, search_files  # noqa: E402


def test_files_are_found_by_what_their_cards_say_and_only_changes_are_re_embedded(tmp_path: Path) -> None:
    repo = make_history(tmp_path / "repo")
    commit(repo.root, "Webhook handler", day(6), {
        "src/pay/webhooks.py": '"""Verify and route incoming payment webhooks."""\n\ndef verify_signature(body, header):\n    """HMAC check."""\n',
        "src/pay/broken.py": "def nope(:\n",
        "README.md": "# not a source file\n",
    })
    first = build_file_index(repo)
    assert first.files == 3 and first.embedded == 3
    assert any("broken.py" in w for w in first.warnings)  # a card from its outline, never a crash
    hits = search_files(repo, "verify webhook signature", k=2)
    assert hits[0].path == "src/pay/webhooks.py" and "verify_signature" in hits[0].card

    commit(repo.root, "Retry cap", day(7), {"src/pay/retry.py": '"""Retry failed payments, at most three times."""\n'})
    again = build_file_index(repo)
    assert (again.files, again.embedded) == (3, 1)
    assert search_files(repo, "retry failed payments", k=1)[0].path == "src/pay/retry.py"

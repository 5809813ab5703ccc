"""File cards: a short outline of a source file; one that does not parse still gets a card."""

from __future__ import annotations

from flowloop.index.file_cards import MAX_LINES, file_card


def test_a_python_card_has_the_docstring_and_top_level_definitions() -> None:
    text = '"""Retry failed payments.\n\nMore prose."""\n\nclass Policy:\n    """How often."""\n    def next(self): ...\n\ndef schedule(n, cap):\n    """Minutes to wait."""\n'
    card = file_card("src/pay/retry.py", text)
    assert card.text.splitlines() == ["src/pay/retry.py", "Retry failed payments.", "class Policy [next]: How often.",
                                      "def schedule(n, cap): Minutes to wait."]
    assert card.warnings == []


def test_a_file_that_does_not_parse_gets_a_card_and_a_warning() -> None:
    card = file_card("src/broken.py", "# Broken helpers\ndef ok(:\n    pass\n")
    assert card.text.startswith("src/broken.py") and "Broken helpers" in card.text
    assert card.warnings and "does not parse" in card.warnings[0]


def test_other_languages_get_a_simple_outline_and_cards_stay_short() -> None:
    text = "// Webhook router.\nexport function route(req) {\n}\n" + "".join(f"const c{i} = {i};\n" for i in range(100))
    card = file_card("web/router.ts", text)
    lines = card.text.splitlines()
    assert lines[:3] == ["web/router.ts", "Webhook router.", "export function route(req)"]
    assert len(lines) == MAX_LINES

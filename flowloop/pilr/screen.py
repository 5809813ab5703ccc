"""The screen every untrusted PILR write passes on arrival: what in it is aimed at a model.

A document written by an agent, mined from a transcript or sent over HTTP or MCP is later
injected into other agents' context, which makes its text an attack surface (indirect prompt
injection). Four kinds of finding, each with its 1-based line:

- ``injection``: text addressed to an AI model rather than to the team: "ignore previous
  instructions", "you are now DAN", chat-template role markers, requests for the system prompt;
- ``exfiltration``: markdown or HTML images that fetch a remote URL (a client renders them and
  the URL carries data out), and links whose query is a placeholder for data to fill in;
- ``hidden_unicode``: Unicode tag characters (invisible ASCII smuggling), bidirectional
  overrides and isolates (Trojan Source), runs of zero-width or variation-selector characters;
- ``secret``: credentials, found by the same patterns ``flowloop.scrub`` redacts with.

``refuse`` findings stop the write (nothing reasonable in team knowledge needs them); ``flag``
findings let the document into quarantine with the finding shown in ``flow pilr review``. The
patterns are precise rather than broad: a reviewer reads every proposed document anyway, and a
screen that cries wolf on prose about prompts would be ignored.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from flowloop.scrub import find_secrets

REFUSE, FLAG = "refuse", "flag"
KINDS = ("injection", "exfiltration", "hidden_unicode", "secret")


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: str
    line: int
    message: str

    def render(self) -> str:
        return f"line {self.line}: {self.kind} ({self.severity}): {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "severity": self.severity, "line": self.line, "message": self.message}


@dataclass
class ScreenResult:
    findings: list[Finding] = field(default_factory=list)

    @property
    def refused(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == REFUSE]

    @property
    def ok(self) -> bool:
        return not self.refused


_WORDS_PREVIOUS = r"(?:all\s+|any\s+|the\s+|your\s+|of\s+)*(?:previous|prior|above|earlier|preceding|former|original|initial)"
_WORDS_RULES = r"(?:instructions?|prompts?|rules|directions|directives|guidelines|context|commands)"
_INJECTION: list[tuple[str, re.Pattern[str]]] = [
    (REFUSE, re.compile(rf"\b(?:ignore|disregard|forget|override|overwrite|skip)\s+{_WORDS_PREVIOUS}\s+{_WORDS_RULES}", re.I)),
    (REFUSE, re.compile(rf"\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+)?(?:your|the)\s+{_WORDS_RULES}", re.I)),
    (REFUSE, re.compile(r"\b(?:ignore|disregard)\s+(?:all|everything)\b[^.\n]{0,40}\b(?:above|before|said)\b", re.I)),
    (REFUSE, re.compile(r"\b(?:reveal|print|repeat|show|output|leak|tell me)\s+(?:me\s+)?(?:your|the)\s+(?:system\s+prompt|initial\s+instructions|hidden\s+instructions|instructions\s+verbatim)", re.I)),
    (REFUSE, re.compile(r"\bdo\s+anything\s+now\b|\bDAN\s+mode\b|\bdeveloper\s+mode\s+(?:enabled|output)\b|\bjailbr(?:eak|oken)\b", re.I)),
    (REFUSE, re.compile(r"<\|(?:im_start|im_end|system|endoftext|start_header_id)\|>|\[/?INST\]|<<\s*/?SYS\s*>>")),
    (REFUSE, re.compile(r"\[\s*system\s*\]\s*\(#", re.I)),  # Greshake et al.'s fake system message
    (FLAG, re.compile(r"\b(?:you\s+are\s+now|from\s+now\s+on,?\s+you|act\s+as\s+(?:an?\s+)?(?:unrestricted|unfiltered|evil|different)|pretend\s+(?:to\s+be|you\s+are)|role-?play\s+as)\b", re.I)),
    (FLAG, re.compile(r"\b(?:note|message|instructions?)\s+(?:to|for)\s+(?:the\s+)?(?:ai|assistant|agent|model|llm|chatbot)\b", re.I)),
    (FLAG, re.compile(r"\bif\s+you\s+are\s+(?:an?\s+)?(?:ai|llm|language\s+model|assistant|agent|chatbot)\b", re.I)),
    (FLAG, re.compile(r"\b(?:new|updated|real)\s+(?:system\s+)?instructions\s*:", re.I)),
    (FLAG, re.compile(r"^\s*(?:system|assistant)\s*:", re.I | re.M)),
]

_REMOTE = r"(?:https?:)?//[^\s)\"'>]+"
_MD_IMAGE = re.compile(rf"!\[[^\]\n]*\]\(\s*<?({_REMOTE})")
_HTML_IMAGE = re.compile(rf"<img\b[^>]*\bsrc\s*=\s*[\"']?({_REMOTE})", re.I)
_PLACEHOLDER_QUERY = re.compile(r"[?&][\w.-]+=(?:\{|\[|<|\$|%s\b|\(|DATA\b|SECRET\b|INFO\b)", re.I)
_LINK = re.compile(rf"\]\(\s*<?({_REMOTE})|\b(https?://\S+)")

_TAGS = re.compile("[\U000e0000-\U000e007f]")
_BIDI_OVERRIDE = re.compile("[\u202a-\u202e\u2066-\u2069]")
_BIDI_MARK = re.compile("[\u200e\u200f\u061c]")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad]")
_VARIATION_RUN = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]{4,}")
_INVISIBLE_RUN = 4  # this many zero-width characters on one line encode data, not typography


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _excerpt(text: str, start: int, end: int) -> str:
    snippet = " ".join(text[start:end].split())
    return snippet if len(snippet) <= 60 else snippet[:57] + "..."


def _injection(text: str) -> list[Finding]:
    found = []
    for severity, pattern in _INJECTION:
        for match in pattern.finditer(text):
            found.append(Finding("injection", severity, _line_of(text, match.start()),
                                 f"text addressed to an AI model: {_excerpt(text, match.start(), match.end())!r}"))
    return found


def _exfiltration(text: str) -> list[Finding]:
    found = []
    for pattern in (_MD_IMAGE, _HTML_IMAGE):
        for match in pattern.finditer(text):
            url = match.group(1)
            templated = _PLACEHOLDER_QUERY.search(url) is not None or "?" in url
            found.append(Finding(
                "exfiltration", REFUSE if templated else FLAG, _line_of(text, match.start()),
                f"remote image {url[:80]!r}" + (" with a query (a client fetches it, sending data out)"
                                                 if templated else " (fetched when rendered)")))
    for match in _LINK.finditer(text):
        url = match.group(1) or match.group(2)
        if _PLACEHOLDER_QUERY.search(url):
            found.append(Finding("exfiltration", REFUSE, _line_of(text, match.start()),
                                 f"link whose query is a placeholder for data: {url[:80]!r}"))
    return found


def _hidden_unicode(text: str) -> list[Finding]:
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        tags = _TAGS.findall(line)
        if tags:
            decoded = "".join(chr(ord(c) - 0xE0000) for c in tags if 0x20 <= ord(c) - 0xE0000 < 0x7F)
            found.append(Finding("hidden_unicode", REFUSE, number,
                                 f"{len(tags)} invisible Unicode tag character(s), decoding to {decoded[:60]!r}"))
        overrides = _BIDI_OVERRIDE.findall(line)
        if overrides:
            names = sorted({unicodedata.name(c, hex(ord(c))) for c in overrides})
            found.append(Finding("hidden_unicode", REFUSE, number,
                                 f"bidirectional control character(s) that reorder what is shown: {', '.join(names)}"))
        if _BIDI_MARK.search(line):
            found.append(Finding("hidden_unicode", FLAG, number, "bidirectional mark (invisible)"))
        zero = _ZERO_WIDTH.findall(line.lstrip("\ufeff") if number == 1 else line)
        if zero:
            found.append(Finding("hidden_unicode", REFUSE if len(zero) >= _INVISIBLE_RUN else FLAG, number,
                                 f"{len(zero)} zero-width character(s)"))
        if _VARIATION_RUN.search(line):
            found.append(Finding("hidden_unicode", REFUSE, number, "a run of variation selectors (data hidden in them)"))
    return found


def _secrets(text: str) -> list[Finding]:
    return [Finding("secret", REFUSE, _line_of(text, start), f"looks like a {kind.replace('_', ' ')}")
            for kind, start, _ in find_secrets(text)]


def screen(text: str) -> ScreenResult:
    """Every finding in ``text`` (a document's whole file or its body), ordered by line."""
    findings = [*_injection(text), *_exfiltration(text), *_hidden_unicode(text), *_secrets(text)]
    unique = {(f.kind, f.line, f.message): f for f in findings}
    order = {REFUSE: 0, FLAG: 1}
    return ScreenResult(sorted(unique.values(), key=lambda f: (f.line, order[f.severity], f.kind, f.message)))

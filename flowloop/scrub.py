"""Secret scrubbing: API keys, tokens, passwords and private keys never reach storage.

Everything captured from real work (prompts, agent output, commit messages, hook transcripts)
can carry credentials pasted by accident. ``scrub`` replaces each one with
``[REDACTED:<kind>]`` before the signals store writes it and before the dataset pipeline
exports it. The patterns favour recall on well-known key formats (they have fixed prefixes, so
false positives are rare) and stay conservative on generic ``password=`` style assignments so
that prose, git SHAs and UUIDs survive untouched. ``scrub`` is idempotent.
"""

from __future__ import annotations

import re
from typing import Any, Callable

REDACTED = "[REDACTED:{kind}]"


def _mark(kind: str) -> str:
    return REDACTED.format(kind=kind)


# Specific formats first (most precise kind name wins), generic assignments last.
# Each entry: (kind, pattern); the whole match is replaced unless the pattern has a group
# named ``keep`` (kept verbatim before the marker) -- used where the prefix gives useful
# context (``Authorization: Bearer``, ``postgres://user:``).
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "private_key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
            re.DOTALL,
        ),
    ),
    # The password runs to the last '@' before a host, so one with '/' or '@' in it (unencoded,
    # as people paste them) goes whole; an empty user (redis://:pw@host) counts too.
    (
        "url_password",
        re.compile(
            r"(?P<keep>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@\[\]]{0,256}:)(?!\[REDACTED)\S{1,256}?"
            r"(?=@[^\s@/]{1,256}(?:[/:?#]|\s|$)(?!\S{0,256}@))"  # bounded: no quadratic scans
        ),
    ),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")),
    (
        "authorization",
        re.compile(
            r"(?P<keep>(?i:\b(?:proxy-)?authorization)[\"']?\s*[:=]\s*[\"']?(?i:bearer|basic|token|digest)\s+)"
            r"(?!\[REDACTED)[A-Za-z0-9._~+/=:-]+"
        ),
    ),
    ("bearer_token", re.compile(r"(?P<keep>\b(?i:bearer)\s+)(?!\[REDACTED)[A-Za-z0-9._~+/-]{20,}=*")),
    ("stripe_key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{10,}")),
    ("stripe_webhook_secret", re.compile(r"\bwhsec_[0-9A-Za-z]{16,}")),
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b")),
    (
        "aws_secret_key",
        re.compile(
            r"(?P<keep>(?i:aws_?secret(?:_access)?_?key|secret_?access_?key)[\"']?\s*[:=]\s*[\"']?)"
            r"[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"
        ),
    ),
    ("github_token", re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}\b")),
    ("github_token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}")),
    ("gitlab_token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("slack_token", re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{10,}")),
    ("slack_token", re.compile(r"\bxapp-\d-[A-Za-z0-9-]{10,}")),
    ("azure_key", re.compile(r"(?P<keep>\b(?i:AccountKey|SharedAccessKey)=)(?!\[REDACTED)[A-Za-z0-9+/]{20,}=*")),
    ("sendgrid_key", re.compile(r"\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}")),
    ("twilio_key", re.compile(r"\bSK[0-9a-fA-F]{32}\b")),
    ("mailchimp_key", re.compile(r"\b[0-9a-f]{32}-us[0-9]{1,2}\b")),
    ("discord_token", re.compile(r"\b[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}\b")),
    ("telegram_token", re.compile(r"\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b")),
    ("digitalocean_token", re.compile(r"\bdo[opr]_v1_[a-f0-9]{64}\b")),
    ("shopify_token", re.compile(r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b")),
    ("pypi_token", re.compile(r"\bpypi-[A-Za-z0-9_-]{50,}")),
    # Credentials on command lines and in tool files.
    ("password", re.compile(r"(?P<keep>(?:^|\s)(?:-u|--user)[ =]+[\"']?[^\s:\"'$]+:)(?!\[REDACTED)[^\s\"']+", re.M)),
    (
        "password",
        re.compile(
            r"(?P<keep>(?:^|\s)--(?:[a-z0-9]+-)*(?i:password|passwd|pass|token|secret|api-key)(?:=|[ \t]+)[\"']?)"
            r"(?![$<{\[-])[^\s\"']+",
            re.M,
        ),
    ),
    ("password", re.compile(r"(?P<keep>\blogin\s+\S+\s+password\s+)(?!\[REDACTED)\S+")),  # .netrc
    ("docker_auth", re.compile(r"(?P<keep>\"(?:auth|identitytoken)\"\s*:\s*\")(?!\[REDACTED)[A-Za-z0-9+/=_.-]{8,}(?=\")")),
    ("slack_webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}")),
    ("anthropic_key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}")),
    # OpenAI keys: sk-, sk-proj-, sk-svcacct-... The digit lookahead keeps hyphenated prose
    # ("sk-learn-compatible-...") from matching.
    ("openai_key", re.compile(r"\bsk-(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}")),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])")),
    ("huggingface_token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("npm_token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
]

_SECRET_NAMES = (
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|auth[_-]?key"
    r"|private[_-]?key|client[_-]?secret|credentials?|secret[_-]?key|signing[_-]?key|encryption[_-]?key"
    r"|master[_-]?key"
)
# `password=...`, `DB_PASSWORD: "..."`, `"api_key": "..."`, `?access_token=...`.
_ASSIGNMENT = re.compile(
    r"(?P<key>\b[\w.-]*?(?i:" + _SECRET_NAMES + r"))\b"
    r"(?P<sep>[\"']?[ \t]*[:=][ \t]*)"
    r"(?:(?P<q>[\"'])(?P<qval>[^\"'\n]+)(?P=q)|(?P<val>[^\s\"',;&)}\]]+))"
)
_PLACEHOLDER = re.compile(r"^(?:\$|<|\{|%|\[REDACTED|\*+$|x+$|\.\.\.|(?i:none|null|nil|true|false|redacted|changeme)$)")


def _replace_keep(kind: str) -> Callable[[re.Match[str]], str]:
    def repl(match: re.Match[str]) -> str:
        keep = match.groupdict().get("keep") or ""
        return keep + _mark(kind)

    return repl


def _assignment(match: re.Match[str]) -> str:
    quoted = match.group("qval") is not None
    value = match.group("qval") if quoted else match.group("val")
    key = match.group("key")
    is_password = re.search(r"(?i)pass|pwd", key) is not None
    # A password is a password however short (`password=abc`); other names need 4 characters so
    # `token=1`-style flags in prose survive.
    if _PLACEHOLDER.match(value) or len(value) < (1 if is_password else 4):
        return match.group(0)
    sep = match.group("sep")
    # "the token: expires soon" is prose; YAML/headers with `:` only count when the value
    # looks like a credential (a digit or symbol, or long), while `=` always counts.
    if ":" in sep and "=" not in sep and not quoted and value.isalpha() and len(value) < 8:
        return match.group(0)
    kind = "password" if is_password else "secret"
    quote = match.group("q") or ""
    return f"{key}{sep}{quote}{_mark(kind)}{quote}"


def scrub(text: str) -> str:
    """``text`` with every recognised secret replaced by ``[REDACTED:<kind>]``."""
    if not text:
        return text
    for kind, pattern in _PATTERNS:
        text = pattern.sub(_replace_keep(kind), text)
    return _ASSIGNMENT.sub(_assignment, text)


def scrub_value(value: Any) -> Any:
    """``value`` with :func:`scrub` applied to every string inside it (dicts, lists, tuples)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: scrub_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(scrub_value(item) for item in value)
    return value


def find_secrets(text: str) -> list[tuple[str, int, int]]:
    """Where :func:`scrub` would redact: ``(kind, start, end)`` for each secret, by position.

    The same patterns as ``scrub`` (one list, so a format added there is found here too); used
    where a secret must be reported with its line rather than silently replaced (the screen of
    untrusted PILR writes)."""
    found: list[tuple[str, int, int]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start = match.start() + len(match.groupdict().get("keep") or "")
            found.append((kind, start, match.end()))
    for match in _ASSIGNMENT.finditer(text):
        replaced = _assignment(match)
        if replaced != match.group(0):
            kind = "password" if "REDACTED:password" in replaced else "secret"
            found.append((kind, match.start(), match.end()))
    found.sort(key=lambda item: (item[1], item[0]))
    kept: list[tuple[str, int, int]] = []
    for item in found:  # one report per secret: drop matches inside one already kept
        if kept and item[1] < kept[-1][2]:
            continue
        kept.append(item)
    return kept

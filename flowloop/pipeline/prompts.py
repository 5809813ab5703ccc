"""The specialist's prompts: the single source of truth for training, `flow ask` and evaluation.

A specialist is trained the way it is used (seed, "Step 1"): one model, three roles told apart
by the system prompt, the product's domain context in every system prompt. The dataset
pipeline builds its examples with these functions, the trainer and `flow ask` send the same
messages, and the eval suites parse answers with the same parsers, so a change here changes
all of them together.

Roles: ``plan`` (task -> files/areas or a plan), ``review`` (an output against the team's
conventions -> ``VIOLATION: ...`` or ``OK``), ``explain`` (questions about the architecture,
conventions and past decisions).
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from flowloop.types import Message

Role = Literal["plan", "review", "explain"]
ROLES: tuple[str, ...] = ("plan", "review", "explain")

FILES_HEADER = "Files:"
AREAS_HEADER = "Areas:"
VIOLATION = "VIOLATION"
OK = "OK"


def p_ok(margin: float) -> float:
    """The review role's verdict as P(OK) / (P(OK) + P(VIOLATION)), from its first word's
    ``margin`` = log P(VIOLATION) - log P(OK) (clamped: a huge margin is just certainty)."""
    return 1.0 / (1.0 + math.exp(max(-60.0, min(60.0, margin))))

_ROLE_TEXT = {
    "plan": (
        "You plan changes to the {name} codebase. Given a task and the context below, name the "
        "files and areas the change touches and the approach, following the team's established "
        "patterns."
    ),
    "review": (
        "You review work on {name} against the team's established patterns and conventions. "
        "Answer 'VIOLATION: <the convention broken and what to do instead>' if the text breaks "
        "one, otherwise answer 'OK'."
    ),
    "explain": (
        "You explain {name}'s architecture, conventions and past decisions accurately and "
        "concisely, the way a senior engineer on the team would."
    ),
}


def _get(settings: Any, section: str, key: str, default: str) -> str:
    part = getattr(settings, section, None)
    value = getattr(part, key, None) if part is not None else None
    return value if isinstance(value, str) else default


def system_prompt(settings: Any, role: str) -> str:
    """The system prompt of ``role`` for this repository's product (name + description)."""
    if role not in _ROLE_TEXT:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    name = _get(settings, "project", "name", "project").strip() or "project"
    description = _get(settings, "project", "description", "").strip()
    text = f"You are the domain specialist for {name}."
    if description:
        text += f" {description}"
    return f"{text}\n\n{_ROLE_TEXT[role].format(name=name)}"


def _user(*parts: str) -> str:
    return "\n\n".join(part.strip() for part in parts if part and part.strip())


def planning_messages(settings: Any, description: str, context_text: str = "") -> list[Message]:
    """Plan role: a task description (plus its planning context) -> the files it touches."""
    user = _user(
        f"Task: {description.strip()}",
        context_text,
        "Which files and areas will this task touch?",
    )
    return [
        {"role": "system", "content": system_prompt(settings, "plan")},
        {"role": "user", "content": user},
    ]


PLAN_ASK = "Draft the implementation plan."
SOLVE_ASK = "What is the root cause, and which approach works?"


def plan_messages(settings: Any, spec: str, context_text: str = "", ask: str = PLAN_ASK) -> list[Message]:
    """Plan role: a spec (-> an implementation plan) or a problem (``ask=SOLVE_ASK`` -> the approach)."""
    user = _user(spec, context_text, ask)
    return [
        {"role": "system", "content": system_prompt(settings, "plan")},
        {"role": "user", "content": user},
    ]


RANKED_HEADING = "## Files the task will probably touch"


def format_ranked_files(files: list[str]) -> str:
    """The localizer's ranked files as a prompt section (empty when there are none)."""
    unique = list(dict.fromkeys(f.strip() for f in files if f and f.strip()))
    return "\n".join([RANKED_HEADING, *(f"- {f}" for f in unique)]) if unique else ""


def planner_messages(settings: Any, task: str, context_text: str = "", ranked_files: list[str] | None = None) -> list[Message]:
    """Plan role as the planner asks it: the task as a spec (the shape Type 1 notes train), the
    localizer's ranked files first (a prompt trimmed to the trained length loses its end, not
    them), then the planning context; the training ask, so the specialist answers as it learned."""
    return plan_messages(settings, f"Spec: {task.strip()}", _user(format_ranked_files(ranked_files or []), context_text))


def review_messages(settings: Any, text: str, context_text: str = "") -> list[Message]:
    """Review role: an output to check (plus context) -> ``VIOLATION: ...`` or ``OK``."""
    user = _user(
        f"Context:\n{context_text.strip()}" if context_text.strip() else "",
        f"Review this:\n{text.strip()}",
    )
    return [
        {"role": "system", "content": system_prompt(settings, "review")},
        {"role": "user", "content": user},
    ]


def explain_messages(settings: Any, question: str, context_text: str = "") -> list[Message]:
    """Explain role: a question about the product -> an explanation."""
    user = _user(context_text, question)
    return [
        {"role": "system", "content": system_prompt(settings, "explain")},
        {"role": "user", "content": user},
    ]


def task_messages(settings: Any, text: str, role: str = "plan") -> list[Message]:
    """A role's system prompt and a user request given verbatim (preference/rewrite prompts)."""
    return [
        {"role": "system", "content": system_prompt(settings, role)},
        {"role": "user", "content": text.strip()},
    ]


def correction_messages(settings: Any, context: str, agent: str) -> list[Message]:
    """Plan role: the situation and the agent's direction -> what the human said to do instead."""
    user = _user(
        f"Context:\n{context.strip()}" if context.strip() else "",
        f"The agent's direction:\n{agent.strip()}",
        "What should be done instead?",
    )
    return [
        {"role": "system", "content": system_prompt(settings, "plan")},
        {"role": "user", "content": user},
    ]


def assistant(text: str) -> list[Message]:
    """A completion in chat form (what the JSONL ``completion``/``chosen`` fields hold)."""
    return [{"role": "assistant", "content": text.strip()}]


def area_of(path: str) -> str:
    """The area of a file: its folder without a leading ``src/<package>/`` (``.`` for the root)."""
    parts = path.strip().strip("/").split("/")
    folders = parts[:-1]
    if len(folders) >= 2 and folders[0] in ("src", "lib"):
        folders = folders[2:] or folders[1:2]
    return "/".join(folders) or "."


def format_files_answer(files: list[str]) -> str:
    """The answer of the planning task: areas first, then one file per line (order kept)."""
    unique = list(dict.fromkeys(f.strip() for f in files if f and f.strip()))
    areas = list(dict.fromkeys(area_of(f) for f in unique))
    lines = [f"{AREAS_HEADER} {', '.join(areas)}", FILES_HEADER]
    lines.extend(f"- {f}" for f in unique)
    return "\n".join(lines)


# A file path: at least one folder or an extension; no spaces.
_PATH = re.compile(r"^[\w.@+-]+(?:/[\w.@+-]+)*$")


def looks_like_path(token: str) -> bool:
    if not _PATH.match(token):
        return False
    return "/" in token or re.search(r"[\w-]{2,}\.[A-Za-z][A-Za-z0-9]{0,7}$", token) is not None


def parse_files_answer(text: str) -> list[str]:
    """The files named in an answer, in order, without duplicates.

    Reads the ``format_files_answer`` layout and the looser shapes a small model produces:
    bullets (``-``, ``*``, ``1.``), backticked paths, and comma-separated lists.
    """
    found: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.lower().startswith(AREAS_HEADER.lower()):
            continue
        if line.lower().startswith(FILES_HEADER.lower()):
            line = line[len(FILES_HEADER) :].strip()
        line = re.sub(r"^(?:[-*+]|\d+[.)])\s+", "", line)
        for token in re.split(r"[,;\s`]+", line):
            token = token.strip().strip("`'\"()[]<>:;,").rstrip(".")
            if token.startswith("./"):
                token = token[2:]
            if token and looks_like_path(token):
                found.append(token)
    return list(dict.fromkeys(found))


def parse_review_answer(text: str) -> bool:
    """True when a review answer reports a violation (``VIOLATION...``), False for ``OK``."""
    return text.strip().upper().startswith(VIOLATION)

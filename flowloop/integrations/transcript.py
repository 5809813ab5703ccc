"""Read an agent's session transcript (JSONL) into human and agent turns.

Claude Code writes one JSON object per line (research doc, "Transcript JSONL" [S]): ``type``
(``user``/``assistant``/...), ``uuid``, ``timestamp``, ``isMeta``, ``isSidechain`` and
``message.content`` blocks (``text``, ``tool_use{id,name,input}``,
``tool_result{tool_use_id,content,is_error}``). Codex CLI rollouts (``{timestamp, type:
response_item, payload: {type: message, role, content}}``) are read too. The format is internal
and changes between versions, so unknown lines are skipped, never fatal.

What the hooks need from it: the human prompts and what the agent did after each (text, tool
uses, files edited), interruption markers, rejected tool uses (with the feedback the human typed)
and the history of proposed plans (``ExitPlanMode``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_INTERRUPT = "[Request interrupted by user"
_REJECTED = "The user doesn't want to proceed with this tool use"
_FEEDBACK = re.compile(r"the user said:\s*(.+)\Z", re.IGNORECASE | re.DOTALL)
# Harness text that arrives as a "user" message but was not typed by the human.
_NOT_HUMAN = ("<command-name>", "<command-message>", "<command-args>", "<local-command-stdout>",
              "<local-command-stderr>", "<system-reminder>", "<bash-input>", "<bash-stdout>", "<bash-stderr>",
              "<environment_context>", "<user_instructions>", "Caveat: The messages below were generated")
EDIT_TOOLS = {"Edit": "file_path", "Write": "file_path", "MultiEdit": "file_path", "NotebookEdit": "notebook_path"}


@dataclass
class ToolUse:
    id: str
    name: str
    input: dict[str, Any]
    rejected: bool = False
    feedback: str = ""

    def summary(self) -> str:
        if self.name == "ExitPlanMode" and isinstance(self.input.get("plan"), str):
            return self.input["plan"]
        detail = self.input.get("command") or self.input.get("file_path") or self.input.get("pattern") or ""
        return f"{self.name}({detail})" if detail else self.name


@dataclass
class HumanMessage:
    uuid: str
    text: str
    timestamp: dt.datetime | None
    after_interrupt: bool = False  # typed right after the human interrupted the agent
    rejected_tool: ToolUse | None = None  # feedback typed while rejecting this tool use


@dataclass
class Turn:
    """One human message and everything the agent did before the next one."""

    human: HumanMessage
    texts: list[str] = field(default_factory=list)
    tools: list[ToolUse] = field(default_factory=list)

    @property
    def agent_text(self) -> str:
        """The agent's visible answer: its text, else a summary of the tools it ran."""
        text = "\n\n".join(t for t in self.texts if t.strip()).strip()
        return text or "\n".join(tool.summary() for tool in self.tools)

    @property
    def final_text(self) -> str:
        return next((t.strip() for t in reversed(self.texts) if t.strip()), "")


@dataclass
class Transcript:
    path: Path
    turns: list[Turn]
    plans: list[ToolUse]  # every ExitPlanMode call, in order, with rejected/feedback set
    bad_lines: int = 0


MAX_TRANSCRIPT_BYTES = 128 * 1024 * 1024  # a long session is tens of MB; more is not a transcript
READ_TIMEOUT_S = 20.0  # a hook must finish well inside the agent's 60 s hook timeout
_CHUNK = 1024 * 1024


def read_bounded(path: Path, max_bytes: int = MAX_TRANSCRIPT_BYTES, timeout_s: float = READ_TIMEOUT_S) -> bytes:
    """The bytes of ``path``, which the hook input names and so is not trusted.

    Only a regular file is read (a FIFO would block forever, ``/dev/zero`` would grow memory
    until it runs out), it is opened without blocking and checked after opening (no swap
    between check and read), at most ``max_bytes`` are read, and reading stops at ``timeout_s``.
    Raises ``FileNotFoundError`` (``OSError``) when it is missing and :class:`CollectorError`
    when it is not something to read.
    """
    import os
    import stat
    import time

    from flowloop.errors import CollectorError

    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CollectorError("not a regular file; refusing to read it", path=path, field="transcript_path",
                                 hint="the hook input must name the session's transcript file")
        if info.st_size > max_bytes:
            raise CollectorError(f"transcript is {info.st_size} bytes, over the {max_bytes}-byte limit",
                                 path=path, field="transcript_path")
        deadline = time.monotonic() + timeout_s
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:  # it grew while we read
                raise CollectorError(f"transcript grew past the {max_bytes}-byte limit", path=path,
                                     field="transcript_path")
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise CollectorError(f"reading the transcript took over {timeout_s:.0f}s", path=path,
                                     field="transcript_path")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_transcript(path: Path, max_bytes: int = MAX_TRANSCRIPT_BYTES) -> Transcript:
    """Parse ``path`` (read through :func:`read_bounded`); skips lines it cannot parse."""
    reader = _Reader()
    text = read_bounded(path, max_bytes).decode("utf-8", errors="replace")
    if text:
        for number, line in enumerate(text.split("\n"), start=1):  # not splitlines: U+2028 may sit in a JSON string
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                reader.bad_lines += 1
                continue
            if isinstance(entry, dict):
                reader.feed(entry, number)
    return Transcript(path=path, turns=reader.turns, plans=reader.plans, bad_lines=reader.bad_lines)


class _Reader:
    def __init__(self) -> None:
        self.turns: list[Turn] = []
        self.plans: list[ToolUse] = []
        self.tools: dict[str, ToolUse] = {}
        self.interrupted = False
        self.bad_lines = 0

    def feed(self, entry: dict[str, Any], number: int) -> None:
        if entry.get("isSidechain") or entry.get("isMeta"):
            return  # subagent chatter and harness-injected messages
        kind = entry.get("type")
        if kind == "response_item" and isinstance(entry.get("payload"), dict):
            self._codex(entry, number)
            return
        message = entry.get("message")
        if kind not in ("user", "assistant") or not isinstance(message, dict):
            return
        uuid = str(entry.get("uuid") or f"line:{number}")
        when = _time(entry.get("timestamp"))
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list):
            return
        if kind == "assistant":
            self._agent(blocks)
        else:
            self._user(blocks, uuid, when)

    def _agent(self, blocks: list[Any]) -> None:
        if not self.turns:
            return  # agent output before any human prompt (e.g. a resumed summary)
        turn = self.turns[-1]
        for block in blocks:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                turn.texts.append(block["text"])
            elif block.get("type") == "tool_use":
                tool = ToolUse(str(block.get("id", "")), str(block.get("name", "")),
                               block["input"] if isinstance(block.get("input"), dict) else {})
                turn.tools.append(tool)
                self.tools[tool.id] = tool
                if tool.name == "ExitPlanMode":
                    self.plans.append(tool)

    def _user(self, blocks: list[Any], uuid: str, when: dt.datetime | None) -> None:
        texts: list[str] = []
        for block in blocks:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_result":
                self._tool_result(block, uuid, when)
            elif block.get("type") == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
        self._human("\n".join(texts).strip(), uuid, when)

    def _tool_result(self, block: dict[str, Any], uuid: str, when: dt.datetime | None) -> None:
        text = _text_of(block.get("content"))
        if not (block.get("is_error") and text.startswith(_REJECTED)):
            return
        tool = self.tools.get(str(block.get("tool_use_id", "")))
        if tool is not None:
            tool.rejected = True
        found = _FEEDBACK.search(text)
        if found and found.group(1).strip():
            feedback = found.group(1).strip()
            if tool is not None:
                tool.feedback = feedback
            self._human(feedback, f"{uuid}:feedback", when, rejected_tool=tool)
        else:
            self.interrupted = True  # a bare rejection: whatever the human types next redirects

    def _human(self, text: str, uuid: str, when: dt.datetime | None, rejected_tool: ToolUse | None = None) -> None:
        if not text:
            return
        if text.startswith(_INTERRUPT):
            self.interrupted = True
            return
        if text.startswith(_NOT_HUMAN):
            return
        self.turns.append(Turn(HumanMessage(uuid, text, when, self.interrupted, rejected_tool)))
        self.interrupted = False

    def _codex(self, entry: dict[str, Any], number: int) -> None:
        payload = entry["payload"]
        when = _time(entry.get("timestamp"))
        if payload.get("type") == "message":
            text = _text_of(payload.get("content"))
            if payload.get("role") == "user":
                self._human(text.strip(), f"line:{number}", when)
            elif payload.get("role") == "assistant" and self.turns:
                self.turns[-1].texts.append(text)
        elif payload.get("type") == "function_call" and self.turns:
            try:
                args = json.loads(payload.get("arguments") or "{}")
            except json.JSONDecodeError:
                args = {}
            self.turns[-1].tools.append(ToolUse(str(payload.get("call_id", "")), str(payload.get("name", "")),
                                                args if isinstance(args, dict) else {}))


def edited_files(turns: list[Turn], root: Path) -> list[str]:
    """Files the agent edited in ``turns``, relative to ``root`` (outside it or in .flow/: left out)."""
    seen: dict[str, None] = {}
    base = root.resolve()
    for turn in turns:
        for tool in turn.tools:
            key = EDIT_TOOLS.get(tool.name)
            raw = tool.input.get(key) if key else None
            if not isinstance(raw, str) or not raw or tool.rejected:
                continue
            path = Path(raw)
            path = (path if path.is_absolute() else base / path).resolve()
            try:
                rel = path.relative_to(base).as_posix()
            except ValueError:
                continue
            if not rel.startswith(".flow/"):
                seen[rel] = None
    return list(seen)


# A human message that redirects the agent's previous turn (a candidate, reviewed before use).
_REDIRECT = re.compile(
    r"""^\W*(
        no\b(?![\s,.!]*(problem|worries|thanks|thank|need|rush)\b) | nope\b | nah\b
      | don'?t\b | do\s+not\b | please\s+(don'?t|do\s+not|stop|undo|revert)\b
      | instead\b | actually\b | stop\b | wait\b | hold\s+on\b | hang\s+on\b
      | (that'?s|that\s+is|this\s+is|it'?s)\s+(wrong|incorrect|not\s+(right|correct|what))
      | wrong\b | incorrect\b | not\s+(like\s+)?(that|this)\b | not\s+what\s+i
      | undo\b | revert\s+(that|this|it)\b | why\s+did\s+you\b
      | you\s+(shouldn'?t|should\s+not|didn'?t|forgot|broke|missed)\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_USE_NOT = re.compile(r"\b(use|prefer|call|it'?s|should\s+be)\s+\S+(\s+\S+)?\s+(not|instead\s+of|rather\s+than)\s+\S+",
                      re.IGNORECASE)


def is_redirect(text: str) -> bool:
    """Heuristic: the message pushes back on what the agent just did."""
    head = text.strip().replace("\u2019", "'")[:300]
    return bool(_REDIRECT.match(head) or _USE_NOT.search(head))


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") in ("text", "input_text", "output_text")
        )
    return ""


def _time(raw: Any) -> dt.datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)

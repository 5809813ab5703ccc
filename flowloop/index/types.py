"""The index's result types: plain dataclasses with no heavy imports.

Kept apart from the retrieval code so the warm-path client (``flowloop.index.warm``), which a
hook imports on every prompt, can rebuild a :class:`ContextPack` from JSON without importing
numpy, tokenizers or SQLite.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Hit:
    """One document in a search result, represented by its best-matching chunk."""

    id: str
    type: str
    path: str
    title: str
    score: float
    snippet: str
    heading: str
    status: str = "active"
    dense: float = 0.0
    lexical: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PackDocument:
    """A document cited in a context pack. ``replaces`` lists superseded ids it stands in for;
    ``also`` lists documents whose near-duplicate chunks were merged into this one."""

    id: str
    path: str
    type: str
    score: float
    title: str = ""
    headings: list[str] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    also: list[str] = field(default_factory=list)
    note: str = ""  # a warning shown in the pack, e.g. "possibly stale: ..." (``flowloop.index.priors``)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ContextPack:
    """What gets injected for a task: markdown ``text`` citing each document's id and path,
    ``tokens`` of that text (local tokenizer), never more than ``budget``. Empty is valid."""

    documents: list[PackDocument]
    text: str
    tokens: int
    budget: int
    query: str = ""

    @property
    def empty(self) -> bool:
        return not self.documents

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "documents": [doc.to_dict() for doc in self.documents],
            "tokens": self.tokens,
            "budget": self.budget,
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ContextPack":
        return cls(
            documents=[PackDocument(**doc) for doc in data["documents"]],
            text=str(data["text"]),
            tokens=int(data["tokens"]),
            budget=int(data["budget"]),
            query=str(data.get("query", "")),
        )


@dataclass
class IndexStats:
    """What one ``build_index`` did. ``embedded_documents`` are the documents whose chunks were
    (re-)embedded this run; unchanged documents reuse their stored vectors."""

    documents: int = 0
    chunks: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    embedded_documents: list[str] = field(default_factory=list)
    chunks_embedded: int = 0
    rebuilt: bool = False
    generation: int = 0
    seconds: float = 0.0
    by_type: dict[str, int] = field(default_factory=dict)

    @property
    def up_to_date(self) -> bool:
        return not (self.added or self.changed or self.removed or self.rebuilt)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

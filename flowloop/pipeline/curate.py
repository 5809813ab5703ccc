"""Agentic curation (``--curate agentic``): a model drafts extra question/answer examples.

The seed names three curation modes: manual, agentic, automated. Here a configured model reads
each evergreen and cumulative document and drafts questions a teammate would ask, with answers
taken from the document. The model is either any OpenAI-compatible server
(``[dataset] curate_url`` + ``curate_model``, through the shared client of
``flowloop.inference.openai_client``) or the current specialist itself (the in-process
``transformers`` backend). Every draft is marked ``draft: true``, written to
``sft_drafts.jsonl`` and kept out of training until a human accepts it in
``flow dataset review``; a model's words never reach the weights unreviewed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flowloop.errors import DatasetError
from flowloop.inference.openai_client import OpenAIClient, chat_url
from flowloop.inference.registry import get_model
from flowloop.pilr.model import PilrStatus, PilrType
from flowloop.pilr.screen import screen
from flowloop.pipeline import prompts
from flowloop.pipeline.inputs import Inputs
from flowloop.pipeline.records import Example
from flowloop.repo import FlowRepo
from flowloop.types import Message, Progress

MAX_DOC_CHARS = 3000
MAX_NEW_TOKENS = 400
Generate = Callable[[list[Message]], str]

INSTRUCTIONS = (
    "You write training data for a domain specialist of {name}. Read the document below and "
    "write {n} question-and-answer pairs a new engineer on the team would ask about it. Answer "
    "only from the document. Use exactly this format, nothing else:\n"
    "Q: <question>\nA: <answer>"
)


def url_generator(url: str, model: str, api_key: str = "", timeout_s: float = 120.0) -> Generate:
    """A ``Generate`` that asks an OpenAI-compatible server (the shared client; errors are
    ``DatasetError`` naming ``dataset.curate_url``)."""
    client = OpenAIClient(url, api_key, timeout_s, label="curation model", field="dataset.curate_url",
                          url_setting="[dataset] curate_url",
                          settings="[dataset] curate_url, curate_model and curate_api_key", error=DatasetError)

    def generate(messages: list[Message]) -> str:
        return client.chat(model or "default", messages, MAX_NEW_TOKENS)

    return generate


def specialist_generator(repo: FlowRepo) -> Generate:
    """A ``Generate`` backed by the current specialist (the in-process ``transformers`` backend)."""
    model = get_model(repo, "current", "transformers")

    def generate(messages: list[Message]) -> str:
        return model.generate(messages, MAX_NEW_TOKENS)

    return generate


def default_generator(repo: FlowRepo) -> Generate:
    ds = repo.settings.dataset
    if ds.curate_url.strip():
        return url_generator(ds.curate_url, ds.curate_model, ds.curate_api_key, ds.curate_timeout_s)
    return specialist_generator(repo)


def parse_qa(text: str) -> list[tuple[str, str]]:
    """``Q:``/``A:`` pairs from a model's answer (multi-line answers kept, numbering ignored)."""
    pairs: list[tuple[str, str]] = []
    question: str | None = None
    answer: list[str] = []
    for line in text.splitlines():
        stripped = re.sub(r"^\s*(?:\d+[.)]\s*)?(?:\*\*)?", "", line)
        q = re.match(r"^(?:Q|Question)\s*\d*\s*[:.]\*{0,2}\s*(.*)$", stripped, re.IGNORECASE)
        a = re.match(r"^(?:A|Answer)\s*\d*\s*[:.]\*{0,2}\s*(.*)$", stripped, re.IGNORECASE)
        if q:
            if question and answer:
                pairs.append((question, "\n".join(answer).strip()))
            question, answer = q.group(1).strip(), []
        elif a and question is not None:
            answer = [a.group(1).strip()]
        elif question is not None and answer and line.strip():
            answer.append(line.strip())
    if question and answer:
        pairs.append((question, "\n".join(answer).strip()))
    return [(q, a) for q, a in pairs if len(q) >= 8 and len(a) >= 8]


def _documents(inputs: Inputs) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(source, title, text, counted documents) of every curatable document, stable order."""
    docs: list[tuple[str, str, str, tuple[str, ...]]] = []
    for doc in sorted(inputs.pilrs, key=lambda d: d.id):
        if doc.type in (PilrType.EVERGREEN, PilrType.CUMULATIVE) and doc.status is not PilrStatus.SUPERSEDED:
            docs.append((f"pilr:{doc.id}", doc.title, doc.body, (f"pilr:{doc.id}",)))
    by_path: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    for section in inputs.sections:
        by_path.setdefault(section.path, []).append(
            f"## {section.heading}\n\n{section.text}" if section.heading else section.text
        )
        titles.setdefault(section.path, section.title)
    for path in sorted(by_path):
        docs.append((f"doc:{path}", titles[path], "\n\n".join(by_path[path]), (f"doc:{path}",)))
    return docs


def draft_examples(
    repo: FlowRepo,
    inputs: Inputs,
    generate: Generate | None = None,
    progress: Progress | None = None,
) -> list[Example]:
    """Draft question/answer examples for up to ``curate_max_docs`` documents."""
    settings = repo.settings
    ds = settings.dataset
    docs = _documents(inputs)[: max(ds.curate_max_docs, 0)]
    if not docs:
        return []
    generate = generate or default_generator(repo)
    instructions = INSTRUCTIONS.format(name=settings.project.name, n=ds.curate_questions)
    drafts: list[Example] = []
    for done, (source, title, text, counted) in enumerate(docs, start=1):
        messages = [
            {"role": "system", "content": instructions},
            {"role": "user", "content": f"# {title}\n\n{text[:MAX_DOC_CHARS]}"},
        ]
        for question, answer in parse_qa(generate(messages))[: ds.curate_questions]:
            if not screen(f"{question}\n{answer}").ok:
                continue  # a draft the quarantine screen refuses (addressed to a model, a leak) never waits for review
            drafts.append(
                Example(pass_="sft", kind="qa", source=source, prompt=prompts.explain_messages(settings, question),
                        key=question, completion=answer, draft=True, holdable=False, documents=counted)
            )
        if progress is not None:
            progress(done, len(docs))
    return drafts


def curator_info(repo: FlowRepo) -> dict[str, Any]:
    """What drafted the examples (recorded in the manifest)."""
    ds = repo.settings.dataset
    if ds.curate_url.strip():
        return {"backend": "url", "url": chat_url(ds.curate_url), "model": ds.curate_model}
    return {"backend": "specialist", "model": "current"}

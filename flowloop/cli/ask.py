"""``flow ask`` and ``flow serve-model``: use the specialist.

``flow ask [--role plan|review|explain] [--model vN|base|current] "..."`` answers with the
role's system prompt and a context pack from the index (``flowloop.specialist.ask.ask``);
``flow serve-model`` puts a model behind an OpenAI-compatible endpoint so other machines can
use the ``openai`` backend against it. Nothing heavy is imported until a command runs.
"""

from __future__ import annotations

import contextlib
from typing import Optional

import typer

from flowloop.cli.common import console, err_console, print_json, repo_of


def register(app: typer.Typer) -> None:
    app.command("ask")(ask_cmd)
    app.command("serve-model")(serve_model_cmd)


def _silence() -> None:
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)


def ask_cmd(
    ctx: typer.Context,
    question: str = typer.Argument(..., help="The question, task or text to review."),
    role: str = typer.Option("explain", "--role", help="plan, review or explain."),
    model: str = typer.Option("current", "--model", help="base, current or vN."),
    backend: Optional[str] = typer.Option(None, "--backend", help="A registered inference backend (default: [inference] backend); an unknown name lists them."),
    no_context: bool = typer.Option(False, "--no-context", help="Do not add a context pack."),
    max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens", help="Generation cap."),
    as_json: bool = typer.Option(False, "--json", help="Print the answer, model and context as JSON."),
) -> None:
    """Ask the specialist in a role, with the context the index finds for the question."""
    from flowloop.specialist.ask import ask
    from flowloop.inference.registry import get_model

    _silence()
    repo = repo_of(ctx)
    chosen = get_model(repo, model, backend)
    waiting = err_console.status(f"asking {model} ({chosen.name})", spinner="dots")
    with waiting if not as_json else contextlib.nullcontext():
        answer = ask(repo, question, role=role, model=model, backend=chosen,
                     use_context=not no_context, max_new_tokens=max_new_tokens)
    if as_json:
        print_json(answer.to_dict())
        return
    console.print(answer.text, highlight=False, markup=False)
    cited = ", ".join(str(d.get("id")) for d in answer.documents) or "none"
    note = f"{answer.model} via {answer.backend}, role {answer.role}; context: {cited}" + (
        f"; {answer.context_note}" if answer.context_note else "")
    err_console.print(note, style="dim", highlight=False)


def serve_model_cmd(
    ctx: typer.Context,
    model: str = typer.Option("current", "--model", help="base, current or vN."),
    host: Optional[str] = typer.Option(None, "--host", help="Bind address (default: inference.serve_host)."),
    port: Optional[int] = typer.Option(None, "--port", min=1, max=65535, help="Port (default: inference.serve_port)."),
) -> None:
    """Serve a model at /v1/chat/completions (OpenAI-compatible) until interrupted."""
    import uvicorn

    from flowloop.models.loader import load_specialist
    from flowloop.specialist.server import create_app

    _silence()
    repo = repo_of(ctx)
    inference = repo.settings.inference
    with err_console.status(f"loading {model}", spinner="dots"):
        loaded = load_specialist(repo, model)
    app = create_app(loaded, api_key=inference.api_key, max_new_tokens=inference.max_new_tokens)
    bind_host, bind_port = host or inference.serve_host, port or inference.serve_port
    err_console.print(f"serving {loaded.version} at http://{bind_host}:{bind_port}/v1 "
                      f"(set [inference] backend = \"openai\", url = \"http://{bind_host}:{bind_port}/v1\")")
    uvicorn.run(app, host=bind_host, port=bind_port, log_level="warning")

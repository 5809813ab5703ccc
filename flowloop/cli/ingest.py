"""``flow ingest serve``: the HTTP ingest server (see ``flowloop.integrations.ingest``)."""

from __future__ import annotations

from typing import Optional

import typer

from flowloop.cli.common import err_console, repo_of

ingest_app = typer.Typer(help="Receive signals over HTTP (events, JUnit, error webhooks).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")


@ingest_app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Optional[str] = typer.Option(None, "--host", help="Bind address (default: signals.ingest_host, 127.0.0.1)."),
    port: Optional[int] = typer.Option(None, "--port", min=1, max=65535, help="Port (default: signals.ingest_port)."),
    allow_remote: bool = typer.Option(False, "--allow-remote", help="Allow a non-loopback bind address."),
    token: str = typer.Option(
        "", "--token", show_default=False, hidden=True,
        help="Bearer token; prefer the FLOW_INGEST_TOKEN variable (command lines are visible to others).",
    ),
) -> None:
    """Serve POST /v1/events, /v1/junit?commit=SHA, /v1/webhooks/errors (bearer token required)."""
    from flowloop.integrations.ingest import check_serve_options, serve

    repo = repo_of(ctx)
    settings = repo.settings.signals
    token = token or settings.ingest_token
    bind_host = host or settings.ingest_host
    bind_port = port or settings.ingest_port
    check_serve_options(bind_host, token, allow_remote)
    err_console.print(f"flow ingest: listening on http://{bind_host}:{bind_port} (Ctrl+C stops)", highlight=False)
    serve(repo, bind_host, bind_port, token, allow_remote=allow_remote)

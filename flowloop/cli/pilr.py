"""``flow pilr ...``: placeholder group (filled in by the PILR lifecycle work)."""

from __future__ import annotations

import typer

pilr_app = typer.Typer(help="PILR documents: create, list, lint, and move knowledge upward.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(pilr_app, name="pilr")

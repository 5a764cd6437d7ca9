"""``evidence schema``: print or write the JSON Schema of a study file (exported from the code)."""

from __future__ import annotations

from pathlib import Path

import typer

from evidence.config import REPO_ROOT

SCHEMA_PATH = REPO_ROOT / "schema" / "study.schema.json"


def register(app: typer.Typer) -> None:
    @app.command("schema")
    def schema(write: bool = typer.Option(False, "--write", help=f"Write it to {SCHEMA_PATH.relative_to(REPO_ROOT)}."),
               out: Path = typer.Option(SCHEMA_PATH, "--out", help="Where --write writes.")):
        """The JSON Schema of a study file, for editor completion (exported from evidence/schema.py)."""
        from evidence.schema import json_schema_text

        text = json_schema_text()
        if write:
            out.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {out}")
        else:
            typer.echo(text, nl=False)

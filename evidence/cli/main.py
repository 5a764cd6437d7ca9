"""Entry point of the ``evidence`` command.

Each area registers its commands from its own module (``register(app)``), so the command line
stays a thin layer over the package and heavy libraries (pymc) are imported only by the command
that needs them.
"""

from __future__ import annotations

import importlib
import sys

import typer

from evidence.errors import EvidenceError

app = typer.Typer(
    name="evidence",
    help="Child-labour evidence: validate and build the catalogue, compute effect sizes, meta-analyse, export.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Modules that contribute commands; each defines ``register(app: typer.Typer) -> None``.
COMMAND_MODULES = [
    "evidence.cli.ingest_cmds",
    "evidence.cli.catalog_cmds",
    "evidence.cli.escalc_cmd",
    "evidence.cli.meta_cmd",
    "evidence.cli.summary_cmd",
    "evidence.cli.schema_cmd",
    "evidence.cli.todo_cmd",
]

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    try:
        app()
    except EvidenceError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Entry point of the ``evidence`` command.

Each area registers its commands from its own module (``register(app)``), so the command line
stays a thin layer over the package and heavy libraries (pymc) are imported only by the command
that needs them.
"""

from __future__ import annotations

import importlib
import os

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from evidence.errors import EvidenceError


def _fail(message: str, code: int = 1):
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


class EvidenceGroup(TyperGroup):
    """Turns errors into one line and an exit code *inside* the app (not in ``main()``), so every
    way of running it -- the ``evidence`` script, ``python -m evidence``, typer's ``CliRunner`` --
    shows the same message and no traceback. ``EvidenceError``: the message, exit 1; a file that
    cannot be read or written (``OSError``): its path and reason, exit 1; anything else is a bug:
    its type and message, exit 2 (``EVIDENCE_DEBUG=1`` lets the traceback through)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise  # typer's own exits and usage errors: already one line
        except EvidenceError as exc:
            _fail(str(exc))
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{exc.strerror or exc}")
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback reaches a user
            if os.environ.get("EVIDENCE_DEBUG"):
                raise
            _fail(f"unexpected {type(exc).__name__}: {exc} (a bug: please report it; EVIDENCE_DEBUG=1 shows "
                  "the traceback)", 2)


app = typer.Typer(
    cls=EvidenceGroup,
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
    "evidence.cli.answer_cmd",
    "evidence.cli.summary_cmd",
    "evidence.cli.schema_cmd",
    "evidence.cli.reconcile_cmd",
    "evidence.cli.todo_cmd",
]

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

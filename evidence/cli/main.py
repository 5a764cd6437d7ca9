"""Entry point of the ``evidence`` command.

Each area registers its commands from its own module (``register(app)``), and a command's module is
imported only when that command runs (:class:`EvidenceGroup` looks it up in :data:`COMMANDS`): ``evidence
meta --csv`` does not pay for the catalogue's SQLAlchemy, the validator's schema or pymc, and the
command line stays a thin layer over the package. ``evidence --help`` imports every module, to show
each command's help line.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, MutableMapping

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from evidence.errors import EvidenceError

#: Command -> the module that defines it (its ``register(app: typer.Typer) -> None``), in the order
#: ``evidence --help`` lists them. Written out so a command is found without importing every module;
#: tests/test_cli_imports.py checks it against what the modules register.
COMMANDS = {
    **dict.fromkeys(("validate", "dedup", "new", "import"), "evidence.cli.ingest_cmds"),
    **dict.fromkeys(("build", "list", "show", "export-csv", "info"), "evidence.cli.catalog_cmds"),
    "escalc": "evidence.cli.escalc_cmd",
    "meta": "evidence.cli.meta_cmd",
    "answer": "evidence.cli.answer_cmd",
    "summary": "evidence.cli.summary_cmd",
    "schema": "evidence.cli.schema_cmd",
    "reconcile": "evidence.cli.reconcile_cmd",
    "todo": "evidence.cli.todo_cmd",
}
COMMAND_MODULES = list(dict.fromkeys(COMMANDS.values()))


def _fail(message: str, code: int = 1):
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


class _LazyCommands(MutableMapping):
    """The group's ``commands``: every name of :data:`COMMANDS` is a key from the start (so typer's
    "did you mean" and ``get_command(app).commands`` see them all), and a command is built -- its
    module imported and registered -- the first time it is looked up."""

    def __init__(self, markup_mode) -> None:
        self._built: dict = {}
        self._markup_mode = markup_mode

    def __getitem__(self, name: str):
        if name not in self._built and name in COMMANDS:
            self._built.update(_build(COMMANDS[name], self._markup_mode))
        return self._built[name]

    def __setitem__(self, name: str, command) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*COMMANDS, *self._built]))

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._built))


def _build(module: str, markup_mode) -> dict:
    """The click commands ``module`` registers, built as typer builds a group's commands."""
    from typer.main import get_command_from_info

    sub = typer.Typer()
    importlib.import_module(module).register(sub)
    built = (get_command_from_info(info, pretty_exceptions_short=app.pretty_exceptions_short, rich_markup_mode=markup_mode)
             for info in sub.registered_commands)
    return {c.name: c for c in built}


class EvidenceGroup(TyperGroup):
    """Finds a command lazily (``list_commands`` names them all without importing; ``get_command``
    imports only the module of the command asked for) and turns errors into one line and an exit code
    *inside* the app (not in ``main()``), so every way of running it -- the ``evidence`` script,
    ``python -m evidence``, typer's ``CliRunner`` -- shows the same message and no traceback.
    ``EvidenceError``: the message, exit 1; a file that cannot be read or written (``OSError``): its
    path and reason, exit 1; anything else is a bug: its type and message, exit 2
    (``EVIDENCE_DEBUG=1`` lets the traceback through)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        lazy = _LazyCommands(self.rich_markup_mode)
        lazy.update(self.commands)  # commands added directly to the Typer app, if any
        self.commands = lazy

    def list_commands(self, ctx) -> list[str]:
        return list(self.commands)  # the names only: TyperGroup's would build every command

    def get_command(self, ctx, cmd_name: str):
        return self.commands.get(cmd_name)  # imports the module of this one command

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


@app.callback()
def _root() -> None:
    # No options of its own: the callback makes typer build a group, whose commands come from COMMANDS.
    pass


def main() -> None:
    app()


if __name__ == "__main__":
    main()

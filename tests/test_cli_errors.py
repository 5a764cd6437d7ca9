"""Bad input to every command gives one clear line and a non-zero exit, never a traceback.

Run in-process through the real app (``evidence.cli.main.app``, whose group class turns errors into
messages), so this is exactly what a user of ``evidence`` sees."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evidence.cli.main import app

runner = CliRunner()
FIXTURES = Path(__file__).parent / "fixtures" / "studies"
# every command of the app, so a new command without a case here fails test_every_command_is_covered
COMMANDS = {"answer", "reconcile", "todo", "validate", "dedup", "new", "import", "build", "list", "show", "export-csv", "info", "escalc", "meta",
            "summary", "schema"}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad")
    (d / "empty.csv").write_text("")
    (d / "ab.csv").write_text("a,b\n1,2\n")
    (d / "binary.csv").write_bytes(b"\xff\xfe\x00\x81 not text")
    (d / "header.csv").write_text("yi,vi\n")
    (d / "one-level.csv").write_text("yi,vi,g\n0.1,0.1,a\n0.2,0.1,a\n")
    (d / "semicolon-ragged.csv").write_text("yi;vi\n0,5;0,1\n0,2;0,1;7\n")
    (d / "empty.bib").write_text("")
    (d / "not-a-db.db").write_text("this is not a database")
    (d / "dir").mkdir()
    studies = d / "studies"
    studies.mkdir()
    for f in FIXTURES.glob("*.yaml"):
        shutil.copy(f, studies / f.name)
    return {p.name: p for p in d.iterdir()}


def cases(f: dict[str, Path]) -> list[tuple[str, list[str], str]]:
    """(command, arguments, a fragment the message must contain)."""
    s, missing = str(f["studies"]), str(f["dir"] / "missing")
    dead = "postgresql+psycopg://nobody@127.0.0.1:1/evidence"  # port 1: nothing listens there
    return [
        ("validate", [missing], "no such file"),
        ("validate", [str(f["empty.csv"])], "empty"),
        ("dedup", [missing], "No such file"),
        ("new", ["--bib", str(f["empty.bib"]), "--out", str(f["dir"])], "BibTeX"),
        ("new", ["--bib", missing], "does not exist"),
        ("import", [str(f["empty.csv"]), "--out", str(f["dir"])], "empty"),
        ("build", ["--studies", missing, "--catalog", str(f["dir"] / "c.db")], "not found"),
        ("build", ["--studies", s, "--catalog", "postgresql+psycopg://u@host:notaport/db"], "not a valid catalogue URL"),
        ("build", ["--studies", s, "--catalog", "nosuchdb+driver://x/y"], "unknown database type"),
        ("build", ["--studies", s, "--catalog", dead], "cannot reach the database server at 127.0.0.1:1"),
        ("build", ["--studies", s, "--out", "postgresql+psycopg://u@127.0.0.1:1"], "names no database"),
        ("list", ["--catalog", missing], "catalogue not found"),
        ("list", ["--catalog", str(f["not-a-db.db"])], "not a database"),
        ("list", ["--catalog", dead], "cannot reach"),
        ("list", ["--catalog", "sqlite:///" + str(f["empty.csv"])], "no catalogue in"),
        ("list", ["--intervention", "cash_transfr"], "did you mean"),
        ("list", ["--sex", "robots"], "sex must be"),
        ("list", ["--region", "Narnia"], "not a known term"),
        ("show", ["no-such-study"], "no study 'no-such-study'"),
        ("show", ["x", "--catalog", "not a url://"], "catalogue not found"),
        ("export-csv", ["-o", str(f["empty.csv"] / "sub" / "out.csv")], "Not a directory"),
        ("export-csv", ["-o", str(f["dir"] / "x.csv"), "--outcome", "happiness"], "not a known term"),
        ("info", ["--catalog", dead], "cannot reach"),
        ("escalc", ["XX", "--csv", str(f["ab.csv"]), "--col", "ai=a", "--out", str(f["dir"] / "o.csv")], "unknown measure"),
        ("escalc", ["RR", "--csv", str(f["empty.csv"]), "--col", "ai=a", "--out", str(f["dir"] / "o.csv")], "cannot read"),
        ("escalc", ["RR", "--csv", str(f["binary.csv"]), "--col", "ai=a", "--out", str(f["dir"] / "o.csv")], "cannot read"),
        ("escalc", ["RR", "--csv", str(f["ab.csv"]), "--col", "ai=zz", "--out", str(f["dir"] / "o.csv")], "not in the CSV"),
        ("meta", ["--csv", str(f["empty.csv"])], "the file is empty"),
        ("meta", ["--csv", str(f["binary.csv"])], "not a text CSV"),
        ("meta", ["--csv", str(f["header.csv"])], "only a header row"),
        ("meta", ["--csv", str(f["ab.csv"])], "no column 'yi'"),
        ("meta", ["--csv", str(f["ab.csv"]), "--method", "XYZ"], "unknown --method"),
        ("meta", ["--intervention", "cash", "--outcome", "economic_activity"], "not a known term"),
        ("meta", ["--intervention", "birth_registration", "--outcome", "economic_activity"], "birth_registration"),
        ("meta", ["--intervention", "conditional_cash_transfer", "--outcome", "economic_activity", "--catalog", dead],
         "cannot reach"),
        ("summary", ["--intervention", "nope", "--outcome", "economic_activity", "-o", str(f["dir"] / "s.md")],
         "not a known term"),
        ("summary", ["--intervention", "conditional_cash_transfer", "--outcome", "economic_activity", "--format", "tiff",
                     "-o", str(f["dir"] / "s.tiff")], "unknown --format"),
        ("summary", ["--intervention", "conditional_cash_transfer", "--outcome", "economic_activity",
                     "-o", str(f["empty.csv"] / "s.md")], "Not a directory"),
        ("summary", ["--intervention", "conditional_cash_transfer", "--outcome", "economic_activity", "--prior-tau", "bogus",
                     "-o", str(f["dir"] / "s.md")], "--prior-tau: choose one of"),
        ("summary", ["--intervention", "conditional_cash_transfer", "--outcome", "economic_activity", "--prior-scale", "-1",
                     "-o", str(f["dir"] / "s.md")], "--prior-scale: a positive number"),
        ("summary", ["--intervention", "conditional_cash_transfer", "--outcome", "economic_activity", "--prior-scale", "0",
                     "-o", str(f["dir"] / "s.md")], "--prior-scale: a positive number"),
        ("summary", ["--intervention", "conditional_cash_transfer", "--outcome", "economic_activity", "--catalog", missing,
                     "-o", str(f["dir"] / "s.md")], "catalogue not found"),
        ("summary", ["--intervention", "conditional_cash_transfer", "-o", str(f["dir"] / "s.md")], "Missing option '--outcome'"),
        ("schema", ["--nonsense"], "No such option"),
        ("answer", ["--intervention", "cash", "--outcome", "economic_activity"], "not a known term"),
        ("answer", ["--intervention", "conditional_cash_transfer", "--outcome", "economic_activity", "--catalog", dead],
         "cannot reach"),
        ("answer", ["--intervention", "conditional_cash_transfer", "--outcome", "economic_activity", "--prior-tau", "x"],
         "--prior-tau"),
        ("answer", ["--intervention", "conditional_cash_transfer", "--outcome", "economic_activity", "--catalog",
                    str(f["not-a-db.db"])], "not a database"),
        ("answer", ["--intervention", "conditional_cash_transfer", "--outcome", "economic_activity", "--sex", "robots"], "sex must be"),
        ("answer", ["--intervention", "conditional_cash_transfer"], "Missing option '--outcome'"),
        ("meta", ["--csv", str(f["one-level.csv"]), "--mods", "g"], "'g' has one value ('a')"),
        ("meta", ["--csv", str(f["semicolon-ragged.csv"])], "line 3: 3 fields, but the header has 2"),
        ("meta", ["--csv", str(f["ab.csv"]), "--yi", "a", "--vi", "b"], "only one effect size"),
        ("reconcile", [missing, missing], "does not exist"),
        ("todo", ["--intervention", "nope"], "unknown intervention"),
    ]


def test_every_command_is_covered(files):
    from typer.main import get_command

    assert set(get_command(app).commands) == COMMANDS
    assert {c for c, _, _ in cases(files)} == COMMANDS


def test_bad_input_gives_one_clear_line_and_no_traceback(files):
    failures = []
    for command, args, fragment in cases(files):
        res = runner.invoke(app, [command, *args])
        out = res.output
        problems = []
        if res.exit_code == 0:
            problems.append("exit code 0")
        if "Traceback" in out or (res.exception is not None and not isinstance(res.exception, SystemExit)):
            problems.append(f"traceback/exception {res.exception!r}")
        if fragment.lower() not in out.lower():
            problems.append(f"message lacks {fragment!r}")
        if problems:
            failures.append(f"{command} {' '.join(args)}: {'; '.join(problems)}\n{out}")
    assert not failures, "\n\n".join(failures)


def test_an_unexpected_error_is_one_line_too(monkeypatch, files):
    """A bug (an exception that is not an EvidenceError) still reaches the user as one line, exit 2."""
    from evidence.catalog import queries

    def boom(*a, **kw):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(queries, "studies", boom)
    res = runner.invoke(app, ["list"])
    assert res.exit_code == 2 and "unexpected ZeroDivisionError" in res.output and "Traceback" not in res.output
    monkeypatch.setenv("EVIDENCE_DEBUG", "1")
    res = runner.invoke(app, ["list"])
    assert isinstance(res.exception, ZeroDivisionError)  # the developer's switch lets it through

"""The strict reader of effect-size tables (``evidence.ingest.effect_table.read_table``), shared by
``evidence meta --csv`` and the own-data page: every bad file in ``tests/invalid_csv/`` is refused with
its expected message by the reader and by the command (exit 1, one ``error:`` line, no traceback);
good files in other dialects (semicolons with decimal commas, tabs, quoted commas) give the numbers a
plain CSV gives."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from evidence.cli.main import app
from evidence.ingest.effect_table import UploadError, parse_csv, read_table

runner = CliRunner()
INVALID = Path(__file__).parent / "invalid_csv"
RAGGED = r"but the header has"
# file -> (the reader's message, the command's message when it differs: the command names its --yi/--vi columns)
EXPECTED: dict[str, tuple[str, str | None]] = {
    "empty.csv": ("The file is empty: expected a header row", None),
    "blank_lines.csv": ("The file is empty", None),
    "header_only.csv": ("only a header row and no effects", None),
    "header_and_blank_cells.csv": ("only a header row and no effects", None),
    "ragged_extra_field.csv": (rf"^line 2: 3 fields, {RAGGED} 2 \(yi, vi\)", None),
    "ragged_missing_field.csv": (rf"^line 3: 1 field, {RAGGED} 2", None),
    "shifted_columns.csv": (rf"^line 3: 4 fields, {RAGGED} 3 \(study, yi, vi\)", None),
    "decimal_comma_quoted.csv": (r"^line 2, column 'yi': '0,5' is not a number \(a decimal comma\?", None),
    "decimal_comma_unquoted.csv": (rf"^line 2: 4 fields, {RAGGED} 2 .*a comma inside a value", None),
    "text_in_yi.csv": (r"^line 2, column 'yi': 'abc' is not a number", None),
    "text_in_vi.csv": (r"^line 3, column 'vi': 'high' is not a number", None),
    "nan.csv": (r"^line 2, column 'yi': 'nan' is not a finite number", None),
    "infinite_variance.csv": (r"^line 2, column 'vi': 'inf' is not a finite number", None),
    "overflowing_number.csv": (r"^line 3, column 'yi': '1e999' is not a finite number", None),
    "missing_value.csv": (r"^line 2, column 'vi': the value is missing; fill it in or remove the row", None),
    "na_value.csv": (r"^line 3, column 'vi': the value is missing", None),
    "negative_variance.csv": (r"^line 3: the sampling variance \(vi\) must be positive", None),
    "zero_variance.csv": (r"^line 2: the sampling variance \(vi\) must be positive", None),
    "tiny_variance.csv": (r"^line 2: variances outside \[1e-24, 1e\+24\] overflow the weights", None),
    "huge_variance.csv": (r"^line 2: variances outside \[1e-24, 1e\+24\]", None),
    "huge_effect.csv": (r"^line 2: \|effect size\| above 1e\+12 cannot be pooled", None),
    "single_effect.csv": (r"^only one effect size: a meta-analysis needs at least two", None),
    "no_effect_columns.csv": (r"needs columns yi and vi .* it has a, b\.", r"no column 'yi' \(columns: a, b\)"),
    "single_column.csv": (r"^line 1: the header has one column \('yi'\); a table of effects needs at least yi and vi", None),
    "duplicate_columns.csv": (r"^line 1: two columns are called 'yi'", None),
    "unnamed_column.csv": (r"^line 1: column 2 of the header has no name", None),
    "binary.csv": (r"not a text CSV file \(it contains binary data\)", None),
    "unterminated_quote.csv": (r"^line 3: not readable as CSV .*check the quotes", None),
    "semicolon_ragged.csv": (rf"^line 3: 3 fields, {RAGGED} 2 .*a semicolon inside a value", None),
    "ambiguous_decimal.csv": (r"^line 2, column 'yi': '1\.000,5' is not a number", None),
    "tab_text_cell.csv": (r"^line 3, column 'vi': 'n\.a\.' is not a number", None),
}


def test_every_fixture_has_an_expected_message():
    assert sorted(p.name for p in INVALID.glob("*.csv")) == sorted(EXPECTED) and len(EXPECTED) >= 25


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_reader_refuses_with_the_line_and_column(name):
    with pytest.raises(UploadError) as info:
        parse_csv((INVALID / name).read_bytes())
    assert re.search(EXPECTED[name][0], str(info.value)), str(info.value)


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("method", ["REML", "DL", "bayes"])
def test_the_command_gives_one_error_line(name, method):
    path = INVALID / name
    res = runner.invoke(app, ["meta", "--csv", str(path), "--method", method])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    lines = res.output.strip().splitlines()
    assert res.exit_code == 1 and len(lines) == 1 and "Traceback" not in res.output, res.output
    reader, cli = EXPECTED[name]
    prefix = f"error: {path}: "
    assert lines[0].startswith(prefix), lines[0]
    assert re.search(cli or reader, lines[0][len(prefix):], flags=re.IGNORECASE), lines[0]


PLAIN = b"study,yi,vi\nA,-0.5,0.04\nB,-0.2,0.09\nC,0.1,0.05\n"
DIALECTS = {
    "semicolon, decimal commas": b"study;yi;vi\nA;-0,5;0,04\nB;-0,2;0,09\nC;0,1;0,05\n",
    "tab": b"study\tyi\tvi\nA\t-0.5\t0.04\nB\t-0.2\t0.09\nC\t0.1\t0.05\n",
    "tab, decimal commas": b"study\tyi\tvi\nA\t-0,5\t0,04\nB\t-0,2\t0,09\nC\t0,1\t0,05\n",
    "byte-order mark, CRLF, spaces, upper-case names": b"\xef\xbb\xbfStudy, YI, VI\r\nA, -0.5, 0.04\r\nB, -0.2, 0.09\r\nC, 0.1, 0.05\r\n",
    "blank lines": b"\nstudy,yi,vi\n\nA,-0.5,0.04\n\nB,-0.2,0.09\nC,0.1,0.05\n\n",
}


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_dialects_give_the_plain_numbers(dialect):
    plain, ds = parse_csv(PLAIN), parse_csv(DIALECTS[dialect])
    np.testing.assert_array_equal(ds.yi, plain.yi)
    np.testing.assert_array_equal(ds.vi, plain.vi)
    assert [lab.split(" [")[0] for lab in ds.labels] == ["A", "B", "C"]
    assert ("Decimal commas read as decimal points (6 cells)" in ds.note) == ("decimal commas" in dialect)


def test_lines_are_counted_in_the_file_through_blank_lines_and_quoted_newlines():
    data = b'study,yi,vi\n\n"Smith,\nJones",0.1,0.02\nB,0.2,0.03\nC,0.3,oops\n'
    df = read_table(data)
    assert df.index.tolist() == [3, 5, 6] and df.loc[3, "study"] == "Smith,\nJones"
    with pytest.raises(UploadError, match=r"^line 6, column 'vi': 'oops'"):
        parse_csv(data)


def test_a_row_with_one_field_more_is_refused_not_shifted():
    """Found before: pandas made the first of three fields the index, so yi was read from the vi column."""
    with pytest.raises(UploadError, match=r"^line 2: 3 fields, but the header has 2"):
        read_table(b"yi,vi\n1,0.5,0.1\n2,0.6,0.2\n")


def test_row_and_size_limits_are_clear():
    with pytest.raises(UploadError, match=r"more than 5,000 rows \(the limit\)"):
        read_table(b"yi,vi\n" + b"0.1,0.2\n" * 5001)
    assert len(read_table(b"yi,vi\n" + b"0.1,0.2\n" * 5000)) == 5000
    with pytest.raises(UploadError, match=r"the limit is 5 MB"):
        read_table(b"yi,vi\n" + b"0.1,0.2\n" * 700_000)


def _json(*args) -> dict:
    res = runner.invoke(app, ["meta", *map(str, args), "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_the_command_and_the_reader_agree_on_a_semicolon_file(tmp_path):
    from evidence.meta.frequentist import rma

    f = tmp_path / "eu.csv"
    f.write_bytes(DIALECTS["semicolon, decimal commas"])
    got = _json("--csv", f, "--method", "DL", "--knha")
    fit = rma(parse_csv(PLAIN).yi, parse_csv(PLAIN).vi, method="DL", knha=True)
    assert got["estimate"] == pytest.approx(fit.estimate, rel=1e-12) and got["ci_ub"] == pytest.approx(fit.ci_ub, rel=1e-12)


def test_equal_effects_give_an_answer(tmp_path):
    f = tmp_path / "equal.csv"
    f.write_text("yi,vi\n0.3,0.1\n0.3,0.1\n0.3,0.1\n")
    for method in ("REML", "DL", "PM", "SJ", "FE"):
        got = _json("--csv", f, "--method", method)
        assert got["estimate"] == pytest.approx(0.3) and got["tau2"] == pytest.approx(0.0, abs=1e-12), method
    assert _json("--csv", f, "--method", "bayes")["mu"]["mean"] == pytest.approx(0.3, abs=1e-9)


def test_engine_warnings_are_printed_and_non_finite_numbers_are_null(tmp_path):
    f = tmp_path / "wide.csv"
    f.write_text("yi,vi\n0,10000\n1,10000\n")
    res = runner.invoke(app, ["meta", "--csv", str(f), "--method", "bayes", "--prior-tau", "halfcauchy:100"])
    assert res.exit_code == 0 and "warning: the posterior sd of mu does not exist" in res.output, res.output
    assert "mean 0.5000  sd NA" in res.output
    got = _json("--csv", f, "--method", "bayes", "--prior-tau", "halfcauchy:100")  # strict JSON: no NaN
    assert got["mu"]["sd"] is None and any("sd of mu" in w for w in got["warnings"])


def test_a_moderator_with_one_level_is_a_clear_error(tmp_path):
    f = tmp_path / "mods.csv"
    f.write_text("yi,vi,region\n0.1,0.02,Asia\n0.3,0.03,Asia\n0.2,0.05,Asia\n")
    res = runner.invoke(app, ["meta", "--csv", str(f), "--mods", "region"])
    assert res.exit_code == 1 and res.output.strip() == "error: --mods: 'region' has one value ('Asia'), so it cannot explain differences; drop it"
    res = runner.invoke(app, ["meta", "--csv", str(f), "--mods", "nope"])
    assert res.exit_code == 1 and "no column 'nope'" in res.output


def test_numeric_and_text_moderators_keep_their_type(tmp_path):
    from evidence.meta.frequentist import rma

    f = tmp_path / "mods.csv"
    f.write_text("yi;vi;dose;region\n0,1;0,02;1,5;A\n0,3;0,03;2;B\n0,2;0,05;3;A\n0,5;0,04;4,5;B\n0,4;0,02;5;A\n")
    got = _json("--csv", f, "--mods", "dose + region")
    assert set(got["coefficients"]) == {"intercept", "dose", "regionB"}
    X = np.column_stack([[1.5, 2, 3, 4.5, 5], [0, 1, 0, 1, 0]])
    fit = rma([0.1, 0.3, 0.2, 0.5, 0.4], [0.02, 0.03, 0.05, 0.04, 0.02], method="REML", mods=X)
    assert got["coefficients"]["dose"]["estimate"] == pytest.approx(list(fit.coefficients.values())[1]["estimate"], rel=1e-9)


def test_one_hundred_thousand_rows(tmp_path):
    """100,000 effects pool through the strict reader (memory grows with the rows only: the reader keeps
    one list of cells per column, the estimators are O(k)); the answer is the engine's on the same numbers."""
    from evidence.meta.frequentist import rma

    rng = np.random.default_rng(7)
    k = 100_000
    y, v = rng.normal(0.2, 0.3, k).round(6), rng.uniform(0.01, 0.2, k).round(6)
    f = tmp_path / "big.csv"
    f.write_text("yi,vi\n" + "".join(f"{a},{b}\n" for a, b in zip(y, v)))
    got = _json("--csv", f, "--method", "DL")
    fit = rma(y, v, method="DL")
    assert got["k"] == k and got["estimate"] == pytest.approx(fit.estimate, rel=1e-12)


def test_decimal_commas_change_number_cells_only():
    ds = parse_csv(b"study;yi;vi;years\n2010,2011;-0,5;0,04;2010,2011\nB;-0,2;0,09;2012\n")
    np.testing.assert_array_equal(ds.yi, [-0.5, -0.2])
    assert ds.labels[0] == "2010,2011" and ds.table["years"].tolist() == ["2010,2011", "2012"]
    assert "Decimal commas read as decimal points (4 cells)" in ds.note


def test_column_options_ignore_case(tmp_path):
    f = tmp_path / "case.csv"
    f.write_text("Effect,Var,Dose\n0.1,0.02,1\n0.3,0.03,2\n0.2,0.05,3\n0.5,0.04,4\n")
    got = _json("--csv", f, "--yi", "EFFECT", "--vi", "var", "--mods", "Dose")
    assert got["k"] == 4 and set(got["coefficients"]) == {"intercept", "dose"}


def test_an_upload_over_the_limit_is_pointed_to_the_command_line():
    from evidence.ingest.effect_table import CLI_MAX_ROWS, MAX_ROWS

    assert CLI_MAX_ROWS >= 100_000 > MAX_ROWS
    with pytest.raises(UploadError, match=r"more than 5,000 rows \(the limit\); split it or use `evidence meta --csv`\.$"):
        read_table(b"yi,vi\n" + b"0.1,0.2\n" * 5001)

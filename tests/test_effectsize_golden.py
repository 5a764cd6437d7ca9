"""escalc against metafor 3.8-1: every reference data set whose yi/vi metafor computed from raw columns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from evidence.effectsize import escalc

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
METAFOR = REFERENCE / "metafor"
REPO = Path(__file__).resolve().parents[1]


def _escalc_sets() -> list[tuple[str, dict]]:
    if not METAFOR.is_dir():
        return []
    out = []
    for path in sorted(METAFOR.glob("*.json")):
        spec = json.loads(path.read_text()).get("escalc")
        if spec:
            out.append((path.stem, spec))
    return out


SETS = _escalc_sets()
IDS = [name for name, _ in SETS]


def test_reference_present():
    """The reference data must exist in CI; locally a missing checkout only skips."""
    if not SETS:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"metafor reference data with escalc entries missing under {METAFOR}")
        pytest.skip(f"no reference data at {METAFOR}")
    assert {spec["measure"] for _, spec in SETS} >= {"RR", "SMD", "PLO"}


def assert_close(actual, expected, what: str) -> None:
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    assert actual.shape == expected.shape, what
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=f"{what}: NaN pattern")
    ok = ~np.isnan(expected)
    # relative 1e-6, absolute 1e-9 for values near zero
    np.testing.assert_allclose(actual[ok], expected[ok], rtol=1e-6, atol=1e-9, err_msg=what)


@pytest.mark.parametrize(("name", "spec"), SETS, ids=IDS)
def test_escalc_matches_metafor(name, spec):
    frame = pd.read_csv(METAFOR / f"{name}.csv")
    cols = {arg: frame[column].to_numpy(dtype=float) for arg, column in spec["inputs"].items()}
    yi, vi = escalc(spec["measure"], **cols)
    assert_close(yi, frame["yi"], f"{name} yi")
    assert_close(vi, frame["vi"], f"{name} vi")


def _cli_args(app, args: list[str]) -> list[str]:
    """Typer runs a lone command without its name; once other areas register theirs, it needs it."""
    group = app.registered_callback or app.info.callback or app.registered_groups or len(app.registered_commands) > 1
    return ["escalc", *args] if group else args


def _col_args(spec: dict) -> list[str]:
    return [a for arg, column in spec["inputs"].items() for a in ("--col", f"{arg}={column}")]


@pytest.mark.parametrize(("name", "spec"), SETS, ids=IDS)
def test_cli_runner_matches_metafor(name, spec, tmp_path):
    from evidence.cli.main import app

    out = tmp_path / "out.csv"
    args = [spec["measure"], "--csv", str(METAFOR / f"{name}.csv"), *_col_args(spec), "--out", str(out)]
    result = CliRunner().invoke(app, _cli_args(app, args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert f"escalc {spec['measure']}:" in result.output and "yi_orig" in result.output
    written, original = pd.read_csv(out), pd.read_csv(METAFOR / f"{name}.csv")
    # the reference's own yi/vi are kept, renamed; the new ones must reproduce them
    assert_close(written["yi_orig"], original["yi"], f"{name} yi_orig")
    assert_close(written["yi"], original["yi"], f"{name} CLI yi")
    assert_close(written["vi"], original["vi"], f"{name} CLI vi")
    assert list(written.columns[-2:]) == ["yi", "vi"]


def test_cli_subprocess_and_errors(tmp_path):
    """The real entry point (python -m evidence): one data set, then user errors exit 1 with a message."""
    if not SETS:
        pytest.skip("no reference data")
    from evidence.cli.main import app

    name, spec = SETS[0]
    out = tmp_path / "out.csv"
    base = [spec["measure"], "--csv", str(METAFOR / f"{name}.csv")]

    def run(args):
        return subprocess.run([sys.executable, "-m", "evidence", *_cli_args(app, args)],
                              capture_output=True, text=True, cwd=REPO, timeout=120)

    done = run([*base, *_col_args(spec), "--out", str(out)])
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(METAFOR / f"{name}.csv")
    assert_close(pd.read_csv(out)["yi"], frame["yi"], "subprocess yi")
    assert_close(pd.read_csv(out)["vi"], frame["vi"], "subprocess vi")

    bad_measure = run(["NOPE", *base[1:], *_col_args(spec), "--out", str(out)])
    assert bad_measure.returncode == 1 and "unknown measure" in bad_measure.stderr
    bad_name = run([*base, "--col", "foo=" + next(iter(spec["inputs"].values())), "--out", str(out)])
    assert bad_name.returncode == 1 and "unknown argument name 'foo'" in bad_name.stderr
    first = next(iter(spec["inputs"]))
    bad_col = run([*base, "--col", f"{first}=no_such_column", "--out", str(out)])
    assert bad_col.returncode == 1 and "no_such_column" in bad_col.stderr

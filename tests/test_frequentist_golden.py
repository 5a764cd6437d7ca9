"""Frequentist engine against metafor 3.8-1 (``../shared/reference/metafor/*.json``).

One test per data set x reference key x estimator (e.g. ``dat.bcg-rma-SJ``), covering every number in
the keys ``rma``, ``rma_knha``, ``tau2_ci_qprofile_REML``, ``egger_REML_sei``, ``egger_FE_sei``,
``trimfill_REML``, ``leave1out_REML``, ``three_level_REML`` and ``metareg_REML``.

Tolerances (in the spirit of PyMARE's metafor alignment tests):
  * every number: relative 1e-4, with an absolute floor of 1e-6 for values near zero
    (|reference| < 1e-2, e.g. tau^2 = 0, tiny coefficients);
  * p-values (pval, QEp, QMp): relative 1e-4 only -- a floor would let p = 1e-87 vs 1e-20 pass;
  * integers and labels (k, k0, side): exact.
Where metafor stops an iteration early (Fisher scoring at 1e-5, uniroot at eps^0.25) the engine
reproduces the same algorithm, so agreement is in practice ~1e-10; the three-level REML optimum is
matched to ~1e-6.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evidence.meta.frequentist import egger_test, leave1out, rma, rma_mv_three_level, tau2_ci_qprofile, trimfill

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
METAFOR = REFERENCE / "metafor"
REL, ABS, NEAR_ZERO = 1e-4, 1e-6, 1e-2
PVALUE_KEYS = {"pval", "QEp", "QMp"}
KEYS = (
    "rma",
    "rma_knha",
    "tau2_ci_qprofile_REML",
    "egger_REML_sei",
    "egger_FE_sei",
    "trimfill_REML",
    "leave1out_REML",
    "three_level_REML",
    "metareg_REML",
)
PER_ESTIMATOR = {"rma", "rma_knha"}


def _cases() -> list[tuple[str, str, str | None]]:
    """(data set, key, estimator) for every entry in the reference files."""
    if not METAFOR.is_dir():
        return []
    out = []
    for path in sorted(METAFOR.glob("*.json")):
        ref = json.loads(path.read_text())
        for key in KEYS:
            if key not in ref:
                continue
            if key in PER_ESTIMATOR:
                out.extend((path.stem, key, est) for est in ref[key])
            else:
                out.append((path.stem, key, None))
    return out


CASES = _cases()
IDS = [f"{name}-{key}" + (f"-{est}" if est else "") for name, key, est in CASES]


def test_reference_present():
    """The reference data must exist in CI (fail); a developer machine without it only skips."""
    if not CASES:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"metafor reference data missing under {METAFOR}")
        pytest.skip(f"no reference data at {METAFOR}")
    keys = {key for _, key, _ in CASES}
    assert {"rma", "rma_knha", "leave1out_REML", "metareg_REML", "three_level_REML"} <= keys


def check(actual, expected, what: str, name: str = "") -> None:
    """Compare a number (or list of numbers) with the module's tolerances."""
    exp = np.atleast_1d(np.asarray(expected, dtype=float))
    act = np.atleast_1d(np.asarray(actual, dtype=float))
    assert act.shape == exp.shape, f"{what}: shape {act.shape} != {exp.shape}"
    assert np.all(np.isfinite(act)), f"{what}: non-finite {act}"
    for a, e in zip(act, exp):
        floor = 0.0 if name in PVALUE_KEYS else (ABS if abs(e) < NEAR_ZERO else 0.0)
        assert abs(a - e) <= max(REL * abs(e), floor), f"{what}: got {a!r}, metafor {e!r} (rel {abs(a - e) / max(abs(e), 1e-300):.2e})"


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(METAFOR / f"{name}.csv")  # R's "NA" is read as missing


def _moderators(formula: str) -> list[str]:
    rhs = formula.split("~", 1)[1]
    return [term.strip() for term in rhs.split("+") if term.strip()]


def _cluster_inner(random: str) -> tuple[str, str]:
    nesting = random.split("|", 1)[1].strip()
    cluster, inner = (part.strip() for part in nesting.split("/"))
    return cluster, inner


@pytest.mark.parametrize(("name", "key", "estimator"), CASES, ids=IDS)
def test_matches_metafor(name, key, estimator):
    ref = json.loads((METAFOR / f"{name}.json").read_text())[key]
    frame = _data(name)
    yi, vi = frame["yi"].to_numpy(float), frame["vi"].to_numpy(float)
    label = f"{name} {key}" + (f" {estimator}" if estimator else "")

    if key in PER_ESTIMATOR:
        ref = ref[estimator]
        fit = rma(yi, vi, method=estimator, knha=(key == "rma_knha"))
        assert fit.k == ref["k"]
        for field, value in ref.items():
            if field != "k":
                check(getattr(fit, field), value, f"{label} {field}", field)

    elif key == "tau2_ci_qprofile_REML":
        ci = tau2_ci_qprofile(yi, vi)
        for field, value in ref.items():
            check(ci[field], value, f"{label} {field}", field)

    elif key.startswith("egger_"):
        res = egger_test(yi, vi, method=key.split("_")[1])
        for field, value in ref.items():
            check(res[field], value, f"{label} {field}", field)

    elif key == "trimfill_REML":
        res = trimfill(yi, vi, method="REML")
        assert res["k0"] == ref["k0"], label
        assert res["side"] == ref["side"], label
        check(res["estimate"], ref["estimate"], f"{label} estimate")
        check(res["tau2"], ref["tau2"], f"{label} tau2")
        assert len(res["yi"]) == len(yi) + ref["k0"]

    elif key == "leave1out_REML":
        res = leave1out(yi, vi, method="REML")
        for field, values in ref.items():
            assert len(values) == len(yi)
            check(res[field], values, f"{label} {field}", field)

    elif key == "three_level_REML":
        cluster, inner = _cluster_inner(ref["random"])
        fit = rma_mv_three_level(yi, vi, frame[cluster], frame[inner])
        for field in ("estimate", "se", "ci_lb", "ci_ub", "sigma2"):
            check(getattr(fit, field), ref[field], f"{label} {field}", field)

    elif key == "metareg_REML":
        names = _moderators(ref["formula"])
        fit = rma(yi, vi, method="REML", mods=frame[names])
        assert fit.k == ref["k"], f"{label}: k after dropping missing moderators"
        assert list(fit.coefficients) == ["intercept", *names]
        for coef, value in ref["coef"].items():
            ours = "intercept" if coef == "intrcpt" else coef
            check(fit.coefficients[ours]["estimate"], value, f"{label} coef {coef}")
            check(fit.coefficients[ours]["se"], ref["se"][coef], f"{label} se {coef}")
        for field in ("tau2", "R2", "QM", "QMp"):
            check(getattr(fit, field), ref[field], f"{label} {field}", field)

    else:  # pragma: no cover - KEYS and the branches above must stay in sync
        pytest.fail(f"no comparison implemented for {key}")

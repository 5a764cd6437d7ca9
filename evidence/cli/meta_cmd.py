"""``evidence meta``: meta-analyse any table of effects, or a cell of the catalogue.

Frequentist estimators come from :mod:`evidence.meta.frequentist` (metafor's numbers), ``--method bayes``
from the exact engine (:mod:`evidence.meta.exact`). Neither imports pymc, so the command answers fast.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import numpy as np
import typer

from evidence.catalog.filters import Filters
from evidence.cli.options import Catalog, check_cell, with_filters
from evidence.errors import MetaAnalysisError

if TYPE_CHECKING:  # pandas is imported by the functions that read CSV, not at start-up
    import pandas as pd

METHODS = ["REML", "DL", "PM", "ML", "SJ", "HE", "EB", "HS", "FE", "bayes"]


def design_matrix(df: pd.DataFrame, formula: str) -> tuple[pd.DataFrame, list[str]]:
    """Moderator matrix for ``"x1 + x2"``, coded as every meta-regression codes it
    (:func:`evidence.meta.moderators.code_moderators`: a text column becomes R's treatment dummies
    named column+level, the first level the reference). Rows with a missing moderator are dropped."""
    import pandas as pd

    from evidence.meta.moderators import code_moderators

    terms = [t.strip() for t in formula.split("+") if t.strip()]
    missing = [t for t in terms if t not in df.columns]
    if missing:
        raise MetaAnalysisError(f"--mods: no column {', '.join(missing)} in the data (columns: {', '.join(df.columns)})")
    for t in terms:
        levels = [x.item() if hasattr(x, "item") else x for x in df[t].dropna().unique()]
        if len(levels) < 2:
            raise MetaAnalysisError(f"--mods: {t!r} has {'one value' if len(levels) else 'no values'}"
                                    f"{f' ({levels[0]!r})' if len(levels) else ''}, so it cannot explain differences; drop it")
    coding = code_moderators(df[terms])
    index = df.index[coding.keep]
    return pd.DataFrame(coding.X[coding.keep], index=index, columns=coding.names), coding.names


def read_effects_csv(path: Path):
    """The CSV as a table of text cells and the lines they are on (:func:`evidence.ingest.effect_table.read_table`,
    the reader the own-data page uses; no pandas), or a :class:`MetaAnalysisError` naming the file, the line and
    the fix. The size is checked before the file is read."""
    from evidence.ingest.effect_table import CLI_MAX_BYTES, CLI_MAX_ROWS, UploadError, read_table

    size = path.stat().st_size
    if size > CLI_MAX_BYTES:
        raise MetaAnalysisError(f"{path}: {size / 1e6:.0f} MB is more than the {CLI_MAX_BYTES / 1e6:.0f} MB limit; split the table")
    try:
        return read_table(path.read_bytes(), max_bytes=CLI_MAX_BYTES, max_rows=CLI_MAX_ROWS)
    except UploadError as exc:
        raise MetaAnalysisError(f"{path}: {_lower(exc)}") from None


def _lower(exc) -> str:
    text = str(exc)
    return text[:1].lower() + text[1:] if text[:2] != "I2" else text


def csv_effects(path: Path, df, yi: str, vi: str, extra: list[str]):
    """(table, y, v) for the CSV: the columns named exist, yi/vi are usable numbers (line and column
    named otherwise), moderator and cluster columns typed (numbers or text)."""
    from evidence.ingest.effect_table import UploadError, effects, typed

    for col in [yi, vi, *extra]:
        if col not in df.columns:
            raise MetaAnalysisError(f"{path}: no column {col!r} (columns: {', '.join(df.columns)}); name it with --yi/--vi/--mods")
    try:
        y, v = effects(df, yi, vi)
    except UploadError as exc:
        raise MetaAnalysisError(f"{path}: {_lower(exc)}") from None
    return typed(df), y, v


def _clean(x):
    """Non-finite numbers as ``None`` (JSON ``null``, printed NA; the warnings say why), at any depth."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x


def _num(x):
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def frequentist_json(yi, vi, method: str, knha: bool, mods: pd.DataFrame | None) -> dict:
    from evidence.meta.frequentist import rma, tau2_ci_qprofile

    fit = rma(yi, vi, method=method, knha=knha, mods=mods)
    out = {
        "k": fit.k, "method": method, "knha": knha,
        "estimate": fit.estimate, "se": fit.se, "ci_lb": fit.ci_lb, "ci_ub": fit.ci_ub,
        "tau2": fit.tau2, "tau2_ci_lb": None, "tau2_ci_ub": None,
        "i2": fit.I2, "h2": fit.H2, "q": fit.QE, "q_p": fit.QEp,
        "pi_lb": fit.pi_lb, "pi_ub": fit.pi_ub,
    }
    if method != "FE" and mods is None and fit.k >= 2:
        ci = tau2_ci_qprofile(yi, vi)
        out["tau2_ci_lb"], out["tau2_ci_ub"] = ci["lb"], ci["ub"]
    if mods is not None:
        out["coefficients"] = {name: {"estimate": c["estimate"], "se": c["se"]} for name, c in fit.coefficients.items()}
    out = {k: (_num(v) if isinstance(v, (float, np.floating)) else v) for k, v in out.items()}
    lost = [k for k in ("estimate", "se", "ci_lb", "ci_ub", "tau2", "i2", "h2", "q", "q_p", "pi_lb", "pi_ub") if out[k] is None]
    if method != "FE" and mods is None and fit.k >= 2 and out["tau2_ci_lb"] is None:
        lost.append("tau2's confidence interval")
    out["warnings"] = list(fit.warnings) + ([f"not computable for these data (shown as NA): {', '.join(lost)}"] if lost else [])
    return out


def three_level_json(yi, vi, cluster, inner) -> dict:
    from evidence.meta.frequentist import rma_mv_three_level

    fit = rma_mv_three_level(yi, vi, cluster, inner)
    return {
        "k": int(len(yi)), "method": "REML", "estimate": fit.estimate, "se": fit.se,
        "ci_lb": fit.ci_lb, "ci_ub": fit.ci_ub, "sigma2": list(fit.sigma2),
    }


def bayes_json(result) -> dict:
    mu, tau, new = result.mu, result.tau, result.theta_new
    out = {
        "k": result.k, "method": "bayes", "prior_tau": result.spec.get("tau_prior"),
        "mu": {"mean": mu.mean, "sd": mu.sd, "q025": mu.q025, "q50": mu.q50, "q975": mu.q975,
               "p_below_0": result.p_below_0},
        "tau": {"mean": tau.mean, "q025": tau.q025, "q50": tau.q50, "q975": tau.q975},
        "theta_new": {"q025": new.q025, "q50": new.q50, "q975": new.q975} if new is not None else None,
    }
    out["warnings"] = list(result.warnings or [])
    if result.coefficients:
        out["coefficients"] = {n: {"estimate": s.mean, "sd": s.sd, "q025": s.q025, "q975": s.q975}
                               for n, s in result.coefficients.items()}
    return out


def _print_summary(res: dict) -> None:
    def f(x):
        return "NA" if x is None else f"{x:.4f}"

    if res["method"] == "bayes":
        mu, tau, new = res["mu"], res["tau"], res["theta_new"]
        typer.echo(f"Bayesian random-effects meta-analysis (exact), k = {res['k']}, prior on tau: {res['prior_tau']}")
        typer.echo(f"  {'intercept' if res.get('coefficients') else 'mu':<6} mean {f(mu['mean'])}  sd {f(mu['sd'])}  95% CrI [{f(mu['q025'])}, {f(mu['q975'])}]  P(mu<0) = {f(mu['p_below_0'])}")
        typer.echo(f"  tau    median {f(tau['q50'])}  95% CrI [{f(tau['q025'])}, {f(tau['q975'])}]")
        if new is not None:
            typer.echo(f"  new programme: 95% predictive interval [{f(new['q025'])}, {f(new['q975'])}]")
    else:
        typer.echo(f"Random-effects meta-analysis ({res['method']}{', Knapp-Hartung' if res.get('knha') else ''}), k = {res['k']}")
        typer.echo(f"  estimate {f(res['estimate'])}  se {f(res['se'])}  95% CI [{f(res['ci_lb'])}, {f(res['ci_ub'])}]")
        if "sigma2" in res:
            typer.echo(f"  sigma2 (between, within clusters): {', '.join(f(s) for s in res['sigma2'])}")
        else:
            typer.echo(f"  tau2 {f(res['tau2'])} [{f(res['tau2_ci_lb'])}, {f(res['tau2_ci_ub'])}]  I2 {f(res['i2'])}%  H2 {f(res['h2'])}")
            typer.echo(f"  Q = {f(res['q'])}, p = {f(res['q_p'])}; 95% prediction interval [{f(res['pi_lb'])}, {f(res['pi_ub'])}]")
    for name, c in res.get("coefficients", {}).items():
        spread = c.get("se", c.get("sd"))
        typer.echo(f"  {name:<20} {f(c['estimate'])}  ({'se' if 'se' in c else 'sd'} {f(spread)})")


def _catalog_effects(catalog, intervention, outcome, filters, exclude_high_rob, exclude_imputed):
    """The effects the app's What-works page pools for this cell (same selection: one metric, one
    effect per study, the sensitivity switches), so the CLI and the app give the same answer."""
    from evidence.catalog.queries import connect, effects
    from evidence.synthesis import WhatWorksOptions, what_works

    ww = what_works(effects(filters, engine=connect(catalog)), WhatWorksOptions(intervention, outcome, exclude_high_rob=exclude_high_rob,
                                                       exclude_imputed=exclude_imputed))
    if ww.result is None:
        raise MetaAnalysisError(f"{intervention} x {outcome}: {ww.reason}")
    return ww


def register(app: typer.Typer) -> None:
    @app.command("meta")
    @with_filters("regions", "countries", "designs", "sex")
    def meta(
        csv: Optional[Path] = typer.Option(None, "--csv", help="CSV with one effect per row.", exists=True, dir_okay=False),
        yi: str = typer.Option("yi", "--yi", help="Column with the effect sizes."),
        vi: str = typer.Option("vi", "--vi", help="Column with the sampling variances."),
        method: str = typer.Option("REML", "--method", help=f"One of {', '.join(METHODS)}."),
        knha: bool = typer.Option(False, "--knha", help="Knapp-Hartung (HKSJ) adjustment."),
        prior_tau: Optional[str] = typer.Option(None, "--prior-tau", help="bayes: halfnormal:0.5 (default for --csv) | halfcauchy:1 | halft:3:0.5 | lognormal:-1.5:1 | uniform:0:5; on the catalogue the default is scaled to the metric, as in the app"),
        prior_mu: str = typer.Option("flat", "--prior-mu", help="bayes: flat | normal:MEAN:SD"),
        mods: Optional[str] = typer.Option(None, "--mods", help='Moderators, e.g. "x1 + x2".'),
        cluster: Optional[str] = typer.Option(None, "--cluster", help="Three-level model: the cluster (study) column."),
        inner: Optional[str] = typer.Option(None, "--inner", help="Three-level model: the effect-within-cluster column."),
        intervention: Optional[str] = typer.Option(None, "--intervention", help="Catalogue: intervention type."),
        outcome: Optional[str] = typer.Option(None, "--outcome", help="Catalogue: outcome."),
        catalog: Catalog = None,
        exclude_high_rob: bool = typer.Option(False, "--exclude-high-rob"),
        exclude_imputed: bool = typer.Option(False, "--exclude-imputed"),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        filters: Filters = Filters(),
    ):
        """Pool effects (yi, vi) with a frequentist estimator or the exact Bayesian model."""
        if method not in METHODS:
            raise MetaAnalysisError(f"unknown --method {method!r} (choose from {', '.join(METHODS)})")
        if (csv is None) == (intervention is None):
            raise MetaAnalysisError("give either --csv FILE or --intervention TYPE --outcome OUTCOME")
        if csv is not None:  # the reader lower-cases the header, so the column options are compared without case
            yi, vi, mods, cluster, inner = (x.lower() if x else x for x in (yi, vi, mods, cluster, inner))
            terms = [t.strip() for t in (mods or "").split("+") if t.strip()]
            df, y, v = csv_effects(csv, read_effects_csv(csv), yi, vi, [*terms, *filter(None, (cluster, inner))])
            df = df.assign(**{yi: y, vi: v})
            if mods:  # moderator coding reads a DataFrame (pandas, formulae): only when moderators are asked for
                df = df.to_frame()
            labels = None
        else:
            if outcome is None:
                raise MetaAnalysisError("--intervention needs --outcome")
            check_cell(intervention, outcome)
            ww = _catalog_effects(catalog, intervention, outcome, filters, exclude_high_rob, exclude_imputed)
            df, labels, yi, vi = ww.selected, ww.selected["label"].tolist(), "yi", "vi"
            prior_tau = prior_tau or ww.tau_prior
        prior_tau = prior_tau or "halfnormal:0.5"
        X = names = None
        if mods:
            X, names = design_matrix(df, mods)
            df = df.loc[X.index]
        y = np.asarray(df[yi], dtype=float)  # a DataFrame's column, or the CSV table's float array
        v = np.asarray(df[vi], dtype=float)
        if len(y) < 2:
            raise MetaAnalysisError(f"{len(y)} effect{'s' if len(y) != 1 else ''} left after dropping rows with a missing moderator; "
                                    "a meta-analysis needs at least two")
        try:
            res = _fit(y, v, df, method, knha, X, names, cluster, inner, prior_tau, prior_mu, labels)
        except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
            raise MetaAnalysisError(f"{csv or 'the cell'}: the {method} model could not be fitted to these data "
                                    f"({type(exc).__name__}: {exc}); try another --method or check the values") from None
        except MetaAnalysisError as exc:  # the engine's reason, named with the input it is about
            raise MetaAnalysisError(f"{csv or f'{intervention} x {outcome}'}: {exc}") from None
        res = _clean(res)
        if as_json:
            typer.echo(json.dumps(res, allow_nan=False))
        else:
            _print_summary(res)
            for w in res.get("warnings", []):
                typer.echo(f"warning: {w}")


def _fit(y, v, df, method, knha, X, names, cluster, inner, prior_tau, prior_mu, labels) -> dict:
    """The result as a JSON-ready dict (the engines' warnings under ``warnings``)."""
    if cluster or inner:
        if not (cluster and inner):
            raise MetaAnalysisError("--cluster and --inner go together")
        return three_level_json(y, v, np.asarray(df[cluster], dtype=object), np.asarray(df[inner], dtype=object))
    if method == "bayes":
        from evidence.meta import exact

        if X is not None:
            Xi = np.column_stack([np.ones(len(y)), X.to_numpy(float)])
            return bayes_json(exact.regression(y, v, Xi, ["intercept", *names], tau_prior=prior_tau, labels=labels))
        return bayes_json(exact.posterior(y, v, tau_prior=prior_tau, mu_prior=prior_mu, labels=labels))
    res = frequentist_json(y, v, method, knha, X)
    if "coefficients" in res:
        res["coefficients"] = {("intercept" if n in ("intrcpt", "intercept") else n): c for n, c in res["coefficients"].items()}
    return res

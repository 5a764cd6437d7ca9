"""``evidence escalc``: metafor-compatible effect sizes for a CSV of raw study data."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import typer

from evidence.effectsize import ARGUMENTS, MEASURES, escalc
from evidence.errors import EffectSizeError

if TYPE_CHECKING:  # pandas is imported by the functions that read CSV, not at start-up
    import pandas as pd

HELP = f"""Compute effect sizes yi and sampling variances vi (as metafor's escalc) for each row of a CSV.

MEASURE is one of {", ".join(MEASURES)}. Map metafor's argument names to columns with repeated
--col NAME=COLUMN, e.g. --col ai=tpos --col bi=tneg --col ci=cpos --col di=cneg. Names:
{", ".join(ARGUMENTS)}. Defaults as metafor: 1/2 added to all cells of a row with a zero cell (RR, OR,
RD, PLO, PR); SMD is Hedges' g with the large-sample variance. Missing values give empty yi/vi.

The output is the input with yi and vi appended. If the input already has yi or vi columns, the new
values are still written as yi/vi and the old columns are kept, renamed yi_orig/vi_orig.
"""


def _parse_cols(cols: list[str], frame: pd.DataFrame) -> dict[str, np.ndarray]:
    import pandas as pd

    mapping: dict[str, np.ndarray] = {}
    for spec in cols:
        name, sep, column = spec.partition("=")
        name, column = name.strip(), column.strip()
        if not sep or not name or not column:
            raise EffectSizeError(f"--col must look like NAME=COLUMN, got '{spec}'")
        if name not in ARGUMENTS:
            raise EffectSizeError(f"unknown argument name '{name}' in --col {spec}; metafor names are {', '.join(ARGUMENTS)}")
        if name in mapping:
            raise EffectSizeError(f"argument '{name}' is mapped twice")
        if column not in frame.columns:
            raise EffectSizeError(f"column '{column}' (for {name}) not in the CSV; columns: {', '.join(map(str, frame.columns))}")
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if bad.any():
            raise EffectSizeError(f"column '{column}' (for {name}) is not numeric: row {int(np.flatnonzero(bad)[0])} (0-based) "
                                  f"has {frame[column][bad].iloc[0]!r}")
        mapping[name] = values.to_numpy(dtype=float)
    return mapping


def run(measure: str, csv: Path, cols: list[str], out: Path) -> str:
    """Compute yi/vi for ``csv`` and write ``out``; return the one-line summary."""
    import pandas as pd

    measure = measure.upper()
    if measure not in MEASURES:
        raise EffectSizeError(f"unknown measure '{measure}'; choose one of {', '.join(MEASURES)}")
    try:
        frame = pd.read_csv(csv)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise EffectSizeError(f"cannot read {csv}: {exc}") from None
    yi, vi = escalc(measure, **_parse_cols(cols, frame))
    kept = []
    for name in ("yi", "vi"):
        if name in frame.columns:
            if f"{name}_orig" in frame.columns:
                raise EffectSizeError(f"the CSV has both {name} and {name}_orig; rename one first")
            frame = frame.rename(columns={name: f"{name}_orig"})
            kept.append(f"{name}->{name}_orig")
    frame["yi"], frame["vi"] = yi, vi
    frame.to_csv(out, index=False)
    ok = int(np.sum(~np.isnan(yi) & ~np.isnan(vi)))
    renamed = f"; kept {', '.join(kept)}" if kept else ""
    return f"escalc {measure}: {len(frame)} rows, {ok} with yi/vi, {len(frame) - ok} missing -> {out}{renamed}"


def register(app: typer.Typer) -> None:
    @app.command("escalc", help=HELP)
    def escalc_command(
        measure: str = typer.Argument(..., help=f"Effect-size measure: {', '.join(MEASURES)}."),
        csv: Path = typer.Option(..., "--csv", help="Input CSV, one row per study or effect."),
        col: list[str] = typer.Option(..., "--col", help="NAME=COLUMN: metafor argument name -> CSV column (repeat)."),
        out: Path = typer.Option(..., "--out", help="Output CSV (input columns + yi, vi; old yi/vi kept as yi_orig/vi_orig)."),
    ) -> None:
        typer.echo(run(measure, csv, col, out))

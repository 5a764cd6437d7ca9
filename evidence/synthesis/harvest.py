"""The harvest plot's table (Ogilvie et al. 2008): every effect by its direction, when nothing pools."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evidence.direction import effect_direction
from evidence.synthesis.selection import effect_labels

RO_B_HEIGHT = {"low": 3, "moderate": 2, "high": 1, "unclear": 1}


HARVEST_LABELS = {"improves": "Improves", "worsens": "Worsens", "unclear": "No clear effect", None: "No clear effect"}


def harvest_table(cell: pd.DataFrame) -> pd.DataFrame:
    """Every effect as Improves / No clear effect / Worsens: the catalogue's ``direction`` column (the
    one rule of :func:`evidence.direction.effect_direction`; computed here when a frame lacks it)."""
    if cell.empty:
        return pd.DataFrame(columns=["effect", "direction", "design", "risk_of_bias", "height", "estimate", "unit"])
    est = pd.to_numeric(cell["yi"], errors="coerce").fillna(pd.to_numeric(cell["estimate"], errors="coerce"))
    if "direction" in cell:
        directions = cell["direction"]
    else:
        col = lambda c: cell[c] if c in cell else [None] * len(cell)  # noqa: E731
        directions = [effect_direction(y, v, s, i, d) for y, v, s, i, d in
                      zip(col("yi"), col("vi"), col("significance"), col("variance_imputed"), col("desirable"))]
    direction = [HARVEST_LABELS.get(d if isinstance(d, str) else None, "No clear effect") for d in directions]
    return pd.DataFrame({"effect": effect_labels(cell), "direction": direction,
                         "design": np.where(cell["randomised"].fillna(False).astype(bool), "randomised", "non-randomised"),
                         "risk_of_bias": cell["risk_of_bias"].fillna("unclear"),
                         "height": cell["risk_of_bias"].map(RO_B_HEIGHT).fillna(1).astype(int),
                         "estimate": est.to_numpy(), "unit": cell["unit"].astype(str)}).reset_index(drop=True)



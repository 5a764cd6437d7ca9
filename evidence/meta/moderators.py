"""Moderators -> design columns: one coding for every meta-regression, R's treatment coding.

Numbers stay numbers; a text (or categorical) moderator becomes one 0/1 column per level except
the first, which is the reference (alphabetical for text, the category order for a pandas
Categorical), exactly as R's ``factor()`` and ``model.matrix()`` code it for metafor. Columns are
named as R names them (column + level, e.g. ``armb``), so coefficients line up with metafor output.

The coding is done by formulae (the formula engine bambi uses), so the frequentist ``rma``, the
exact meta-regression, the meta CLI, the app's "for my context" panel and the bambi model all
code a moderator the same way. formulae is imported on first use (it costs ~0.5 s).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from evidence.errors import MetaAnalysisError


@dataclass
class ModeratorCoding:
    """Coded moderators: ``X`` (k x m, no intercept; NaN rows where a moderator is missing), the R
    ``names`` of its columns, ``keep`` (rows with every moderator present) and ``columns`` (the
    moderators, in order)."""

    X: np.ndarray
    names: list[str]
    keep: np.ndarray
    columns: list[str]
    _design: Any = None  # formulae's CommonTerms, to code new rows the same way

    def row(self, values: Mapping[str, Any]) -> np.ndarray:
        """The coded moderator vector (no intercept) of one new programme, e.g. {"region": "South Asia"}."""
        missing = [c for c in self.columns if c not in values]
        if missing:
            raise MetaAnalysisError(f"no value given for the moderator(s) {', '.join(missing)}")
        if self._design is None:
            return np.empty(0)
        import pandas as pd

        frame = pd.DataFrame({c: [values[c]] for c in self.columns})
        try:
            coded = np.asarray(self._design.evaluate_new_data(frame).design_matrix).astype(float)
        except ValueError as exc:  # a level the data do not have
            raise MetaAnalysisError(f"cannot code the new moderator values: {exc}") from None
        return coded[0, 1:]


def _r_name(label: str) -> str:
    """formulae's ``arm[b]`` -> R's ``armb`` (interactions ``arm[b]:x`` -> ``armb:x``)."""
    return re.sub(r"\[([^\]]*)\]", r"\1", label)


def code_moderators(frame) -> ModeratorCoding:
    """Code the columns of a DataFrame of moderators (see the module docstring).

    Rows with a missing value in any moderator are left out of the coding (NaN rows in ``X``,
    ``keep`` False), as metafor's default ``na.action`` drops them."""
    import pandas as pd

    frame = pd.DataFrame(frame).reset_index(drop=True)
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    keep = frame.notna().all(axis=1).to_numpy() if columns else np.ones(len(frame), dtype=bool)
    if not columns:
        return ModeratorCoding(np.empty((len(frame), 0)), [], keep, [])
    if not keep.any():
        raise MetaAnalysisError("No effect sizes left after dropping rows with missing moderators.")
    from formulae import design_matrices

    sub = frame[keep]
    for c in columns:  # text stays text (formulae: categorical); anything else must be a number
        if sub[c].dtype == object and not all(isinstance(x, str) for x in sub[c]):
            sub = sub.assign(**{c: sub[c].astype(str)})
    rhs = " + ".join(f"`{c}`" for c in columns)
    try:
        dm = design_matrices(rhs, sub, na_action="error").common
    except Exception as exc:  # noqa: BLE001 - formulae raises plain exceptions for unusable columns
        raise MetaAnalysisError(f"the moderators {', '.join(columns)} cannot be coded: {exc}") from None
    coded = np.asarray(dm.design_matrix).astype(float)[:, 1:]  # formulae puts the intercept first
    names = [_r_name(label) for name, term in dm.terms.items() if name != "Intercept" for label in term.labels]
    X = np.full((len(frame), coded.shape[1]), np.nan)
    X[keep] = coded
    return ModeratorCoding(X, names, keep, columns, dm)

"""The one rule for an effect's direction (evidence.direction.effect_direction)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from evidence.direction import Z975, effect_direction, is_clear
from evidence.effectsize import se_from_significance
from evidence.reported import effect_from_reported

NAN = float("nan")


@pytest.mark.parametrize("yi,vi,sig,imputed,desirable,expected", [
    # a real variance: the 95% interval decides
    (-4.2, 1.5**2, None, False, "decrease", "improves"),
    (2.5, 1.0, None, False, "decrease", "worsens"),
    (-1.2, 0.8**2, None, False, "increase", "unclear"),  # |z| = 1.5
    (8.0, 4.0, None, False, "increase", "improves"),
    (-5.0, 1.0, None, False, "increase", "worsens"),
    (2.0, (2.0 / 1.959964) ** 2, None, False, "decrease", "worsens"),  # SE = |b|/1.959964: on the edge, counts
    (2.0, (2.0 / 1.95) ** 2, None, False, "decrease", "unclear"),  # just inside the interval
    (-3.0, 1.0, "n.s.", False, "decrease", "improves"),  # a real variance outranks a coded significance
    # an imputed variance: the stated threshold decides
    (-3.0, (3.0 / 1.959964) ** 2, "p<0.05", True, "decrease", "improves"),
    (3.0, (3.0 / 1.644854) ** 2, "p<0.1", True, "decrease", "unclear"),
    (3.0, (3.0 / 2.575829) ** 2, "p<0.01", True, "decrease", "worsens"),
    # no variance: a stated significance at <= 0.05 or an unstated-level claim is clear
    (-7.0, NAN, "p<0.05", False, "decrease", "improves"),
    (-7.0, None, "p < .01", False, "increase", "worsens"),
    (-7.0, NAN, "significant (level not stated)", False, "decrease", "improves"),
    (-7.0, NAN, "p<0.1", False, "decrease", "unclear"),
    (-7.0, NAN, "n.s.", False, "decrease", "unclear"),
    (-7.0, NAN, None, False, "decrease", "unclear"),  # nothing stated
    (-7.0, NAN, "", False, "decrease", "unclear"),
    (-7.0, NAN, "not readable", False, "decrease", "unclear"),
    (0.0, NAN, "p<0.05", False, "decrease", "unclear"),
    # no direction at all
    (NAN, 1.0, None, False, "decrease", None),
    (None, None, "p<0.05", False, "increase", None),
    (2.0, 0.1, None, False, None, None),
    (2.0, 0.1, None, False, "neutral", None),
])
def test_effect_direction(yi, vi, sig, imputed, desirable, expected):
    assert effect_direction(yi, vi, sig, imputed, desirable) == expected


def test_threshold_regex_does_not_treat_p_below_0_1_or_0_5_as_significant():
    """The old harvest regex read "p<0.1" and "p<0.5" as significant at 5%."""
    for sig in ("p<0.1", "p<0.5", "p < .1"):
        assert effect_direction(-3.0, NAN, sig, False, "decrease") == "unclear"


def test_imputed_from_p_below_005_is_clear_end_to_end():
    """The case the old rule missed: an SE imputed from "p<0.05" makes |yi|/SE exactly z(0.975), which a
    strict ``>`` (or float rounding) turned into "no clear effect"."""
    es = effect_from_reported(dict(estimate=3.0, significance="p<0.05", unit="percentage_points"))
    assert es.variance_imputed and es.vi is not None
    assert abs(es.yi) / math.sqrt(es.vi) == pytest.approx(Z975)
    assert effect_direction(es.yi, es.vi, "p<0.05", True, "decrease") == "worsens"
    se = se_from_significance(-3.0, "p<0.05").se
    assert effect_direction(-3.0, se**2, "p<0.05", True, "decrease") == "improves"


def test_pandas_missing_values_are_handled():
    assert effect_direction(pd.NA, 1.0, None, False, "decrease") is None
    assert effect_direction(-3.0, pd.NA, pd.NA, pd.NA, "decrease") == "unclear"
    assert is_clear(-3.0, 1.0, None, pd.NA)

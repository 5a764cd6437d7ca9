"""robvis-style risk-of-bias plots: the table they draw from, the weighted shares, robvis's colours and
symbols, and a PNG through vl-convert (as the summaries render charts)."""

from __future__ import annotations

from pathlib import Path

import pytest
import vl_convert as vlc

from evidence.coding import robplot
from evidence.errors import EvidenceError

OUT = Path(__file__).resolve().parents[1] / "test-output" / "coding"


def _study(sid, overall, n=None, **domains):
    s = {"id": sid, "risk_of_bias": {"tool": "rob2", "overall": overall, "domains": domains}}
    if n:
        s["population"] = {"n_total": n}
    return s


STUDIES = [_study("a", "low", 100, randomisation="low", deviations="low"),
           _study("b", "high", 100, randomisation="high", deviations="some_concerns"),
           _study("c", "some_concerns", 200, randomisation="low"),
           {"id": "d", "risk_of_bias": {"tool": "rob2_cluster", "overall": "high"}}]


def test_assessment_table_and_weighted_shares():
    df = robplot.assessments([(s, robplot.sample_size(s)) for s in STUDIES[:3]], "rob2")
    assert sorted(df.study.unique()) == ["a", "b", "c"]  # the RoB 2 CRT study is another tool
    assert df[(df.study == "c") & (df.domain == "deviations")].judgement.item() == "no_information"
    t = robplot.summary_table(df, "rob2", weighted=True).set_index(["domain", "judgement"]).share
    assert t["randomisation", "low"] == pytest.approx(300 / 400) and t["randomisation", "high"] == pytest.approx(0.25)
    u = robplot.summary_table(df, "rob2", weighted=False).set_index(["domain", "judgement"]).share
    assert u["randomisation", "low"] == pytest.approx(2 / 3)
    assert robplot.sample_size({"population": {"n_treatment": 10, "n_control": 12}}) == 22
    assert robplot.sample_size({}) is None
    draft = {"risk_of_bias": {"tool": "rob2_cluster", "overall": "low", "domains": {"recruitment": "low"}}}  # no id yet
    d = robplot.assessments([draft], "rob2_cluster")
    assert set(d.study) == {"(this draft, no id yet)"} and "D1b" in set(d.domain_label)


def test_charts_use_robvis_colours_and_render(tmp_path):
    df = robplot.assessments(STUDIES, "rob2")
    tl = robplot.traffic_light(df, "rob2").to_dict()
    scale = tl["layer"][0]["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"])) == {"Low": "#02C100", "Some concerns": "#E2DF07",
                                                          "High": "#BF0000", "No information": "#4EA1F7"}
    OUT.mkdir(parents=True, exist_ok=True)
    for name, chart in (("traffic_light_vl.png", robplot.traffic_light(df, "rob2")),
                        ("summary_vl.png", robplot.summary(df, "rob2", weighted=False))):
        png = vlc.vegalite_to_png(chart.to_json(), scale=1)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
        (OUT / name).write_bytes(png)
    with pytest.raises(EvidenceError, match="no study in the selection"):
        robplot.traffic_light(robplot.assessments(STUDIES, "robins_i"), "robins_i")


def test_summary_plot_marks_each_segment_and_both_plots_have_a_table():
    """Not colour alone: each summary segment carries robvis's symbol, placed in its middle; both plots
    describe themselves and have a table in words (the page's text alternative)."""
    df = robplot.assessments([(s, robplot.sample_size(s)) for s in STUDIES[:3]], "rob2")
    t = robplot.summary_table(df, "rob2", weighted=False)
    rand = t[t.domain == "randomisation"].sort_values("order")
    assert list(rand.symbol) == ["+", "X"] and rand.start.iloc[0] == 0 and rand.end.iloc[-1] == pytest.approx(1.0)
    assert rand.start.iloc[1] == pytest.approx(rand.end.iloc[0])
    spec = robplot.summary(df, "rob2", weighted=False).to_dict()
    assert spec["layer"][1]["mark"]["type"] == "text" and spec["layer"][1]["encoding"]["text"]["field"] == "symbol"
    assert spec["description"] and robplot.traffic_light(df, "rob2").to_dict()["description"]
    table = robplot.judgement_table(df, "rob2")
    assert list(table.Study) == ["a", "b", "c"] and table.columns[-1] == "Overall"
    assert table.set_index("Study").loc["b", "Overall"] == "High"

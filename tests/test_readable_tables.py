"""Every table a reader sees is in words (issue 15, "readable tables"), on every page of the explorer.

Runs each page headless (Streamlit's AppTest) on the test catalogue plus one study that shares a
citation with another (one team's evaluation of a second programme), opens the states that draw more
tables (leave-one-out, a cell where nothing pools, a study with versions), and checks every
``st.dataframe`` / ``st.table`` as shown: each header (the column config's label where one is set) is
words, not a snake_case key or a metafor name (``yi``, ``vi``, ``sei``); no cell holds a machine key,
a raw flag (True/False) or the text "None"/"nan"; a missing value is drawn as the table's placeholder,
not Streamlit's default "None". Every chart keeps its table (right below it, or in "Table of this
chart"). The Studies page's picker names each study once; the toolbar is in viewer mode.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest
import yaml
from app_catalogue import app_page, build_test_catalogue, use_catalogue
from streamlit.testing.v1 import AppTest

from evidence.taxonomy import taxonomy

REPO = Path(__file__).resolve().parents[1]
PAGES = ["app_pages/home.py", "app_pages/gap_map.py", "app_pages/what_works.py", "app_pages/studies.py", "app_pages/where.py",
         "app_pages/your_data.py", "app_pages/method.py"]
METAFOR = {"yi", "vi", "sei", "ai", "bi", "ci", "di", "n1i", "n2i", "m1i", "m2i", "sd1i", "sd2i", "xi", "ni", "ri"}
SNAKE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")
#: Headers that are words although they start in lower case.
LOWER_CASE_HEADERS = {"p-value"}
RAW_TEXT = {"None", "nan", "NaN", "<NA>", "NaT", "True", "False"}
#: The study added to the test catalogue: same authors and year as alpha-2010-cct, another programme.
TWIN = "alpha-2010-pilot"
pytestmark = pytest.mark.xdist_group("app")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    from evidence.catalog.build import build_catalog

    work = tmp_path_factory.mktemp("tables")
    build_test_catalogue(work)
    alpha = yaml.safe_load((work / "studies" / "alpha-2010-cct.yaml").read_text(encoding="utf-8"))
    twin = {k: v for k, v in alpha.items() if k not in ("doi", "versions", "links")}
    twin.update(id=TWIN, title="Fixture: the pilot of a second programme by the same team")
    twin["programme"] = dict(alpha["programme"], name="Programa Piloto", countries=["PER"])
    (work / "studies" / f"{TWIN}.yaml").write_text(yaml.safe_dump(twin, sort_keys=False, allow_unicode=True), encoding="utf-8")
    db = work / "catalog.db"
    build_catalog(work / "studies", db, progress=False)
    with use_catalogue(db):
        yield db


def _page(page: str) -> AppTest:
    at = app_page(page)
    assert not at.exception, [e.value for e in at.exception]
    return at


def machine_keys() -> set[str]:
    """Every taxonomy key a reader must never see in a cell: the snake_case ones (a single word such
    as "enrolment" may also be free text, so the snake_case pattern below catches the rest)."""
    t = taxonomy()
    keys = set()
    for section in (t.interventions, t.outcomes, t.designs, t.metrics, t.families, t.outcome_groups):
        keys |= {k for k in section if "_" in k}
    return keys


def shown_headers(el) -> list[str]:
    """The headers a reader sees: the column config's label where set, hidden columns left out."""
    config = json.loads(el.proto.columns) if getattr(el.proto, "columns", "") else {}
    df = el.value
    index_names = [n for n in df.index.names if n is not None]
    names = [str(c) for c in df.columns] + [str(n) for n in index_names]
    out = []
    for name in names:
        cfg = config.get(name) or config.get(f"_pos:{names.index(name)}") or {}
        if cfg.get("hidden"):
            continue
        out.append(cfg.get("label") or name)
    return out


def problems(el) -> list[str]:
    """What is not in words in one dataframe/table: headers, then cells."""
    found = []
    for h in shown_headers(el):
        if SNAKE.match(h) or h.strip().lower() in METAFOR or (h[:1].islower() and h not in LOWER_CASE_HEADERS):
            found.append(f"header {h!r}")
    df = el.value
    placeholder = el.proto.placeholder if el.type == "dataframe" and el.proto.HasField("placeholder") else None
    keys = machine_keys()
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_bool_dtype(s):
            found.append(f"{col!r}: raw True/False flags")
            continue
        if s.isna().any() and (placeholder is None or placeholder in RAW_TEXT):
            found.append(f"{col!r}: a missing value shown as Streamlit's 'None'")
        for v in s.dropna():
            text = str(v).strip()
            if isinstance(v, (bool,)) or text in RAW_TEXT or text in keys or SNAKE.match(text):
                found.append(f"{col!r}: cell {text!r}")
                break
    return found


def all_problems(at: AppTest) -> dict[str, list[str]]:
    out = {}
    for i, el in enumerate(list(at.dataframe) + list(at.table)):
        bad = problems(el)
        if bad:
            out[f"{el.type} {i} {shown_headers(el)[:4]}"] = bad
    return out


def _flat(node) -> list:
    """The page's elements in the order a reader meets them (expanders and columns opened)."""
    out = [node]
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            out += _flat(child)
    return out


def charts_without_table(at: AppTest) -> list[int]:
    """Charts with no table of their own: no dataframe, table or "Table of this chart" expander
    before the next chart."""
    items = _flat(at.main)
    missing = []
    charts = [i for i, n in enumerate(items) if getattr(n, "type", "") in ("vega_lite_chart", "arrow_vega_lite_chart")]
    for j, i in enumerate(charts):
        end = charts[j + 1] if j + 1 < len(charts) else len(items)
        after = items[i + 1:end]
        if not any(getattr(n, "type", "") in ("dataframe", "table")
                   or str(getattr(n, "label", "") or "").startswith("Table of this chart") for n in after):
            missing.append(i)
    return missing


@pytest.mark.parametrize("page", PAGES)
def test_every_table_on_every_page_is_in_words(catalogue, page):
    at = _page(page)
    assert all_problems(at) == {}
    assert charts_without_table(at) == []


def test_what_works_tables_in_words_with_leave_one_out_and_nothing_pooled(catalogue):
    at = _page("app_pages/what_works.py")
    at.selectbox(key="ww_intervention").set_value("conditional_cash_transfer").run()
    at.selectbox(key="ww_outcome").set_value("economic_activity").run()
    at.toggle(key="ww_loo").set_value(True).run()
    assert not at.exception and len(at.dataframe) >= 5  # forest, posterior, funnel, leave-one-out, per US$100, excluded
    assert all_problems(at) == {} and charts_without_table(at) == []
    units = " ".join(h for el in at.dataframe for h in shown_headers(el))
    assert "(percentage points)" in units  # the unit is in the headers
    # nothing pools: the harvest plot and its table
    at.multiselect(key="ww_leave").set_value(["alpha-2010-cct", "gamma-2012-cct", "kappa-2016-cct"]).run()
    assert not at.exception and any("Harvest plot" in s.value for s in at.header)
    assert all_problems(at) == {} and charts_without_table(at) == []


def test_studies_page_every_study_in_words_and_picker_names_distinct(catalogue):
    at = _page("app_pages/studies.py")
    picker = at.selectbox(key="st_study")
    assert len(picker.options) == len(set(picker.options)), picker.options
    twins = [o for o in picker.options if o.startswith("Alpha (2010)")]
    assert len(twins) == 2 and len(set(twins)) == 2  # the two studies that share a citation
    for sid in ("alpha-2010-cct", TWIN, "epsilon-2019-clmrs"):  # alpha has versions, risk-of-bias domains, several effects
        picker.set_value(sid).run()
        assert not at.exception
        assert all_problems(at) == {}, sid


def test_where_page_tables_in_words_with_a_country_chosen(catalogue):
    at = _page("app_pages/where.py")
    at.sidebar.multiselect(key="f_countries").set_value(["MEX"]).run()
    assert not at.exception and "Mexico" in " ".join(str(s.value) for s in at.success)
    assert all_problems(at) == {} and charts_without_table(at) == []


def test_the_check_catches_todays_raw_names():
    """The check fails on the raw tables the pages used to show (so a pass above means something)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest as At

    def script():
        import pandas as pd
        import streamlit as st

        st.dataframe(pd.DataFrame({"family_label": ["Social protection"], "yi": [0.1], "metric": ["percentage_points"],
                                   "any_harm": [False], "subgroup_label": [None]}))

    at = At.from_function(script).run()
    found = " ".join(all_problems(at).popitem()[1])
    for raw in ("family_label", "'yi'", "'metric'", "percentage_points", "True/False", "None"):
        assert raw in found, (raw, found)
    assert st  # streamlit imported for the script above


def test_toolbar_in_viewer_mode():
    """Readers see no Deploy button or developer menu: the explorer's config sets viewer mode."""
    from streamlit import config as st_config

    cfg = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["client"]["toolbarMode"] == "viewer"
    assert "client.toolbarMode" in st_config._config_options  # a real Streamlit option, not a typo


def _layers(spec: dict) -> list[dict]:
    return [layer for layer in spec.get("layer", []) for layer in ([layer] + layer.get("layer", []))]


def _mark(layer: dict) -> str:
    mark = layer.get("mark")
    return mark.get("type") if isinstance(mark, dict) else str(mark)


def test_posterior_and_forest_plots_have_a_second_channel_in_colour_blind_safe_colours():
    """Colour never carries a meaning alone: the posterior's curves differ in line style, the forest
    plot's rows in shape (one legend shows both), in Okabe-Ito colours."""
    from evidence.meta import exact
    from evidence.synthesis import charts

    result = exact.posterior([-4.2, -2.0, -6.5], [2.25, 1.44, 4.0], tau_prior="halfnormal:5", labels=["A", "B", "C"])
    safe = {c.lower() for c in charts.OKABE_ITO.values()}
    lines = [la for la in _layers(charts.posterior_chart(result, "percentage points").to_dict()) if _mark(la) == "line"]
    assert lines, "the posterior plot draws its curves as lines"
    enc = lines[0]["encoding"]
    assert enc["strokeDash"]["field"] == enc["color"]["field"] == "curve"
    dashes, colours = enc["strokeDash"]["scale"]["range"], enc["color"]["scale"]["range"]
    assert len(dashes) == 2 and dashes[0] != dashes[1]  # pooled effect and new programme: solid and dashed
    assert {c.lower() for c in colours} <= safe
    assert enc["strokeDash"].get("legend") is not None  # the legend shows the line styles

    forest = _layers(charts.forest_chart(result, "percentage points").to_dict())
    points = [la for la in forest if _mark(la) == "point"]
    enc = {**forest[1].get("encoding", {}), **points[0]["encoding"]}
    assert enc["shape"]["field"] == enc["color"]["field"] == "kind"
    assert enc["shape"].get("legend") is not None and len(set(enc["shape"]["scale"]["range"])) == len(enc["shape"]["scale"]["range"])
    assert {c.lower() for c in enc["color"]["scale"]["range"]} <= safe


def test_headers_carry_the_unit_and_cells_the_labels():
    """The one labelling rule (evidence.synthesis.labels) on a raw synthesis table."""
    from evidence.synthesis.labels import MISSING, readable

    raw = pd.DataFrame({"intervention": ["conditional_cash_transfer", "cash_plus"], "metric": ["percentage_points"] * 2,
                        "mean": [-3.9, -2.0], "se": [None, 1.5], "any_harm": [False, True], "subgroup_label": [None, "Girls"],
                        "yi": [0.1, 0.2]})
    out = readable(raw, "percentage points")
    assert list(out.columns) == ["Intervention", "Metric", "Pooled effect (percentage points)", "Standard error (percentage points)",
                                 "Harm coded", "Subgroup", "Effect size, yi (percentage points)"]
    assert out.iloc[0].tolist()[:2] == ["Conditional cash transfer", "percentage points"]
    assert out.iloc[0]["Harm coded"] == "no" and pd.isna(out.iloc[0]["Subgroup"]) and MISSING == "—"  # drawn by the placeholder
    assert pd.api.types.is_numeric_dtype(out["Standard error (percentage points)"])  # numbers still sort as numbers


def test_what_works_leave_out_picker_names_studies_that_share_a_citation_apart(catalogue):
    at = _page("app_pages/what_works.py")
    at.selectbox(key="ww_intervention").set_value("conditional_cash_transfer").run()
    at.selectbox(key="ww_outcome").set_value("economic_activity").run()
    names = at.multiselect(key="ww_leave").options
    assert len([n for n in names if n.startswith("Alpha (2010)")]) == 2 and len(names) == len(set(names)), names


def test_studies_page_names_a_subgroup_the_coder_left_unlabelled(catalogue):
    """alpha-2010-cct's girls' effect (sex and ages coded, no label) reads as girls', not as the whole sample."""
    at = _page("app_pages/studies.py")
    at.selectbox(key="st_study").set_value("alpha-2010-cct").run()
    table = next(el.value for el in at.dataframe if "Subgroup" in el.value.columns)
    assert table.set_index("Effect").loc["work-girls", "Subgroup"] == "Girls aged 12–14"
    assert pd.isna(table.set_index("Effect").loc["work-all", "Subgroup"])  # the whole sample: no subgroup
    assert any("(Girls aged 12–14)" in str(m.value).replace("\\", "") for m in at.markdown)  # its card says it too

"""Reading a user's CSV (evidence.ingest.effect_table): standard errors checked, cells safe in spreadsheets."""

from __future__ import annotations

import numpy as np
import pytest

from evidence.ingest import effect_table as uploads
from evidence.ingest.effect_table import UploadError, parse_csv, parse_table, read_table


def test_standard_errors_become_variances():
    ds = parse_csv(b"study,yi,sei\nA,-0.5,0.2\nB,-0.2,0.3\n")
    np.testing.assert_allclose(ds.vi, [0.04, 0.09])
    assert "squared standard errors" in ds.note


@pytest.mark.parametrize("bad, lines", [("0", "3"), ("-0.3", "3")])
def test_zero_or_negative_standard_error_is_refused(bad, lines):
    with pytest.raises(UploadError, match=rf"\(sei\) must be positive \(CSV line {lines}\)"):
        parse_csv(f"study,yi,sei\nA,-0.5,0.2\nB,-0.2,{bad}\nC,-0.8,0.25\n".encode())


def test_every_bad_standard_error_line_is_named():
    with pytest.raises(UploadError, match=r"CSV lines 3, 5\)"):
        parse_csv(b"study,yi,sei\nA,-0.5,0.2\nB,-0.2,-0.1\nC,-0.8,0.25\nD,0.1,0\n")


@pytest.mark.parametrize("cell", ["=1+1", "+cmd", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\tx", "-", "-inf"])
def test_formula_like_cells_are_neutralised(cell):
    assert uploads._safe_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-0.5", "-1e-3", "+2", "plain text", "Smith (2010)", ""])
def test_numbers_and_text_are_left_alone(cell):
    assert uploads._safe_cell(cell) == cell


def test_upload_table_and_labels_are_safe():
    long_note = "a   note " + "x" * 120
    data = ("study,yi,vi,note,n\n"
            f'"-HYPERLINK(""http://evil"")",-0.5,0.04,"{long_note}",-3\n'
            'B   Smith,-0.2,0.09,=1+1,10\n').encode()
    ds = parse_csv(data)
    assert ds.labels[0].startswith("'-HYPERLINK") and ds.labels[1] == "B Smith"
    assert ds.table["study"].tolist() == ds.labels
    # other text columns: neutralised but neither collapsed nor cut to the label length
    assert ds.table["note"].tolist() == [long_note, "'=1+1"]
    assert ds.table["n"].tolist() == ["-3", "10"]  # numbers keep their sign


def test_labels_are_collapsed_and_truncated():
    ds = parse_csv(("label,yi,vi\n" + "  many   spaces " + "y" * 200 + ",1,1\nB,2,1\n").encode())
    assert ds.labels[0].startswith("many spaces ") and len(ds.labels[0]) == 80
    assert len(ds.table["label"].iloc[0]) == 80


def test_parse_table_equals_parse_csv():
    data = b"study,yi,vi\nA,-0.5,0.04\nB,-0.2,0.09\n"
    a, b = parse_csv(data, name="x"), parse_table(read_table(data), name="x")
    assert a.labels == b.labels and np.array_equal(a.yi, b.yi) and np.array_equal(a.vi, b.vi)
    assert a.table.equals(b.table)


def test_ratio_measures_are_labelled_on_the_log_scale():
    from evidence.synthesis.metrics import measure_scale as scale_label

    assert scale_label("RR") == "log risk ratio" and scale_label("OR") == "log odds ratio"
    assert scale_label(None) == "" and scale_label("XYZ") == "XYZ"


# -- the own-data page: the controls show what produced the numbers ---------------------------------------
OWN = b"study,yi,vi\nA,-0.5,0.04\nB,-0.2,0.09\nC,-0.8,0.05\nD,0.1,0.02\n"


def _cli(tmp_path, *args) -> dict:
    import json

    from typer.testing import CliRunner

    from evidence.cli.main import app

    f = tmp_path / "own.csv"
    f.write_bytes(OWN)
    res = CliRunner().invoke(app, ["meta", "--csv", str(f), *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def _headline(at) -> str:
    return " ".join(str(h.value) for h in at.header).replace("\\", "")


@pytest.fixture(scope="module")
def own_data_app(tmp_path_factory):
    from app_catalogue import app_catalogue

    with app_catalogue(tmp_path_factory.mktemp("own")) as db:
        yield db


def test_own_data_controls_reproduce_their_numbers(own_data_app, tmp_path):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from evidence.synthesis import fmt

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("app_pages/your_data.py").run()
    at.radio(key="yd_engine").set_value("Frequentist random effects").run()
    at.selectbox(key="yd_method").set_value("DL").run()
    at.toggle(key="yd_knha").set_value(True).run()
    at.radio(key="yd_source").set_value("Upload a CSV").run()  # no file yet: the model controls are not drawn
    assert not at.exception and not at.radio(key="yd_source").value == "Example"
    at.get("file_uploader")[0].upload("own.csv", OWN, "text/csv").run()
    assert not at.exception and not at.error
    assert at.radio(key="yd_engine").value == "Frequentist random effects"
    assert at.selectbox(key="yd_method").value == "DL" and at.toggle(key="yd_knha").value is True
    cli = _cli(tmp_path, "--method", "DL", "--knha")
    text = _headline(at)
    assert (f"Pooled estimate {fmt(cli['estimate'])} (95% confidence interval {fmt(cli['ci_lb'])} to {fmt(cli['ci_ub'])}); "
            f"95% prediction interval {fmt(cli['pi_lb'])} to {fmt(cli['pi_ub'])}; tau² = {cli['tau2']:.4f}") in text, text
    plain = _cli(tmp_path, "--method", "DL")
    assert fmt(plain["ci_lb"]) != fmt(cli["ci_lb"])  # the adjustment changes what is shown: the check can fail

    at.radio(key="yd_engine").set_value("Exact Bayesian random effects").run()
    bayes = _cli(tmp_path, "--method", "bayes", "--prior-tau", "halfnormal:0.5")
    mu = bayes["mu"]
    assert f"Pooled effect {fmt(mu['mean'])} (95% credible interval {fmt(mu['q025'])} to {fmt(mu['q975'])})" in _headline(at)
    assert "does not apply to the Bayesian model" in " ".join(i.value for i in at.info)

    at.radio(key="yd_engine").set_value("Frequentist random effects").run()  # the frequentist options survived
    assert at.selectbox(key="yd_method").value == "DL" and at.toggle(key="yd_knha").value is True
    assert f"Pooled estimate {fmt(cli['estimate'])} (95% confidence interval {fmt(cli['ci_lb'])}" in _headline(at)


@pytest.mark.browser
def test_own_data_controls_in_a_real_browser(own_data_app, tmp_path):
    """The bug AppTest cannot see (its widgets never leave the browser): Frequentist + Knapp-Hartung, then
    an upload, showed "Exact Bayesian" and the toggle off over frequentist numbers; clicking "Exact
    Bayesian" did nothing. Screenshot: test-output/browser/your_data_upload.png."""
    import socket
    from pathlib import Path

    from app_catalogue import CHROMIUM, CHROMIUM_ARGS, require_chromium, serve_app
    from playwright.sync_api import sync_playwright

    from evidence.synthesis import fmt

    require_chromium()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    f = tmp_path / "own.csv"
    f.write_bytes(OWN)
    knha, bayes = _cli(tmp_path, "--method", "REML", "--knha"), _cli(tmp_path, "--method", "bayes")
    out = Path(__file__).resolve().parents[1] / "test-output" / "browser"
    out.mkdir(parents=True, exist_ok=True)
    with serve_app({"EVIDENCE_CATALOG_PATH": str(own_data_app)}, port) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1600})
        page.set_default_timeout(60_000)
        page.goto(f"{url}/your-data")
        page.get_by_text("Frequentist random effects", exact=True).click()
        page.get_by_text("Knapp-Hartung adjustment", exact=True).click()
        page.get_by_text("Upload a CSV", exact=True).click()
        page.locator("input[type=file]").set_input_files(str(f))
        page.get_by_text(f"Pooled estimate {fmt(knha['estimate'])} (95% confidence interval {fmt(knha['ci_lb'])}", exact=False).wait_for()
        assert page.get_by_role("radio", name="Frequentist random effects").is_checked()
        assert page.locator("label").filter(has_text="Knapp-Hartung adjustment").locator("input").is_checked()
        page.screenshot(path=str(out / "your_data_upload.png"), full_page=True)
        page.get_by_text("Exact Bayesian random effects", exact=True).click()  # takes effect on the first click
        page.get_by_text(f"Pooled effect {fmt(bayes['mu']['mean'])} (95% credible interval {fmt(bayes['mu']['q025'])}",
                         exact=False).wait_for()
        assert page.get_by_role("radio", name="Exact Bayesian random effects").is_checked()
        browser.close()


def test_own_data_page_reads_strictly_and_says_so(own_data_app):
    """The page uses the command's reader: a semicolon file with decimal commas is read (with a note), a
    ragged row is refused with its line, and an engine's warning is shown."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("app_pages/your_data.py").run()
    at.radio(key="yd_source").set_value("Upload a CSV").run()
    at.get("file_uploader")[0].upload("eu.csv", b"study;yi;vi\nA;-0,5;0,04\nB;-0,2;0,09\nC;0,1;0,05\n", "text/csv").run()
    assert not at.exception and not at.error
    assert "Decimal commas read as decimal points (6 cells)" in " ".join(c.value for c in at.caption).replace("\\", "")
    at.get("file_uploader")[0].upload("ragged.csv", b"yi,vi\n0.1,0.02\n0.2,0.5,0.03\n", "text/csv").run()
    assert not at.exception and "line 3: 3 fields, but the header has 2" in " ".join(e.value for e in at.error).replace("\\", "")
    at.get("file_uploader")[0].upload("wide.csv", b"yi,vi\n0,10000\n1,10000\n", "text/csv").run()
    at.selectbox(key="yd_tau").set_value("halfcauchy").run()
    at.number_input(key="yd_scale").set_value(100.0).run()
    assert not at.exception and "posterior sd of mu does not exist" in " ".join(w.value for w in at.warning).replace("\\", "")

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

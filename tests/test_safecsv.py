"""Exports open safely in Excel: formulas neutralised (OWASP), UTF-8 with BOM, lists as text."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from outreach.safecsv import cell, csv_bytes, frame_csv_bytes, open_csv


@pytest.mark.parametrize(("value", "written"), [
    ("=HYPERLINK(\"http://evil\",\"klik\")", "'=HYPERLINK(\"http://evil\",\"klik\")"),
    ("+31 6 1234", "'+31 6 1234"), ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("Buurthuis De Brug", "Buurthuis De Brug"), ("Türkçe العربية", "Türkçe العربية"),
    (-5, "-5"), (2.5, "2.5"), (float("nan"), ""), (None, ""), (True, "true"),
    (["nl", "ku"], "nl; ku"), (("=a", "b"), "'=a; b"), ({"b", "a"}, "a; b"), (date(2027, 3, 1), "2027-03-01"),
])
def test_cells(value: object, written: str) -> None:
    assert cell(value) == written


def test_files_and_downloads_carry_a_bom_and_read_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    with open_csv(path) as out:
        out.writerow(["name", "langs"])
        out.writerow(["=1+1", ["tr", "ar"]])
    data = csv_bytes(["name", "langs"], [["=1+1", ["tr", "ar"]]])
    assert path.read_bytes() == data and data.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [["name", "langs"], ["'=1+1", "tr; ar"]]


def test_a_dashboard_frame_download() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"Plaats": ["@Utrecht", "Rotterdam"], "Aantal": [3, -1], "Talen": [["nl"], ["nl", "tr"]]})
    text = frame_csv_bytes(frame).decode("utf-8-sig")
    assert text.splitlines() == ["Plaats,Aantal,Talen", "'@Utrecht,3,nl", "Rotterdam,-1,nl; tr"]

"""The import check's pure half (headers, cells, required fields, in-file duplicates)."""
from __future__ import annotations

import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook

from crmkit.errors import TooLarge, UnsupportedMedia
from customers.sheets import (
    HEADERS,
    MAX_UPLOAD_BYTES,
    customer_rows,
    employee_customer_rows,
    geojson,
    parse_upload,
    template_bytes,
    write_workbook,
)


def xlsx(rows: list[list[object]], header: list[str] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(header or HEADERS))
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def row(name: str = "苏州日东精密电子有限公司", address: str = "苏州市 1 号", landline: str = "0512-67891234",
        fax: str = "", mobile: str = "", lat: object = None, lng: object = None) -> list[object]:
    return [name, address, landline, fax, mobile, "电子", "A", "华东", lat, lng, ""]


def problems(data: bytes) -> set[tuple[int, str | None, str]]:
    return {(p["row"], p["column"], p["code"]) for p in parse_upload(data).problems}


def test_template_has_the_headers() -> None:
    ws = load_workbook(io.BytesIO(template_bytes()), read_only=True).worksheets[0]
    assert tuple(next(ws.iter_rows(values_only=True))) == HEADERS


def test_clean_file() -> None:
    parsed = parse_upload(xlsx([row(), row("无锡某某电器有限公司", landline="0510-82345678", lat=31.5, lng=120.3)]))
    assert parsed.problems == []
    assert [r for r, _ in parsed.rows] == [2, 3]
    assert parsed.rows[1][1]["location"] == {"lat": 31.5, "lng": 120.3}


def test_changed_headers_named_by_column() -> None:
    header = list(HEADERS)
    header[1] = "地址"
    header.append("多余")
    got = problems(xlsx([row()], header))
    assert (1, "B", "header_changed") in got
    assert (1, "L", "header_changed") in got


def test_missing_required_by_row_and_column() -> None:
    got = problems(xlsx([row(), row("", "无锡 1 号", "0510-82345678"), row("某某有限公司", "", "0510-82345679"),
                         row("另一个有限公司", "x", "")]))
    assert (3, "A", "missing_required") in got
    assert (4, "B", "missing_required") in got
    assert (5, "C", "missing_required") in got


def test_illegal_characters_and_formulas() -> None:
    got = problems(xlsx([row("苏州\u202e日东有限公司"), row("=HYPERLINK(\"x\")", landline="0510-82345678")]))
    assert (2, "A", "illegal_characters") in got
    assert (3, "A", "formula") in got


def test_in_file_duplicates_by_name_key_and_by_any_number() -> None:
    got = problems(xlsx([
        row("苏州日东精密电子有限公司", landline="0512-67891234", mobile="13800138000"),
        row("日东精密电子（苏州）有限公司", landline="0512-11111111"),
        row("完全不同有限公司", landline="0510-22222222", mobile="+86 138 0013 8000"),
    ]))
    assert (3, "A", "duplicate_in_file") in got
    assert (4, "E", "duplicate_in_file") in got


def test_bad_numbers_and_coordinates() -> None:
    got = problems(xlsx([row(landline="abc"), row("别家有限公司", landline="0510-82345678", lat=95, lng=10)]))
    assert (2, "C", "invalid_phone") in got
    assert (3, "I", "invalid_coordinate") in got


def test_long_cell() -> None:
    assert (2, "A", "too_long") in problems(xlsx([row("日" * 5_000)]))
    # openpyxl writes at most Excel's 32 767 characters: a problem, not a refusal (test_xlsx_guard
    # builds the longer cells by hand)
    assert (2, "A", "too_long") in problems(xlsx([row("日" * 100_000)]))


def test_not_xlsx_and_too_large() -> None:
    with pytest.raises(UnsupportedMedia):
        parse_upload(b"name,address\n")
    with pytest.raises(UnsupportedMedia):
        parse_upload(b"PK\x03\x04garbage")
    with pytest.raises(TooLarge):
        parse_upload(b"PK\x03\x04" + b"0" * MAX_UPLOAD_BYTES)


def test_export_cells_are_neutralised(tmp_path: Path) -> None:
    docs = [{"_id": "c1", "name": "=cmd|' /C calc'!A0", "address": "+1", "landlines": ["-1"], "owner_id": "u1",
             "shared_with": ["u2"], "location": {"lat": 1.0, "lng": 2.0}}]
    header, rows = customer_rows(docs, {"u1": "@me"}, ZoneInfo("Asia/Shanghai"))
    path = str(tmp_path / "export.xlsx")
    write_workbook(path, "customers", header, rows)
    values = list(load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert values[1][1] == "'=cmd|' /C calc'!A0"
    assert values[1][2] == "'+1"
    assert values[1][12] == "'@me"
    header, rows = employee_customer_rows(docs, {"u1": "A", "u2": "B"})
    assert [r[2] for r in rows] == ["负责", "共享"]
    assert geojson(docs)["features"][0]["geometry"]["coordinates"] == [2.0, 1.0]

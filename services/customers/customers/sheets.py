"""xlsx import (template, check, all-or-nothing import), xlsx exports and the map.

Parsing (``parse_upload``) is pure CPU and touches no database, so the service runs it
in ``eventlet.tpool``. openpyxl reads the sheet in ``read_only`` mode row by row; only
the cleaned row dicts are kept (the upload's bytes are held once).
"""
from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from crmkit.errors import InvalidInput, TooLarge, UnsupportedMedia
from customers.names import company_key
from customers.phones import phone_keys
from customers.rules import illegal_chars, neutralise_cell, validate_customer

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_ROWS = 10_000
MAX_PROBLEMS = 5_000
MAX_CELL = 1_000

#: (header, field). A trailing * marks a required column.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("公司名称*", "name"), ("经营地址*", "address"), ("座机", "landlines"), ("传真", "faxes"), ("手机", "mobiles"),
    ("行业", "industry"), ("等级", "grade"), ("区域", "region"), ("纬度", "lat"), ("经度", "lng"), ("备注", "remark"),
)
HEADERS = tuple(h for h, _ in COLUMNS)
PHONE_SPLIT = re.compile(r"[;；,，、/\n]+")


def col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


COLUMN_OF = {f: col_letter(i) for i, (_, f) in enumerate(COLUMNS)}


def template_bytes() -> bytes:
    from openpyxl import Workbook
    from openpyxl.comments import Comment

    wb = Workbook()
    ws = wb.active
    ws.title = "customers"
    ws.append(list(HEADERS))
    ws["A1"].comment = Comment("必填。公司名称以营业执照为准 / required, as on the business licence", "crm")
    ws["C1"].comment = Comment("座机、传真、手机至少填一个；多个号码用 ; 分隔", "crm")
    ws.append(["苏州示例精密电子有限公司", "苏州市工业园区星湖街 1 号", "0512-67891234", "", "13800138000",
               "电子", "A", "华东", 31.3, 120.6, "示例行，导入前请删除"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def check_header(out: Parsed, header: Any, expected_headers: tuple[str, ...]) -> None:
    """Report every changed, missing or extra header cell of row 1 (trailing blanks ignored)."""
    found = [("" if v is None else str(v).strip()) for v in (header or ())]
    while found and not found[-1]:
        found.pop()
    for i, expected in enumerate(expected_headers):
        got = found[i] if i < len(found) else ""
        if got != expected:
            out.add(1, col_letter(i), "header_changed", f"header must be {expected!r}, found {got!r}")
    for i in range(len(expected_headers), len(found)):
        out.add(1, col_letter(i), "header_changed", f"unexpected column {found[i]!r}")


@dataclass
class Parsed:
    problems: list[dict[str, Any]] = field(default_factory=list)
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (sheet row number, clean customer)
    truncated: bool = False

    def add(self, row: int, column: str | None, code: str, message: str) -> None:
        if len(self.problems) >= MAX_PROBLEMS:
            self.truncated = True
            return
        self.problems.append({"row": row, "column": column, "code": code, "message": message})


def data_rows(out: Parsed, rows: Iterator[tuple[Any, ...]], width: int) -> Iterator[tuple[int, list[Any]]]:
    """The non-blank rows after the header as ``(row number in the sheet, cells padded or cut
    to width)``; past ``MAX_ROWS`` a ``too_many_rows`` problem ends them."""
    count = 0
    for rownum, values in enumerate(rows, start=2):
        cells = (list(values) + [None] * width)[:width]
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells):
            continue
        count += 1
        if count > MAX_ROWS:
            out.add(rownum, None, "too_many_rows", f"at most {MAX_ROWS} rows per file")
            return
        yield rownum, cells


def check_upload(data: bytes | str) -> None:
    """Size and zip signature of an upload: the bytes, or the path of its spool file."""
    if isinstance(data, str):
        size = os.path.getsize(data)
        with open(data, "rb") as f:
            head = f.read(4)
    else:
        size, head = len(data), data[:4]
    if size > MAX_UPLOAD_BYTES:
        raise TooLarge("import.too_large", f"the file exceeds {MAX_UPLOAD_BYTES} bytes", {"limit": MAX_UPLOAD_BYTES})
    if head != b"PK\x03\x04":
        raise UnsupportedMedia("import.not_xlsx", "the file is not an xlsx workbook")


def workbook_source(data: bytes | str) -> Any:
    """What openpyxl reads: a spool file's path (read from disk as it goes) or the bytes."""
    return data if isinstance(data, str) else io.BytesIO(data)


def parse_upload(data: bytes | str) -> Parsed:
    """Headers, cell rules, required fields and in-file duplicates (no database)."""
    check_upload(data)
    from openpyxl import load_workbook

    try:
        wb = load_workbook(workbook_source(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise UnsupportedMedia("import.not_xlsx", f"the file is not a readable xlsx workbook ({type(exc).__name__})"
                               ) from None
    out = Parsed()
    try:
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = next(it, None)
        if header is None:
            out.add(1, None, "empty_file", "the sheet is empty")
            return out
        check_header(out, header, HEADERS)
        if out.problems:
            return out
        seen_names: dict[str, int] = {}
        seen_numbers: dict[str, int] = {}
        for rownum, cells in data_rows(out, it, len(HEADERS)):
            clean = _row(out, rownum, cells)
            if clean is None:
                continue
            key = company_key(clean["name"])
            if key in seen_names:
                out.add(rownum, COLUMN_OF["name"], "duplicate_in_file",
                        f"same company as row {seen_names[key]} (key {key})")
                continue
            dup_number = next((n for n in phone_keys(_numbers(clean)) if n in seen_numbers), None)
            if dup_number:
                col = next((COLUMN_OF[f] for f in ("landlines", "faxes", "mobiles")
                            if dup_number in phone_keys(clean.get(f) or [])), COLUMN_OF["landlines"])
                out.add(rownum, col, "duplicate_in_file", f"number {dup_number} also in row {seen_numbers[dup_number]}")
                continue
            seen_names[key] = rownum
            for n in phone_keys(_numbers(clean)):
                seen_numbers[n] = rownum
            out.rows.append((rownum, clean))
    finally:
        wb.close()
    return out


def _numbers(clean: dict[str, Any]) -> list[str]:
    return [n for f in ("landlines", "faxes", "mobiles") for n in (clean.get(f) or [])]


def _row(out: Parsed, rownum: int, cells: list[Any]) -> dict[str, Any] | None:
    raw: dict[str, Any] = {}
    bad = False
    for i, (_, f) in enumerate(COLUMNS):
        v = cells[i]
        col = col_letter(i)
        if isinstance(v, str):
            if v.startswith("="):
                out.add(rownum, col, "formula", "formulas are not allowed; enter the value")
                bad = True
                continue
            if len(v) > MAX_CELL:
                out.add(rownum, col, "too_long", f"at most {MAX_CELL} characters")
                bad = True
                continue
            chars = illegal_chars(v)
            if chars:
                out.add(rownum, col, "illegal_characters", f"illegal characters {', '.join(chars)}")
                bad = True
                continue
        raw[f] = v
    if bad:
        return None
    data: dict[str, Any] = {}
    for f in ("name", "address", "industry", "grade", "region", "remark"):
        v = raw.get(f)
        data[f] = None if v is None else (v if isinstance(v, str) else _num_text(v))
    for f in ("landlines", "faxes", "mobiles"):
        v = raw.get(f)
        data[f] = [] if v is None else [s.strip() for s in PHONE_SPLIT.split(_num_text(v)) if s.strip()]
    lat, lng = raw.get("lat"), raw.get("lng")
    if lat not in (None, "") or lng not in (None, ""):
        data["location"] = {"lat": _to_float(lat), "lng": _to_float(lng)}
    try:
        return validate_customer(data)
    except InvalidInput as exc:
        for e in exc.details.get("errors", []):
            fld = e["field"].split("[")[0].split(".")[0]
            if fld == "location":
                fld = "lat" if e["field"].endswith("lat") else "lng"
            col = COLUMN_OF["landlines"] if fld == "phones" else COLUMN_OF.get(fld)
            code = "missing_required" if e["code"] == "required" else e["code"]
            out.add(rownum, col, code, e["message"])
        return None


def _num_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _to_float(v: Any) -> Any:
    if isinstance(v, int | float):
        return v
    try:
        return float(str(v).strip())
    except ValueError:
        return "invalid"


# -- exports ----------------------------------------------------------------------------------
def write_workbook(path: str, sheet: str, header: list[str], rows: Iterable[list[Any]]) -> None:
    """Write the export to the file at ``path``: openpyxl ``write_only`` appends each row
    as it comes (formula injection neutralised), so the workbook is never built in memory."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(header)
    for r in rows:
        ws.append([neutralise_cell(v) for v in r])
    wb.save(path)


def customer_rows(docs: list[dict[str, Any]], names: dict[str, str]) -> tuple[list[str], Iterator[list[Any]]]:
    """The export's header and its rows, made one at a time as the workbook is written."""
    header = ["ID", "公司名称", "经营地址", "座机", "传真", "手机", "行业", "等级", "区域", "纬度", "经度", "负责人ID",
              "负责人", "创建时间"]

    def rows() -> Iterator[list[Any]]:
        for d in docs:
            loc = d.get("location") or {}
            yield [d["_id"], d.get("name"), d.get("address"), "; ".join(d.get("landlines") or []),
                   "; ".join(d.get("faxes") or []), "; ".join(d.get("mobiles") or []), d.get("industry"),
                   d.get("grade"), d.get("region"), loc.get("lat"), loc.get("lng"), d.get("owner_id"),
                   names.get(d.get("owner_id") or "", ""), str(d.get("created_at") or "")]
    return header, rows()


def employee_customer_rows(docs: list[dict[str, Any]], names: dict[str, str]) -> tuple[list[str], list[list[Any]]]:
    header = ["员工ID", "员工姓名", "关系", "客户ID", "客户名称"]
    rows: list[list[Any]] = []
    for d in docs:
        if d.get("owner_id"):
            rows.append([d["owner_id"], names.get(d["owner_id"], ""), "负责", d["_id"], d.get("name")])
        for u in d.get("shared_with") or []:
            rows.append([u, names.get(u, ""), "共享", d["_id"], d.get("name")])
    rows.sort(key=lambda r: (str(r[0]), r[2], str(r[4])))
    return header, rows


def geojson(docs: list[dict[str, Any]]) -> dict[str, Any]:
    features = []
    for d in docs:
        loc = d.get("location") or {}
        if "lat" not in loc or "lng" not in loc:
            continue
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [loc["lng"], loc["lat"]]},
                         "properties": {"id": d["_id"], "name": d.get("name"), "owner_id": d.get("owner_id"),
                                        "grade": d.get("grade"), "address": d.get("address")}})
    return {"type": "FeatureCollection", "features": features}

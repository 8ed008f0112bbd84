"""xlsx import (template, check, all-or-nothing import), xlsx exports and the map.

Parsing (``parse_upload``) is pure CPU and touches no database, so the service runs it
in ``eventlet.tpool``. Every upload first passes ``xlsx_guard`` (inflated sizes, cell
length, no DOCTYPE), then openpyxl reads the first sheet in ``read_only`` mode row by
row; only the cleaned row dicts are kept (the upload's bytes are held once). A check
reports at most ``MAX_PROBLEMS`` problems (plus their ``total``), and a problem never
echoes more than ``ECHO_CHARS`` characters of a cell.

Downloads (templates and exports) carry Chinese headers; each header cell's comment
names the English key (``key: name``), and the import reads its own template (the
sample row lives on a separate instructions sheet, so it is never imported).
"""
from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from crmkit.errors import InvalidInput, TooLarge, UnsupportedMedia
from customers import xlsx_guard
from customers.names import company_key
from customers.phones import parse_phone, phone_keys
from customers.rules import illegal_chars, neutralise_cell, validate_customer

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_ROWS = 10_000
#: problems listed in a report (the report's ``total`` counts them all)
MAX_PROBLEMS = 200
#: problems kept to pick the first ``MAX_PROBLEMS`` of in sheet order (the rest are only counted)
MAX_COLLECTED = 20_000
MAX_CELL = 1_000
#: characters of a cell a problem message may echo
ECHO_CHARS = 40
INSTRUCTIONS_SHEET = "说明"

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
COLUMN_INDEX = {f: i for i, (_, f) in enumerate(COLUMNS)}


#: notes on the template's header cells (after the English key)
NOTES = {"name": "必填。公司名称以营业执照为准 / required, as on the business licence",
         "address": "必填 / required",
         "landlines": "座机、传真、手机至少填一个；多个号码用 ; 分隔 / at least one number; separate several with ;"}
SAMPLE_ROW = ["苏州示例精密电子有限公司", "苏州市工业园区星湖街 1 号", "0512-67891234", "", "13800138000", "电子", "A",
              "华东", 31.3, 120.6, "示例行 / sample row"]


def shown(value: Any, limit: int = ECHO_CHARS) -> str:
    """A cell value as a problem message may echo it: ``repr``, at most ``limit`` characters."""
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")


def key_comment(key: str, note: str | None = None) -> str:
    return f"key: {key}" + (f"\n{note}" if note else "")


def template_workbook(columns: Sequence[tuple[str, str]], sheet: str, sample: list[Any],
                      notes: dict[str, str], help_lines: Sequence[str]) -> bytes:
    """An import template: the first sheet (the one the import reads) holds only the
    header row — Chinese headers, each with a comment naming its English key — and an
    instructions sheet shows a sample row under the same headers (never imported)."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([h for h, _ in columns])
    for cell, (_, key) in zip(ws[1], columns, strict=True):
        cell.comment = Comment(key_comment(key, notes.get(key)), "crm", width=320, height=90)
    guide = wb.create_sheet(INSTRUCTIONS_SHEET)
    guide.append([f"导入说明 / how to import — 只导入第一个工作表「{sheet}」/ only the first sheet "
                  f"({sheet}) is imported; this sheet never is"])
    for line in help_lines:
        guide.append([line])
    guide.append([])
    guide.append(["示例 / sample:"])
    guide.append([h for h, _ in columns])
    guide.append(sample)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def template_bytes() -> bytes:
    return template_workbook(COLUMNS, "customers", SAMPLE_ROW, NOTES, [
        "表头不可修改，带 * 的列必填 / do not change the headers; columns marked * are required",
        "座机、传真、手机至少填一个 / give at least one landline, fax or mobile",
    ])


def check_header(out: Parsed, header: Any, expected_headers: tuple[str, ...]) -> None:
    """Report every changed, missing or extra header cell of row 1 (trailing blanks ignored)."""
    found = [("" if v is None else str(v).strip()) for v in (header or ())]
    while found and not found[-1]:
        found.pop()
    for i, expected in enumerate(expected_headers):
        got = found[i] if i < len(found) else ""
        if got != expected:
            out.add(1, col_letter(i), "header_changed", f"header must be {expected!r}, found {shown(got)}")
    for i in range(len(expected_headers), len(found)):
        out.add(1, col_letter(i), "header_changed", f"unexpected column {shown(found[i])}")


@dataclass
class Parsed:
    """A parse's outcome: its problems (``problems``: the first ``MAX_PROBLEMS`` in sheet
    order; ``total`` counts every one), the clean rows, and for *every* data row what a
    tenant duplicate check can use (``probes``: the name and the numbers that parse, also
    of rows with other problems)."""

    found: list[dict[str, Any]] = field(default_factory=list)
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (sheet row number, clean customer)
    probes: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    total: int = 0

    @property
    def problems(self) -> list[dict[str, Any]]:
        self.found.sort(key=lambda p: (p["row"], len(p["column"] or ""), p["column"] or ""))
        return self.found[:MAX_PROBLEMS]

    @property
    def truncated(self) -> bool:
        return self.total > MAX_PROBLEMS

    def details(self) -> dict[str, Any]:
        """What a report or an ``import.has_problems`` error carries."""
        return {"problems": self.problems, "total": self.total, "truncated": self.truncated}

    def add(self, row: int, column: str | None, code: str, message: str) -> None:
        self.total += 1
        if len(self.found) < MAX_COLLECTED:  # bounded; sorted, the first MAX_PROBLEMS are reported
            self.found.append({"row": row, "column": column, "code": code, "message": message})


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


@contextlib.contextmanager
def first_sheet_rows(data: bytes | str) -> Iterator[Iterator[tuple[Any, ...]]]:
    """The one reading path of every workbook import (customers and contacts): size and
    signature, then the zip-bomb / DOCTYPE / cell-length guard (``xlsx_guard``) *before*
    openpyxl opens the file, then the first sheet's rows (values only, read_only). Any
    unreadable workbook, also one that breaks while its rows are read, is 415."""
    check_upload(data)
    xlsx_guard.inspect(data if isinstance(data, str) else io.BytesIO(data))
    from openpyxl import load_workbook

    try:
        wb = load_workbook(workbook_source(data), read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the same answer
        raise UnsupportedMedia("import.not_xlsx", f"the file is not a readable xlsx workbook ({type(exc).__name__})"
                               ) from None
    try:
        if not wb.worksheets:
            raise UnsupportedMedia("import.not_xlsx", "the workbook has no sheet")
        yield _unreadable_as_415(wb.worksheets[0].iter_rows(values_only=True))
    finally:
        wb.close()


def _unreadable_as_415(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - a sheet that breaks while read is not a readable workbook
            raise UnsupportedMedia("import.not_xlsx", f"the workbook's sheet cannot be read ({type(exc).__name__})"
                                   ) from None
        yield values


def parse_upload(data: bytes | str) -> Parsed:
    """Headers, cell rules, required fields and in-file duplicates (no database)."""
    out = Parsed()
    with first_sheet_rows(data) as it:
        header = next(it, None)
        if header is None:
            out.add(1, None, "empty_file", "the sheet is empty")
            return out
        check_header(out, header, HEADERS)
        if out.total:
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
                        f"same company as row {seen_names[key]} (key {shown(key)})")
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
    return out


def _numbers(clean: dict[str, Any]) -> list[str]:
    return [n for f in ("landlines", "faxes", "mobiles") for n in (clean.get(f) or [])]


def _probe(cells: list[Any]) -> dict[str, Any]:
    """What the tenant duplicate check can use of a row whatever its other problems: the
    name when it is usable text, and every number that parses."""
    probe: dict[str, Any] = {"name": None, "landlines": [], "faxes": [], "mobiles": []}
    name = cells[COLUMN_INDEX["name"]]
    if isinstance(name, str) and 0 < len(name) <= MAX_CELL and not name.startswith("=") and not illegal_chars(name):
        probe["name"] = name.strip()
    for f in ("landlines", "faxes", "mobiles"):
        v = cells[COLUMN_INDEX[f]]
        if v is None or (isinstance(v, str) and (len(v) > MAX_CELL or v.startswith("="))):
            continue
        for s in PHONE_SPLIT.split(_num_text(v))[:10]:
            ph = parse_phone(s) if s.strip() else None
            if ph is not None:
                probe[f].append(ph.display())
    return probe


def _row(out: Parsed, rownum: int, cells: list[Any]) -> dict[str, Any] | None:
    out.probes.append((rownum, _probe(cells)))
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
            at: str | None = COLUMN_OF["landlines"] if fld == "phones" else COLUMN_OF.get(fld)
            code = "missing_required" if e["code"] == "required" else e["code"]
            out.add(rownum, at, code, e["message"])
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
#: a header: (Chinese header, English key, note for the key's comment)
Header = tuple[str, str, str | None]


def write_workbook(path: str, sheet: str, header: Sequence[Header], rows: Iterable[list[Any]]) -> None:
    """Write the export to the file at ``path``: openpyxl ``write_only`` appends each row
    as it comes (formula injection neutralised), so the workbook is never built in memory.
    Row 1 holds the Chinese headers, each with a comment naming its English key."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    cells = []
    for label, key, note in header:
        cell = WriteOnlyCell(ws, value=label)
        cell.comment = Comment(key_comment(key, note), "crm", width=240, height=60)
        cells.append(cell)
    ws.append(cells)
    for r in rows:
        ws.append([neutralise_cell(v) for v in r])
    wb.save(path)


def local_time(value: Any, zone: Any) -> str:
    """A stored UTC time as ``YYYY-MM-DD HH:MM:SS`` in the tenant's time zone ('' when none)."""
    from datetime import UTC, datetime

    if not isinstance(value, datetime):
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def customer_rows(docs: list[dict[str, Any]], names: dict[str, str], zone: Any
                  ) -> tuple[list[Header], Iterator[list[Any]]]:
    """The export's header and its rows, made one at a time as the workbook is written;
    times in the tenant's time zone ``zone`` (a ``ZoneInfo``)."""
    header: list[Header] = [
        ("客户ID", "id", None), ("公司名称", "name", None), ("经营地址", "address", None),
        ("座机", "landlines", None), ("传真", "faxes", None), ("手机", "mobiles", None), ("行业", "industry", None),
        ("等级", "grade", None), ("区域", "region", None), ("纬度", "lat", None), ("经度", "lng", None),
        ("负责人ID", "owner_id", None), ("负责人", "owner_name", None),
        ("创建时间", "created_at", f"时区 / time zone: {zone}")]

    def rows() -> Iterator[list[Any]]:
        for d in docs:
            loc = d.get("location") or {}
            yield [d["_id"], d.get("name"), d.get("address"), "; ".join(d.get("landlines") or []),
                   "; ".join(d.get("faxes") or []), "; ".join(d.get("mobiles") or []), d.get("industry"),
                   d.get("grade"), d.get("region"), loc.get("lat"), loc.get("lng"), d.get("owner_id"),
                   names.get(d.get("owner_id") or "", ""), local_time(d.get("created_at"), zone)]
    return header, rows()


def employee_customer_rows(docs: list[dict[str, Any]], names: dict[str, str]
                           ) -> tuple[list[Header], list[list[Any]]]:
    header: list[Header] = [("员工ID", "employee_id", None), ("员工姓名", "employee_name", None),
                            ("关系", "relation", "负责 = owner, 共享 = shared"), ("客户ID", "customer_id", None),
                            ("客户名称", "customer_name", None)]
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

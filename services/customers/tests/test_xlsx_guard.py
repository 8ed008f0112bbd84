"""The workbook guard (pure): inflated sizes counted while streaming, cells counted while
parsing, DOCTYPE/entity declarations refused — before openpyxl ever opens the file.
Every file is built here; nothing big is committed."""
from __future__ import annotations

import io
import resource
import time
import zipfile

import pytest
from openpyxl import load_workbook

from crmkit.errors import TooLarge, UnsupportedMedia
from customers import xlsx_guard
from customers.contact_sheets import HEADERS as CONTACT_HEADERS
from customers.contact_sheets import parse_contacts
from customers.contact_sheets import template_bytes as contact_template
from customers.sheets import (
    HEADERS,
    INSTRUCTIONS_SHEET,
    MAX_PROBLEMS,
    SAMPLE_ROW,
    parse_upload,
    template_bytes,
)
from tests.support.workbooks import _declare, replaced, shared_strings_bomb
from tests.support.workbooks import workbook as wb_of


def workbook(rows: list[list[object]] | None = None, header: tuple[str, ...] = HEADERS) -> bytes:
    return wb_of(header, rows or [])


def test_a_normal_workbook_passes() -> None:
    xlsx_guard.inspect(workbook([["苏州日东精密电子有限公司", "苏州", "0512-67891234"]]))


def test_a_shared_strings_bomb_is_refused_while_it_streams_with_bounded_memory() -> None:
    """1 MB on the wire, one 1 GiB cell inflated: refused by its declared size, and — when
    the zip lies about that size — by counting while it streams, after ~32 K characters."""
    bomb = shared_strings_bomb(HEADERS, 1 << 30)
    assert len(bomb) < 2 * 1024 * 1024
    liar = _declare(bomb, "xl/sharedStrings.xml", 40 * 1024 * 1024)  # claims 40 MiB, under the part limit
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(TooLarge) as info:
        xlsx_guard.inspect(bomb)
    assert info.value.code == "import.part_too_large"
    with pytest.raises(TooLarge) as info:
        xlsx_guard.inspect(liar)
    assert info.value.code == "import.cell_too_large"
    assert info.value.details == {"part": "xl/sharedStrings.xml", "limit": xlsx_guard.MAX_CELL_CHARS}
    for data in (bomb, liar):  # and the imports' one reading path refuses both before openpyxl
        with pytest.raises(TooLarge):
            parse_upload(data)
        with pytest.raises(TooLarge):
            parse_contacts(data)
    assert time.perf_counter() - started < 5  # a bound, not a benchmark: it stops at the first chunks
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 * 1024  # KiB: nothing was expanded


def test_a_cell_split_into_rich_text_runs_is_counted_whole() -> None:
    runs = b"".join(b"<r><t>" + b"B" * 1000 + b"</t></r>" for _ in range(40))
    sst = (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b"<si>" + runs + b"</si></sst>")
    with pytest.raises(TooLarge) as info:
        xlsx_guard.inspect(replaced(workbook([["x"]]), "xl/sharedStrings.xml", sst))
    assert info.value.code == "import.cell_too_large"
    many = b"".join(b"<si><t>" + b"B" * 1000 + b"</t></si>" for _ in range(40))  # 40 cells of 1000: fine
    xlsx_guard.inspect(replaced(workbook([["x"]]), "xl/sharedStrings.xml",
                                b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
                                b'spreadsheetml/2006/main">' + many + b"</sst>"))


def test_a_part_past_its_limit_is_refused_by_the_count_not_the_declared_size(monkeypatch) -> None:
    monkeypatch.setattr(xlsx_guard, "MAX_PART_BYTES", 2 * 1024 * 1024)
    cells = (b"<si><t>a</t></si>" for _ in range(200_000))  # 3.4 MB of small cells
    data = replaced(workbook([["x"]]), "xl/sharedStrings.xml",
                    iter([b'<?xml version="1.0"?><sst>', *cells, b"</sst>"]), declared=1000)
    with pytest.raises((TooLarge, UnsupportedMedia)) as info:
        xlsx_guard.inspect(data)
    # the zip claims 1000 bytes: either the count crosses the limit or the stream ends at the
    # claimed size and the member fails its check — never an unbounded inflate
    assert info.value.code in ("import.part_too_large", "import.not_xlsx")
    honest = replaced(workbook([["x"]]), "xl/sharedStrings.xml",
                      iter([b'<?xml version="1.0"?><sst>', *(b"<si><t>a</t></si>" for _ in range(200_000)),
                            b"</sst>"]))
    with pytest.raises(TooLarge) as info:
        xlsx_guard.inspect(honest)
    assert info.value.code == "import.part_too_large"


def test_the_whole_workbook_has_a_limit(monkeypatch) -> None:
    monkeypatch.setattr(xlsx_guard, "MAX_TOTAL_BYTES", 1024 * 1024)
    src = zipfile.ZipFile(io.BytesIO(workbook([["x"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        for i in range(5):
            dst.writestr(f"xl/media/pad{i}.bin", b"\0" * 300_000)
    with pytest.raises(TooLarge) as info:
        xlsx_guard.inspect(out.getvalue())
    assert info.value.code == "import.too_large_inflated"


def test_too_many_parts(monkeypatch) -> None:
    monkeypatch.setattr(xlsx_guard, "MAX_PARTS", 20)
    src = zipfile.ZipFile(io.BytesIO(workbook()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        for i in range(30):
            dst.writestr(f"xl/media/p{i}.bin", b"x")
    with pytest.raises(TooLarge) as info:
        xlsx_guard.inspect(out.getvalue())
    assert info.value.code == "import.too_many_parts"


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml", "[Content_Types].xml"])
def test_a_doctype_in_any_xml_part_is_415(part: str) -> None:
    data = workbook([["苏州日东精密电子有限公司", "苏州", "0512-67891234"]])
    original = zipfile.ZipFile(io.BytesIO(data)).read(part) if part != "xl/sharedStrings.xml" else \
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"></sst>'
    body = original.split(b"?>", 1)[1] if original.startswith(b"<?xml") else original
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>' + body
    bad = replaced(data, part, evil)
    with pytest.raises(UnsupportedMedia) as info:
        xlsx_guard.inspect(bad)
    assert info.value.code == "import.xml_doctype" and info.value.details["part"] == part
    for parse in (parse_upload, parse_contacts):  # the one reading path of both imports
        with pytest.raises(UnsupportedMedia):
            parse(bad)


def test_excel_style_vml_is_counted_not_parsed() -> None:
    """Excel's comment drawings are not well-formed XML; a workbook with comments still passes."""
    vml = b'<xml xmlns:v="urn:schemas-microsoft-com:vml"><v:shape><div>note<br></div></v:shape></xml>'
    xlsx_guard.inspect(replaced(workbook([["x"]]), "xl/drawings/vmlDrawing1.vml", vml))


def test_broken_xml_and_broken_zip_are_415() -> None:
    with pytest.raises(UnsupportedMedia):
        xlsx_guard.inspect(replaced(workbook(), "xl/sharedStrings.xml", b"<sst><si><t>x</si>"))
    with pytest.raises(UnsupportedMedia):
        xlsx_guard.inspect(b"PK\x03\x04 not a zip")


def test_problem_lists_are_capped_with_a_total_and_echoes_are_short() -> None:
    rows = [["=1", "=2", "=3"] for _ in range(600)]  # 3 problems a row (formulas)
    parsed = parse_upload(workbook(rows))
    assert len(parsed.problems) == MAX_PROBLEMS and parsed.total == 1800 and parsed.truncated
    assert [p["row"] for p in parsed.problems] == sorted(p["row"] for p in parsed.problems)
    header = ["公" * 30_000, *HEADERS[1:]]
    msg = parse_upload(workbook([], tuple(header))).problems[0]["message"]
    assert len(msg) < 120, msg


def test_the_template_imports_as_an_empty_file_and_names_each_key() -> None:
    data = template_bytes()
    wb = load_workbook(io.BytesIO(data))
    first, guide = wb.worksheets[0], wb[INSTRUCTIONS_SHEET]
    assert [c.value for c in first[1]] == list(HEADERS)
    assert first.max_row == 1  # no sample row where the import reads
    assert first["A1"].comment.text.startswith("key: name") and first["K1"].comment.text == "key: remark"
    assert SAMPLE_ROW[0] in [c.value for row in guide.iter_rows() for c in row]
    parsed = parse_upload(data)
    assert parsed.problems == [] and parsed.rows == []  # the sample never passes as a customer
    contacts = contact_template()
    cwb = load_workbook(io.BytesIO(contacts))
    assert [c.value for c in cwb.worksheets[0][1]] == list(CONTACT_HEADERS) and cwb.worksheets[0].max_row == 1
    assert cwb.worksheets[0]["B1"].comment.text.startswith("key: mobile")
    assert parse_contacts(contacts).rows == []

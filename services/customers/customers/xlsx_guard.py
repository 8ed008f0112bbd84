"""Bounds on an uploaded workbook, checked before openpyxl sees it.

An xlsx is a zip of XML parts, and a zip's declared sizes can lie: a 1 MB upload may
inflate to a 1 GiB ``sharedStrings.xml`` holding one cell, which openpyxl reads whole
when it opens the workbook. So every member is inflated here as a stream, chunk by
chunk, and the inflated bytes are *counted as they come* (never trusting the declared
size): a member past ``MAX_PART_BYTES``, a workbook past ``MAX_TOTAL_BYTES`` or more
than ``MAX_PARTS`` members is refused (413) as soon as the limit is crossed. Each XML
part is fed to expat as it inflates, which proves it well formed, refuses any
DOCTYPE or entity declaration (415: no entity expansion ever reaches openpyxl), and
counts the characters of every cell (a ``<c>`` of a sheet, an ``<si>`` of the shared
strings, rich-text runs summed) — a cell past ``MAX_CELL_CHARS`` (Excel's own limit)
is refused (413) while it streams. Memory stays at one chunk plus expat's buffer,
whatever the file claims. Pure CPU and file reads: the service runs it in
``eventlet.tpool`` with the rest of the parse.
"""
from __future__ import annotations

import io
import zipfile
from typing import IO, Any
from xml.parsers import expat

from crmkit.errors import TooLarge, UnsupportedMedia

MAX_PARTS = 2_000
MAX_PART_BYTES = 50 * 1024 * 1024
MAX_TOTAL_BYTES = 100 * 1024 * 1024
#: Excel's own limit on the characters of one cell
MAX_CELL_CHARS = 32_767
CHUNK = 64 * 1024
#: elements whose text is one cell: a sheet's ``<c>``, a shared string's ``<si>``
_CELL_ELEMENTS = frozenset({"c", "si"})


class _Refused(Exception):
    """Raised inside expat's callbacks; turned into the CrmError after the parse stops."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


def _too_large(code: str, message: str, part: str, limit: int) -> TooLarge:
    return TooLarge(code, message, {"part": part[:200], "limit": limit})


def _not_xlsx(message: str, part: str) -> UnsupportedMedia:
    return UnsupportedMedia("import.not_xlsx", message, {"part": part[:200]})


class _XmlPart:
    """One XML part fed to expat chunk by chunk: DOCTYPE and entity declarations
    refused, the characters of the current cell counted."""

    def __init__(self, name: str):
        self.name = name
        self.cell_chars = 0
        p = expat.ParserCreate()
        p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        p.StartDoctypeDeclHandler = self._doctype
        p.EntityDeclHandler = self._entity
        p.StartElementHandler = self._start
        p.CharacterDataHandler = self._text
        p.buffer_text = True
        p.buffer_size = CHUNK
        self.parser = p

    def _doctype(self, *_: Any) -> None:
        raise _Refused(UnsupportedMedia("import.xml_doctype", "the workbook's XML declares a DOCTYPE, which is "
                                        "not allowed", {"part": self.name[:200]}))

    def _entity(self, *_: Any) -> None:
        raise _Refused(UnsupportedMedia("import.xml_entity", "the workbook's XML declares an entity, which is "
                                        "not allowed", {"part": self.name[:200]}))

    def _start(self, name: str, _attrs: Any) -> None:
        if name.rpartition(":")[2] in _CELL_ELEMENTS:
            self.cell_chars = 0

    def _text(self, data: str) -> None:
        self.cell_chars += len(data)
        if self.cell_chars > MAX_CELL_CHARS:
            raise _Refused(_too_large("import.cell_too_large", f"a cell of the workbook holds more than "
                                      f"{MAX_CELL_CHARS} characters", self.name, MAX_CELL_CHARS))

    def feed(self, data: bytes, final: bool = False) -> None:
        try:
            self.parser.Parse(data, final)
        except _Refused as refused:
            raise refused.error from None
        except expat.ExpatError as exc:
            raise _not_xlsx(f"the workbook's XML part {self.name[:80]!r} is not well formed "
                            f"({expat.ErrorString(exc.code)})", self.name) from None


def _is_xml(name: str) -> bool:
    """Parts read as XML (by openpyxl, or by a spreadsheet that opens an export). Legacy VML
    drawings (``.vml``, comment boxes) are only counted: Excel writes them as HTML-ish markup
    (an unclosed ``<br>``) that is not well-formed XML, and openpyxl does not parse them."""
    return name.lower().endswith((".xml", ".rels"))


def inspect(source: str | bytes | IO[bytes]) -> None:
    """Refuse a workbook whose parts inflate past the limits, declare a DOCTYPE or an
    entity, are not well-formed XML, or hold a cell past ``MAX_CELL_CHARS``.
    ``source``: a path, the bytes, or a binary file."""
    src: Any = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        zf = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnsupportedMedia("import.not_xlsx", f"the file is not a readable xlsx workbook "
                               f"({type(exc).__name__})") from None
    with zf:
        members = zf.infolist()
        if len(members) > MAX_PARTS:
            raise _too_large("import.too_many_parts", f"the workbook has more than {MAX_PARTS} parts", "",
                             MAX_PARTS)
        total = 0
        for info in members:
            if info.is_dir():
                continue
            total = _inflate(zf, info, total)


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, total: int) -> int:
    """Stream one member, counting inflated bytes against both limits; returns the new total."""
    name = info.filename
    if info.file_size > MAX_PART_BYTES:  # declared: refused cheaply; the real count follows anyway
        raise _too_large("import.part_too_large", f"a part of the workbook inflates past {MAX_PART_BYTES} bytes",
                         name, MAX_PART_BYTES)
    xml = _XmlPart(name) if _is_xml(name) else None
    size = 0
    try:
        with zf.open(info) as member:
            while True:
                chunk = member.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                total += len(chunk)
                if size > MAX_PART_BYTES:
                    raise _too_large("import.part_too_large", f"a part of the workbook inflates past "
                                     f"{MAX_PART_BYTES} bytes", name, MAX_PART_BYTES)
                if total > MAX_TOTAL_BYTES:
                    raise _too_large("import.too_large_inflated", f"the workbook inflates past "
                                     f"{MAX_TOTAL_BYTES} bytes", name, MAX_TOTAL_BYTES)
                if xml is not None:
                    xml.feed(chunk)
        if xml is not None:
            xml.feed(b"", final=True)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError,
            RuntimeError) as exc:  # corrupt data, bad CRC, unsupported compression, encrypted member
        raise _not_xlsx(f"the workbook's part {name[:80]!r} cannot be read ({type(exc).__name__})", name) from None
    return total

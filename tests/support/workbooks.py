"""Hostile workbooks, built on the fly (never committed): a shared-strings zip bomb and
parts replaced or lied about, for the import guard's tests and the customers benchmark."""
from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterable, Iterator


def workbook(header: Iterable[object], rows: Iterable[Iterable[object]] = ()) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def replaced(data: bytes, name: str, chunks: Iterable[bytes] | bytes, *, declared: int | None = None) -> bytes:
    """``data`` (an xlsx) with member ``name`` replaced by ``chunks``, deflated as they
    stream in (a 1 GiB part never exists in memory); ``declared`` rewrites the
    uncompressed size the zip claims for it."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info, src.read(info))
        target = zipfile.ZipInfo(name)
        target.compress_type = zipfile.ZIP_DEFLATED
        with dst.open(target, "w") as f:
            for c in [chunks] if isinstance(chunks, bytes) else chunks:
                f.write(c)
    raw = out.getvalue()
    return raw if declared is None else _declare(raw, name, declared)


def _declare(raw: bytes, name: str, size: int) -> bytes:
    """Patch the uncompressed size of ``name`` in its local header and central directory entry."""
    buf = bytearray(raw)
    enc = name.encode()
    for sig, size_at, name_len_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        pos = 0
        while (pos := buf.find(sig, pos)) >= 0:
            n = struct.unpack_from("<H", buf, pos + name_len_at)[0]
            if bytes(buf[pos + name_at:pos + name_at + n]) == enc:
                struct.pack_into("<I", buf, pos + size_at, size)
            pos += 4
    return bytes(buf)


def one_cell_shared_strings(chars: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    """A ``sharedStrings.xml`` holding one cell of ``chars`` characters, in chunks."""
    yield (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
           b'spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>')
    left = chars
    block = b"A" * chunk
    while left:
        n = min(chunk, left)
        yield block if n == chunk else block[:n]
        left -= n
    yield b"</t></si></sst>"


def shared_strings_bomb(header: Iterable[object], cell_chars: int) -> bytes:
    """A small xlsx (its first data row references shared string 0) whose
    ``xl/sharedStrings.xml`` inflates to one cell of ``cell_chars`` characters:
    1 GiB → about 1 MB on the wire, 64 MiB → about 66 KB."""
    cols = list(header)
    return replaced(workbook(cols, [["x"] * len(cols)]), "xl/sharedStrings.xml", one_cell_shared_strings(cell_chars))

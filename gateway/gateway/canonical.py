"""The canonical fingerprint of a request, for Idempotency-Key: the same request gives the
same hash however it was encoded.

- method, path and the query string (pairs sorted);
- a JSON body as canonical JSON (keys sorted, no whitespace), so ``{"a":1, "b":2}`` and
  ``{"b": 2,"a": 1}`` are one request;
- a ``multipart/form-data`` body by its parts — each part's name, file name, content type and
  the SHA-256 of its content, sorted — never by the random boundary, so a client's retry of
  the same photo upload is the same request;
- any other body by its bytes.

Pure and synchronous (run it in a thread for big bodies).
"""
from __future__ import annotations

import hashlib
import json
from typing import IO, Any
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, parse_options_header

CHUNK = 64 * 1024


def request_hash(method: str, path: str, query_string: bytes, content_type: str, body: IO[bytes]) -> str:
    h = hashlib.sha256()
    query = sorted(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    h.update(json.dumps([method.upper(), path, query]).encode())
    h.update(b"\n")
    h.update(body_digest(content_type, body).encode())
    return h.hexdigest()


def body_digest(content_type: str, body: IO[bytes]) -> str:
    ctype, options = parse_options_header(content_type or "")
    kind = ctype.decode("latin-1").lower() if isinstance(ctype, bytes) else str(ctype).lower()
    body.seek(0)
    if kind == "multipart/form-data" and options.get(b"boundary"):
        digest = _multipart_digest(options[b"boundary"], body)
        if digest is not None:
            return "multipart:" + digest
        body.seek(0)
    if kind == "application/json" or kind.endswith("+json"):
        raw = body.read()
        try:
            canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
            return "json:" + hashlib.sha256(canonical.encode()).hexdigest()
        except (ValueError, RecursionError):
            return "raw:" + hashlib.sha256(raw).hexdigest()
    h = hashlib.sha256()
    for chunk in iter(lambda: body.read(CHUNK), b""):
        h.update(chunk)
    return "raw:" + h.hexdigest()


def _multipart_digest(boundary: bytes, body: IO[bytes]) -> str | None:
    """SHA-256 over the sorted part descriptions; None when the body is not valid multipart."""
    parts: list[list[str]] = []
    state: dict[str, Any] = {}

    def on_part_begin() -> None:
        state.update(headers={}, field=b"", value=b"", hash=hashlib.sha256())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["field"].decode("latin-1").lower()] = state["value"]
        state["field"], state["value"] = b"", b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        state["hash"].update(data[start:end])

    def on_part_end() -> None:
        _, disposition = parse_options_header(state["headers"].get("content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        filename = disposition.get(b"filename")
        ptype = state["headers"].get("content-type", b"").decode("latin-1").strip().lower()
        parts.append([name, "" if filename is None else filename.decode("utf-8", "replace"), ptype,
                      state["hash"].hexdigest()])

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_part_data": on_part_data, "on_part_end": on_part_end,
    })
    try:
        for chunk in iter(lambda: body.read(CHUNK), b""):
            parser.write(chunk)
        parser.finalize()
    except Exception:  # noqa: BLE001 - a malformed body is fingerprinted by its bytes instead
        return None
    return hashlib.sha256(json.dumps(sorted(parts)).encode()).hexdigest()

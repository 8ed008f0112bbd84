"""Checks of RPC arguments (pure): what an entrypoint turns its arguments into."""
from __future__ import annotations

import base64
import binascii
from typing import Any

from crmkit.errors import InvalidInput, TooLarge
from customers.sheets import MAX_UPLOAD_BYTES

#: most ids one call may name
MAX_IDS = 500


def decode_file(file_b64: Any) -> bytes:
    """Small base64 file content sent in the call itself."""
    if not isinstance(file_b64, str) or not file_b64:
        raise InvalidInput("import.no_file", "no file given")
    if len(file_b64) > (MAX_UPLOAD_BYTES * 4) // 3 + 8:
        raise TooLarge("import.too_large", f"the file exceeds {MAX_UPLOAD_BYTES} bytes",
                       {"limit": MAX_UPLOAD_BYTES})
    try:
        return base64.b64decode(file_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("import.bad_encoding", "file must be base64") from None


def ids(value: Any) -> list[str]:
    """A list (or comma-separated string) of at most ``MAX_IDS`` ids; blanks dropped."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or len(value) > MAX_IDS or not all(isinstance(v, str) for v in value):
        raise InvalidInput("ids.invalid", f"a list (or comma-separated string) of at most {MAX_IDS} ids")
    return [v.strip() for v in value if v.strip()]


def data_of(data: Any) -> dict[str, Any]:
    """A request body that should be an object: anything else as an empty one."""
    return data if isinstance(data, dict) else {}


def short_id(value: Any) -> str | None:
    """An optional id argument, cut to 64 characters."""
    return str(value)[:64] if value else None

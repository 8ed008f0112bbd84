"""Phone, fax and mobile normalisation for the duplicate check, a pure function.

``parse_phone("+86 (0512) 6789-1234 转 808")`` → ``Phone("051267891234", "808", "landline")``.
The *number* is the duplicate-check key; the extension is kept apart (two extensions of
one switchboard are one company). Handled: full/half width, spaces, dashes, dots,
brackets, ``+86``/``0086``/``86`` prefixes, a dropped trunk ``0`` after the country code,
extensions written ``转``, ``分机``, ``ext``, ``x``, ``#``, ``,`` or as a trailing dash
group, 400/800 service numbers. A number without an area code is ``local`` (or gets the
caller's ``default_area_code``). Anything else is not a phone number (``None``).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

_EXT = re.compile(r"(?:转|分机|ext\.?|extension|x|#|,|;|p|w)\s*[:：]?\s*(\d{1,6})\s*$")
_ALLOWED = re.compile(r"^[\d\s+()\[\]\-./]*$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SERVICE = re.compile(r"^(400|800)\d{7}$")
MAX_RAW = 64


@dataclass(frozen=True)
class Phone:
    number: str
    extension: str = ""
    kind: str = "landline"  # mobile | landline | service | local | intl

    def display(self) -> str:
        return self.number + (f"-{self.extension}" if self.extension else "")


def _landline_ok(digits: str) -> bool:
    if len(digits) < 10 or not digits.startswith("0") or digits.startswith("00"):
        return False
    if digits[1] in "12":  # 010, 020-029: three-digit area code, 8-digit subscriber
        return len(digits) == 11
    return len(digits) in (11, 12)  # four-digit area code, 7 or 8-digit subscriber


def parse_phone(raw: object, default_area_code: str | None = None) -> Phone | None:
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        return None
    text = unicodedata.normalize("NFKC", str(raw)).strip().lower()
    if not text or len(text) > MAX_RAW:
        return None
    ext = ""
    m = _EXT.search(text)
    if m and m.start() > 0:
        ext = m.group(1)
        text = text[: m.start()].strip()
    if not _ALLOWED.match(text):
        return None
    international = text.startswith("+")
    groups = re.findall(r"\d+", text)
    digits = "".join(groups)
    if not digits:
        return None
    country = False
    if international:
        if not digits.startswith("86"):
            return Phone("+" + digits, ext, "intl") if 8 <= len(digits) <= 15 else None
        digits, country = digits[2:], True
        groups = _drop_prefix(groups, 2)
    elif digits.startswith("0086"):
        digits, country = digits[4:], True
        groups = _drop_prefix(groups, 4)
    elif digits.startswith("86") and len(digits) == 13 and _MOBILE.match(digits[2:]):
        digits, country = digits[2:], True
        groups = _drop_prefix(groups, 2)
    if country and not digits.startswith(("0", "400", "800")) and not _MOBILE.match(digits[:11]):
        digits = "0" + digits  # +86 512 … drops the trunk 0
        groups = ["0" + groups[0]] + groups[1:] if groups else groups
    found = _classify(digits, ext)
    if found is None and not ext and len(groups) >= 2 and 1 <= len(groups[-1]) <= 6:
        found = _classify(digits[: -len(groups[-1])], groups[-1], trailing=True)
    if found is not None and found.kind == "local" and default_area_code and default_area_code.isdigit():
        area = default_area_code if default_area_code.startswith("0") else "0" + default_area_code
        found = _classify(area + found.number, found.extension) or found
    return found


def _classify(digits: str, ext: str, trailing: bool = False) -> Phone | None:
    if _MOBILE.match(digits):
        return Phone(digits, ext, "mobile")
    if _SERVICE.match(digits):
        return Phone(digits, ext, "service")
    if _landline_ok(digits):
        return Phone(digits, ext, "landline")
    if not trailing and 7 <= len(digits) <= 8 and not digits.startswith(("0", "1")):
        return Phone(digits, ext, "local")
    return None


def _drop_prefix(groups: list[str], n: int) -> list[str]:
    out = list(groups)
    while n > 0 and out:
        if len(out[0]) <= n:
            n -= len(out[0])
            out.pop(0)
        else:
            out[0] = out[0][n:]
            n = 0
    return out


def phone_keys(numbers: Sequence[object], default_area_code: str | None = None) -> list[str]:
    """The distinct keys of every parseable number, in first-seen order."""
    seen: dict[str, None] = {}
    for n in numbers:
        p = parse_phone(n, default_area_code)
        if p is not None:
            seen.setdefault(p.number, None)
    return list(seen)

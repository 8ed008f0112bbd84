"""The phone normaliser: examples and properties."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customers.phones import parse_phone, phone_keys


@pytest.mark.parametrize("raw,number,ext,kind", [
    ("13800138000", "13800138000", "", "mobile"),
    ("138 0013 8000", "13800138000", "", "mobile"),
    ("138-0013-8000", "13800138000", "", "mobile"),
    ("+86 138 0013 8000", "13800138000", "", "mobile"),
    ("+86-13800138000", "13800138000", "", "mobile"),
    ("0086 13800138000", "13800138000", "", "mobile"),
    ("8613800138000", "13800138000", "", "mobile"),
    ("１３８００１３８０００", "13800138000", "", "mobile"),
    ("(0512) 6789 1234", "051267891234", "", "landline"),
    ("（0512）67891234", "051267891234", "", "landline"),
    ("0512-67891234", "051267891234", "", "landline"),
    ("0512-6789-1234", "051267891234", "", "landline"),
    ("0512.6789.1234", "051267891234", "", "landline"),
    ("+86 512 6789 1234", "051267891234", "", "landline"),
    ("+86 (0)512 67891234", "051267891234", "", "landline"),
    ("0086-512-67891234", "051267891234", "", "landline"),
    ("0512-67891234-808", "051267891234", "808", "landline"),
    ("0512-67891234转808", "051267891234", "808", "landline"),
    ("0512 67891234 ext. 808", "051267891234", "808", "landline"),
    ("0512-67891234 x808", "051267891234", "808", "landline"),
    ("0512-67891234#808", "051267891234", "808", "landline"),
    ("010-1234-5678", "01012345678", "", "landline"),
    ("(010)12345678", "01012345678", "", "landline"),
    ("+86 10 1234 5678", "01012345678", "", "landline"),
    ("0755-1234567", "07551234567", "", "landline"),
    ("400-820-8820", "4008208820", "", "service"),
    ("67891234", "67891234", "", "local"),
])
def test_examples(raw: str, number: str, ext: str, kind: str) -> None:
    p = parse_phone(raw)
    assert p is not None, raw
    assert (p.number, p.extension, p.kind) == (number, ext, kind)


@pytest.mark.parametrize("raw", ["", "abc", "12345", "0512", "138001380001234567", "tel:", None, 3.5, True,
                                 "1" * 100, "021-1234567"])
def test_not_phones(raw: object) -> None:
    assert parse_phone(raw) is None


def test_default_area_code() -> None:
    assert parse_phone("6789 1234", default_area_code="0512").number == "051267891234"
    assert parse_phone("6789 1234", default_area_code="512").number == "051267891234"


def test_keys_are_distinct_and_ordered() -> None:
    assert phone_keys(["0512-67891234-1", "(0512)67891234", "13800138000", "bad"]) == ["051267891234",
                                                                                         "13800138000"]


mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
area3 = st.sampled_from(["010", "020", "021", "022", "023", "024", "025", "027", "028", "029"])
# no area code is 0400 or 0800: written after +86 without its 0, such a number would read as a
# 400/800 service number (``+86 400 2000 0000``), which is what the parser takes it for
area4 = st.from_regex(r"0[3-9][0-9]{2}", fullmatch=True).filter(lambda a: a not in ("0400", "0800"))
sub8 = st.from_regex(r"[2-8][0-9]{7}", fullmatch=True)
ext = st.from_regex(r"[0-9]{1,5}", fullmatch=True)
seps = st.sampled_from(["", " ", "-", "  ", " - ", "."])


def _split(digits: str, cuts: list[int], sep: str) -> str:
    out, last = [], 0
    for c in sorted(set(x % len(digits) for x in cuts if x % len(digits) > 0)):
        out.append(digits[last:c])
        last = c
    out.append(digits[last:])
    return sep.join(out)


@given(mobiles, st.sampled_from(["", "+86", "+86 ", "0086", "0086-", "86"]), seps,
       st.lists(st.integers(1, 10), max_size=3))
def test_mobile_formats_normalise_to_the_same_key(m: str, prefix: str, sep: str, cuts: list[int]) -> None:
    raw = prefix + _split(m, cuts, sep)
    p = parse_phone(raw)
    assert p is not None and p.number == m and p.kind == "mobile", raw


@given(st.one_of(area3, area4), sub8, st.booleans(), st.sampled_from(["", "+86 ", "0086 "]), seps,
       st.one_of(st.none(), ext), st.sampled_from(["转", " ext ", "-", "#", " x"]))
def test_landline_formats_normalise_to_the_same_key(area: str, sub: str, brackets: bool, country: str, sep: str,
                                                    extension: str | None, ext_sep: str) -> None:
    a = area if not country else area[1:] if not brackets else area
    shown_area = f"({a})" if brackets else a
    raw = f"{country}{shown_area}{sep}{sub[:4]}{sep}{sub[4:]}"
    if extension:
        raw += f"{ext_sep}{extension}"
    p = parse_phone(raw)
    assert p is not None, raw
    assert p.number == area + sub, raw
    assert p.extension == (extension or ""), raw


@given(st.text(max_size=80))
def test_never_raises_and_is_idempotent(text: str) -> None:
    p = parse_phone(text)
    if p is not None:
        again = parse_phone(p.number)
        assert again is not None and again.number == p.number
        assert p.number.lstrip("+").isdigit()

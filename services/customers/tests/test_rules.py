"""Pure rules: required fields, input validation, visibility, tags, custom fields, export cells."""
from __future__ import annotations

import math

import pytest

from crmkit.docstore import page_args
from crmkit.errors import InvalidInput
from customers.rules import (
    can_edit,
    can_see,
    check_exclusive_tags,
    neutralise_cell,
    validate_custom_values,
    validate_customer,
    validate_field_definition,
    visibility_filters,
)

OK = {"name": "苏州日东精密电子有限公司", "address": "苏州市星湖街 1 号", "landlines": ["0512-67891234"]}


def errors(data: dict, **kw) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as ei:
        validate_customer(data, **kw)
    return [(e["field"], e["code"]) for e in ei.value.details["errors"]]


def test_valid_customer_is_cleaned() -> None:
    c = validate_customer({**OK, "mobiles": ["+86 138 0013 8000"], "location": {"lat": 31.3, "lng": 120.6}})
    assert c["landlines"] == ["051267891234"]
    assert c["mobiles"] == ["13800138000"]
    assert c["location"] == {"lat": 31.3, "lng": 120.6}


@pytest.mark.parametrize("missing,field", [("name", "name"), ("address", "address"), ("landlines", "phones")])
def test_required_fields(missing: str, field: str) -> None:
    data = {k: v for k, v in OK.items() if k != missing}
    assert (field, "required") in errors(data)


def test_any_one_phone_is_enough() -> None:
    for f in ("landlines", "faxes", "mobiles"):
        validate_customer({"name": "张三", "address": "x", "customer_type": "person", f: ["13800138000"]})


def test_hundred_thousand_character_name_is_refused() -> None:
    assert ("name", "too_long") in errors({**OK, "name": "日" * 100_000})


@pytest.mark.parametrize("loc", [{"lat": 91, "lng": 0}, {"lat": 0, "lng": 181}, {"lat": math.nan, "lng": 0},
                                 {"lat": "31", "lng": 120}, {"lat": True, "lng": 1}, {"lat": 1}, [1, 2]])
def test_invalid_coordinates(loc: object) -> None:
    errs = errors({**OK, "location": loc})
    assert any(f.startswith("location") for f, _ in errs)


def test_illegal_characters_and_unknown_fields() -> None:
    errs = errors({**OK, "address": "a\x00b", "colour": "red"})
    assert ("address", "illegal_characters") in errs
    assert ("colour", "unknown_field") in errs


def test_bad_phone_named_by_index() -> None:
    assert ("landlines[1]", "invalid_phone") in errors({**OK, "landlines": ["0512-67891234", "abc"]})


def test_partial_validation_only_checks_given_fields() -> None:
    assert validate_customer({"grade": "A"}, partial=True) == {"grade": "A"}


def test_visibility() -> None:
    c = {"owner_id": "a", "shared_with": ["s"], "dept_ids": ["d1"]}
    mine = {"all": False, "user_ids": ["a"]}
    other = {"all": False, "user_ids": ["b"]}
    assert can_see(c, "a", mine)
    assert not can_see(c, "b", other)
    assert can_see(c, "s", {"all": False, "user_ids": ["s"]})
    assert can_see(c, "boss", {"all": False, "user_ids": ["boss", "a"]})
    assert can_see(c, "x", {"all": False, "user_ids": ["x"]}, ("d1",))
    assert can_see(c, "admin", {"all": True, "user_ids": []})
    pool = {"owner_id": None, "shared_with": []}
    assert not can_see(pool, "a", mine)
    assert can_see(pool, "admin", {"all": True})


def test_visibility_filters_are_equalities() -> None:
    assert visibility_filters("a", {"all": True}) == []
    f = visibility_filters("a", {"all": False, "user_ids": ["a", "b"]}, ("d",))
    assert {"owner_id": "a"} in f and {"owner_id": "b"} in f and {"shared_with": "a"} in f and {"dept_ids": "d"} in f


def test_edit_rights() -> None:
    c = {"owner_id": "a"}
    assert can_edit(c, "a", ("employee",), None)
    assert can_edit(c, "boss", ("employee",), "boss")
    assert can_edit(c, "x", ("tenant_admin",), None)
    assert not can_edit(c, "x", ("employee",), "boss")
    assert not can_edit({"owner_id": None}, "x", ("dept_admin",), None)


def test_tags_exclusive_inside_a_group() -> None:
    group_of = {"t1": "g1", "t2": "g1", "t3": "g2"}
    check_exclusive_tags(["t1", "t3"], group_of)
    with pytest.raises(InvalidInput) as ei:
        check_exclusive_tags(["t1", "t2"], group_of)
    assert ei.value.code == "tags.exclusive"
    with pytest.raises(InvalidInput):
        check_exclusive_tags(["nope"], group_of)


def test_custom_values_by_type() -> None:
    fields = [{"key": "size", "type": "number"}, {"key": "since", "type": "date"},
              {"key": "level", "type": "select", "options": ["x", "y"]}, {"key": "vip", "type": "bool"},
              {"key": "note", "type": "text"}, {"key": "multi", "type": "multiselect", "options": ["a", "b"]}]
    ok = validate_custom_values({"size": 3, "since": "2024-01-02", "level": "x", "vip": True, "note": "hi",
                                 "multi": ["a"]}, fields)
    assert ok["size"] == 3
    for bad in ({"size": "3"}, {"since": "yesterday"}, {"level": "z"}, {"vip": "yes"}, {"multi": ["c"]},
                {"unknown": 1}, {"note": "\x07"}):
        with pytest.raises(InvalidInput):
            validate_custom_values(bad, fields)


def test_field_definitions() -> None:
    d = validate_field_definition({"entity": "customer", "key": "vip_level", "label": "VIP", "type": "select",
                                   "options": ["a"]})
    assert d["options"] == ["a"]
    with pytest.raises(InvalidInput):
        validate_field_definition({"entity": "customer", "key": "name", "label": "x", "type": "text"})
    with pytest.raises(InvalidInput):
        validate_field_definition({"entity": "customer", "key": "x", "label": "x", "type": "select"})


@pytest.mark.parametrize("value,out", [("=1+1", "'=1+1"), ("+86", "'+86"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
                                       ("\tx", "'\tx"), ("＝1", "'＝1"), ("ok", "ok"), (5, 5), (None, None)])
def test_formula_injection_neutralised(value: object, out: object) -> None:
    assert neutralise_cell(value) == out


def test_pagination() -> None:
    assert page_args(None, None) == (1, 50)
    for bad in ((0, 10), (1, 0), (1, 201), ("x", 1)):
        with pytest.raises(InvalidInput):
            page_args(*bad)


@pytest.mark.parametrize("value", ["0202-01-01", "9999-12-31", "1899-12-31", "2024-13-01", "2024-01-01garbage",
                                   "2024-02-30", {}])
def test_contract_dates_outside_the_years_or_malformed_are_refused(value: object) -> None:
    assert errors({**OK, "contract_start": value}) == [("contract_start", "invalid_date")]


@pytest.mark.parametrize("value, out", [("2024-03-05", "2024-03-05"), ("2024-03-05T10:00:00+08:00", "2024-03-05"),
                                        ("1900-01-01", "1900-01-01"), ("2099-12-31", "2099-12-31")])
def test_contract_dates_are_cleaned(value: str, out: str) -> None:
    assert validate_customer({**OK, "contract_end": value})["contract_end"] == out

"""Each declared event: a real sample from its producer is accepted; a broken one is refused
with the field named; the delivery side is lenient where it should be and only there."""
from __future__ import annotations

import pytest

import contracts
from contracts import EVENTS, Refused
from contracts._registry import REGISTRY
from contracts.base import check_delivery, check_emit
from tests.contracts.samples import IMPORTED_CUSTOMER, SAMPLES


def envelope(name: str, data: object, version: int | None = None) -> dict:
    return {"event_id": "x", "type": name, "version": EVENTS[name].version if version is None else version,
            "data": data}


def emit(name: str, data: object, producer: str | None = None, version: int | None = None) -> None:
    check_emit(REGISTRY, producer or EVENTS[name].producer, envelope(name, data, version))


def refusal(fn, *args, **kw) -> Refused:
    with pytest.raises(Refused) as exc:
        fn(*args, **kw)
    return exc.value


def test_every_declared_event_has_a_sample_and_every_sample_is_declared() -> None:
    assert set(SAMPLES) == set(EVENTS)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_producers_payload_is_accepted_at_emit_and_at_delivery(name: str) -> None:
    emit(name, SAMPLES[name])
    check_delivery(REGISTRY, envelope(name, SAMPLES[name]))


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_missing_required_field_is_refused_at_emit_by_name(name: str) -> None:
    model = EVENTS[name].model
    required = [f for f, info in model.model_fields.items() if info.is_required()]
    assert required, f"{name} declares no required field"
    field = required[0]
    broken = {k: v for k, v in SAMPLES[name].items() if k != field}
    r = refusal(emit, name, broken)
    assert r.code == "event.invalid" and [p["field"] for p in r.details["problems"]] == [field]
    assert field in r.message


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_wrong_type_is_refused_at_emit_and_at_delivery_by_name(name: str) -> None:
    field = next(iter(EVENTS[name].model.model_fields))
    broken = {**SAMPLES[name], field: {"not": "a scalar"}}
    r = refusal(emit, name, broken)
    assert r.code == "event.invalid" and r.details["problems"][0]["field"].split(".")[0] == field
    r = refusal(check_delivery, REGISTRY, envelope(name, broken))
    assert r.code == "event.invalid" and r.details["problems"][0]["field"].split(".")[0] == field


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_an_undeclared_field_is_refused_at_emit_but_kept_at_delivery(name: str) -> None:
    more = {**SAMPLES[name], "added_in_a_later_release": 1}
    r = refusal(emit, name, more)
    assert r.code == "event.invalid" and r.details["problems"][0]["field"] == "added_in_a_later_release"
    check_delivery(REGISTRY, envelope(name, more))


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_delivery_needs_only_what_every_consumer_reads(name: str) -> None:
    needs = EVENTS[name].model.NEEDS
    minimal = {k: SAMPLES[name][k] for k in needs}
    check_delivery(REGISTRY, envelope(name, minimal))
    for k in needs:
        r = refusal(check_delivery, REGISTRY, envelope(name, {f: v for f, v in minimal.items() if f != k}))
        assert r.details["problems"][0]["field"] == k


def test_emit_is_strict_about_types_delivery_coerces_losslessly() -> None:
    data = {**SAMPLES["customer.deleted"], "seq": "2"}
    assert refusal(emit, "customer.deleted", data).details["problems"][0]["field"] == "seq"
    check_delivery(REGISTRY, envelope("customer.deleted", data))
    assert refusal(emit, "pool.reclaim_warning", {**SAMPLES["pool.reclaim_warning"], "lead_days": True}).code \
        == "event.invalid"


def test_iso_strings_are_checked() -> None:
    r = refusal(emit, "customer.contact_noted", {**SAMPLES["customer.contact_noted"], "at": "yesterday"})
    assert r.details["problems"][0]["field"] == "at"
    r = refusal(emit, "pool.reclaim_warning", {**SAMPLES["pool.reclaim_warning"], "reclaim_on": "2025-13-01"})
    assert r.details["problems"][0]["field"] == "reclaim_on"


def test_both_producers_of_customer_created_are_accepted() -> None:
    """registry.created_facts sends cbm_id and no import_id; imports.py the other way round."""
    emit("customer.created", SAMPLES["customer.created"])
    emit("customer.created", IMPORTED_CUSTOMER)
    assert "import_id" not in SAMPLES["customer.created"] and "cbm_id" not in IMPORTED_CUSTOMER


def test_undeclared_type_wrong_producer_and_wrong_version_are_refused() -> None:
    r = refusal(check_emit, REGISTRY, "customers", {"type": "customer.vanished", "version": 1, "data": {}})
    assert r.code == "event.undeclared"
    r = refusal(emit, "customer.created", SAMPLES["customer.created"], producer="pool")
    assert r.code == "event.wrong_producer" and r.details["declared_producer"] == "customers"
    r = refusal(emit, "customer.created", SAMPLES["customer.created"], version=2)
    assert r.code == "event.wrong_version"
    r = refusal(check_delivery, REGISTRY, envelope("customer.created", SAMPLES["customer.created"], version=2))
    assert r.code == "event.unknown_version" and r.details["known_version"] == 1
    r = refusal(check_delivery, REGISTRY, envelope("customer.created", ["not", "an", "object"]))
    assert r.code == "event.invalid"


def test_the_registry_names_model_version_and_producer() -> None:
    spec = contracts.EVENTS["customer.owner_changed"]
    assert (spec.producer, spec.version, spec.model.__name__) == ("pool", 1, "CustomerOwnerChanged")
    assert {s.producer for s in EVENTS.values()} == {"identity", "customers", "pool", "visits"}
    for name, s in EVENTS.items():
        assert name == s.model.NAME and s.name == name
        assert name.split(".")[0] in {"employee", "department", "tenant", "customer", "pool", "visit", "report"}

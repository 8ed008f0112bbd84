from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from crmkit.context import DEFAULT_TTL_SECONDS, CallContext, ContextSigner, binding_for, call_body, sign, verify
from crmkit.envelope import make_event, sign_event, verify_event
from crmkit.errors import (
    ERROR_TYPES,
    STATUS_BY_TYPE,
    Conflict,
    CrmError,
    InvalidInput,
    Unauthenticated,
    from_remote,
)

KEY = "k" * 32


def test_context_round_trip():
    ctx = CallContext("t1", "u1", ("employee", "support"), "req-1", "idem-1", ("d1",), "张三")
    got = verify(sign(ctx, KEY), KEY)
    assert got == ctx
    assert got.has_role("support") and not got.has_role("tenant_admin")


@pytest.mark.parametrize("mutate", [
    lambda s: s[:-2] + ("AA" if not s.endswith("AA") else "BB"),   # signature changed
    lambda s: "eyJ0ZW5hbnRfaWQiOiJldmlsIn0" + s[s.index("."):],     # body swapped
    lambda s: s.replace(".", ""),                                   # no separator
    lambda s: "",
])
def test_tampered_context_is_refused(mutate):
    token = sign(CallContext("t1", "u1"), KEY)
    with pytest.raises(Unauthenticated):
        verify(mutate(token), KEY)


def test_context_signed_with_another_key_is_refused():
    with pytest.raises(Unauthenticated) as exc:
        verify(sign(CallContext("t1", "u1"), "other"), KEY)
    assert exc.value.code == "context.bad_signature"


def test_expired_context_is_refused():
    token = sign(CallContext("t1", "u1"), KEY, ttl=10, now=time.time() - 60)
    with pytest.raises(Unauthenticated) as exc:
        verify(token, KEY)
    assert exc.value.code == "context.expired"


CALL = binding_for("customers", "get_customer", "gateway.get_customer.c1", [], {"customer_id": "x1"})


def test_a_bound_context_verifies_only_for_its_own_call():
    token = sign(CallContext("t1", "u1", ("employee",)), KEY, call=CALL)
    assert verify(token, KEY, call=CALL).user_id == "u1"
    for other in (
        binding_for("customers", "delete_customer", "gateway.get_customer.c1", [], {"customer_id": "x1"}),
        binding_for("pool", "get_customer", "gateway.get_customer.c1", [], {"customer_id": "x1"}),
        binding_for("customers", "get_customer", "gateway.get_customer.c2", [], {"customer_id": "x1"}),
        binding_for("customers", "get_customer", "gateway.get_customer.c1", [], {"customer_id": "x2"}),
    ):
        with pytest.raises(Unauthenticated) as exc:
            verify(token, KEY, call=other)
        assert exc.value.code == "context.wrong_call"


def test_an_unbound_context_is_refused_where_a_call_is_served():
    with pytest.raises(Unauthenticated) as exc:
        verify(sign(CallContext("t1", "u1"), KEY), KEY, call=CALL)
    assert exc.value.code == "context.unbound"


def test_contexts_are_short_lived_unless_the_call_waits_longer():
    assert DEFAULT_TTL_SECONDS == 30
    now = time.time()
    token = sign(CallContext("t1", "u1"), KEY, call=CALL, now=now)
    assert verify(token, KEY, call=CALL, now=now + 29).user_id == "u1"
    with pytest.raises(Unauthenticated) as exc:
        verify(token, KEY, call=CALL, now=now + 31)
    assert exc.value.code == "context.expired"
    long_call = ContextSigner(CallContext("t1", "u1"), KEY).for_call(CALL, timeout=120)
    assert verify(long_call, KEY, call=CALL, now=time.time() + 100).user_id == "u1"


def test_call_body_is_the_canonical_wire_form():
    assert call_body((), {"b": 1, "a": "中"}) == '{"args":[],"kwargs":{"b":1,"a":"中"}}'.encode()
    assert binding_for("s", "m", "c", [], {"x": 1.5}) == binding_for("s", "m", "c", (), {"x": 1.5})


def test_event_envelope_shape_and_signature():
    env = make_event("customer.created", "t1", "u1", {"customer_id": "c1"},
                     occurred_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert set(env) >= {"event_id", "type", "version", "occurred_at", "tenant_id", "actor_id", "data"}
    assert env["occurred_at"] == "2026-01-02T03:04:05Z"
    signed = sign_event(env, KEY)
    assert verify_event(signed, KEY) == signed
    forged = dict(signed, tenant_id="t2")
    with pytest.raises(Unauthenticated):
        verify_event(forged, KEY)
    with pytest.raises(InvalidInput):
        verify_event({"type": "x"}, KEY)


def test_every_error_type_has_a_status_and_crosses_rpc_as_itself():
    expected = {"CrmError": 500, "InvalidInput": 400, "Unauthenticated": 401, "Forbidden": 403, "NotFound": 404,
                "Conflict": 409, "TooLarge": 413, "UnsupportedMedia": 415, "BusinessRule": 422,
                "RateLimited": 429, "Unavailable": 503, "UpstreamTimeout": 504}
    assert expected == STATUS_BY_TYPE
    for name, cls in ERROR_TYPES.items():
        err = cls("some.code", "message", {"a": 1})
        back = from_remote(name, f"crmkit.errors.{name}", list(err.args), str(err))
        assert type(back) is cls and back.code == "some.code" and back.details == {"a": 1}


def test_unknown_remote_error_is_internal_without_its_text():
    err = from_remote("KeyError", "builtins.KeyError", ["secret"], "KeyError('secret')")
    assert type(err) is CrmError and err.code == "internal" and "secret" not in err.message


def test_error_body():
    assert Conflict("customer.duplicate", "dup", {"id": "c1"}).to_body() == {
        "error": {"code": "customer.duplicate", "message": "dup", "details": {"id": "c1"}}}


def test_a_database_that_is_slow_or_away_is_503_not_internal():
    from nameko.exceptions import serialize
    from pymongo.errors import NetworkTimeout, ServerSelectionTimeoutError

    from crmkit.errors import Unavailable

    for exc, code in ((NetworkTimeout("timed out"), "database.timeout"),
                      (ServerSelectionTimeoutError("no server"), "database.unavailable")):
        s = serialize(exc)  # what nameko sends the caller
        err = from_remote(s["exc_type"], s["exc_path"], s["exc_args"], s["value"])
        assert type(err) is Unavailable and err.status == 503 and err.code == code

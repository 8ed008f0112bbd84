"""A context lifted from the bus is worthless on any other call (issue 12 §5, decision 0004).

The test listens on the RPC exchange like any other AMQP client could, takes the signed
context the gateway put on a real call to ``identity.get_employee`` and replays it."""
from __future__ import annotations

import json

import pika
import pytest

from crmkit.errors import Unauthenticated
from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import make_tenant
from tests.support.waiting import wait_for

API = "/api/v1"


@pytest.fixture(scope="module")
def tenant(http):
    return make_tenant(http, TEST_OPERATOR_SECRET)


@pytest.fixture
def tap(infra):
    """A queue bound to the RPC exchange that copies every identity.get_employee request."""
    conn = pika.BlockingConnection(pika.URLParameters(infra.amqp_uri))
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, "nameko-rpc", routing_key="identity.get_employee")
    yield ch, q
    conn.close()


def _lift(tap) -> tuple[str, str, dict]:
    ch, q = tap

    def one():
        method, props, body = ch.basic_get(q, auto_ack=True)
        return (props, body) if method else None

    props, body = wait_for(one, timeout=10, what="the copied request")
    return props.headers["nameko.crm_context"], props.headers["nameko.call_id_stack"][-1], json.loads(body)


def test_a_context_lifted_from_a_gateway_call_is_refused_elsewhere(http, rpc, tenant, tap):
    t = tenant
    r = http.get(f"{API}/employees/{t.ids['employee']}", headers=t.headers("admin"))
    assert r.status_code == 200, r.text
    token, call_id, body = _lift(tap)
    assert body["kwargs"] == {"employee_id": t.ids["employee"]}
    # the admin's context, on another method
    with pytest.raises(Unauthenticated) as exc:
        rpc.call("identity", "list_employees", raw_context=token, call_id=call_id)
    assert exc.value.code == "context.wrong_call"
    # on the same method for another employee
    with pytest.raises(Unauthenticated) as exc:
        rpc.call("identity", "get_employee", raw_context=token, call_id=call_id, employee_id=t.ids["employee2"])
    assert exc.value.code == "context.wrong_call"
    # on the same method and arguments under a call id of the attacker's choosing
    with pytest.raises(Unauthenticated) as exc:
        rpc.call("identity", "get_employee", raw_context=token, call_id="evil.get_employee.1",
                 employee_id=t.ids["employee"])
    assert exc.value.code == "context.wrong_call"


def test_calls_that_nest_through_services_still_work(http, tenant):
    """customers asks identity (visible owners) and pool on the caller's behalf: each nested
    call is signed for its own target."""
    t = tenant
    r = http.get(f"{API}/customers", headers=t.headers("employee"))
    assert r.status_code == 200, r.text
    r = http.get(f"{API}/pool/customers", headers=t.headers("employee"))
    assert r.status_code == 200, r.text

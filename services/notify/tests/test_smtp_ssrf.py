"""The SMTP relay cannot be pointed at loopback, private, link-local or metadata addresses
(issue 12 §5) unless the operator allows a private relay (ALLOW_PRIVATE_SMTP=1): refused with a
clear 422 when saved, and checked again on the address actually connected to."""
from __future__ import annotations

import pymongo
import pytest

from crmkit.errors import BusinessRule
from notify import delivery, ssrf


def fixed(*addresses):
    return lambda host, port: list(addresses)


# -- the rule --------------------------------------------------------------------------------------

@pytest.mark.parametrize("addr", ["127.0.0.1", "169.254.169.254", "10.0.0.8", "172.16.3.4", "192.168.0.2",
                                  "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "::ffff:10.0.0.1"])
def test_private_relays_are_refused(addr):
    with pytest.raises(BusinessRule) as e:
        ssrf.vetted_address("mail.example.com", 587, allow_private=False, resolver=fixed(addr))
    assert (e.value.code, e.value.status, e.value.details["field"]) == ("smtp.host_not_allowed", 422, "smtp.host")


def test_a_name_with_any_private_answer_is_refused_and_a_public_one_is_used():
    with pytest.raises(BusinessRule):
        ssrf.vetted_address("mail.example.com", 25, allow_private=False, resolver=fixed("93.184.216.34", "10.0.0.1"))
    assert ssrf.vetted_address("mail.example.com", 25, allow_private=False,
                               resolver=fixed("93.184.216.34")) == "93.184.216.34"


def test_real_resolution_of_loopback_names_and_literals():
    for host in ("localhost", "127.0.0.1", "::1", "[::1]"):
        with pytest.raises(BusinessRule) as e:
            ssrf.vetted_address(host, 25, allow_private=False)
        assert e.value.code == "smtp.host_not_allowed"


def test_unresolvable_relays_are_refused():
    def nx(host, port):
        raise OSError("nxdomain")
    with pytest.raises(BusinessRule) as e:
        ssrf.vetted_address("nowhere.invalid", 25, allow_private=False, resolver=nx)
    assert e.value.code == "smtp.host_unresolvable"


# -- connect time: the address that was checked is the one connected to -----------------------------

def _mail(smtp_server, host="relay.invalid"):
    return {**smtp_server.settings(), "host": host}


def test_notify_connects_to_the_vetted_address_not_to_the_name_again(smtp):
    # "relay.invalid" resolves nowhere by itself: the mail arrives only because the client
    # connected to the address the guard resolved and checked
    delivery.send_email(_mail(smtp), "vetted@example.com", "s", "b", allow_private=True, resolver=fixed("127.0.0.1"))
    assert smtp.to("vetted@example.com")


def test_dns_rebinding_between_save_and_send_does_not_pass(smtp):
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])  # public when saved, loopback when sent

    def rebinding(host, port):
        return next(answers)

    assert ssrf.vetted_address("relay.example.com", smtp.port, allow_private=False, resolver=rebinding)
    with pytest.raises(delivery.DeliveryFailed) as e:
        delivery.send_email(_mail(smtp, "relay.example.com"), "rebound@example.com", "s", "b", allow_private=False,
                            resolver=rebinding)
    assert e.value.permanent and e.value.reason.startswith("smtp.host_not_allowed")
    assert smtp.to("rebound@example.com") == []


# -- the real notify process with the guard on (the production default) ------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "169.254.169.254", "10.1.2.3", "192.168.10.1"])
def test_saving_a_private_relay_is_a_clear_422(guarded_notify_env, smtp, tenant, host):
    n = guarded_notify_env
    with pytest.raises(BusinessRule) as e:
        n.admin("update_settings", tenant, data={"smtp": {**smtp.settings(), "host": host}})
    assert e.value.code == "smtp.host_not_allowed" and e.value.details["field"] == "smtp.host"
    assert n.admin("get_settings", tenant)["smtp"] is None  # nothing saved


def test_a_private_relay_already_in_the_settings_is_never_connected_to(guarded_notify_env, smtp, tenant):
    """Settings written before the guard existed (or while the operator allowed it): the send
    itself refuses, the delivery is dead with the reason, and the server saw nothing."""
    n = guarded_notify_env
    db = pymongo.MongoClient(n.mongo_uri)[f"{n.prefix}notify"]
    db.settings.replace_one({"_id": tenant}, {"_id": tenant, "smtp": smtp.settings(), "retry_base_seconds": 0.2},
                            upsert=True)
    addr = f"guarded-{tenant}@example.com"
    owner = n.add_employee(tenant, email=addr)
    env = n.publish("pool", "pool.reclaimed", tenant, {"customer_id": "c1", "customer_name": "私网邮件",
                                                       "owner_id": owner, "reason": "r"})
    [d] = n.wait(lambda: [x for x in n.admin("list_deliveries", tenant, event_id=env["event_id"])
                          if x["channel"] == "email" and x["status"] == "dead"], timeout=30)
    assert "smtp.host_not_allowed" in d["last_error"] and d["attempts"] == 1
    assert smtp.to(addr) == []

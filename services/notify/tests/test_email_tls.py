"""E-mail over STARTTLS and implicit TLS, against real TLS SMTP servers (aiosmtpd with a
certificate the notify process trusts), and a plain client refused by a server that
requires STARTTLS."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def _send_reclaim(n, tenant, addr):
    owner = n.add_employee(tenant, email=addr)
    return n.publish("pool", "pool.reclaimed", tenant, {"customer_id": "c1", "customer_name": "加密邮件科技",
                                                        "owner_id": owner, "reason": "no follow-up"})


@pytest.mark.parametrize("tls_smtp", ["starttls", "ssl"], indirect=True)
def test_mail_goes_out_over_tls(notify_env, tls_smtp, tenant):
    n = notify_env
    n.admin("update_settings", tenant, data={"smtp": tls_smtp.settings(), "retry_base_seconds": 0.2})
    addr = f"tls-{tenant}@example.com"
    env = _send_reclaim(n, tenant, addr)
    [mail] = n.wait(lambda: tls_smtp.to(addr))
    assert "加密邮件科技" in tls_smtp.text(mail)
    [d] = n.wait(lambda: [x for x in n.admin("list_deliveries", tenant, event_id=env["event_id"])
                          if x["channel"] == "email" and x["status"] == "sent"])
    assert d["attempts"] == 1


@pytest.mark.parametrize("tls_smtp", ["starttls"], indirect=True)
def test_plain_mail_to_a_server_that_requires_starttls_fails_and_is_retried(notify_env, tls_smtp, tenant):
    n = notify_env
    plain = {**tls_smtp.settings(), "tls": "none"}
    n.admin("update_settings", tenant, data={"smtp": plain, "retry_base_seconds": 0.2})
    addr = f"plain-{tenant}@example.com"
    env = _send_reclaim(n, tenant, addr)
    failed = n.wait(lambda: [x for x in n.admin("list_deliveries", tenant, event_id=env["event_id"])
                             if x["channel"] == "email" and x["attempts"] >= 1 and x["status"] != "sent"])
    assert failed[0]["last_error"]
    assert tls_smtp.to(addr) == []

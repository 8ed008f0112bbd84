"""The public pool on phones: search and claim (the claimed customer joins "my customers" even
when the customers service learns of the claim late); two phones claiming one customer at once →
one wins, the other sees the conflict; a claim request whose answer lands in the inbox
changes the badge on the tab bar."""
from __future__ import annotations

import re
import time
import uuid

from playwright.sync_api import expect

from crmkit.context import CallContext
from tests.browser.flows import ADDRESS, new_customer, ok, sign_in, to_public_pool
from tests.browser.pages.customers import CustomersScreen
from tests.browser.pages.inbox import InboxScreen
from tests.browser.pages.pool import ClaimRequestScreen, PoolScreen


def in_pool(http, tenant, name: str) -> dict:
    c = new_customer(http, tenant, "all_customers", name=name)
    to_public_pool(http, tenant, c["id"], "all_customers")
    deadline = time.time() + 30
    while time.time() < deadline:  # the pool's read model follows the customers' events
        found = ok(http.get("/api/v1/pool/customers", params={"keyword": name}, headers=tenant.headers("employee")))
        if any(i["id"] == c["id"] for i in found["items"]):
            return c
        time.sleep(0.5)
    raise AssertionError(f"{name} never reached the public pool")


def test_claim_from_the_public_pool(phones, tenant, http):
    name = f"南京{uuid.uuid4().hex[:5]}科技有限公司"
    customer = in_pool(http, tenant, name)
    page = phones().new_page()
    sign_in(page, tenant)
    pool = PoolScreen(page)
    pool.go_tab("公海")
    pool.expect_shown()
    pool.search(name)
    expect(pool.claim_button(name)).to_be_visible()
    number = customer["mobiles"][0]
    expect(page.get_by_text(number)).to_have_count(0)  # masked until claimed
    expect(page.get_by_text(re.compile(rf"{number[:3]}\*+{number[-2:]}|\*{{4}}"))).to_be_visible()
    pool.shot("14-pool")
    pool.no_horizontal_scroll()
    pool.claim(name)
    pool.toast("挑入成功")
    expect(pool.claim_button(name)).to_have_count(0)
    customers = CustomersScreen(page)
    customers.go_tab("客户")
    expect(customers.customer(name)).to_be_visible()


def test_a_claimed_customer_joins_my_customers_when_the_customers_service_learns_it_late(phones, tenant, http, rpc):
    """The pool answers the claim; the customers service learns of it from an event. Here that
    event waits 6 s, so "my customers" first loads without the customer; the list asks again
    until the claim has landed, and the customer shows up without the user pulling."""
    name = f"无锡{uuid.uuid4().hex[:5]}机械有限公司"
    in_pool(http, tenant, name)
    ctx = CallContext(tenant_id=tenant.tenant_id, user_id=tenant.ids["admin"], roles=("tenant_admin",))
    rpc.call("customers", "_test_delay_handling", ctx=ctx, event_type="customer.owner_changed", seconds=6)
    try:
        page = phones().new_page()
        sign_in(page, tenant)
        pool = PoolScreen(page)
        pool.go_tab("公海")
        pool.search(name)
        pool.claim(name)
        pool.toast("挑入成功")
        customers = CustomersScreen(page)
        customers.go_tab("客户")
        expect(customers.customer(name)).to_be_visible()
    finally:
        rpc.call("customers", "_test_delay_handling", ctx=ctx, event_type="customer.owner_changed", seconds=0)


def test_two_phones_claim_one_customer_at_once_one_wins_the_other_sees_the_conflict(phones, tenant, http):
    name = f"合肥{uuid.uuid4().hex[:5]}电子有限公司"
    customer = in_pool(http, tenant, name)
    pages = []
    for role in ("employee", "dept_admin"):
        page = phones().new_page()
        sign_in(page, tenant, role)
        pool = PoolScreen(page)
        pool.go_tab("公海")
        pool.search(name)
        expect(pool.claim_button(name)).to_be_visible()
        pages.append((role, page, pool))
    for _, _, pool in pages:  # both taps leave before either answer comes back
        pool.claim_button(name).dispatch_event("click")
    winners, losers = [], []
    for role, page, pool in pages:
        refusal = page.get_by_role("dialog").filter(has_text=re.compile("手慢了|已被他人挑入"))
        success = page.get_by_text("挑入成功")
        expect(refusal.or_(success).first).to_be_visible()
        if refusal.is_visible():
            losers.append((role, pool.expect_refusal("手慢了", "已被他人挑入")))
            pool.shot("15-pool-claim-conflict")
        else:
            winners.append(role)
    assert len(winners) == 1 and len(losers) == 1, (winners, losers)
    owner = ok(http.get(f"/api/v1/customers/{customer['id']}", headers=tenant.headers("admin")))["owner_id"]
    assert owner == tenant.ids[winners[0]]


def test_the_inbox_badge_changes_when_a_claim_request_is_answered(phones, tenant, http):
    page = phones().new_page()
    sign_in(page, tenant)
    inbox = InboxScreen(page)
    expect(inbox.tab_item()).to_be_visible()
    page.wait_for_load_state("networkidle")
    before = inbox.badge()

    name = f"苏州{uuid.uuid4().hex[:5]}机械有限公司"
    PoolScreen(page).go_tab("公海")
    page.get_by_role("button", name="申请挑入").or_(page.get_by_role("link", name="申请挑入")).first.click()
    request = ClaimRequestScreen(page)
    request.fill(name, f"0512-{str(uuid.uuid4().int)[:8]}", f"0512-{str(uuid.uuid4().int)[:8]}", ADDRESS,
                 "老客户转介绍")
    request.check()
    expect(page.get_by_text("查重通过")).to_be_visible()
    request.submit()
    request.toast("申请已提交")
    expect(page.get_by_text(name)).to_be_visible()
    expect(page.get_by_text("待审核")).to_be_visible()
    request.shot("16-claim-request")

    queue = ok(http.get("/api/v1/pool/claim-requests", params={"status": "pending"}, headers=tenant.headers("support")))
    mine = next(r for r in queue["items"] if r["elements"]["name"] == name)
    ok(http.post(f"/api/v1/pool/claim-requests/{mine['id']}/approve", json={"reason": "同意，请尽快录入"},
                 headers=tenant.headers("support")))

    deadline = time.time() + 60
    while inbox.badge() == before and time.time() < deadline:  # in-app moves ask for the count again
        PoolScreen(page).go_tab("公海")
        PoolScreen(page).go_tab("联系人")
        time.sleep(1)
    assert inbox.badge() != before, f"the badge stayed at {before!r}"
    assert int(inbox.badge() or 0) == int(before or 0) + 1
    inbox.open()
    expect(inbox.message(name).or_(page.get_by_text("已通过").first).first).to_be_visible()
    inbox.shot("17-inbox")
    inbox.no_horizontal_scroll()
    inbox.read_all()
    expect(inbox.tab_item()).not_to_contain_text(re.compile(r"\d"))

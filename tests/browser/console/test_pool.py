"""Pools in the console at 1440×900: a rules change is saved only through its preview ("this
change would reclaim N customers", by date and rule); a claim request submitted on a phone is
approved in the support queue (four elements, the live duplicate check, the working-day
deadline as a date) and the requester's inbox shows the answer; direct assignment from the
public pool; upcoming reclaims and targets vs actual."""
from __future__ import annotations

import re
import time
import uuid

from playwright.sync_api import expect

from tests.browser.console.flows import console_sign_in
from tests.browser.console.pages.pool import (
    ClaimRequestsScreen,
    PoolCustomersScreen,
    PoolRulesScreen,
    ReclaimsScreen,
    TargetsScreen,
)
from tests.browser.flows import ADDRESS, new_customer, sign_in, to_public_pool
from tests.browser.pages.inbox import InboxScreen
from tests.browser.pages.pool import ClaimRequestScreen, PoolScreen
from tests.support.waiting import wait_for


def test_a_rules_change_is_saved_through_its_preview(desks, tenant, http):
    held = [new_customer(http, tenant, "employee") for _ in range(2)]
    wait_for(lambda: all(http.get(f"/api/v1/pool/customers/{c['id']}", headers=tenant.headers()).json()
                         .get("reclaim_on") for c in held), what="the pool knows the new customers")
    page = desks().new_page()
    home = console_sign_in(page, tenant, "admin")
    home.go("公海管理", "公海规则")
    rules = PoolRulesScreen(page).expect_shown()
    rules.shot("40-pool-rules")
    rules.set_days("进入私海后无联系小计", 1)
    dialog = rules.preview()
    expect(dialog.get_by_role("status")).to_contain_text(re.compile(r"此次修改将在未来 60 天内回收 \d+ 个客户"))
    text = dialog.get_by_role("status").inner_text()
    assert int(re.search(r"回收 (\d+) 个", text).group(1)) >= 2
    expect(dialog.locator('.el-table[aria-label="按规则"]')).to_contain_text("无联系")
    expect(dialog.locator('.el-table[aria-label="按日期"]')).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2}"))
    rules.shot("41-pool-rules-preview")
    rules.save(dialog)
    saved = http.get("/api/v1/pool/rules", headers=tenant.headers()).json()
    assert saved["reclaim"]["no_contact"]["days"] == 1

    page.goto("/console/pool/reclaims")
    reclaims = ReclaimsScreen(page).expect_shown()
    expect(page.locator('.el-table[aria-label="即将回收"]')).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2}"))
    reclaims.shot("42-reclaims")


def test_a_claim_request_from_a_phone_is_approved_in_the_console_and_reaches_the_inbox(phones, desks, tenant, http):
    phone = phones().new_page()
    sign_in(phone, tenant, "employee")
    inbox = InboxScreen(phone)
    expect(inbox.tab_item()).to_be_visible()
    phone.wait_for_load_state("networkidle")
    before = inbox.badge()
    name = f"苏州{uuid.uuid4().hex[:5]}机械有限公司"
    landline = f"0512-{str(uuid.uuid4().int)[:8]}"
    PoolScreen(phone).go_tab("公海")
    phone.get_by_role("button", name="申请挑入").or_(phone.get_by_role("link", name="申请挑入")).first.click()
    request = ClaimRequestScreen(phone)
    request.fill(name, landline, f"0512-{str(uuid.uuid4().int)[:8]}", ADDRESS, "老客户转介绍")
    request.check()
    expect(phone.get_by_text("查重通过")).to_be_visible()
    request.submit()
    request.toast("申请已提交")

    desk = desks().new_page()
    home = console_sign_in(desk, tenant, "support")
    home.go("公海管理", "挑入申请")
    queue = ClaimRequestsScreen(desk).expect_shown()
    expect(queue.request(name)).to_contain_text(landline)
    expect(queue.request(name)).to_contain_text("老客户转介绍")
    queue.shot("43-claim-queue")
    drawer = queue.open(name)
    expect(drawer.get_by_role("region", name="查重结果")).to_contain_text("查重通过")
    expect(drawer).to_contain_text("员工 A")
    queue.shot("44-claim-review")
    queue.approve(drawer)
    queue.pick("状态", "已通过")
    expect(queue.request(name)).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"))  # enter by, a date

    deadline = time.time() + 60
    while inbox.badge() == before and time.time() < deadline:  # in-app moves ask for the count again
        PoolScreen(phone).go_tab("公海")
        PoolScreen(phone).go_tab("联系人")
        time.sleep(1)
    assert inbox.badge() != before, f"the badge stayed at {before!r}"
    inbox.open()
    expect(inbox.message(name).or_(phone.get_by_text("已通过").first).first).to_be_visible()


def test_support_assigns_a_public_pool_customer_directly_and_targets_show_per_person(desks, tenant, http):
    c = new_customer(http, tenant, "employee")
    to_public_pool(http, tenant, c["id"])
    page = desks().new_page()
    console_sign_in(page, tenant, "support")
    page.goto("/console/pool/customers")
    screen = PoolCustomersScreen(page).expect_shown()
    screen.shot("45-pool-customers")
    screen.assign(c["name"], "员工 B")
    wait_for(lambda: http.get(f"/api/v1/customers/{c['id']}", headers=tenant.headers("employee2")).status_code == 200,
             what="the customer reaches 员工 B")

    page.goto(f"/console/pool/targets?dept={tenant.depts['dept_a']}")
    targets = TargetsScreen(page).expect_shown()
    table = page.locator('.el-table[aria-label="目标与实际"]')
    expect(table).to_contain_text("员工 A")
    expect(table).to_contain_text("部门合计")
    targets.shot("46-targets")

"""The seed's whole field flow on a phone: plan → photo check-in with the position → check-out
→ notes → the calendar shows it completed; and a check-in whose connection is cut, retried
with its Idempotency-Key, makes one check-in (kept on the phone, photo included, when every
try fails)."""
from __future__ import annotations

import re

from playwright.sync_api import Route, expect

from tests.browser.conftest import jpeg_photo
from tests.browser.flows import new_customer, ok, plan_visit, sign_in
from tests.browser.pages.visits import PlanScreen, VisitScreen


def test_plan_check_in_check_out_notes_and_the_calendar_shows_it_completed(phones, tenant, http):
    customer = new_customer(http, tenant)
    page = phones().new_page()
    calendar = sign_in(page, tenant)
    calendar.shot("02-calendar-empty")
    calendar.no_horizontal_scroll()
    calendar.new_plan()
    plan = PlanScreen(page).expect_shown()
    plan.choose_customer(customer["name"])
    plan.fill("季度回访：新品介绍")
    plan.use_my_position()
    plan.read_and_accept_policy()
    plan.shot("03-plan")
    plan.no_horizontal_scroll()
    plan.submit()

    visit = VisitScreen(page)
    visit.expect_status("待签到")
    visit_id = page.url.rsplit("/", 1)[-1]
    visit.shot("04-visit-pending-check-in")
    visit.take_photo(jpeg_photo(exif_time="2026:03:02 10:00:00"))
    visit.shot("05-visit-photo-preview")
    visit.check_in()
    visit.expect_status("待签退")
    expect(page.get_by_role("img", name="签到照片")).to_be_visible()  # the thumbnail from the server
    visit.check_out()
    visit.expect_status("待记录")
    expect(page.get_by_text("停留时长")).to_be_visible()
    expect(page.get_by_text("计划→签退距离")).to_be_visible()
    visit.write_notes("客户对新品感兴趣，下周报价。")
    visit.expect_status("已完成")
    expect(page.get_by_text("客户对新品感兴趣，下周报价。")).to_be_visible()
    expect(page.get_by_text("停留时长").last).to_be_visible()
    expect(page.get_by_text("小记已提交")).to_be_hidden()
    visit.shot("06-visit-completed")
    visit.no_horizontal_scroll()

    v = ok(http.get(f"/api/v1/visits/{visit_id}", headers=tenant.headers("employee")))
    assert v["status"] == "completed" and v["customer_id"] == customer["id"]
    point = v["check_in"]["point"]
    assert point["source"] == "gps" and point["accuracy"] == 12 and point["fix_age_s"] is not None
    assert v["check_in"]["photo"]["sha256"]

    page.get_by_role("tab", name="拜访").click()  # in the app: a plain login lives in this page only
    calendar.expect_shown()
    calendar.choose_day(v["day"])
    calendar.expect_visit_status(customer["name"], "已完成")
    expect(calendar.day(v["day"])).to_have_accessible_name(f"{v['day']} 1 个拜访")
    calendar.shot("07-calendar-completed")

    # the months move and 返回今天 comes back to the month of today
    this_month = calendar.month()
    calendar.next_month()
    expect(page.get_by_role("heading", name=this_month)).to_be_hidden()
    calendar.previous_month()
    calendar.previous_month()
    calendar.back_to_today()
    expect(page.get_by_role("heading", name=this_month)).to_be_visible()

    # the review: waiting for it, then the reviewer's result and reason on the visit page
    # (in-app navigation: a plain login lives in this page only)
    calendar.choose_day(v["day"])
    calendar.visit(customer["name"]).click()
    expect(page).to_have_url(re.compile(rf"/m/visits/{visit_id}$"))
    visit.expect_status("已完成")
    expect(page.get_by_text("等待审核")).to_be_visible()
    ok(http.post(f"/api/v1/visits/{visit_id}/review", json={"decision": "reject", "reason": "照片与客户地址不符"},
                 headers=tenant.headers("admin")))
    page.get_by_role("tab", name="拜访").click()
    calendar.expect_shown()
    calendar.choose_day(v["day"])
    calendar.visit(customer["name"]).click()
    expect(page).to_have_url(re.compile(rf"/m/visits/{visit_id}$"))
    visit.expect_status("无效")
    expect(page.get_by_text("照片与客户地址不符")).to_be_visible()
    visit.shot("06b-visit-reviewed")


def test_a_check_in_whose_answer_was_lost_is_retried_with_its_key_and_makes_one_check_in(phones, tenant, http):
    visit_id = plan_visit(http, tenant, new_customer(http, tenant)["id"])["id"]
    page = phones().new_page()
    sign_in(page, tenant, bind=True)  # a bound phone: opening the visit's address needs no password
    sent: list[str] = []

    def cut_once(route: Route) -> None:
        sent.append(route.request.headers.get("idempotency-key", ""))
        if len(sent) == 1:
            route.fetch()  # the server does the check-in …
            route.abort("connectionreset")  # … and the phone never hears back
        else:
            route.continue_()

    page.route("**/api/v1/visits/*/check-in", cut_once)
    page.goto(f"/m/visits/{visit_id}")
    visit = VisitScreen(page)
    visit.expect_status("待签到")
    visit.take_photo(jpeg_photo())
    visit.check_in()
    visit.expect_status("待签退")
    expect(visit.alert()).to_have_count(0)
    assert len(sent) == 2 and sent[0] and sent[0] == sent[1]  # the retry carried the same key
    v = ok(http.get(f"/api/v1/visits/{visit_id}", headers=tenant.headers("employee")))
    assert v["status"] == "pending_check_out" and v["check_in"]["photo"]["sha256"]


def test_a_check_in_that_cannot_be_sent_is_kept_with_its_photo_and_sent_later(phones, tenant, http):
    visit_id = plan_visit(http, tenant, new_customer(http, tenant)["id"])["id"]
    page = phones().new_page()
    sign_in(page, tenant, bind=True)
    page.route("**/api/v1/visits/*/check-in", lambda route: route.abort("internetdisconnected"))
    page.goto(f"/m/visits/{visit_id}")
    visit = VisitScreen(page)
    visit.take_photo(jpeg_photo())
    visit.check_in()
    expect(page.get_by_text("签到未上传成功")).to_be_visible(timeout=30_000)
    expect(visit.alert().filter(has_text="网络连接失败")).to_be_visible()
    visit.shot("08-visit-check-in-kept")

    page.reload()  # the phone still has it, photo included
    expect(page.get_by_text("签到未上传成功")).to_be_visible()
    expect(page.get_by_role("img", name="签到照片")).to_be_visible()
    assert status_of(http, tenant, visit_id) == "pending_check_in"
    page.unroute("**/api/v1/visits/*/check-in")
    page.get_by_role("button", name="重新上传签到").click()
    visit.expect_status("待签退")
    expect(page.get_by_text("签到未上传成功")).to_have_count(0)
    assert status_of(http, tenant, visit_id) == "pending_check_out"


def status_of(http, tenant, visit_id: str) -> str:
    return ok(http.get(f"/api/v1/visits/{visit_id}", headers=tenant.headers("employee")))["status"]


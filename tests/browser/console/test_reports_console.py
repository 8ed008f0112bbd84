"""Console II's reports and channels at 1440×900 against the real stack: the employee summary's
chart and tables show the report API's numbers for a known dataset; a 40-day export is refused
with the message shown and a 7-day one is downloaded and opened; a webhook is created (its
secret shown once) and its test delivery appears in the delivery log."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from crmkit.clock import iso
from tests.browser.console.conftest import log_refusals
from tests.browser.console.flows import console_sign_in
from tests.browser.console.pages.base import ConsoleScreen
from tests.browser.console.visits_data import PLACE, completed_visit, customer, ok

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shown(value: float | int) -> str:
    """A number as the screen prints it (JavaScript's String(n)): 2.0 is "2", 1.5 is "1.5"."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def test_employee_summary_shows_the_api_numbers_and_the_export_is_bounded(desk, tenant, http):
    # a known dataset with figures that differ column by column: 刘 (employee) made two visits and
    # has one plan not yet checked in, 王 (employee2) made one
    t = tenant
    for name in ("杭州远景", "宁波海诚"):
        completed_visit(http, t, "employee", customer(http, t, "employee", name)["id"])
    completed_visit(http, t, "employee2", customer(http, t, "employee2", "温州瑞安")["id"])
    open_plan = customer(http, t, "employee", "嘉兴南湖")
    ok(http.post("/api/v1/visits", headers=t.headers("employee"), json={
        "customer_id": open_plan["id"], "planned_at": iso(datetime.now(UTC)), "location": PLACE,
        "topic": "新品介绍", "policy_accepted": True}), 201)
    today = datetime.now(SHANGHAI).date()
    api = ok(http.get("/api/v1/reports/employee-visits", params={"from": today.isoformat(), "to": today.isoformat()},
                      headers=t.headers()))
    day = next(s for s in api["series"] if s["day"] == today.isoformat())
    assert (api["totals"]["actual"], api["totals"]["planned"]) == (3, 4), api["totals"]

    log_refusals(desk)
    console_sign_in(desk, t, "admin", bind=True)
    desk.goto(f"/console/reports/employee-visits?from={today}&to={today}")
    screen = ConsoleScreen(desk)
    expect(screen.heading("员工拜访汇总表")).to_be_visible()
    kpis = desk.get_by_role("group", name="汇总")
    for title, value in (("计划拜访", api["totals"]["planned"]), ("实际拜访", api["totals"]["actual"]),
                         ("人数", api["totals"]["people"])):
        expect(kpis.locator(".el-statistic").filter(has_text=title).locator(".el-statistic__number")).to_have_text(
            shown(value))
    # the chart: drawn by ECharts once the data arrived; its accessible text is made from the very
    # arrays its three series draw, so it must carry the API's numbers
    chart = desk.get_by_role("img", name=re.compile("^人均每日拜访"))
    expect(chart.locator("canvas").first).to_be_visible()
    for series, key in (("人均实际拜访", "actual_per_person"), ("人均计划拜访", "planned_per_person"),
                        ("公司平均", "company_average")):
        expect(chart).to_have_attribute("aria-label", re.compile(
            f"{series}：[^；]*{re.escape(day['day'])} {re.escape(shown(day[key]))}(，|；|。)"))
    # the table beside the chart: the same numbers, cell by cell
    series_table = screen.table("每日数据")
    row = series_table.locator(".el-table__body tr").filter(has_text=today.isoformat())
    expect(row).to_have_count(1)
    expect(row.locator("td")).to_have_text([day["day"], *(shown(day[k]) for k in (
        "actual", "planned", "actual_per_person", "planned_per_person", "company_average"))])
    ranking = screen.table("排名")
    for person in api["ranking"]:
        cells = ranking.locator(".el-table__body tr").filter(has_text=person["name"]).locator("td")
        rate = "—" if person["completion_rate"] is None else f"{shown(round(person['completion_rate'] * 1000) / 10)}%"
        expect(cells).to_have_text([str(person["rank"]), person["name"], shown(person["actual"]),
                                    shown(person["planned"]), rate])
    details = desk.locator(".el-table").filter(has=desk.get_by_text("签到偏差"))
    expect(details.locator(".el-table__body tr")).to_have_count(api["details"]["total"])
    expect(details.get_by_text("500 米内").first).to_be_visible()  # GPS within its 500 m tolerance
    expect(desk.get_by_text(re.compile("GPS 500 米以内、网络/基站定位 1000 米以内"))).to_be_visible()
    expect(desk.get_by_role("alert").filter(has_text="加载失败")).to_have_count(0)
    screen.shot("74-report-employee-visits")

    # export: 40 days refused with the reason on screen; 7 days downloaded and opened
    desk.goto(f"/console/reports/employee-visits?from={today - timedelta(days=39)}&to={today}")
    desk.get_by_role("button", name="导出 .zip").click()
    refusal = desk.get_by_role("alert").filter(has_text="不能导出")
    expect(refusal).to_contain_text("最多 31 天")
    expect(refusal).to_contain_text("40 天")
    screen.shot("75-report-export-refused")
    desk.goto(f"/console/reports/employee-visits?from={today - timedelta(days=6)}&to={today}")
    desk.get_by_role("button", name="导出 .zip").click()
    ready = desk.get_by_role("button", name=re.compile("下载"))
    expect(ready).to_be_visible(timeout=90_000)
    screen.shot("76-report-export-ready")
    with desk.expect_download() as got:
        ready.click()
    with zipfile.ZipFile(io.BytesIO(open(got.value.path(), "rb").read())) as zf:
        names = zf.namelist()
    assert "summary.xlsx" in names and "details.xlsx" in names, names
    desk.goto("/console/notifications/inbox")
    expect(desk.locator(".c-inbox li").filter(has_text=re.compile("导出")).first).to_be_visible()


def test_a_webhook_is_created_with_its_secret_shown_once_and_its_test_delivery_logged(desk, tenant):
    log_refusals(desk)
    console_sign_in(desk, tenant, "admin").go("消息通知", "Webhook")
    screen = ConsoleScreen(desk)
    expect(screen.heading("Webhook")).to_be_visible()
    desk.get_by_role("button", name="新建 Webhook").click()
    dialog = desk.get_by_role("dialog").filter(has_text="新建 Webhook")
    dialog.get_by_label("地址").fill("http://127.0.0.1:9/hook")
    dialog.get_by_label("名称").fill("测试机器人")
    dialog.get_by_role("button", name="创建").click()
    secret = desk.get_by_test_id("webhook-secret")
    expect(secret).to_have_text(re.compile(r"\S{16,}"))
    screen.shot("77-webhook-secret-once")
    desk.get_by_role("button", name="我已保存").click()
    expect(desk.get_by_test_id("webhook-secret")).to_have_count(0)
    row = desk.locator(".el-table__body tr").filter(has_text="测试机器人")
    expect(row).to_be_visible()
    desk.get_by_role("button", name="向「测试机器人」发送测试消息").click()
    screen.toast("已向「测试机器人」发送测试消息")
    desk.get_by_role("button", name="查看投递记录").click()
    expect(desk).to_have_url(re.compile(r"/console/notifications/deliveries"))
    log = desk.locator(".el-table__body tr").filter(has_text="Webhook 测试").first
    expect(log).to_be_visible()
    screen.shot("78-delivery-log")


def test_channels_settings_dead_letters_preferences_and_visit_thresholds(desk, tenant, http):
    t = tenant
    log_refusals(desk)
    screen = ConsoleScreen(desk)
    console_sign_in(desk, t, "admin").go("消息通知", "邮件设置")
    # e-mail settings: a relay, and deliveries that give up after one attempt
    form = desk.get_by_role("form", name="邮件设置")
    form.get_by_label("服务器").fill("127.0.0.1")
    form.get_by_label("端口").fill("2525")
    screen.pick("加密方式", "不加密", scope=form)
    form.get_by_label("发件地址").fill("crm@example.cn")
    form.get_by_label("重试基础间隔（秒）").fill("1")
    form.get_by_label("最多尝试次数").fill("1")
    form.get_by_role("button", name="保存").click()
    screen.toast("已保存")
    settings = ok(http.get("/api/v1/notify/settings", headers=t.headers()))
    assert settings["smtp"]["host"] == "127.0.0.1" and settings["smtp"]["port"] == 2525, settings
    assert settings["max_attempts"] == 1 and settings["retry_base_seconds"] == 1, settings
    screen.shot("70-email-settings")

    # a webhook nobody answers: its test delivery dies after that one attempt and is resent from the screen
    hook = ok(http.post("/api/v1/notify/webhooks", headers=t.headers(), json={"url": "http://127.0.0.1:9/dead",
                                                                             "name": "无人接收"}), 201)
    test = ok(http.post(f"/api/v1/notify/webhooks/{hook['id']}/test", headers=t.headers()))
    for _ in range(120):
        dead = ok(http.get("/api/v1/notify/dead-letters", headers=t.headers()))
        if any(d["id"] == test["id"] for d in dead):
            break
        desk.wait_for_timeout(1000)
    letter = next(d for d in dead if d["id"] == test["id"])
    desk.goto("/console/notifications/dead-letters")
    screen.expect_title("死信")
    row = desk.locator(".el-table__body tr").filter(has_text="Webhook 测试").first
    expect(row).to_contain_text(letter["dead_reason"])
    expect(row).to_contain_text(str(letter["attempts"]))
    row.locator(".el-table__expand-icon").click()
    attempts = screen.table("尝试次数").or_(desk.locator(".c-attempts .el-table")).first
    expect(attempts.locator(".el-table__body tr")).to_have_count(len(letter.get("attempt_log") or [1]))
    expect(attempts).to_contain_text("失败")
    screen.shot("71-dead-letters")
    desk.get_by_role("button", name=f"重新发送「{letter.get('title') or letter['kind']}」").click()
    screen.toast("已重新排入投递")
    again = ok(http.get(f"/api/v1/notify/deliveries/{test['id']}", headers=t.headers()))
    assert again["generation"] == letter["generation"] + 1, again

    # the admin's own channel preferences: 导出已完成 by e-mail switched (off when on, on when off)
    was = "email" in ok(http.get("/api/v1/notifications/preferences", headers=t.headers()))["channels"]["export_ready"]
    desk.goto("/console/notifications/preferences")
    screen.expect_title("通知偏好")
    cell = desk.get_by_role("checkbox", name="导出已完成：邮件")
    (expect(cell).to_be_checked if was else expect(cell).not_to_be_checked)()
    cell.locator("xpath=ancestor::label[1]").click()  # the box a person clicks (the input itself is hidden)
    (expect(cell).not_to_be_checked if was else expect(cell).to_be_checked)()
    desk.get_by_role("button", name="保存").click()
    screen.toast("已保存")
    prefs = ok(http.get("/api/v1/notifications/preferences", headers=t.headers()))
    assert ("email" in prefs["channels"]["export_ready"]) is (not was), prefs
    desk.reload()
    cell = desk.get_by_role("checkbox", name="导出已完成：邮件")
    (expect(cell).not_to_be_checked if was else expect(cell).to_be_checked)()
    screen.shot("72-preferences")

    # the visit settings' thresholds, which the review measures against
    desk.goto("/console/visits/settings")
    screen.expect_title("拜访设置")
    stay = desk.get_by_label("最短停留时长（须超过）")
    stay.fill("25")
    desk.get_by_role("button", name="保存设置").click()
    screen.toast("已保存")
    assert ok(http.get("/api/v1/visits/settings", headers=t.headers()))["min_stay_minutes"] == 25
    desk.reload()
    expect(desk.get_by_label("最短停留时长（须超过）")).to_have_value("25")
    screen.shot("73-visit-settings")

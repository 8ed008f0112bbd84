"""Console II's reports and channels at 1440×900 against the real stack: the employee summary's
chart and tables show the report API's numbers for a known dataset; a 40-day export is refused
with the message shown and a 7-day one is downloaded and opened; a webhook is created (its
secret shown once) and its test delivery appears in the delivery log."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.console.conftest import log_refusals
from tests.browser.console.flows import console_sign_in
from tests.browser.console.pages.base import ConsoleScreen
from tests.browser.console.visits_data import completed_visit, customer, ok

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.xfail(strict=True, reason="unfinished (issue 15): the screen shows 加载失败 without a refused API answer "
                   "(a client-side failure in the screen's load, not diagnosed yet)")
def test_employee_summary_shows_the_api_numbers_and_the_export_is_bounded(desk, tenant, http):
    t = tenant
    for name in ("杭州远景", "宁波海诚"):
        completed_visit(http, t, "employee", customer(http, t, "employee", name)["id"])
    today = datetime.now(SHANGHAI).date()
    api = ok(http.get("/api/v1/reports/employee-visits", params={"from": today.isoformat(), "to": today.isoformat()},
                      headers=t.headers()))
    day = next(s for s in api["series"] if s["day"] == today.isoformat())
    assert api["totals"]["actual"] == 2

    log_refusals(desk)
    console_sign_in(desk, t, "admin", bind=True)
    desk.goto(f"/console/reports/employee-visits?from={today}&to={today}")
    screen = ConsoleScreen(desk)
    expect(screen.heading("员工拜访汇总表")).to_be_visible()
    kpis = desk.get_by_role("group", name="汇总")
    expect(kpis).to_contain_text("实际拜访")
    expect(kpis.locator(".el-statistic").filter(has_text="实际拜访")).to_contain_text(str(api["totals"]["actual"]))
    expect(kpis.locator(".el-statistic").filter(has_text="计划拜访")).to_contain_text(str(api["totals"]["planned"]))
    chart = desk.get_by_role("img", name="人均每日拜访")
    expect(chart.locator("canvas").first).to_be_visible()  # drawn by ECharts once the data arrived
    series = desk.get_by_role("table", name="每日数据").or_(desk.locator(".el-table").filter(
        has=desk.get_by_text("公司平均")))
    row = series.locator("tr").filter(has_text=today.isoformat()).first
    for value in (day["actual"], day["planned"], day["actual_per_person"], day["company_average"]):
        expect(row).to_contain_text(str(value))
    ranking = desk.locator(".el-table").filter(has=desk.get_by_text("完成率"))
    first = next(r for r in api["ranking"] if r["employee_id"] == t.ids["employee"])
    expect(ranking.locator("tr").filter(has_text=first["name"]).first).to_contain_text(str(first["actual"]))
    details = desk.locator(".el-table").filter(has=desk.get_by_text("签到偏差"))
    expect(details.locator(".el-table__body tr")).to_have_count(2)
    expect(details.get_by_text("500 米内").first).to_be_visible()  # GPS within its 500 m tolerance
    expect(desk.get_by_text(re.compile("GPS 500 米以内、网络/基站定位 1000 米以内"))).to_be_visible()
    screen.shot("20-report-employee-visits")

    # export: 40 days refused with the reason on screen; 7 days downloaded and opened
    desk.goto(f"/console/reports/employee-visits?from={today - timedelta(days=39)}&to={today}")
    desk.get_by_role("button", name="导出 .zip").click()
    refusal = desk.get_by_role("alert").filter(has_text="不能导出")
    expect(refusal).to_contain_text("最多 31 天")
    expect(refusal).to_contain_text("40 天")
    screen.shot("21-report-export-refused")
    desk.goto(f"/console/reports/employee-visits?from={today - timedelta(days=6)}&to={today}")
    desk.get_by_role("button", name="导出 .zip").click()
    ready = desk.get_by_role("button", name=re.compile("下载"))
    expect(ready).to_be_visible(timeout=90_000)
    screen.shot("22-report-export-ready")
    with desk.expect_download() as got:
        ready.click()
    with zipfile.ZipFile(io.BytesIO(open(got.value.path(), "rb").read())) as zf:
        names = zf.namelist()
    assert "summary.xlsx" in names and "details.xlsx" in names, names
    desk.goto("/console/notifications/inbox")
    expect(desk.locator(".c-inbox li").filter(has_text=re.compile("导出")).first).to_be_visible()


@pytest.mark.xfail(strict=True, reason="unfinished (issue 15): the screen shows 加载失败 without a refused API answer "
                   "(a client-side failure in the screen's load, not diagnosed yet)")
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
    screen.shot("30-webhook-secret-once")
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
    screen.shot("31-delivery-log")

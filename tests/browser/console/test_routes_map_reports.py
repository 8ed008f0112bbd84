"""Console II at 1440×900 against the real stack: a zig-zag route shortened (the distance drops)
and put on a date, then seen on the person's calendar; the customer map with two employees'
customers in two colours and no tiles fetched; the customer visit summary (pie click filter,
per-grade bars, the totals row), the coverage and the targets vs actual, each showing the report
API's numbers for a known dataset."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.console.conftest import log_refusals
from tests.browser.console.flows import console_sign_in
from tests.browser.console.pages.base import ConsoleScreen
from tests.browser.console.test_reports_console import shown
from tests.browser.console.visits_data import completed_visit, customer, ok

SHANGHAI = ZoneInfo("Asia/Shanghai")
LAT = 31.2304


def km(text: str) -> float:
    """A distance as the screen writes it ("12.3 公里" or "850 米"), in kilometres."""
    m = re.search(r"([\d.]+)\s*(公里|米)", text)
    assert m, text
    return float(m.group(1)) / (1 if m.group(2) == "公里" else 1000)


def test_a_zig_zag_route_is_shortened_and_its_schedule_shows_on_the_calendar(desks, tenant, http):
    t = tenant
    # four customers of 员工 A on one east-west line, entered in a zig-zag order (W, E, W+, E-)
    stops = [customer(http, t, "employee", name, lat=LAT, lng=lng)
             for name, lng in (("西一", 121.30), ("东一", 121.60), ("西二", 121.34), ("东二", 121.56))]
    page = desks().new_page()
    log_refusals(page)
    console_sign_in(page, t, "dept_admin").go("客户拜访", "路线配置")
    screen = ConsoleScreen(page)
    screen.expect_title("路线配置")
    editor = page.get_by_role("form", name="路线编辑")
    editor.get_by_label("路线名称").fill("浦西浦东巡回")
    screen.choose("执行人", "员工 A", scope=editor)
    for s in stops:
        box = editor.get_by_role("combobox", name="添加客户")
        box.click()
        box.fill(s["name"][:2])
        screen.dropdown().get_by_text(s["name"]).click()
        expect(editor.get_by_role("list", name="拜访站点").get_by_text(s["name"])).to_be_visible()
    expect(editor.locator(".c-stop-name")).to_have_text([s["name"] for s in stops])
    editor.get_by_role("button", name="保存路线").click()
    screen.toast("路线「浦西浦东巡回」已保存")
    route = next(r for r in ok(http.get("/api/v1/visit-routes", headers=t.headers("dept_admin")))
                 if r["name"] == "浦西浦东巡回")
    total = page.get_by_role("status", name="总距离")
    expect(total).to_contain_text("公里")
    before = km(total.inner_text())
    assert abs(before - route["total_distance_m"] / 1000) < 0.1, (before, route["total_distance_m"])
    page.locator(".leaflet-marker-icon.c-pin").first.wait_for()
    expect(page.locator(".leaflet-marker-icon.c-pin")).to_have_count(4)
    screen.shot("60-route-zig-zag")

    page.get_by_role("button", name="缩短路线").click()
    result = page.get_by_role("status", name="缩短路线的结果")
    expect(result).to_contain_text("调整前")
    numbers = re.findall(r"调整前 ([\d.]+ (?:公里|米))，调整后 ([\d.]+ (?:公里|米))", result.inner_text())
    assert numbers, result.inner_text()
    suggested_before, suggested_after = km(numbers[0][0]), km(numbers[0][1])
    assert abs(suggested_before - before) < 0.1 and suggested_after < before * 0.7, (before, suggested_after)
    expect(result).to_contain_text(" → ".join(s["name"] for s in (stops[0], stops[2], stops[3], stops[1])))
    screen.shot("61-route-shorten-suggested")
    result.get_by_role("button", name="采用新顺序").click()
    screen.toast("路线已缩短")
    expect(editor.locator(".c-stop-name")).to_have_text([s["name"] for s in (stops[0], stops[2], stops[3], stops[1])])
    expect(total).not_to_contain_text(f"{before:.1f} 公里")
    after = km(total.inner_text())
    assert after < before * 0.7, (before, after)
    saved = next(r for r in ok(http.get("/api/v1/visit-routes", headers=t.headers("dept_admin")))
                 if r["id"] == route["id"])
    assert abs(after - saved["total_distance_m"] / 1000) < 0.1

    # on a date: one plan per stop, on 员工 A's calendar
    day = (datetime.now(SHANGHAI).date() + timedelta(days=2)).isoformat()
    when = page.get_by_role("form", name="排入日程")
    when.get_by_label("日期").fill(day)
    when.get_by_label("日期").press("Enter")
    when.get_by_text("我已阅读并同意").click()
    when.get_by_role("button", name="生成拜访计划").click()
    done = page.get_by_role("status").filter(has_text=f"已为员工 A在 {day} 生成 4 个拜访计划")
    expect(done).to_be_visible()
    screen.shot("62-route-scheduled")
    done.get_by_role("button", name="在日历中查看").click()
    expect(page).to_have_url(re.compile(r"/console/visits/plans\?"))
    expect(page.get_by_text(f"{day} 的拜访")).to_be_visible()
    day_list = page.locator(".el-table").filter(has=page.get_by_text(stops[0]["name"]))
    for s in stops:
        expect(day_list.get_by_text(s["name"])).to_be_visible()
    screen.shot("63-calendar-with-route")
    planned = ok(http.get("/api/v1/visits", params={"day": day, "employee_id": t.ids["employee"], "limit": 100},
                          headers=t.headers("dept_admin")))["items"]
    assert sorted(v["customer_id"] for v in planned) == sorted(s["id"] for s in stops)


def test_the_map_shows_two_employees_customers_in_their_colours_without_tiles(desks, tenant, http):
    t = tenant
    mine = [customer(http, t, "employee", n, lat=lat, lng=lng)
            for n, lat, lng in (("静安", 31.23, 121.45), ("苏州", 31.30, 120.60))]
    theirs = [customer(http, t, "employee2", n, lat=lat, lng=lng)
              for n, lat, lng in (("西湖", 30.25, 120.15), ("宁波", 29.87, 121.55))]
    page = desks().new_page()
    log_refusals(page)
    elsewhere: list[str] = []
    page.on("request", lambda r: elsewhere.append(r.url) if urlparse(r.url).hostname not in ("127.0.0.1", "localhost")
            and not r.url.startswith(("data:", "blob:")) else None)
    console_sign_in(page, t, "admin").go(None, "客户分布")
    screen = ConsoleScreen(page)
    screen.expect_title("客户分布")
    legend = page.get_by_role("list", name="图例")
    expect(legend.locator("li")).to_have_text(["主账号（0 个客户）"])  # the signed-in person's own, at first
    screen.choose("员工", "员工 A", "员工 B", "主账号")  # two people added, oneself taken off
    page.get_by_role("button", name="显示").click()
    expect(legend.locator("li")).to_have_text(["员工 A（2 个客户）", "员工 B（2 个客户）"])
    area = page.get_by_role("region", name="客户分布地图")
    expect(area.locator(".leaflet-marker-icon.c-pin")).to_have_count(4)  # far apart: none clustered
    expect(area.locator(".marker-cluster")).to_have_count(0)
    for c in mine:
        expect(area.locator(f'.leaflet-marker-icon.c-pin-0[title="{c["name"]}"]')).to_have_count(1)
    for c in theirs:
        expect(area.locator(f'.leaflet-marker-icon.c-pin-1[title="{c["name"]}"]')).to_have_count(1)
    expect(area.locator(".leaflet-tile")).to_have_count(0)
    area.locator(f'.leaflet-marker-icon[title="{theirs[0]["name"]}"]').click()
    card = page.get_by_label("客户信息")
    expect(card).to_contain_text(theirs[0]["name"])
    expect(card).to_contain_text("员工 B")
    screen.shot("64-customer-map")
    assert not elsewhere, f"the map fetched from elsewhere: {elsewhere}"


def test_customer_summary_coverage_and_targets_show_the_api_numbers(desks, tenant, http):
    t = tenant
    twice = customer(http, t, "employee", "常州天宁", grade="A")
    once = customer(http, t, "employee", "无锡滨湖", grade="B")
    never = [customer(http, t, "employee", n, grade="A") for n in ("南通崇川", "扬州广陵")]
    for c in (twice, twice, once):
        completed_visit(http, t, "employee", c["id"], photo=False)
    today = datetime.now(SHANGHAI).date().isoformat()
    rng = {"from": today, "to": today}
    api = ok(http.get("/api/v1/reports/customer-visits", params=rng, headers=t.headers()))
    assert (api["customers"], api["visits"]) == (4, 3), api

    page = desks().new_page()
    log_refusals(page)
    console_sign_in(page, t, "admin")
    page.goto(f"/console/reports/customer-visits?from={today}&to={today}")
    screen = ConsoleScreen(page)
    screen.expect_title("客户被拜访汇总表")
    kpis = page.get_by_role("group", name=re.compile("汇总"))
    expect(kpis.locator(".el-statistic__number")).to_have_text([shown(api["customers"]), shown(api["visits"])])
    pie = page.get_by_role("img", name=re.compile("^客户被拜访次数分布"))
    for f in api["frequency"]:
        if f["customers"]:
            expect(pie).to_have_attribute("aria-label", re.compile(f"{f['visits']} 次 {f['customers']}(，|。)"))
    bars = page.get_by_role("img", name=re.compile("^各等级客户平均被拜访次数"))
    for g in api["grades"]:
        point = f"{re.escape(g['grade'])} {re.escape(shown(g['average']))}"
        expect(bars).to_have_attribute("aria-label", re.compile(f"{point}(，|。)"))
    table = screen.table("拜访次数按等级汇总")
    grades = api["table"]["grades"]
    body = table.locator(".el-table__body tr")
    expect(body).to_have_count(len(api["table"]["rows"]) + 1)
    for i, row in enumerate([*api["table"]["rows"], api["table"]["totals"]]):
        label = "合计" if row["key"] == "total" else row["label"]
        expect(body.nth(i).locator("td")).to_have_text([label, *(shown(row["by_grade"].get(g, 0)) for g in grades),
                                                         shown(row["total"])])
    expect(body.last).to_have_class(re.compile("c-total-row"))
    screen.shot("65-report-customer-visits")

    # a click on the pie's "0 次" slice lists the customers never visited (and puts it in the URL)
    zero = next(f for f in api["frequency"] if f["visits"] == 0)
    assert zero["customers"] == 2 and sum(f["customers"] for f in api["frequency"]) == 4  # half the ring
    canvas = pie.locator("canvas").first
    box = canvas.bounding_box()
    assert box
    # ring 35 %–70 % of half the smaller side, centred at 60 % × 50 %; slices clockwise from 12 o'clock,
    # so the first slice (0 次, half of the customers) covers the right half: click at 3 o'clock
    r = min(box["width"], box["height"]) / 2 * 0.52
    canvas.click(position={"x": box["width"] * 0.6 + r, "y": box["height"] * 0.5})
    expect(page).to_have_url(re.compile(r"[?&]visits=0(&|$)"))
    listed = ok(http.get("/api/v1/reports/customer-visits", params={**rng, "visit_count": 0}, headers=t.headers()))
    slice_table = screen.table(f"被拜访 0 次的客户（共 {listed['customer_list']['total']} 个）")
    expect(slice_table.locator(".el-table__body tr")).to_have_count(2)
    for c in never:
        expect(slice_table.get_by_text(c["name"])).to_be_visible()
    screen.shot("66-report-customer-slice")

    # coverage: not visited since today, and each grade's cadence
    cov = ok(http.get("/api/v1/reports/coverage", params={**rng, "since": today}, headers=t.headers()))
    page.goto(f"/console/reports/coverage?from={today}&to={today}&since={today}")
    screen.expect_title("拜访覆盖")
    listing = screen.table("未拜访的客户")
    expect(listing.locator(".el-table__body tr")).to_have_count(cov["not_visited_count"])
    for c in never:
        expect(listing.get_by_text(c["name"])).to_be_visible()
    cadence = screen.table("各等级拜访频次：目标与实际")
    for g in cov["cadence"]:
        grade_row = cadence.locator(".el-table__body tr").filter(has_text=re.compile(f"^{re.escape(g['grade'])}"))
        expect(grade_row.locator("td")).to_have_text([
            g["grade"], shown(g["target_per_30_days"]), shown(g["expected_per_customer"]), shown(g["customers"]),
            shown(g["visits"]), shown(g["actual_per_customer"]), f"{g['customers_on_target']} / {g['customers']}"])
    screen.shot("67-report-coverage")

    # targets vs actual: 员工 A's field visits today
    tg = ok(http.get("/api/v1/reports/targets", params=rng, headers=t.headers()))
    item = next(i for i in tg["items"] if i["employee_id"] == t.ids["employee"] and i["day"] == today)
    visits_row = next(r for r in item["rows"] if r["metric"] == "field_visits")
    assert visits_row["actual"] == 3
    page.goto(f"/console/reports/targets?from={today}&to={today}")
    screen.expect_title("目标达成")
    row = screen.table("每日目标与实际").locator(".el-table__body tr").filter(has_text="员工 A").filter(has_text=today)
    expect(row).to_have_count(1)
    by_metric = {r["metric"]: r for r in item["rows"]}
    expected = [f"{by_metric[m]['actual']}" + ("" if by_metric[m]["target"] is None
                                               else f" / {shown(by_metric[m]['target'])}")
                for m in ("prepared_prospects", "new_prospects", "claims", "effective_calls", "field_visits")]
    expect(row.locator("td .el-tag")).to_have_text(expected)
    screen.shot("68-report-targets")

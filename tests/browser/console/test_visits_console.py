"""Console II at 1440×900 against the real stack: visit records by SPEC §5's role rules with
the detail drawer, the review queue (every criterion, the trust facts, the photo), an approval
and a refused one with its reason, and the employee's inbox with the result."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.console.flows import console_sign_in
from tests.browser.console.pages.visits import InboxScreen, RecordsScreen, ReviewScreen
from tests.browser.console.visits_data import completed_visit, customer, grant_records


def test_records_follow_the_owner_and_the_review_approves_one_and_refuses_a_failing_one(desks, tenant, http):
    t = tenant
    grant_records(http, t)
    good = customer(http, t, "employee", "上海精诚电子")
    bad = customer(http, t, "employee", "苏州无照科技")
    completed_visit(http, t, "employee", good["id"], photo=True)
    completed_visit(http, t, "employee", bad["id"], photo=False)

    # the owner sees their visit, with the drawer's criteria, trust facts and photo
    mine = console_sign_in(desks().new_page(), t, "employee", bind=True)
    mine.go("客户拜访", "拜访记录")
    records = RecordsScreen(mine.page).expect_shown()
    records.expect_row(good["name"])
    records.expect_row(bad["name"])
    records.shot("10-records-employee")
    drawer = records.open_detail(good["name"])
    expect(drawer.get_by_text("有效性条件").first).to_be_visible()
    expect(drawer.get_by_text("定位可信度").first).to_be_visible()
    expect(drawer.get_by_text("SHA-256").first).to_be_visible()
    records.shot("11-records-drawer")

    # the department admin of dept_a sees the subordinate's visit; a colleague in dept_b does not
    boss = console_sign_in(desks().new_page(), t, "dept_admin", bind=True)
    boss.page.goto(RecordsScreen.path)
    RecordsScreen(boss.page).expect_shown().expect_row(good["name"])
    colleague = console_sign_in(desks().new_page(), t, "employee2", bind=True)
    colleague.page.goto(RecordsScreen.path)
    RecordsScreen(colleague.page).expect_shown().expect_no_row(good["name"])

    # the reviewer: every criterion measured vs threshold; one approved, the failing one refused
    page = desks().new_page()
    console_sign_in(page, t, "support", bind=True).go("客户拜访", "有效性审核")
    review = ReviewScreen(page).expect_shown()
    expect(review.row(good["name"])).to_be_visible()
    expect(review.row(bad["name"])).to_be_visible()
    review.shot("12-review-queue")
    review.decide(bad["name"], "approve", "资料齐全")
    refusal = review.refusal()
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text(bad["name"])
    expect(refusal).to_contain_text("照片")
    review.shot("13-review-refused")
    review.decide(good["name"], "approve", "符合拜访制度")
    review.toast(f"已通过「{good['name']}」的拜访")
    expect(page.locator(".el-table__body tr").filter(has_text=good["name"])).to_have_count(0)
    assert http.get(f"/api/v1/visits/records?customer_id={good['id']}",
                    headers=t.headers("employee")).json()["items"][0]["status"] == "valid"

    # the employee's inbox shows the result
    mine.page.goto(InboxScreen.path)
    InboxScreen(mine.page).expect_note("拜访审核结果")
    mine.shot("14-inbox-review-result")

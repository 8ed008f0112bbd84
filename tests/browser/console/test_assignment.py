"""Assignment in the console at 1440×900 (seed 002's 人员客户表): bind a customer to an employee,
share all of A's customers with several B, transfer a customer from the customer list — each
checked by signing in as the receiver, who then sees the customers in their own list; unbind
sends a customer back to the public pool."""
from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.browser.console.flows import console_sign_in
from tests.browser.console.pages.customers import CustomersScreen, EmployeeCustomersScreen
from tests.browser.flows import company, new_customer, to_public_pool
from tests.support.waiting import wait_for


def test_bind_share_and_transfer_reach_the_receivers(desks, tenant, http):
    tag = uuid.uuid4().hex[:4]
    free = new_customer(http, tenant, "employee", name=company(f"无锡{tag}"))
    to_public_pool(http, tenant, free["id"])
    a_first = new_customer(http, tenant, "employee", name=company(f"常州{tag}"))
    moved = new_customer(http, tenant, "employee", name=company(f"南通{tag}"))

    page = desks().new_page()
    home = console_sign_in(page, tenant, "admin")
    home.go("客户管理", "人员客户表")
    table = EmployeeCustomersScreen(page).expect_shown()
    table.choose_person("员工 B")
    table.bind("员工 B", free["name"])
    expect(table.theirs("员工 B")).to_contain_text(free["name"])
    table.shot("25-employee-customers")

    table.choose_person("员工 A")
    expect(table.theirs("员工 A")).to_contain_text(a_first["name"])
    table.share_with("员工 B", "全部客户员工")

    page.goto(f"/console/customers/list?q={moved['name']}")
    customers = CustomersScreen(page).expect_shown()
    customers.transfer(moved["name"], "员工 B")
    wait_for(lambda: http.get(f"/api/v1/customers/{moved['id']}", headers=tenant.headers()).json()["owner_id"]
             == tenant.ids["employee2"], what="the transfer")

    receiver = desks().new_page()  # 员工 B signs in and finds all three in their own list
    console_sign_in(receiver, tenant, "employee2")
    receiver.goto(f"/console/customers/list?q={tag}")
    theirs = CustomersScreen(receiver).expect_shown()
    for c in (free, a_first, moved):
        expect(theirs.customer(c["name"])).to_be_visible()
    expect(theirs.customer(free["name"])).to_contain_text("员工 B")  # bound: B follows it
    expect(theirs.customer(a_first["name"])).to_contain_text("员工 A")  # shared: A still follows it
    theirs.shot("26-receiver-customers")

    later = new_customer(http, tenant, "employee", name=company(f"镇江{tag}"))  # the share is a standing rule
    wait_for(lambda: http.get(f"/api/v1/customers/{later['id']}", headers=tenant.headers("employee2")).status_code
             == 200, what="a later customer of A shared too")

    table.open()
    table.choose_person("员工 B")
    table.unbind("员工 B", free["name"])
    wait_for(lambda: http.get(f"/api/v1/pool/customers/{free['id']}", headers=tenant.headers()).json()["pool"]
             == "public", what="unbound back to the public pool")

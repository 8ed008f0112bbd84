"""Customers on a phone: entering a customer whose name key or phone is held shows the holder
(owner and supervisor) and cannot be submitted; a clean entry goes through; the customer's
timeline, contacts and contact notes; a contact whose mobile is fixed once saved; release (the
released customer leaves "my customers" at once, even when the customers service learns it late)."""
from __future__ import annotations

import uuid

from playwright.sync_api import expect

from crmkit.context import CallContext
from tests.browser.flows import ADDRESS, new_customer, sign_in
from tests.browser.pages.contacts import ContactsScreen
from tests.browser.pages.customers import CustomerDetailScreen, CustomerEntryScreen, CustomersScreen
from tests.support.tenants import random_mobile
from tests.support.waiting import wait_for


def test_a_held_name_key_or_phone_shows_the_holder_and_cannot_be_submitted(phones, tenant, http):
    trade = "日东" + uuid.uuid4().hex[:4]
    held_landline = f"0512-{str(uuid.uuid4().int)[:8]}"
    new_customer(http, tenant, "employee", name=f"苏州{trade}精密电子有限公司", landlines=[held_landline])
    page = phones().new_page()
    sign_in(page, tenant, "employee2")
    customers = CustomersScreen(page)
    customers.go_tab("客户")
    customers.expect_shown()
    customers.shot("09-customers-empty")
    customers.enter_new()
    entry = CustomerEntryScreen(page)

    # the same company under another name form: 中心 and the bracketed region are dropped from the key
    entry.fill(name=f"{trade}精密电子（苏州）中心有限公司", address=ADDRESS, landlines="021-55550000")
    entry.expect_duplicate_held_by("负责人：员工 A", "其主管：部门管理员 A", "名称相同")
    expect(entry.submit_button()).to_be_disabled()
    entry.shot("10-customer-entry-duplicate")

    # another name, but a number someone holds (typed another way)
    entry.fill(name=f"无锡{uuid.uuid4().hex[:4]}贸易有限公司", landlines=held_landline.replace("-", " "))
    entry.expect_duplicate_held_by("负责人：员工 A", "号码相同")
    expect(entry.submit_button()).to_be_disabled()

    clean = f"杭州{uuid.uuid4().hex[:5]}软件有限公司"
    entry.fill(name=clean, landlines=f"0571-{str(uuid.uuid4().int)[:8]}")
    entry.expect_clean()
    entry.shot("11-customer-entry-clean")
    expect(entry.submit_button()).to_be_enabled()
    entry.submit_button().click()
    detail = CustomerDetailScreen(page).expect_shown(clean)
    expect(page.get_by_text("录入").first).to_be_visible()  # the timeline's first entry

    detail.log_contact("电话", "电话沟通了报价")
    expect(page.get_by_text("电话沟通了报价")).to_be_visible()
    detail.shot("12-customer-detail")
    detail.no_horizontal_scroll()


def test_contacts_add_search_and_release_to_the_pool(phones, tenant, http):
    customer = new_customer(http, tenant, "employee")
    page = phones().new_page()
    sign_in(page, tenant, "employee")
    contacts = ContactsScreen(page)
    contacts.go_tab("联系人")
    mobile = random_mobile()
    contacts.add("王经理", mobile, title="采购经理", customer=customer["name"])
    expect(page.get_by_text("王经理")).to_be_visible()
    contacts.search(mobile[-6:])
    expect(page.get_by_text(mobile, exact=True)).to_be_visible()
    contacts.shot("13-contacts")
    contacts.no_horizontal_scroll()

    customers = CustomersScreen(page)
    customers.go_tab("客户")
    customers.customer(customer["name"]).click()
    detail = CustomerDetailScreen(page).expect_shown(customer["name"])
    detail.open_tab("联系人")
    expect(page.get_by_text("王经理")).to_be_visible()
    detail.release("客户暂无需求")
    customers.expect_shown()
    expect(customers.customer(customer["name"])).to_have_count(0)
    owner = http.get(f"/api/v1/pool/customers/{customer['id']}", headers=tenant.headers("employee2")).json()
    assert owner["pool"] == "public"


def test_a_released_customer_leaves_my_customers_when_the_customers_service_learns_it_late(phones, tenant, http,
                                                                                          rpc):
    """The phone releases through the pool; the customers service (whose list this is) learns it
    from an event, held back 6 s here. The list hides the customer at once, and it stays gone
    once the move has landed."""
    customer = new_customer(http, tenant, "employee")
    ctx = CallContext(tenant_id=tenant.tenant_id, user_id=tenant.ids["admin"], roles=("tenant_admin",))
    rpc.call("customers", "_test_delay_handling", ctx=ctx, event_type="customer.owner_changed", seconds=6)
    try:
        page = phones().new_page()
        sign_in(page, tenant, "employee")
        customers = CustomersScreen(page)
        customers.go_tab("客户")
        customers.customer(customer["name"]).click()
        CustomerDetailScreen(page).expect_shown(customer["name"]).release("不再跟进")
        customers.expect_shown()
        expect(customers.customer(customer["name"])).to_have_count(0, timeout=3000)  # before the event lands
    finally:
        rpc.call("customers", "_test_delay_handling", ctx=ctx, event_type="customer.owner_changed", seconds=0)

    def gone_for_customers():
        r = http.get(f"/api/v1/customers/{customer['id']}", headers=tenant.headers("employee"))
        return r.status_code != 200 or r.json().get("owner_id") != tenant.ids["employee"] or None
    wait_for(gone_for_customers, timeout=60, what="the customers service has the release")
    customers.go_tab("公海")  # away and back: the list loads afresh from the customers service
    customers.go_tab("客户")
    customers.expect_shown()
    expect(customers.customer(customer["name"])).to_have_count(0)

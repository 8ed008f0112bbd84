"""Tags, custom fields and contacts in the console at 1440×900: a tag group with its colour and
tags that exclude each other inside the group (one choice per group when tagging a contact);
a custom field beside the built-ins (which cannot be deleted; the API refuses too); the contact
table searched by phone, the admin's 全公司 scope, a contact reassigned to a colleague (who then
holds it), and the tenant's contact tier with what it uses."""
from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.browser.console.flows import console_sign_in
from tests.browser.console.pages.settings import ContactsScreen, CustomFieldsScreen, TagsScreen
from tests.browser.flows import ok
from tests.support.tenants import random_mobile


def test_tag_groups_custom_fields_and_contacts(desks, tenant, http):
    group = f"级别{uuid.uuid4().hex[:4]}"
    page = desks().new_page()
    home = console_sign_in(page, tenant, "admin")
    home.go("基础设置", "标签管理")
    tags = TagsScreen(page).expect_shown()
    tags.add_group(group, "绿", "重点", "一般")
    expect(tags.group(group)).to_contain_text("重点")
    expect(tags.group(group)).to_contain_text("一般")
    expect(tags.table("标签管理")).to_contain_text("组内互斥")
    saved = [g for g in ok(http.get("/api/v1/tag-groups", headers=tenant.headers())) if g["name"] == group]
    assert saved and saved[0]["color"] == "green"
    tags.shot("50-tags")

    tags.go("基础设置", "自定义字段")
    fields = CustomFieldsScreen(page).expect_shown()
    builtin = fields.table("自定义字段").get_by_role("row").filter(has_text="内置").first
    expect(builtin).to_be_visible()
    expect(builtin.get_by_role("button", name="删除")).to_have_count(0)  # built-ins: no delete
    key = f"source_{uuid.uuid4().hex[:4]}"
    dialog = fields.add_select(key, "客户来源", "展会，转介绍，官网")
    dialog.get_by_role("button", name="保存").click()
    fields.toast("字段已创建")
    expect(fields.field(key)).to_contain_text("展会、转介绍、官网")
    expect(fields.field(key).get_by_role("button", name="删除")).to_be_visible()
    fields.shot("51-custom-fields")
    built = [f for f in ok(http.get("/api/v1/custom-fields", params={"entity": "customer"},
                                    headers=tenant.headers())) if f.get("builtin")][0]
    r = http.delete(f"/api/v1/custom-fields/{built['id']}", headers=tenant.headers())
    assert r.status_code == 422, r.text  # the API refuses a built-in's delete as well

    # contacts: one tag per group when tagging; search by phone; 全公司; reassign
    theirs = random_mobile()
    ok(http.post("/api/v1/contacts", json={"name": "赵经理", "mobile": theirs}, headers=tenant.headers("employee")),
       201)
    page.goto("/console/contacts/list")
    contacts = ContactsScreen(page).expect_shown()
    expect(contacts.tier()).to_contain_text("基础版")
    expect(contacts.tier()).to_contain_text(re.compile(r"已用\s*\d+"))
    mine = random_mobile()
    dialog = contacts.add("钱经理", mine, {group: "重点"})
    contacts.pick(group, "一般", scope=dialog)  # replaces 重点: one tag per group
    expect(dialog.get_by_role("radiogroup", name=group).get_by_role("radio", name="一般")).to_be_checked()
    expect(dialog.get_by_role("radiogroup", name=group).get_by_role("radio", name="重点")).not_to_be_checked()
    dialog.get_by_role("button", name="保存").click()
    contacts.toast("联系人已新增")
    page.get_by_label("姓名或手机号").fill(mine)
    contacts.search()
    expect(contacts.contact(mine)).to_contain_text("一般")
    expect(contacts.contact(mine)).not_to_contain_text("重点")
    expect(page).to_have_url(re.compile(re.escape(mine)))  # the search lives in the URL

    page.get_by_label("姓名或手机号").fill(theirs)
    contacts.scope("全公司")
    expect(contacts.contact(theirs)).to_contain_text("员工 A")
    contacts.shot("52-contacts")
    contacts.reassign("赵经理", "员工 B")
    expect(contacts.contact(theirs)).to_contain_text("员工 B")
    found = ok(http.get("/api/v1/contacts", params={"q": theirs}, headers=tenant.headers("employee2")))
    assert found["total"] == 1 and found["items"][0]["owner_id"] == tenant.ids["employee2"]
    # a plain employee has no 全公司 scope (and the API refuses it)
    r = http.get("/api/v1/contacts", params={"scope": "company"}, headers=tenant.headers("employee"))
    assert r.status_code == 403, r.text

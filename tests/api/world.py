"""Fixture data for the generated Idempotency-Key test: records of one tenant made through
the API, and for each operation that needs more than its schema (a record in the right
state, a unique name, a file) a recipe that says whom to call as and which values to use.

The operations themselves come from the OpenAPI document; an operation without a recipe is
built from its schema alone, and if that is not a valid request the test fails for it (a new
route needs its recipe here, it is never skipped).
"""
from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from openpyxl import Workbook, load_workbook
from PIL import Image

from tests.api.request_builder import Prepared
from tests.support.tenants import Tenant, add_employee, random_mobile
from tests.support.waiting import wait_for

LAT, LNG = 31.3, 120.6
#: a webhook target that refuses connections (the test stack allows private webhook URLs)
DEAD_URL = "http://127.0.0.1:9/hook"


def _ok(r: httpx.Response, *codes: int) -> Any:
    if r.status_code not in (codes or (200, 201)):
        raise AssertionError(f"fixture: {r.request.method} {r.request.url.path} -> {r.status_code}: {r.text[:500]}")
    return r.json()


def uniq() -> str:
    return uuid.uuid4().hex[:10]


def landline() -> str:
    return f"0512-{str(uuid.uuid4().int)[:8]}"


def company() -> str:
    return f"接口{uniq()}精密科技有限公司"


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (120, 160, 200)).save(out, "JPEG", quality=80)
    return out.getvalue()


def later(days: int = 2) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()


class World:
    """Records of tenant ``t``, made on demand through the API (each recipe gets fresh ones)."""

    def __init__(self, http: httpx.Client, t: Tenant) -> None:
        self.http, self.t = http, t
        self._spare = 0
        self._used_notifications: set[str] = set()
        self._photo: bytes | None = None

    # -- plumbing ---------------------------------------------------------------------------------
    def call(self, method: str, path: str, role: str = "admin", **kw: Any) -> Any:
        return _ok(self.http.request(method, path, headers=self.t.headers(role), **kw))

    def photo(self) -> bytes:
        if self._photo is None:
            self._photo = jpeg()
        return self._photo

    def spare(self, join: bool = True) -> tuple[str, str]:
        """A new employee (in dept_b): (role key for ``t.headers``, employee id)."""
        self._spare += 1
        key = f"spare{self._spare}-{uniq()}"
        emp = add_employee(self.http, self.t, f"临时员工{uniq()[:4]}", ["employee"], [self.t.depts["dept_b"]],
                           join=join)
        self.t.ids[key], self.t.mobiles[key] = emp["id"], emp["mobile"]
        if join:
            self.t.tokens[key] = emp["token"]
        return key, emp["id"]

    def invitee(self) -> Prepared:
        """An employee not yet invited, and the phone number the admin confirms."""
        key, emp = self.spare(join=False)
        return Prepared(path={"id": emp}, values={"mobile": self.t.mobiles[key]})

    # -- customers ----------------------------------------------------------------------------------
    def customer(self, role: str = "admin", **over: Any) -> str:
        body = {"name": company(), "address": "苏州工业园区星湖街 328 号", "landlines": [landline()],
                "location": {"lat": LAT, "lng": LNG}, **over}
        return str(self.call("POST", "/api/v1/customers", role, json=body)["id"])

    def pooled(self, cid: str, owner: str | None) -> str:
        """Wait until the pool's read model has ``cid`` with ``owner`` (None: in the public pool)."""
        def seen() -> bool:
            r = self.http.get(f"/api/v1/pool/customers/{cid}", headers=self.t.headers("admin"))
            return r.status_code == 200 and r.json().get("owner_id") == owner
        wait_for(seen, timeout=60, what=f"the pool sees {cid} owned by {owner}")
        return cid

    def public_customer(self) -> str:
        cid = self.pooled(self.customer("employee"), self.t.ids["employee"])
        self.call("POST", f"/api/v1/customers/{cid}/release", "employee", json={"reason": "无需求"})
        return self.pooled(cid, None)

    def deleted_customer(self) -> str:
        cid = self.customer()
        self.call("DELETE", f"/api/v1/customers/{cid}")
        return cid

    def cbm(self) -> str:
        body = {"name": "客户经理", "email": f"cbm-{uniq()}@example.com"}
        return str(self.call("POST", "/api/v1/cbms", json=body)["id"])

    def contact(self) -> str:
        return str(self.call("POST", "/api/v1/contacts", json={"name": "联系人", "mobile": random_mobile()})["id"])

    def custom_field(self) -> str:
        return str(self.call("POST", "/api/v1/custom-fields", json={
            "entity": "customer", "key": f"f_{uniq()}", "label": "字段", "type": "text"})["id"])

    def tag_group(self, tag: str | None = None) -> str:
        return str(self.call("POST", "/api/v1/tag-groups", json={
            "name": f"组{uniq()}", "color": "blue", "tags": [tag or f"标签{uniq()}"]})["id"])

    def workbook(self, template: str, cells: dict[str, Any]) -> tuple[str, bytes, str]:
        """The service's own template with one data row (by header, a trailing * dropped)."""
        r = self.http.get(template, headers=self.t.headers("admin"))
        header = list(next(load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0]
                           .iter_rows(values_only=True)))
        names = [str(h or "").rstrip("*") for h in header]
        missing = set(cells) - set(names)
        if missing:
            raise AssertionError(f"fixture: template {template} has no column {sorted(missing)}: {names}")
        wb = Workbook()
        ws = wb.active
        ws.append(header)
        ws.append([cells.get(n, "") for n in names])
        out = io.BytesIO()
        wb.save(out)
        return ("data.xlsx", out.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    def customer_workbook(self) -> tuple[str, bytes, str]:
        return self.workbook("/api/v1/customers/import/template",
                             {"公司名称": company(), "经营地址": "苏州", "座机": landline()})

    def contact_workbook(self) -> tuple[str, bytes, str]:
        tag = f"导入{uniq()}"
        self.tag_group(tag)
        return self.workbook("/api/v1/contacts/import/template",
                             {"姓名": "导入联系人", "手机": random_mobile(), "标签": tag, "负责人": "员工 A"})

    # -- organisation --------------------------------------------------------------------------------
    def department(self) -> str:
        return str(self.call("POST", "/api/v1/departments", json={
            "name": f"部门{uniq()}", "parent_id": self.t.depts["root"]})["id"])

    # -- pool --------------------------------------------------------------------------------------
    def claim_request(self) -> str:
        return str(self.call("POST", "/api/v1/pool/claim-requests", "employee", json={
            "name": company(), "landline": landline(), "address": "苏州"})["id"])

    def notification(self, role: str) -> str:
        """An unread notification of ``role``'s inbox (a claim request notifies sales support)."""
        assert role == "support", "claim requests notify sales support"
        self.claim_request()

        def fresh() -> str | None:
            items = self.call("GET", "/api/v1/notifications", role, params={"unread": "true"})["items"]
            ids = [n["id"] for n in items if n["id"] not in self._used_notifications]
            return ids[0] if ids else None
        nid = wait_for(fresh, timeout=60, what=f"a notification for {role}")
        self._used_notifications.add(nid)
        return nid

    def dead_letter(self) -> str:
        """A delivery that failed its last try: one attempt allowed, a webhook nobody answers."""
        self.call("PATCH", "/api/v1/notify/settings", json={"max_attempts": 1})
        self.call("POST", "/api/v1/notify/webhooks", json={"url": DEAD_URL, "kinds": ["claim_request_submitted"]})
        self.claim_request()
        dead = wait_for(lambda: self.call("GET", "/api/v1/notify/dead-letters"), timeout=60,
                        what="a dead-lettered delivery")
        return str(dead[0]["id"])

    # -- visits --------------------------------------------------------------------------------------
    def visit(self, upto: str = "planned") -> str:
        """A visit of the admin (on a customer of theirs) taken up to ``upto``: planned,
        checked_in, checked_out or completed."""
        cid = self.customer()
        v = self.call("POST", "/api/v1/visits", json={"customer_id": cid, "planned_at": later(),
                                                      "topic": "拜访", "policy_accepted": True})
        vid = str(v["id"])
        steps = ["planned", "checked_in", "checked_out", "completed"]
        if steps.index(upto) >= 1:
            self.call("POST", f"/api/v1/visits/{vid}/check-in", data=self.point_form(),
                      files={"photo": ("sign.jpg", self.photo(), "image/jpeg")})
        if steps.index(upto) >= 2:
            self.call("POST", f"/api/v1/visits/{vid}/check-out", json={"lat": LAT, "lng": LNG, "accuracy": 10,
                                                                       "source": "gps"})
        if steps.index(upto) >= 3:
            self.call("POST", f"/api/v1/visits/{vid}/notes", json={"text": "谈了合作"})
        return vid

    @staticmethod
    def point_form() -> dict[str, str]:
        return {"time": datetime.now(UTC).replace(microsecond=0).isoformat(), "lat": str(LAT), "lng": str(LNG),
                "accuracy": "10", "source": "gps"}

    def route(self) -> str:
        return str(self.call("POST", "/api/v1/visit-routes", json={"name": f"路线{uniq()}",
                                                                   "stops": [self.customer()]})["id"])

    def webhook(self) -> str:
        hook = self.call("POST", "/api/v1/notify/webhooks", json={"url": DEAD_URL, "kinds": ["export_ready"]})
        return str(hook["id"])


Recipe = Callable[[World], Prepared]


def _id(value: str, role: str = "admin", **values: Any) -> Prepared:
    return Prepared(role=role, path={"id": value}, values=values)


#: (method, path) -> what the operation needs beyond its schema
RECIPES: dict[tuple[str, str], Recipe] = {
    # identity
    ("POST", "/api/v1/auth/logout"): lambda w: Prepared(role=w.spare()[0]),
    ("POST", "/api/v1/departments"): lambda w: Prepared(values={"name": f"部门{uniq()}",
                                                                "parent_id": w.t.depts["root"]}),
    ("PATCH", "/api/v1/departments/{id}"): lambda w: _id(w.department(), name=f"改名{uniq()}"),
    ("DELETE", "/api/v1/departments/{id}"): lambda w: _id(w.department()),
    ("POST", "/api/v1/employees"): lambda w: Prepared(values={"name": "新员工", "mobile": random_mobile(),
                                                              "dept_ids": [w.t.depts["dept_b"]]}),
    ("POST", "/api/v1/employees/me/leave"): lambda w: Prepared(role=w.spare()[0]),
    ("PATCH", "/api/v1/employees/{id}"): lambda w: _id(w.spare(join=False)[1], name=f"改名{uniq()[:4]}"),
    ("DELETE", "/api/v1/employees/{id}"): lambda w: _id(w.spare(join=False)[1]),
    ("POST", "/api/v1/employees/{id}/disable"): lambda w: _id(w.spare(join=False)[1]),
    ("POST", "/api/v1/employees/{id}/enable"): lambda w: _id(w.spare(join=False)[1]),
    ("POST", "/api/v1/employees/{id}/invitation"): lambda w: w.invitee(),
    ("PUT", "/api/v1/menu-permissions"): lambda w: Prepared(values={"grants": {"customer_visits": [
        w.t.depts["dept_b"]]}}),
    # customers
    ("POST", "/api/v1/customers"): lambda w: Prepared(values={"name": company(), "landlines": [landline()]}),
    ("PATCH", "/api/v1/customers/{id}"): lambda w: _id(w.customer(), remark="改了备注"),
    ("DELETE", "/api/v1/customers/{id}"): lambda w: _id(w.customer()),
    ("POST", "/api/v1/customers/duplicate-check"): lambda w: Prepared(values={"name": company()}),
    ("POST", "/api/v1/customers/bind"): lambda w: Prepared(values={"customer_ids": [w.customer()],
                                                                   "owner_id": w.t.ids["employee2"]}),
    ("POST", "/api/v1/customers/share"): lambda w: Prepared(values={"from_owner_id": w.t.ids["employee"],
                                                                    "to_user_ids": [w.t.ids["employee2"]]}),
    ("POST", "/api/v1/customers/departments"): lambda w: Prepared(values={"customer_ids": [w.customer()],
                                                                          "dept_ids": [w.t.depts["dept_a"]]}),
    ("POST", "/api/v1/customers/{id}/transfer"): lambda w: _id(w.customer(), new_owner_id=w.t.ids["employee2"]),
    ("POST", "/api/v1/customers/{id}/contact-notes"): lambda w: _id(w.customer(), content="电话沟通"),
    ("POST", "/api/v1/customers/{id}/projects"): lambda w: _id(w.customer(kind="vendor"), name=f"项目{uniq()}"),
    ("POST", "/api/v1/customers/{id}/release"): lambda w: _id(w.pooled(w.customer(), w.t.admin_id),
                                                              reason="无需求"),
    ("POST", "/api/v1/deleted-customers/{id}/restore"): lambda w: _id(w.deleted_customer()),
    ("POST", "/api/v1/cbms"): lambda w: Prepared(values={"name": "客户经理", "email": f"cbm-{uniq()}@example.com"}),
    ("PATCH", "/api/v1/cbms/{id}"): lambda w: _id(w.cbm(), remark="华东区"),
    ("DELETE", "/api/v1/cbms/{id}"): lambda w: _id(w.cbm()),
    ("POST", "/api/v1/customers/import/check"): lambda w: Prepared(files={"file": w.customer_workbook()}),
    ("POST", "/api/v1/customers/import"): lambda w: Prepared(files={"file": w.customer_workbook()}),
    ("POST", "/api/v1/contacts"): lambda w: Prepared(values={"mobile": random_mobile()}),
    ("PATCH", "/api/v1/contacts/{id}"): lambda w: _id(w.contact(), title="经理"),
    ("DELETE", "/api/v1/contacts/{id}"): lambda w: _id(w.contact()),
    ("POST", "/api/v1/contacts/import/check"): lambda w: Prepared(files={"file": w.contact_workbook()}),
    ("POST", "/api/v1/contacts/import"): lambda w: Prepared(files={"file": w.contact_workbook()}),
    ("POST", "/api/v1/custom-fields"): lambda w: Prepared(values={"key": f"f_{uniq()}"}),
    ("DELETE", "/api/v1/custom-fields/{id}"): lambda w: _id(w.custom_field()),
    ("POST", "/api/v1/tag-groups"): lambda w: Prepared(values={"name": f"组{uniq()}"}),
    ("PATCH", "/api/v1/tag-groups/{id}"): lambda w: _id(w.tag_group(), name=f"改名{uniq()}"),
    ("DELETE", "/api/v1/tag-groups/{id}"): lambda w: _id(w.tag_group()),
    # pool
    ("POST", "/api/v1/pool/customers/{id}/claim"): lambda w: _id(w.public_customer()),
    ("POST", "/api/v1/pool/customers/{id}/assign"): lambda w: _id(w.pooled(w.customer(), w.t.admin_id),
                                                                  owner_id=w.t.ids["employee2"]),
    ("POST", "/api/v1/pool/claim-requests"): lambda w: Prepared(role="employee", values={
        "name": company(), "landline": landline(), "address": "苏州"}),
    ("POST", "/api/v1/pool/claim-requests/{id}/approve"): lambda w: _id(w.claim_request()),
    ("POST", "/api/v1/pool/claim-requests/{id}/reject"): lambda w: _id(w.claim_request(), reason="信息不全"),
    ("PUT", "/api/v1/pool/rules"): lambda w: Prepared(values={"daily_claim_limit": 500}),
    # visits and reports
    ("POST", "/api/v1/visits"): lambda w: Prepared(values={"customer_id": w.customer(), "planned_at": later()}),
    ("POST", "/api/v1/visits/{id}/check-in"): lambda w: Prepared(
        path={"id": w.visit("planned")}, values=w.point_form(),
        files={"photo": ("sign.jpg", w.photo(), "image/jpeg")}),
    ("POST", "/api/v1/visits/{id}/check-out"): lambda w: _id(w.visit("checked_in"), lat=LAT, lng=LNG),
    ("POST", "/api/v1/visits/{id}/notes"): lambda w: _id(w.visit("checked_out"), text="谈了合作"),
    ("POST", "/api/v1/visits/{id}/review"): lambda w: _id(w.visit("completed"), decision="reject",
                                                          reason="照片不清楚"),
    ("PATCH", "/api/v1/visits/settings"): lambda w: Prepared(values={"min_stay_minutes": 30}),
    ("POST", "/api/v1/visit-routes"): lambda w: Prepared(values={"name": f"路线{uniq()}", "stops": [w.customer()]}),
    ("PATCH", "/api/v1/visit-routes/{id}"): lambda w: _id(w.route(), name=f"改名{uniq()}"),
    ("DELETE", "/api/v1/visit-routes/{id}"): lambda w: _id(w.route()),
    ("POST", "/api/v1/visit-routes/{id}/optimise"): lambda w: _id(w.route()),
    ("POST", "/api/v1/visit-routes/{id}/schedule"): lambda w: _id(
        w.route(), day=(date.today() + timedelta(days=3)).isoformat(), policy_accepted=True),
    ("PATCH", "/api/v1/reports/settings"): lambda w: Prepared(values={"cadence": {"A": 4}}),
    # notify
    ("PUT", "/api/v1/notifications/preferences"): lambda w: Prepared(values={"channels": {
        "visit_reviewed": ["inbox", "email"]}}),
    ("PATCH", "/api/v1/notifications/preferences"): lambda w: Prepared(values={"channels": {
        "export_ready": ["inbox"]}}),
    ("POST", "/api/v1/notifications/{id}/read"): lambda w: _id(w.notification("support"), role="support"),
    ("PUT", "/api/v1/notify/settings"): lambda w: Prepared(values={"digest_hour": 8}),
    ("PATCH", "/api/v1/notify/settings"): lambda w: Prepared(values={"digest_hour": 9}),
    ("POST", "/api/v1/notify/webhooks"): lambda w: Prepared(values={"url": DEAD_URL, "kinds": ["export_ready"]}),
    ("PATCH", "/api/v1/notify/webhooks/{id}"): lambda w: _id(w.webhook(), name="改名"),
    ("DELETE", "/api/v1/notify/webhooks/{id}"): lambda w: _id(w.webhook()),
    ("POST", "/api/v1/notify/webhooks/{id}/test"): lambda w: _id(w.webhook()),
    ("POST", "/api/v1/notify/dead-letters/{id}/resend"): lambda w: _id(w.dead_letter()),
}


def prepare(world: World, method: str, path: str) -> Prepared:
    recipe = RECIPES.get((method, path))
    return recipe(world) if recipe else Prepared()

"""One real payload per declared event, built the way its producer builds it: with the
producer's own helpers (``identity.store.employee_out``/``department_out``,
``customers.registry.created_facts``/``search_facts``, ``visits.views.event_data``) and, where
the producer writes the dict inline, the same keys as that code (file named beside each)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from customers.registry import created_facts, search_facts
from identity.sessions import entry
from identity.store import department_out, employee_out
from visits.views import event_data

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
AT = NOW.isoformat()

EMPLOYEE_DOC = {"_id": "e1", "tenant_id": "t1", "name": "Wang Fang", "mobile": "13800000001",
                "email": None, "language": None, "roles": ["employee"], "dept_ids": ["d1"],
                "primary_dept_id": "d1", "status": "joined", "disabled": False, "created_at": NOW,
                "updated_at": NOW}
DEPT_DOC = {"_id": "d1", "tenant_id": "t1", "name": "East", "parent_id": None, "manager_id": "e1",
            "created_at": NOW, "updated_at": NOW}
CUSTOMER_DOC = {"_id": "c1", "tenant_id": "t1", "name": "星河科技有限公司", "owner_id": "e1", "kind": "own",
                "grade": "A", "industry": "it", "region": "east", "address": "1 Road",
                "location": {"lat": 31.2, "lng": 121.5}, "cbm_id": None, "landlines": ["021-5555"],
                "faxes": [], "mobiles": ["13800000002"]}
VISIT_DOC = {"_id": "v1", "customer_id": "c1", "employee_id": "e1", "owner_id": "e1", "day": "2025-03-04",
             "planned_at": NOW, "status": "pending_check_in"}


def _employee(**extra: Any) -> dict[str, Any]:  # identity/org.py:_employee_event
    return {**employee_out(EMPLOYEE_DOC), "employee_id": "e1", **extra}


def _department(**extra: Any) -> dict[str, Any]:  # identity/org.py create/update_department
    return {**department_out(DEPT_DOC), "department_id": "d1", **extra}


def _move() -> dict[str, Any]:  # pool/ownership.py:record_move
    return {"customer_id": "c1", "from_owner_id": "e1", "to_owner_id": None, "reason": "no_contact", "seq": 3,
            "at": AT}


def _decision() -> dict[str, Any]:  # pool/requests.py:decide
    return {"request_id": "r1", "requester_id": "e1", "customer_id": "c1", "customer_name": "Galaxy",
            "reason": "ok", "enter_by": AT, "name_fix_by": None}


SAMPLES: dict[str, dict[str, Any]] = {
    # identity
    "tenant.created": {"tenant_id": "t1", "code": "acme", "name": "Acme", "admin_id": "e1"},  # access.py
    "department.created": _department(),
    "department.updated": _department(changed=["manager_id"]),
    "department.deleted": {"department_id": "d1", "id": "d1", "name": "East"},  # org.py:delete_department
    "employee.created": _employee(),
    "employee.joined": _employee(),
    "employee.updated": _employee(changed=["name"]),
    "employee.disabled": _employee(),
    "employee.enabled": _employee(),
    "employee.left": _employee(reason="left", handover_to=None),
    # identity/sessions.py:prepare (crmkit.access.AccessChange.to_data, built by sessions.entry)
    "employee.access_changed": entry(EMPLOYEE_DOC, tv=2, av=5, reason="logout", until=NOW).to_data(),
    "employee.invited": {  # org.py:_invite
        "employee_id": "e1", "name": "Wang Fang", "mobile": "13800000001", "email": None, "invitation_id": "i1",
        "invitation_token": "tok", "language": None, "expires_at": AT, "tenant_name": "Acme",
        "accept_url": "http://127.0.0.1:8000/m/#/join?i=i1&t=tok"},
    "tenant.menu_permissions_changed": {"grants": {"records": ["d1"]}},  # org.py:set_menu_permissions
    # customers
    "customer.created": created_facts(CUSTOMER_DOC),
    "customer.restored": {**created_facts(CUSTOMER_DOC), "reason": "mistake", "restored_by": "e2"},
    "customer.updated": {"customer_id": "c1", "fields": ["grade"], "name": "星河科技有限公司", "owner_id": "e1",
                         "grade": "B", "address": None, "location": None, "cbm_id": None, "industry": None,
                         **search_facts(CUSTOMER_DOC)},  # registry.py:update_customer
    "customer.deleted": {"customer_id": "c1", "name": "星河", "owner_id": "e1", "reason": None, "seq": 2},
    "customer.owner_changed": {"customer_id": "c1", "from_owner_id": "e1", "to_owner_id": "e2", "path": "transfer",
                               "reason": "", "seq": 2, "unowned": False, "customer_name": "星河"},  # ownership.py
    "customer.deal_signed": {"customer_id": "c1", "at": "2025-03-01", "owner_id": "e1", "contract_end": None},
    "customer.tags_changed": {"customer_id": "c1", "tags": ["vip"], "added": ["vip"], "removed": []},
    "customer.contact_noted": {"customer_id": "c1", "note_id": "n1", "owner_id": "e1", "at": AT, "kind": "call"},
    "customer.shared": {"from_owner_id": "e1", "to_user_ids": ["e2"], "customer_ids": ["c1"], "count": 1},
    # pool
    "pool.claim_request_submitted": {"request_id": "r1", "requester_id": "e1", "customer_id": None,
                                     "name": "Galaxy", "customer_name": "Galaxy", "reason": None},  # requests.py
    "pool.claim_request_approved": _decision(),
    "pool.claim_request_rejected": {**_decision(), "enter_by": None},
    "pool.claimed": {**_move(), "from_owner_id": None, "to_owner_id": "e1", "reason": ""},
    "pool.released": {**_move(), "reason": "released"},
    "pool.reclaimed": _move(),
    "pool.reclaim_warning": {"customer_id": "c1", "owner_id": "e1", "reclaim_on": "2025-03-10",  # reclaim.py
                             "rule": "no_contact", "lead_days": 3, "days_left": 3},
    # visits (planning.py, fieldwork.py, review.py, report_exports.py)
    "visit.planned": event_data(VISIT_DOC, {"topic": "intro", "scenario": None, "address": "1 Road",
                                            "project_ids": [], "task": False, "created_by": "e1",
                                            "cbm_id": None, "customer_name": "星河"}),
    "visit.checked_in": event_data(VISIT_DOC, {"status": "pending_check_out", "at": AT, "lat": 31.2, "lng": 121,
                                               "source": "gps", "has_photo": True, "photo_sha256": "ab" * 32,
                                               "flags": [], "customer_name": "星河"}),
    "visit.checked_out": event_data(VISIT_DOC, {"status": "pending_notes", "at": AT, "stay_minutes": 42,
                                                "plan_to_check_out_m": 12.5, "check_in_to_check_out_m": None,
                                                "source": "gps"}),
    "visit.completed": event_data(VISIT_DOC, {"status": "completed", "at": AT, "customer_name": "星河",
                                              "notes_excerpt": "went well", "stay_minutes": 42}),
    "visit.reviewed": event_data(VISIT_DOC, {"status": "valid", "result": "valid", "reason": None,
                                             "reviewer_id": "e9", "at": AT, "customer_name": "星河",
                                             "failing": []}),
    "visit.expired": event_data(VISIT_DOC, {"status": "expired", "previous_status": "pending_check_in",
                                            "at": AT, "customer_name": None}),
    "report.export_ready": {"export_id": "x1", "requested_by": "e1", "download_url": "/api/v1/reports/exports/x1",
                            "tenant_id": "t1", "filename": None},
}

#: the second producer of customer.created (customers/imports.py), with its own key set
IMPORTED_CUSTOMER = {
    "customer_id": "c2", "name": "月亮科技", "owner_id": "e1", "kind": "own", "grade": None, "industry": None,
    "region": None, "address": None, "location": None, "import_id": "imp1", **search_facts(CUSTOMER_DOC)}

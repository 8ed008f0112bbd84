"""Plans, tasks (a supervisor plans for a subordinate), routes and hand-over on departure."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from crmkit.clock import iso
from crmkit.context import CallContext
from crmkit.errors import BusinessRule, Conflict, Forbidden, InvalidInput, NotFound
from crmkit.nameko.kit import WorkerKit
from crmkit.outbox import Check
from visits import inputs, rules
from visits.access import visible_owners
from visits.fieldwork import idempotent
from visits.peers import Customers, Identity
from visits.store import Store, fix_dates
from visits.views import event_data, public

MAX_TEXT = 2000


def _text(data: dict[str, Any], name: str, required: bool = False, limit: int = MAX_TEXT) -> str:
    v = data.get(name)
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            raise InvalidInput("visit.missing_field", f"{name} is required", {"field": name})
        return ""
    if not isinstance(v, str) or len(v) > limit:
        raise InvalidInput("visit.bad_field", f"{name} must be text of at most {limit} characters", {"field": name})
    return v.strip()


def customer_facts(c: dict[str, Any]) -> dict[str, Any]:
    """The fields visits needs from a customers answer or event (tolerant of shapes)."""
    c = dict(c or {})
    if isinstance(c.get("customer"), dict):
        c = {**c, **c["customer"]}
    cbm = c.get("cbm") if isinstance(c.get("cbm"), dict) else None
    if cbm is not None:  # the customer's CBM record, as customers shows it: what visit.planned carries to notify
        cbm = {k: cbm.get(k) for k in ("id", "name", "email", "mobile") if cbm.get(k) is not None} or None
    cbm_id = c.get("cbm_id") or (cbm or {}).get("id") or (c.get("cbm") if isinstance(c.get("cbm"), str) else None)
    kind = c.get("kind") or c.get("customer_kind") or ("vendor" if c.get("is_vendor") else "own")
    loc: dict[str, Any] = c["location"] if isinstance(c.get("location"), dict) else {}
    lat = loc.get("lat", c.get("lat"))
    lng = loc.get("lng", c.get("lng"))
    projects = c.get("projects") or []
    project_ids = [p.get("id") if isinstance(p, dict) else p for p in projects] or list(c.get("project_ids") or [])
    return {
        "name": c.get("name") or c.get("company_name") or "",
        "owner_id": c.get("owner_id"),
        "cbm_id": cbm_id, "cbm": cbm,
        "kind": "vendor" if str(kind).lower() in ("vendor", "project", "project_linked") else "own",
        "address": c.get("address") or c.get("business_address") or "",
        "lat": lat, "lng": lng,
        "project_ids": [str(p) for p in project_ids if p],
    }


def fetch_customer(customers: Customers, customer_id: Any) -> dict[str, Any]:
    """Ask customers (with the caller's context): 404 when outside the caller's visibility."""
    customer_id = inputs.ident(customer_id, "customer_id")
    ans = customers.get_customer(customer_id=customer_id)
    if not ans:
        raise NotFound("customer.not_found", "no such customer", {"customer_id": customer_id})
    return customer_facts(ans)


def _remember_customer(store: Store, tenant_id: str, customer_id: str, facts: dict[str, Any]) -> dict[str, Any]:
    """Fill the read model from an answer; an owner kept from events (with a seq) wins."""
    row = store.get_customer_rm(tenant_id, customer_id)
    fields = {k: facts[k] for k in ("name", "cbm_id", "kind", "address") if facts.get(k) is not None}
    if row is None or row.get("owner_seq") is None:
        fields["owner_id"] = facts.get("owner_id")
    store.upsert_customer_rm(tenant_id, customer_id, fields)
    return store.get_customer_rm(tenant_id, customer_id) or {}


MAX_PROJECTS = 50


def check_projects(customers: Customers, customer_id: str, facts: dict[str, Any], given: Any) -> list[str]:
    """The projects a visit names: a vendor customer's visit names one or more, and every id
    named must be one of that customer's projects (asked from customers, which owns them)."""
    if given is None:
        given = []
    if not isinstance(given, list) or len(given) > MAX_PROJECTS or \
            not all(isinstance(p, str) and 0 < len(p) <= inputs.MAX_ID for p in given):
        raise InvalidInput("visit.bad_field", f"project_ids must be a list of at most {MAX_PROJECTS} ids",
                           {"field": "project_ids"})
    project_ids = list(dict.fromkeys(given))
    if facts["kind"] == "vendor" and not project_ids:
        raise BusinessRule("visit.projects_required", "a visit to a vendor customer must name its projects",
                           {"customer_id": customer_id})
    if project_ids:
        known = {str(p.get("id")) for p in customers.list_projects(customer_id=customer_id) or []
                 if isinstance(p, dict)}
        unknown = [p for p in project_ids if p not in known]
        if unknown:
            raise BusinessRule("visit.unknown_projects", "these projects are not the customer's projects",
                               {"customer_id": customer_id, "project_ids": unknown})
    return project_ids


def check_assignee(ctx: Any, identity: Identity, employee_id: str) -> None:
    """A task: the caller must be the employee's supervisor or an admin over them."""
    if employee_id == ctx.user_id:
        return
    if ctx.has_role("tenant_admin"):
        emp = identity.get_employee(employee_id=employee_id)
        if not emp or emp.get("status") in ("left", "deleted", "disabled"):
            raise BusinessRule("visit.assignee_inactive", "the employee cannot take visits",
                               {"employee_id": employee_id})
        return
    sup = (identity.supervisor_of(employee_id=employee_id) or {}).get("supervisor_id")
    if sup == ctx.user_id:
        return
    if ctx.has_role("dept_admin") and employee_id in visible_owners(ctx, identity)["user_ids"]:
        return
    raise Forbidden("visit.not_supervisor", "only the employee's supervisor or an admin may assign them a visit",
                    {"employee_id": employee_id})


def _planned_at(data: dict[str, Any]) -> datetime:
    raw = data.get("planned_at")
    if raw is None or raw == "":
        raise InvalidInput("visit.missing_field", "planned_at (ISO-8601) is required", {"field": "planned_at"})
    return rules.parse_instant(raw, "planned_at")


def _policy(data: dict[str, Any], settings: dict[str, Any]) -> str:
    current = str(settings["visit_policy_version"])
    if data.get("policy_accepted") is not True:
        raise BusinessRule("visit.policy_not_accepted", "the visit policy must be accepted",
                           {"policy_version": current})
    given = data.get("policy_version")
    if given is not None and str(given) != current:
        raise BusinessRule("visit.policy_outdated", "the visit policy changed: read and accept the current version",
                           {"policy_version": current, "accepted_version": given})
    return current


def plan_once(kit: WorkerKit, store: Store, customers: Customers, identity: Identity, sleep: Callable[[float], None],
              data: dict[str, Any]) -> dict[str, Any]:
    """``plan_visit``: the Idempotency-Key travels in the signed context; a retried plan makes
    one visit (the key scoped to the caller: ``<tenant>:plan:<user>:plan:<key>``)."""
    return idempotent(kit, store, f"plan:{kit.ctx.user_id}", "plan", kit.ctx.idempotency_key, sleep,
                      lambda: plan(kit, store, customers, identity, data))


def plan(kit: WorkerKit, store: Store, customers: Customers, identity: Identity,
         data: dict[str, Any]) -> dict[str, Any]:
    return write_plan(kit, store, check_plan(kit, store, customers, identity, data))


def check_plan(kit: WorkerKit, store: Store, customers: Customers, identity: Identity, data: Any) -> dict[str, Any]:
    """Everything a plan is refused for, before anything is written (a route's schedule
    checks every stop first: one refused stop plans none)."""
    ctx = kit.ctx
    data = inputs.obj(data, "data")
    settings = store.settings(ctx.tenant_id)
    employee_id = inputs.ident(data.get("employee_id"), "employee_id", required=False) or ctx.user_id
    route_id = inputs.ident(data.get("route_id"), "route_id", required=False)
    planned_at = _planned_at(data)
    given_loc = inputs.optional_location(data.get("location"))
    facts = fetch_customer(customers, data.get("customer_id"))
    check_assignee(ctx, identity, employee_id)
    policy_version = _policy(data, settings)
    tz = settings["time_zone"]
    day = rules.local_day(planned_at, tz)
    today = rules.local_day(kit.now(), tz)
    if day < today:
        raise BusinessRule("visit.planned_in_past", "a visit cannot be planned for a past day",
                           {"day": day, "today": today})
    loc = given_loc
    lat = loc.get("lat", facts.get("lat"))
    lng = loc.get("lng", facts.get("lng"))
    if lat is None or lng is None:
        raise InvalidInput("visit.missing_field", "location.lat and location.lng are required",
                           {"field": "location"})
    lat, lng = rules.check_lat_lng(lat, lng, "location")
    address = loc.get("address") or facts.get("address") or ""
    if not isinstance(address, str) or len(address) > 500:
        raise InvalidInput("visit.bad_field", "location.address must be text", {"field": "location.address"})
    project_ids = check_projects(customers, data["customer_id"], facts, data.get("project_ids"))
    topic = _text(data, "topic", required=True, limit=200)
    scenario = _text(data, "scenario", limit=200)
    return {"customer_id": data["customer_id"], "facts": facts, "employee_id": employee_id, "route_id": route_id,
            "planned_at": planned_at, "day": day, "address": address, "lat": lat, "lng": lng,
            "project_ids": project_ids, "topic": topic, "scenario": scenario, "policy_version": policy_version}


def write_plan(kit: WorkerKit, store: Store, checked: dict[str, Any]) -> dict[str, Any]:
    """Write a plan :func:`check_plan` accepted, with its ``visit.planned`` event."""
    ctx = kit.ctx
    customer_id, facts, employee_id, day = (checked[k] for k in ("customer_id", "facts", "employee_id", "day"))
    topic, scenario, address, project_ids = (checked[k] for k in ("topic", "scenario", "address", "project_ids"))
    rm = _remember_customer(store, ctx.tenant_id, customer_id, facts)
    now = kit.now()
    vid = uuid.uuid4().hex
    doc = {
        "_id": vid, "tenant_id": ctx.tenant_id, "customer_id": customer_id, "customer_name": facts["name"],
        "customer_kind": facts["kind"], "cbm_id": facts.get("cbm_id"), "project_ids": project_ids,
        "employee_id": employee_id, "created_by": ctx.user_id, "task": employee_id != ctx.user_id,
        "owner_id": rm.get("owner_id", facts.get("owner_id")),
        "planned_at": checked["planned_at"], "day": day, "month": rules.month_of(day),
        "location": {"address": address, "lat": checked["lat"], "lng": checked["lng"]},
        "topic": topic, "scenario": scenario, "policy_version": checked["policy_version"],
        "route_id": checked["route_id"], "status": rules.PENDING_CHECK_IN, "created_at": now, "updated_at": now,
    }
    extra = {"topic": topic, "scenario": scenario, "address": address, "project_ids": project_ids,
             "task": doc["task"], "created_by": ctx.user_id, "cbm_id": facts.get("cbm_id"),
             "customer_name": facts["name"]}
    if facts.get("cbm"):
        extra["cbm"] = facts["cbm"]
    ev = kit.event("visit.planned", event_data(doc, extra))
    with kit.change([ev], Check("visits", {"_id": vid})):
        store.mark_open(doc)  # before the visit: no open visit escapes the expiry sweep
        store.visits.insert_one(doc)
    # an owner change that arrived meanwhile wins (the read model follows events)
    latest = store.get_customer_rm(ctx.tenant_id, customer_id) or {}
    if latest.get("owner_seq") is not None and latest.get("owner_id") != doc["owner_id"]:
        store.visits.update_one({"_id": vid}, {"$set": {"owner_id": latest.get("owner_id")}})
        doc["owner_id"] = latest.get("owner_id")
    store.cal_add(doc)
    store.touch(vid)
    return public(doc)


# -- routes ---------------------------------------------------------------------------------

def _route(kit: WorkerKit, store: Store, route_id: str) -> dict[str, Any]:
    ctx = kit.ctx
    row = store.routes.find_one({"_id": str(route_id)})
    if row is None or row.get("tenant_id") != ctx.tenant_id or \
            (row.get("employee_id") != ctx.user_id and row.get("created_by") != ctx.user_id
             and not ctx.has_role("tenant_admin")):
        raise NotFound("route.not_found", "no such route", {"route_id": route_id})
    return row


def _stops(customers: Customers, stops: Any) -> list[dict[str, Any]]:
    if not isinstance(stops, list) or not stops or len(stops) > 50:
        raise InvalidInput("route.bad_stops", "stops must be a list of 1-50 customers", {"field": "stops"})
    out = []
    for s in stops:
        cid = s.get("customer_id") if isinstance(s, dict) else s
        facts = fetch_customer(customers, cid)
        lat = (s.get("lat") if isinstance(s, dict) else None) or facts.get("lat")
        lng = (s.get("lng") if isinstance(s, dict) else None) or facts.get("lng")
        if lat is not None and lng is not None:
            lat, lng = rules.check_lat_lng(lat, lng, f"stop {cid}")
        out.append({"customer_id": cid, "name": facts["name"], "address": facts.get("address") or "",
                    "lat": lat, "lng": lng, "kind": facts["kind"]})
    return out


def route_public(row: dict[str, Any]) -> dict[str, Any]:
    pts = [(s["lat"], s["lng"]) for s in row["stops"] if s.get("lat") is not None]
    length = rules.route_length(pts, list(range(len(pts)))) if len(pts) == len(row["stops"]) else None
    return {"id": row["_id"], "name": row["name"], "employee_id": row["employee_id"],
            "created_by": row.get("created_by"), "stops": row["stops"],
            "total_distance_m": None if length is None else round(length, 1)}


def create_route(kit: WorkerKit, store: Store, customers: Customers, identity: Identity,
                 data: dict[str, Any]) -> dict[str, Any]:
    ctx = kit.ctx
    data = inputs.obj(data, "data")
    name = _text(data, "name", required=True, limit=100)
    employee_id = inputs.ident(data.get("employee_id"), "employee_id", required=False) or ctx.user_id
    check_assignee(ctx, identity, employee_id)
    row = {"_id": uuid.uuid4().hex, "tenant_id": ctx.tenant_id, "employee_id": employee_id,
           "created_by": ctx.user_id, "name": name, "stops": _stops(customers, data.get("stops")),
           "created_at": kit.now()}
    store.routes.insert_one(row)
    return route_public(row)


def update_route(kit: WorkerKit, store: Store, customers: Customers, route_id: str,
                 data: dict[str, Any]) -> dict[str, Any]:
    data = inputs.obj(data, "data")
    row = _route(kit, store, route_id)
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = _text(data, "name", required=True, limit=100)
    if "stops" in data:
        changes["stops"] = _stops(customers, data["stops"])
    if changes:
        store.routes.update_one({"_id": row["_id"]}, {"$set": changes})
        row.update(changes)
    return route_public(row)


def list_routes(kit: WorkerKit, store: Store, employee_id: Any = None) -> list[dict[str, Any]]:
    """The caller's routes and the routes they made for others (a supervisor's for their
    team); ``employee_id`` keeps one person's."""
    ctx = kit.ctx
    emp = inputs.ident(employee_id, "employee_id", required=False)
    by_id: dict[str, dict[str, Any]] = {}
    for flt in ({"tenant_id": ctx.tenant_id, "employee_id": ctx.user_id},
                {"tenant_id": ctx.tenant_id, "created_by": ctx.user_id}):
        for r in store.routes.find(flt):
            by_id[r["_id"]] = r
    rows = [r for r in by_id.values() if emp is None or r["employee_id"] == emp]
    rows.sort(key=lambda r: (r["name"], r["_id"]))
    return [route_public(r) for r in rows]


def get_route(kit: WorkerKit, store: Store, route_id: str) -> dict[str, Any]:
    return route_public(_route(kit, store, route_id))


def delete_route(kit: WorkerKit, store: Store, route_id: str) -> dict[str, Any]:
    row = _route(kit, store, route_id)
    store.routes.delete_one({"_id": row["_id"]})
    return {"deleted": row["_id"]}


def suggest_order(kit: WorkerKit, store: Store, route_id: str, apply: bool = False) -> dict[str, Any]:
    row = _route(kit, store, route_id)
    stops = row["stops"]
    missing = [s["customer_id"] for s in stops if s.get("lat") is None]
    if missing:
        raise BusinessRule("route.stops_without_location", "every stop needs a location to shorten the route",
                           {"customer_ids": missing})
    pts = [(s["lat"], s["lng"]) for s in stops]
    order = rules.shorter_order(pts, keep_first=True)
    before = rules.route_length(pts, list(range(len(pts))))
    after = rules.route_length(pts, order)
    new_stops = [stops[i] for i in order]
    if apply:
        store.routes.update_one({"_id": row["_id"]}, {"$set": {"stops": new_stops}})
    return {"route_id": row["_id"], "order": [stops[i]["customer_id"] for i in order],
            "stops": new_stops, "distance_before_m": round(before, 1), "distance_after_m": round(after, 1),
            "applied": bool(apply)}


def schedule_route(kit: WorkerKit, store: Store,
                   customers: Customers, identity: Identity, route_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Put a route on a date: one plan per stop, in the route's order."""
    data = inputs.obj(data, "data")
    row = _route(kit, store, route_id)
    ctx = kit.ctx
    settings = store.settings(ctx.tenant_id)
    day = rules.parse_day(data.get("day"), "day", "route.bad_schedule")
    interval = inputs.integer(data.get("interval_minutes"), "interval_minutes", default=60, lo=1, hi=24 * 60,
                              code="route.bad_schedule")
    raw_start = data.get("start_time") or "09:00"
    try:
        if not isinstance(raw_start, str) or len(raw_start) > 15:
            raise ValueError
        start = time.fromisoformat(raw_start)
    except ValueError:
        raise InvalidInput("route.bad_schedule", "start_time must be HH:MM", {"field": "start_time"}) from None
    tz = rules.zone(settings["time_zone"])
    first = datetime.combine(datetime.fromisoformat(day).date(), start, tzinfo=tz)
    stops = row["stops"]
    if data.get("optimise"):
        stops = suggest_order(kit, store, route_id)["stops"]
    missing = [s["customer_id"] for s in stops if s.get("lat") is None]
    if missing:
        raise BusinessRule("route.stops_without_location", "every stop needs a location to be planned",
                           {"customer_ids": missing})
    per_stop = inputs.obj(data.get("project_ids"), "project_ids", code="route.bad_schedule", required=False)
    checked = []
    for i, s in enumerate(stops):
        at = first + timedelta(minutes=interval * i)
        checked.append(check_plan(kit, store, customers, identity, {
            "customer_id": s["customer_id"], "employee_id": row["employee_id"], "planned_at": iso(at),
            "location": {"address": s.get("address") or "", "lat": s["lat"], "lng": s["lng"]},
            "topic": data.get("topic") or row["name"], "scenario": data.get("scenario") or "route",
            "project_ids": per_stop.get(s["customer_id"]),
            "policy_accepted": data.get("policy_accepted"), "policy_version": data.get("policy_version"),
            "route_id": row["_id"],
        }))
    return {"route_id": row["_id"], "day": day, "visits": [write_plan(kit, store, c) for c in checked]}


# -- departure -------------------------------------------------------------------------------

def handover_preview(kit: WorkerKit, store: Store, ctx: CallContext, identity: Identity,
                     employee_id: Any) -> dict[str, Any]:
    """How many future plans (not yet checked in) a leaver would hand over — the rows
    ``hand_over`` moves. Tenant admins, and department admins over that person."""
    emp = inputs.ident(employee_id, "employee_id")
    if not ctx.has_role("tenant_admin", "system", "operator"):
        scope: dict[str, Any] = (visible_owners(ctx, identity) if ctx.has_role("dept_admin")
                                 else {"all": False, "user_ids": []})
        if not (scope["all"] or emp in scope["user_ids"]):
            raise Forbidden("visit.handover_forbidden", "only admins see what a leaver hands over")
    n = store.visits.count_documents({"tenant_id": ctx.tenant_id, "employee_id": emp,
                                          "status": rules.PENDING_CHECK_IN})
    return {"employee_id": emp, "future_visits": n}


def hand_over(kit: WorkerKit, store: Store,
              tenant_id: str, employee_id: str, handover_to: str | None) -> dict[str, int]:
    """Future plans (not yet checked in) pass to ``handover_to``, or are cancelled."""
    rows = list(store.visits.find({"tenant_id": tenant_id, "employee_id": employee_id,
                                       "status": rules.PENDING_CHECK_IN}))
    moved = cancelled = 0
    now = kit.now()
    for r in rows:
        if handover_to:
            store.visits.update_one({"_id": r["_id"], "status": rules.PENDING_CHECK_IN},
                                        {"$set": {"employee_id": handover_to, "handed_over_from": employee_id,
                                                  "updated_at": now}})
            store.cal_set(r, {"employee_id": handover_to})
            store.touch(r["_id"])
            moved += 1
        else:
            try:
                full = store.claim_step(fix_dates(r), "cancel",
                                        {"cancelled_reason": "employee_left"}, now)
            except Conflict:  # checked in meanwhile: leave it
                continue
            store.apply_step(r["_id"], full)
            cancelled += 1
    return {"moved": moved, "cancelled": cancelled}

"""What notify does with the events it handles: turning an event into notifications (resolve
recipients (identity RPC), render in
each recipient's language, write the inbox row and queue e-mail/webhook deliveries by
the recipient's preferences. Every write is keyed by (event_id, recipient, channel), so
running this twice for one event changes nothing."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from crmkit.clock import parse_iso
from crmkit.nameko.kit import WorkerKit
from notify import rules, templates
from notify.rules import Intent
from notify.store import Store

log = logging.getLogger(__name__)


def _by_id(answer: Any) -> dict[str, dict[str, Any]]:
    if isinstance(answer, dict) and "items" in answer:
        answer = answer["items"]
    if isinstance(answer, dict):
        return {str(k): v for k, v in answer.items() if isinstance(v, dict)}
    return {str(e.get("id")): e for e in answer or [] if isinstance(e, dict) and e.get("id")}


def notify(kit: WorkerKit, store: Store, identity: Any, env: dict[str, Any]) -> None:
    """Every notification an event asks for (``rules.intents_for``), as the tenant's system."""
    intents = rules.intents_for(env)
    if not intents:
        return
    kit.act_as_system(env["tenant_id"], env.get("request_id") or "")
    for intent in intents:
        dispatch(store, identity, env, intent, kit.now())


def dispatch(store: Store, identity: Any, env: dict[str, Any], intent: Intent, now: datetime) -> dict[str, int]:
    tenant = env["tenant_id"]
    event_id = env["event_id"]
    people: dict[str, dict[str, Any]] = {}
    ids = list(intent.to_ids)
    if intent.to_role:
        for e in identity.list_employees(role=intent.to_role) or []:
            if isinstance(e, dict) and e.get("id") and e.get("status", "joined") == "joined":
                people[str(e["id"])] = e
                ids.append(str(e["id"]))
    wanted = [i for i in dict.fromkeys(ids + list(intent.name_refs.values())) if i not in people]
    if wanted:
        people.update(_by_id(identity.get_employees(wanted)))
    values = dict(intent.values)
    for key, emp_id in intent.name_refs.items():
        if not values.get(key) and people.get(emp_id):
            values[key] = people[emp_id].get("name")
    tenant_settings = store.get_settings(tenant)
    counts = {"inbox": 0, "email": 0, "webhook": 0}
    hook_recipients: list[str] = []
    for rid in dict.fromkeys(ids):
        person = dict(people.get(rid) or {})
        if not person.get("email") and intent.emails.get(rid):
            person["email"] = intent.emails[rid]
        lang = templates.choose_language(person, intent.language, env.get("language"), tenant_settings.get("language"))
        own = dict(values)
        own.setdefault("name", person.get("name"))
        rendered = templates.render(intent.kind, lang, own)
        prefs = store.get_preferences(tenant, rid)
        chans = rules.channels_for(intent.kind, prefs)
        if "inbox" in chans and store.add_notification(tenant_id=tenant, event_id=event_id, recipient_id=rid,
                                                       kind=intent.kind, rendered=rendered, data=intent.data,
                                                       now=now):
            counts["inbox"] += 1
        if "email" in chans and person.get("email") and store.add_delivery(
                tenant_id=tenant, event_id=event_id, kind=intent.kind, recipient=rid, channel="email",
                target={"email": person["email"]}, message={**rendered, "data": intent.data}, now=now):
            counts["email"] += 1
        if "webhook" in chans:
            hook_recipients.append(rid)
    if intent.to_address:
        rendered = templates.render(intent.kind, templates.choose_language(
            {}, intent.to_address.get("language") or intent.language, env.get("language"),
            tenant_settings.get("language")), values)
        addr = intent.to_address["email"]
        if store.add_delivery(tenant_id=tenant, event_id=event_id, kind=intent.kind, recipient=f"mailto:{addr}",
                              channel="email", target={"email": addr}, message={**rendered, "data": intent.data},
                              now=now):
            counts["email"] += 1
        if "webhook" in rules.FIXED_CHANNELS.get(intent.kind, ()):  # the CBM notice: the tenant's hooks too
            hook_recipients.append(f"mailto:{addr}")
    if hook_recipients:
        lang = tenant_settings.get("language") or templates.DEFAULT_LANGUAGE
        rendered = templates.render(intent.kind, lang, values)
        for hook in store.webhooks_for(tenant, intent.kind):
            message = {**rendered, "data": intent.data, "recipients": hook_recipients,
                       "occurred_at": env.get("occurred_at")}
            if store.add_delivery(tenant_id=tenant, event_id=event_id, kind=intent.kind,
                                  recipient=f"hook:{hook['_id']}", channel="webhook",
                                  target={"webhook_id": hook["_id"]}, message=message, now=now):
                counts["webhook"] += 1
    log.info("event %s (%s): %s", event_id, intent.kind, counts)
    return counts


def track_visit(store: Store, env: dict[str, Any]) -> None:
    """Keep the read model the morning digest needs."""
    d = env.get("data") or {}
    vid = d.get("visit_id")
    if not vid:
        return
    t = env["type"]
    if t == "visit.planned":
        fields = {"employee_id": d.get("employee_id") or d.get("owner_id") or env.get("actor_id"),
                  "planned_at": d.get("planned_at") or d.get("planned_start") or d.get("start_at"),
                  "customer_name": d.get("customer_name")}
        store.upsert_visit(env["tenant_id"], str(vid), fields, initial={"status": "pending_check_in"})
        return
    status = {"visit.checked_in": "pending_check_out", "visit.expired": "expired",
              "visit.cancelled": "cancelled"}.get(t, "done")
    store.upsert_visit(env["tenant_id"], str(vid), {"status": status})


def run_digest(store: Store, identity: Any, as_tenant: Any, now: datetime) -> int:
    """Morning digest: once per tenant and local day, after the tenant's digest hour, tell
    each employee about their visits planned for today that still wait for check-in."""
    by_tenant: dict[str, list[dict[str, Any]]] = {}
    for v in store.pending_visits():
        by_tenant.setdefault(v["tenant_id"], []).append(v)
    sent = 0
    for tenant, visits in by_tenant.items():
        settings = store.get_settings(tenant)
        tz = settings.get("timezone") or rules.DEFAULT_TIMEZONE
        day, hour = rules.local_day(now, tz)
        if hour < int(settings.get("digest_hour", rules.DEFAULT_DIGEST_HOUR)):
            continue
        todays: dict[str, list[dict[str, Any]]] = {}
        for v in visits:
            planned = v.get("planned_at")
            if not planned or not v.get("employee_id"):
                continue
            try:
                vday, _ = rules.local_day(parse_iso(str(planned)), tz)
            except ValueError:
                continue
            if vday == day:
                todays.setdefault(str(v["employee_id"]), []).append(v)
        if not todays or not store.claim_digest(tenant, day, now):
            continue
        as_tenant(tenant)
        env = {"event_id": f"digest:{tenant}:{day}", "tenant_id": tenant, "type": "notify.daily_digest"}
        for emp, items in todays.items():
            names = [str(i.get("customer_name") or "—") for i in sorted(items, key=lambda i: str(i["planned_at"]))]
            intent = Intent("daily_digest", to_ids=[emp], values={"date": day, "count": len(items), "items": names},
                            data={"date": day, "visit_ids": [i["_id"] for i in items]})
            dispatch(store, identity, env, intent, now)
            sent += 1
    return sent

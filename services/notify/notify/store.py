"""Persistence of notify (pymongo; works on MongoDB and FerretDB 1.x).

Collections: ``notifications`` (inbox), ``deliveries`` (outbound e-mail/webhook with
their state), ``delivery_attempts`` (one row per attempt), ``delivery_claims`` (an
insert under a unique id wins the right to make attempt N — FerretDB's conditional
updates are not atomic), ``webhooks``, ``settings`` (per tenant), ``preferences``
(per employee), ``visit_plans`` (read model for the morning digest), ``digests``.
Every delivery is unique on (event_id, recipient, channel): an event that arrives
twice produces one notification and one delivery per recipient and channel.
"""
from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from crmkit import db as service_db
from crmkit import docstore
from crmkit.clock import iso
from crmkit.nameko.dependency import Dependency
from notify import rules

NS = uuid.UUID("6f1d7d0e-51f4-4c55-9a43-6a0c1c1f7a11")


def delivery_key(event_id: str, recipient: str, channel: str) -> str:
    return uuid.uuid5(NS, f"{event_id}|{recipient}|{channel}").hex


class Store:
    def __init__(self, db: Database[Any]):
        self.db = db
        self.notifications = db["notifications"]
        self.deliveries = db["deliveries"]
        self.attempts = db["delivery_attempts"]
        self.claims = db["delivery_claims"]
        self.webhooks = db["webhooks"]
        self.settings = db["settings"]
        self.preferences = db["preferences"]
        self.visit_plans = db["visit_plans"]
        self.digests = db["digests"]

    def ensure_indexes(self) -> None:
        self.notifications.create_index([("event_id", ASCENDING), ("recipient_id", ASCENDING),
                                         ("channel", ASCENDING)], unique=True, name="one_per_recipient")
        self.notifications.create_index([("tenant_id", ASCENDING), ("recipient_id", ASCENDING),
                                         ("sort_key", DESCENDING)])
        self.notifications.create_index([("tenant_id", ASCENDING), ("recipient_id", ASCENDING), ("read", ASCENDING)])
        self.deliveries.create_index([("event_id", ASCENDING), ("recipient", ASCENDING), ("channel", ASCENDING)],
                                     unique=True, name="one_per_recipient")
        self.deliveries.create_index([("status", ASCENDING)])
        self.deliveries.create_index([("tenant_id", ASCENDING), ("status", ASCENDING)])
        self.attempts.create_index([("delivery_id", ASCENDING)])
        self.webhooks.create_index([("tenant_id", ASCENDING)])
        self.visit_plans.create_index([("status", ASCENDING)])

    # -- inbox -------------------------------------------------------------------------------------
    def add_notification(self, *, tenant_id: str, event_id: str, recipient_id: str, kind: str,
                         rendered: dict[str, str], data: dict[str, Any], now: datetime) -> bool:
        nid = delivery_key(event_id, recipient_id, "inbox")
        doc = {"_id": nid, "tenant_id": tenant_id, "event_id": event_id, "recipient_id": recipient_id,
               "channel": "inbox", "kind": kind, "title": rendered["title"], "body": rendered["body"],
               "language": rendered["language"], "data": data, "read": False, "read_at": None,
               "created_at": now, "sort_key": rules.sort_key(now, nid)}
        return docstore.insert_once(self.notifications, doc)

    @staticmethod
    def public_notification(d: dict[str, Any]) -> dict[str, Any]:
        return {"id": d["_id"], "kind": d["kind"], "title": d["title"], "body": d["body"],
                "language": d.get("language"), "data": d.get("data") or {}, "read": bool(d.get("read")),
                "read_at": iso(d["read_at"]) if d.get("read_at") else None, "created_at": iso(d["created_at"])}

    def list_notifications(self, tenant_id: str, recipient_id: str, cursor: str | None, limit: int,
                           unread_only: bool = False) -> dict[str, Any]:
        flt: dict[str, Any] = {"tenant_id": tenant_id, "recipient_id": recipient_id}
        if unread_only:
            flt["read"] = False
        key = rules.decode_cursor(cursor)
        if key:
            flt["sort_key"] = {"$lt": key}
        rows = list(self.notifications.find(flt).sort("sort_key", DESCENDING).limit(limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        return {"items": [self.public_notification(r) for r in rows],
                "next_cursor": rules.encode_cursor(rows[-1]["sort_key"]) if more and rows else None}

    def unread_count(self, tenant_id: str, recipient_id: str) -> int:
        return self.notifications.count_documents({"tenant_id": tenant_id, "recipient_id": recipient_id,
                                                   "read": False})

    def mark_read(self, tenant_id: str, recipient_id: str, notification_id: str,
                  now: datetime) -> dict[str, Any] | None:
        flt = {"_id": notification_id, "tenant_id": tenant_id, "recipient_id": recipient_id}
        row: dict[str, Any] | None = self.notifications.find_one(flt)
        if row is None:
            return None
        if not row.get("read"):
            self.notifications.update_one(flt, {"$set": {"read": True, "read_at": now}})
            row.update(read=True, read_at=now)
        return row

    def mark_all_read(self, tenant_id: str, recipient_id: str, now: datetime) -> int:
        res = self.notifications.update_many({"tenant_id": tenant_id, "recipient_id": recipient_id, "read": False},
                                             {"$set": {"read": True, "read_at": now}})
        return int(res.modified_count)

    # -- deliveries --------------------------------------------------------------------------------
    def add_delivery(self, *, tenant_id: str, event_id: str, kind: str, recipient: str, channel: str,
                     target: dict[str, Any], message: dict[str, Any], now: datetime) -> bool:
        did = delivery_key(event_id, recipient, channel)
        doc = {"_id": did, "tenant_id": tenant_id, "event_id": event_id, "kind": kind, "recipient": recipient,
               "channel": channel, "target": target, "message": message, "status": "pending", "attempts": 0,
               "generation": 0, "next_at": now, "created_at": now, "updated_at": now, "last_error": None,
               "dead_reason": None, "sent_at": None}
        return docstore.insert_once(self.deliveries, doc)

    def due_deliveries(self, now: datetime, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.deliveries.find({"status": "pending"}).sort("next_at", ASCENDING).limit(limit * 4)
        return [r for r in rows if r["next_at"] <= now][:limit]

    def claim_attempt(self, delivery: dict[str, Any], now: datetime) -> bool:
        """Exactly one sender wins attempt N of generation G of a delivery."""
        cid = f"{delivery['_id']}:{delivery.get('generation', 0)}:{delivery['attempts'] + 1}"
        return docstore.insert_once(self.claims, {"_id": cid, "at": now})

    def claim_lost_attempt(self, delivery: dict[str, Any], now: datetime, grace: timedelta) -> bool:
        """True (once) when attempt N was claimed longer than ``grace`` ago and never recorded:
        its sender died; the caller records it as failed so the delivery moves on."""
        cid = f"{delivery['_id']}:{delivery.get('generation', 0)}:{delivery['attempts'] + 1}"
        claim = self.claims.find_one({"_id": cid})
        if claim is None or claim["at"] > now - grace:
            return False
        return docstore.insert_once(self.claims, {"_id": cid + ":lost", "at": now})

    def finish_attempt(self, delivery: dict[str, Any], *, outcome: str, error: str | None, latency_ms: float,
                       now: datetime, next_at: datetime | None, dead: bool, detail: str | None = None) -> None:
        attempt = delivery["attempts"] + 1
        self.attempts.insert_one({
            "_id": uuid.uuid4().hex, "delivery_id": delivery["_id"], "tenant_id": delivery["tenant_id"],
            "generation": delivery.get("generation", 0), "attempt": attempt, "at": now,
            "channel": delivery["channel"], "outcome": outcome, "latency_ms": round(latency_ms, 2),
            "error": error, "detail": detail,
        })
        update: dict[str, Any] = {"attempts": attempt, "updated_at": now, "last_error": error}
        if outcome == "ok":
            update.update(status="sent", sent_at=now)
        elif dead:
            update.update(status="dead", dead_reason=error, dead_at=now)
        else:
            update.update(next_at=next_at)
        self.deliveries.update_one({"_id": delivery["_id"]}, {"$set": update})

    def get_delivery(self, tenant_id: str, delivery_id: str) -> dict[str, Any] | None:
        return self.deliveries.find_one({"_id": delivery_id, "tenant_id": tenant_id})

    def list_deliveries(self, tenant_id: str, status: str | None = None, event_id: str | None = None,
                        limit: int = 100) -> list[dict[str, Any]]:
        flt: dict[str, Any] = {"tenant_id": tenant_id}
        if status:
            flt["status"] = status
        if event_id:
            flt["event_id"] = event_id
        return list(self.deliveries.find(flt).sort("created_at", DESCENDING).limit(limit))

    def attempts_of(self, delivery_id: str) -> list[dict[str, Any]]:
        return list(self.attempts.find({"delivery_id": delivery_id}).sort("at", ASCENDING))

    def resend(self, tenant_id: str, delivery_id: str, now: datetime) -> dict[str, Any] | None:
        row: dict[str, Any] | None = self.deliveries.find_one(
            {"_id": delivery_id, "tenant_id": tenant_id, "status": "dead"})
        if row is None:
            return None
        gen = int(row.get("generation", 0)) + 1
        # a new generation: its attempts are claimed afresh
        self.deliveries.update_one({"_id": delivery_id}, {"$set": {
            "status": "pending", "attempts": 0, "generation": gen, "next_at": now, "updated_at": now,
            "dead_reason": None, "resent_at": now}})
        row.update(status="pending", attempts=0, generation=gen)
        return row

    @staticmethod
    def public_delivery(d: dict[str, Any], attempts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        out = {"id": d["_id"], "event_id": d["event_id"], "kind": d["kind"], "channel": d["channel"],
               "recipient": d["recipient"], "status": d["status"], "attempts": d["attempts"],
               "generation": d.get("generation", 0), "last_error": d.get("last_error"),
               "dead_reason": d.get("dead_reason"), "created_at": iso(d["created_at"]),
               "next_at": iso(d["next_at"]) if d.get("next_at") else None,
               "sent_at": iso(d["sent_at"]) if d.get("sent_at") else None,
               "target": {k: v for k, v in (d.get("target") or {}).items() if k in ("webhook_id", "email")},
               "title": (d.get("message") or {}).get("title")}
        if attempts is not None:
            out["attempt_log"] = [{"attempt": a["attempt"], "generation": a.get("generation", 0), "at": iso(a["at"]),
                                   "channel": a["channel"], "outcome": a["outcome"], "latency_ms": a["latency_ms"],
                                   "error": a.get("error")} for a in attempts]
        return out

    # -- webhooks ----------------------------------------------------------------------------------
    def create_webhook(self, tenant_id: str, data: dict[str, Any], now: datetime,
                       idempotency_key: str | None = None) -> dict[str, Any]:
        """With an idempotency key a retried create returns the first one's webhook."""
        wid = uuid.uuid5(NS, f"{tenant_id}|webhook|{idempotency_key}").hex if idempotency_key else uuid.uuid4().hex
        doc = {"_id": wid, "tenant_id": tenant_id, "url": data["url"], "name": data.get("name", ""),
               "kinds": data.get("kinds", []), "active": data.get("active", True),
               "secret": data.get("secret") or secrets.token_urlsafe(32), "created_at": now, "updated_at": now}
        if not docstore.insert_once(self.webhooks, doc):
            return self.webhooks.find_one({"_id": wid}) or doc
        return doc

    def get_webhook(self, tenant_id: str, webhook_id: str) -> dict[str, Any] | None:
        return self.webhooks.find_one({"_id": webhook_id, "tenant_id": tenant_id})

    def list_webhooks(self, tenant_id: str) -> list[dict[str, Any]]:
        return list(self.webhooks.find({"tenant_id": tenant_id}).sort("created_at", ASCENDING))

    def update_webhook(self, tenant_id: str, webhook_id: str, data: dict[str, Any],
                       now: datetime) -> dict[str, Any] | None:
        if self.get_webhook(tenant_id, webhook_id) is None:
            return None
        self.webhooks.update_one({"_id": webhook_id, "tenant_id": tenant_id}, {"$set": {**data, "updated_at": now}})
        return self.get_webhook(tenant_id, webhook_id)

    def delete_webhook(self, tenant_id: str, webhook_id: str) -> bool:
        return bool(self.webhooks.delete_one({"_id": webhook_id, "tenant_id": tenant_id}).deleted_count)

    def webhooks_for(self, tenant_id: str, kind: str) -> list[dict[str, Any]]:
        return [w for w in self.list_webhooks(tenant_id)
                if w.get("active", True) and (not w.get("kinds") or kind in w["kinds"])]

    @staticmethod
    def public_webhook(w: dict[str, Any], with_secret: bool = False) -> dict[str, Any]:
        out = {"id": w["_id"], "url": w["url"], "name": w.get("name", ""), "kinds": w.get("kinds", []),
               "active": w.get("active", True), "created_at": iso(w["created_at"])}
        if with_secret:
            out["secret"] = w["secret"]
        return out

    # -- settings and preferences ---------------------------------------------------------------------
    def get_settings(self, tenant_id: str) -> dict[str, Any]:
        return self.settings.find_one({"_id": tenant_id}) or {}

    def put_settings(self, tenant_id: str, settings: dict[str, Any]) -> None:
        doc = {k: v for k, v in settings.items() if k != "_id"}
        self.settings.replace_one({"_id": tenant_id}, {"_id": tenant_id, **doc}, upsert=True)

    def get_preferences(self, tenant_id: str, user_id: str) -> dict[str, Any]:
        row = self.preferences.find_one({"_id": f"{tenant_id}:{user_id}"})
        return dict((row or {}).get("channels") or {})

    def put_preferences(self, tenant_id: str, user_id: str, channels: dict[str, list[str]], now: datetime) -> None:
        merged = self.get_preferences(tenant_id, user_id)
        merged.update(channels)
        self.preferences.replace_one({"_id": f"{tenant_id}:{user_id}"}, {
            "_id": f"{tenant_id}:{user_id}", "tenant_id": tenant_id, "user_id": user_id, "channels": merged,
            "updated_at": now}, upsert=True)

    # -- visit read model and digest ---------------------------------------------------------------
    def upsert_visit(self, tenant_id: str, visit_id: str, fields: dict[str, Any],
                     initial: dict[str, Any] | None = None) -> None:
        """``initial`` only applies when the row is new: events of one visit come through
        different queues, so a late ``visit.planned`` must not undo a check-in."""
        update: dict[str, Any] = {"$set": {"tenant_id": tenant_id, **fields}}
        if initial:
            update["$setOnInsert"] = initial
        docstore.upsert(self.visit_plans, {"_id": visit_id}, update)

    def pending_visits(self) -> list[dict[str, Any]]:
        return list(self.visit_plans.find({"status": "pending_check_in"}))

    def claim_digest(self, tenant_id: str, day: str, now: datetime) -> bool:
        return docstore.insert_once(self.digests, {"_id": f"{tenant_id}:{day}", "at": now})

    def purge_claims(self, older_than: datetime) -> None:
        self.claims.delete_many({"at": {"$lt": older_than}})


__all__ = ["Store", "delivery_key", "timedelta"]


class NotifyStore(Dependency[Store]):
    """This service's persistence; indexes are ensured at start."""

    def setup(self) -> None:
        self.store = Store(service_db.service_db("notify"))

    def start(self) -> None:
        self.store.ensure_indexes()

    def get_dependency(self, worker_ctx: Any) -> Store:
        return self.store

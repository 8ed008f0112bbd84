"""What every service has: health, the outbox relay, dead letters and test hooks."""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from nameko.timer import timer

from crmkit import dbtrace, metrics
from crmkit.clock import iso, parse_iso
from crmkit.errors import Forbidden, NotFound
from crmkit.nameko import events
from crmkit.nameko.kit import run_relay
from crmkit.nameko.rpc import api as rpc


class BaseService:
    """Mix into a service class that has ``kit = Kit("<name>")``."""

    kit: Any

    @rpc
    def health(self) -> dict[str, Any]:
        p = self.kit.provider
        try:  # a real indexed read, not only a ping: the database answers queries
            pending = p.db["outbox"].find_one({"status": "pending"}, {"_id": 1}) is not None
            ok = True
        except Exception:
            pending, ok = False, False
        return {"service": p.service, "status": "ok" if ok else "degraded", "db": ok,
                "outbox_pending": pending, "workers_busy": p.busy, "workers_capacity": p.capacity}

    @timer(interval=0.25)
    def _outbox_relay(self) -> None:
        p = self.kit.provider
        run_relay(p, lambda: p.outbox.relay_once(
            lambda env: p.publisher.publish_event(p.exchange_for(env["type"]), env)))

    @timer(interval=3600)
    def _housekeeping(self) -> None:
        p = self.kit.provider
        p.outbox.purge_sent()
        p.inbox.forget_older_than(timedelta(days=30))
        metrics.DEAD_LETTERS.labels(p.service).set(p.inbox.count_dead())

    # -- dead letters (operators, and tenant admins for their own tenant) --------------
    def _dead_letter_scope(self) -> dict[str, Any]:
        ctx = self.kit.ctx
        if ctx.has_role("operator", "system"):
            return {}
        if ctx.has_role("tenant_admin"):
            return {"tenant_id": ctx.tenant_id}
        raise Forbidden("dead_letters.forbidden", "only an operator or tenant admin may see dead letters")

    @rpc
    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        scope = self._dead_letter_scope()
        rows = [r for r in self.kit.provider.inbox.list_dead(int(limit))
                if all(r.get(k) == v for k, v in scope.items())]
        return [{"id": r["_id"], "handler": r["handler"], "queue": r["queue"], "event_id": r["event_id"],
                 "event_type": r["event_type"], "tenant_id": r["tenant_id"], "error": r["error"],
                 "attempts": r["attempts"], "parked_at": iso(r["parked_at"])} for r in rows]

    @rpc
    def replay_dead_letter(self, dead_letter_id: str) -> dict[str, Any]:
        scope = self._dead_letter_scope()
        p = self.kit.provider
        row = p.inbox.dead.find_one({"_id": dead_letter_id, "status": "parked"})
        if row is None or any(row.get(k) != v for k, v in scope.items()):
            raise NotFound("dead_letter.not_found", "no such dead letter")
        row = p.inbox.unpark(dead_letter_id)
        events.replay(p, row)
        metrics.DEAD_LETTERS.labels(p.service).set(p.inbox.count_dead())
        return {"replayed": dead_letter_id}

    # -- test hooks (only with CRM_TEST_HOOKS=1) -----------------------------------------
    @rpc
    def _test_hold_outbox(self, seconds: float) -> dict[str, Any]:
        self.kit.require_test_hooks()
        self.kit.provider.hold_until = time.time() + float(seconds)
        return {"held_for": seconds}

    @rpc
    def _test_delay_handling(self, event_type: str, seconds: float = 0.0) -> dict[str, Any]:
        """Make this service handle ``event_type`` only ``seconds`` after it arrives (0: at once),
        as a consumer that is behind would: what a user sees before an event has landed."""
        self.kit.require_test_hooks()
        delays = self.kit.provider.handling_delays
        if float(seconds) > 0:
            delays[str(event_type)] = min(float(seconds), 60.0)
        else:
            delays.pop(str(event_type), None)
        return {"delays": dict(delays)}

    @rpc
    def _test_set_clock(self, now: str | None = None) -> dict[str, Any]:
        """Move this service's clock to ``now`` (ISO-8601), or back to real time."""
        self.kit.require_test_hooks()
        p = self.kit.provider
        if now is None:
            p.clock.offset = timedelta(0)
        else:
            p.clock.set_now(parse_iso(now))
        p.db["clock"].replace_one({"_id": "offset"}, {"_id": "offset", "seconds": p.clock.offset.total_seconds()},
                                  upsert=True)
        return {"now": iso(p.now())}

    @rpc
    def _test_db_trace(self, reset: bool = False) -> dict[str, Any]:
        """Database round trips, RPCs and timed sections per traced entrypoint (``crmkit.dbtrace``)."""
        self.kit.require_test_hooks()
        return dbtrace.report(bool(reset))

    @rpc
    def _test_outbox_backlog(self) -> int:
        return int(self.kit.provider.outbox.backlog())

    @rpc
    def _test_freeze(self, seconds: float) -> dict[str, Any]:
        """Block the whole eventlet hub (as CPU-bound work that never yields would)."""
        self.kit.require_test_hooks()
        import eventlet.patcher

        eventlet.patcher.original("time").sleep(min(float(seconds), 60.0))
        return {"froze_for": seconds}

    @rpc
    def _test_stop_heartbeat(self) -> dict[str, Any]:
        """End the container's heartbeat thread (as if the container's threads had died)."""
        self.kit.require_test_hooks()
        c = self.kit.provider.container
        for gt, name in list(c._managed_threads.items()):
            if name == "crm-heartbeat":
                gt.kill()
        return {"stopped": True}


__all__ = ["BaseService", "datetime"]

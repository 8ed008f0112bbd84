"""Two small services that exercise the kit itself (outbox, idempotent handlers,
retries, dead letters, late subscribers) against the real broker and database."""
from __future__ import annotations

from typing import Any, ClassVar

from contracts import Event, Payload, declare_event, declare_rpc
from contracts.base import Answer
from crmkit.envelope import make_event, sign_event
from crmkit.errors import InvalidInput
from crmkit.nameko.base import BaseService
from crmkit.nameko.events import subscribe
from crmkit.nameko.kit import Kit
from crmkit.nameko.rpc import TimedRpc, api
from crmkit.outbox import Check


# the kit checks every event against its declaration (crmkit.messages): these services declare theirs
@declare_event
class ThingChanged(Event):
    NAME: ClassVar[str] = "thing.changed"
    PRODUCER: ClassVar[str] = "fproducer"
    NEEDS: ClassVar[tuple[str, ...]] = ("key",)
    key: str
    fail_times: int = 0
    always_fail: bool = False
    blob: str | None = None


@declare_event
class ThingNoted(Event):
    NAME: ClassVar[str] = "thing.noted"
    PRODUCER: ClassVar[str] = "fconsumer"
    key: str


class WhoamiArgs(Payload):
    n: int = 0


class Whoami(Answer):
    tenant_id: str
    user_id: str
    n: int


declare_rpc("fconsumer", "whoami", WhoamiArgs, Whoami, ("fproducer",), "the caller's context as fconsumer sees it")
declare_rpc("fconsumer", "bad_whoami", WhoamiArgs, Whoami, ("fproducer",), "an answer that breaks its declaration")


class ProducerService(BaseService):
    name = "fproducer"
    kit = Kit("fproducer")
    consumer = TimedRpc("fconsumer", timeout=5)

    @api
    def make_change(self, key: str, fail_times: int = 0, always_fail: bool = False) -> dict[str, Any]:
        ctx = self.kit.ctx
        ev = self.kit.event("thing.changed", {"key": key, "fail_times": fail_times, "always_fail": always_fail})
        with self.kit.change([ev], Check("things", {"_id": key})):
            self.kit.db.things.insert_one({"_id": key, "tenant_id": ctx.tenant_id})
        return {"event_id": ev["event_id"]}

    @api
    def failing_change(self, key: str) -> None:
        ev = self.kit.event("thing.changed", {"key": key})
        with self.kit.change([ev], Check("things", {"_id": key})):
            raise InvalidInput("thing.refused", "refused before writing")

    @api
    def publish_directly(self, key: str, times: int) -> str:
        """The same envelope put on the bus several times (a redelivery, as RabbitMQ may do)."""
        ev = self.kit.event("thing.changed", {"key": key, "fail_times": 0, "always_fail": False})
        for _ in range(times):
            self.kit.provider.publisher.publish_event("fproducer", ev)
        return str(ev["event_id"])


    # -- typed messages (tests/foundation/test_kit_contracts.py) ---------------------------
    @api
    def change_with_event(self, key: str, type: str, data: dict[str, Any]) -> dict[str, Any]:
        """Write ``things[key]`` with the event ``type``/``data`` (the kit checks it first)."""
        ctx = self.kit.ctx
        ev = self.kit.event(type, data)
        with self.kit.change([ev], Check("things", {"_id": key})):
            self.kit.db.things.insert_one({"_id": key, "tenant_id": ctx.tenant_id})
        return {"event_id": ev["event_id"]}

    @api
    def publish_unchecked(self, data: dict[str, Any]) -> str:
        """A signed ``thing.changed`` with ``data`` as it is, past the emit check (what a buggy or
        newer producer might put on the bus)."""
        ctx = self.kit.ctx
        ev = sign_event(make_event("thing.changed", ctx.tenant_id, ctx.user_id, data, occurred_at=self.kit.now()),
                        self.kit.provider.key)
        self.kit.provider.publisher.publish_event("fproducer", ev)
        return str(ev["event_id"])

    @api
    def outbox_rows(self, event_type: str) -> int:
        return self.kit.db.outbox.count_documents({"envelope.type": event_type}) + \
            self.kit.db.outbox_sent.count_documents({"envelope.type": event_type})

    @api
    def call_consumer(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        self.kit.ctx  # noqa: B018 - verified first, as an entrypoint does
        return getattr(self.consumer, name)(*args, **kwargs)

    # -- call contexts (tests/foundation/test_kit_context.py) ------------------------------
    @api
    def whoami(self, note: str = "") -> dict[str, Any]:
        ctx = self.kit.ctx
        return {"tenant_id": ctx.tenant_id, "user_id": ctx.user_id, "roles": list(ctx.roles), "note": note}

    @api
    def nested_whoami(self, times: int = 1) -> list[dict[str, Any]]:
        """The caller's context, as fconsumer sees it on calls this worker makes."""
        self.kit.ctx  # noqa: B018 - verified first, as an entrypoint does
        return [self.consumer.whoami(n=i) for i in range(int(times))]

    @api
    def nested_as_system(self, tenant_id: str) -> dict[str, Any]:
        """A worker with no caller context (like a timer) acting as system for a tenant."""
        self.kit.act_as_system(tenant_id)
        return self.consumer.whoami(n=0)

    # -- message bounds (tests/foundation/test_kit_bounds.py) ------------------------------
    @api
    def echo(self, text: str) -> dict[str, Any]:
        return {"text": text}

    @api
    def big_answer(self, size: int) -> str:
        """An answer of ``size`` characters (the kit must refuse to send it above its limit)."""
        return "x" * int(size)

    @api
    def big_event(self, key: str, size: int) -> dict[str, Any]:
        ctx = self.kit.ctx
        ev = self.kit.event("thing.changed", {"key": key, "blob": "x" * int(size)})
        with self.kit.change([ev], Check("things", {"_id": key})):
            self.kit.db.things.insert_one({"_id": key, "tenant_id": ctx.tenant_id})
        return {"event_id": ev["event_id"]}

    @api
    def thing_exists(self, key: str) -> bool:
        return self.kit.db.things.count_documents({"_id": key}) > 0


class BigReplyService(BaseService):
    """Runs with a message limit above RabbitMQ's own (128 MB), so the broker itself refuses
    the reply (406) — the container must survive that too."""

    name = "fbig"
    kit = Kit("fbig")

    @api
    def echo(self, text: str) -> dict[str, Any]:
        return {"text": text}

    @api
    def big_answer(self, size: int) -> str:
        return "x" * int(size)


class LivenessService(BaseService):
    """A service whose liveness tests may freeze and break (tests/foundation/test_kit_liveness.py)."""

    name = "flive"
    kit = Kit("flive")


class ConsumerService(BaseService):
    name = "fconsumer"
    kit = Kit("fconsumer")

    @subscribe("fproducer", "thing.changed", max_attempts=3, base_delay=0.2)
    def on_thing_changed(self, event: dict[str, Any]) -> None:
        data = event["data"]
        key = data["key"]
        db = self.kit.db
        db.attempts.insert_one({"key": key, "event_id": event["event_id"]})
        tries = db.attempts.count_documents({"key": key})
        if data.get("always_fail") or tries <= int(data.get("fail_times", 0)):
            raise RuntimeError(f"induced failure {tries} for {key}")
        self.kit.act_as_system(event["tenant_id"])
        follow_up = self.kit.event("thing.noted", {"key": key})  # what an event it emitted would carry
        db.effects.insert_one({"key": key, "event_id": event["event_id"], "language": follow_up["language"],
                               "request_id": follow_up["request_id"]})

    @api
    def whoami(self, n: int = 0) -> dict[str, Any]:
        ctx = self.kit.ctx
        return {"tenant_id": ctx.tenant_id, "user_id": ctx.user_id, "roles": list(ctx.roles), "n": n}

    @api
    def bad_whoami(self, n: int = 0) -> dict[str, Any]:
        ctx = self.kit.ctx
        return {"tenant_id": ctx.tenant_id, "user_id": ctx.user_id, "n": "not a number"}

    @api
    def effect_origin(self, key: str) -> dict[str, Any]:
        row = self.kit.db.effects.find_one({"key": key}) or {}
        return {"language": row.get("language"), "request_id": row.get("request_id")}

    @api
    def counts(self, key: str) -> dict[str, int]:
        db = self.kit.db
        return {"attempts": db.attempts.count_documents({"key": key}),
                "effects": db.effects.count_documents({"key": key})}

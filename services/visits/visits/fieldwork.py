"""Check-in (photo + location), check-out and notes, each at most once per visit and
idempotent per ``Idempotency-Key``."""
from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import math
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from pymongo.errors import PyMongoError

from crmkit import dbtrace
from crmkit.blobs import BlobStore
from crmkit.context import CallContext
from crmkit.errors import InvalidInput
from crmkit.nameko.kit import WorkerKit
from visits import photos, rules, uploads
from visits.access import require_performer
from visits.peers import Identity
from visits.store import Store
from visits.views import event_data, public

log = logging.getLogger(__name__)

CLIENT_SKEW_FLAG_S = 15 * 60
MAX_NOTES = 5000


def idempotent(kit: WorkerKit, store: Store, visit_id: str, action: str, key: str | None,
               sleep: Callable[[float], None], work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``work`` once per (tenant, visit, action, key): the key
    ``<tenant>:<visit>:<action>:<key>`` is inserted first under a unique index; a repeat
    gets the first call's answer (``crmkit.docstore.Idempotency``)."""
    if not key:
        return work()
    tenant = kit.ctx.tenant_id
    result: dict[str, Any] = store.idempotency_of(sleep).run(
        f"{tenant}:{visit_id}:{action}:{key}", work,
        {"tenant_id": tenant, "visit_id": visit_id, "action": action, "key": key})
    return result


def _point(data: dict[str, Any]) -> dict[str, Any]:
    lat, lng = rules.check_lat_lng(data.get("lat"), data.get("lng"), "position")
    source = data.get("source") or "gps"
    if source not in rules.LOCATION_SOURCES:
        raise InvalidInput("visit.bad_source", "source must be gps, network or cell", {"source": source})
    point: dict[str, Any] = {"lat": lat, "lng": lng, "source": source}
    for name in ("accuracy", "fix_age_s"):
        v = data.get(name)
        if v in (None, ""):
            point[name] = None
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise InvalidInput("visit.bad_field", f"{name} must be a number", {"field": name}) from None
        if not math.isfinite(f) or f < 0:
            raise InvalidInput("visit.bad_field", f"{name} must be a non-negative number", {"field": name})
        point[name] = f
    mock = data.get("mock_location")
    if isinstance(mock, str):
        mock = mock.strip().lower() in ("1", "true", "yes", "on")
    point["mock_location"] = bool(mock)
    return point


def _time(data: dict[str, Any], now: datetime) -> datetime:
    raw = data.get("time")
    if raw is None or raw == "":
        return now
    return rules.parse_instant(raw, "time")


def _time_flags(at: datetime, now: datetime, visit: dict[str, Any], tz: str) -> list[str]:
    flags = []
    if abs((at - now).total_seconds()) > CLIENT_SKEW_FLAG_S:
        flags.append("client_time_differs_from_server")
    if rules.local_day(at, tz) != visit["day"]:
        flags.append("outside_planned_day")
    return flags


def _decode_photo(photo: Any, max_bytes: int) -> bytes | None:
    if not photo:
        return None
    if not isinstance(photo, dict) or not isinstance(photo.get("data_b64"), str):
        raise InvalidInput("photo.bad_field", "photo must be {filename, data_b64} or {filename, upload_id, parts}")
    raw = photo["data_b64"]
    photos.check_size(len(raw) * 3 // 4 - 2, max_bytes)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("photo.bad_encoding", "photo data is not base64") from None


@contextlib.contextmanager
def _photo_source(ctx: CallContext, bs: BlobStore, photo: Any,
                  max_bytes: int) -> Iterator[bytes | uploads.Spool | None]:
    """The check-in photo: ``None``, its bytes (``data_b64``) or the upload sent with
    ``upload_part`` (``upload_id`` + ``parts``) read back into a spool file."""
    if isinstance(photo, dict) and photo.get("upload_id") is not None:
        with contextlib.ExitStack() as stack:
            with dbtrace.section("spool parts"):
                spool = stack.enter_context(uploads.spooled(bs, ctx.tenant_id, ctx.user_id, photo["upload_id"],
                                                            photo.get("parts"), max_bytes))
            yield spool
    else:
        yield _decode_photo(photo, max_bytes)


class _Renditions:
    """The photo's three blobs while a check-in is under way: undone unless it succeeds
    (an adopted upload goes back to being staged parts, for a retry)."""

    def __init__(self, bs: BlobStore):
        self.bs = bs
        self.ids: dict[str, str] = {}
        self.spool: uploads.Spool | None = None
        self.adopted = False

    def store(self, src: bytes | uploads.Spool, done: photos.Processed, meta: dict[str, Any]) -> None:
        if isinstance(src, bytes):
            self.ids["original"] = self.bs.put(src, done.content_type, {**meta, "kind": "original"})
        else:
            self.spool = src
            self.ids["original"], self.adopted = uploads.keep(self.bs, src, done.content_type,
                                                              {**meta, "kind": "original"})
        self.ids["thumbnail"] = self.bs.put(done.thumbnail, "image/jpeg", {**meta, "kind": "thumbnail"})
        self.ids["watermarked"] = self.bs.put(done.watermarked, "image/jpeg", {**meta, "kind": "watermarked"})

    def undo(self) -> None:
        for kind, blob in self.ids.items():
            if kind == "original" and self.spool is not None:
                uploads.release(self.bs, blob, self.adopted)
            else:
                self.bs.delete(blob)
        self.ids = {}

    def done(self) -> None:
        if self.spool is not None:
            try:
                uploads.done(self.bs, self.spool, self.adopted)
            except PyMongoError:  # the check-in stands; the stale purge drops the upload's row later
                log.warning("check-in: upload %s not marked used", self.spool.upload_id, exc_info=True)


def check_in(kit: WorkerKit, store: Store, identity: Identity, tpool: Callable[..., Any], sleep: Callable[[float],
             None],
             visit_id: str, data: dict[str, Any], photo: dict[str, Any] | None,
             idempotency_key: str | None) -> dict[str, Any]:
    """One read of the visit (again only after waiting for another call with the same
    key); the photo's renditions stored once each — an upload's parts become the original;
    the upload is kept until the check-in succeeds."""
    ctx = kit.ctx
    bs = store.blobs
    visit = store.load_visit(ctx.tenant_id, visit_id)
    require_performer(ctx, visit, identity)
    waited: list[float] = []

    def pause(seconds: float) -> None:
        waited.append(seconds)
        sleep(seconds)

    def work() -> dict[str, Any]:
        v = store.load_visit(ctx.tenant_id, visit_id) if waited else visit
        rules.next_status(v["status"], "check_in")  # fail fast before the image work
        settings = store.settings(ctx.tenant_id)
        tz = settings["time_zone"]
        now = kit.now()
        body = data if isinstance(data, dict) else {}
        point = _point(body)
        at = _time(body, now)
        flags = _time_flags(at, now, v, tz)
        if point["mock_location"]:
            flags.append("mock_location")
        tol = rules.tolerance_for(point["source"], settings)
        if point.get("accuracy") is not None and point["accuracy"] > tol:
            flags.append("accuracy_above_tolerance")
        photo_doc: dict[str, Any] | None = None
        kept = _Renditions(bs)
        max_bytes = int(settings["max_photo_bytes"])
        with _photo_source(ctx, bs, photo, max_bytes) as src:
            if src is not None:
                local = at.astimezone(rules.zone(tz)).strftime("%Y-%m-%d %H:%M")
                lines = [f"{local} ({tz})",
                         f"{v['location'].get('address') or ''} {point['lat']:.5f},{point['lng']:.5f}",
                         f"{ctx.name or ctx.user_id} @ {v.get('customer_name') or ''}"]
                with dbtrace.section("image work"):
                    done: photos.Processed = tpool(
                        photos.process, src if isinstance(src, bytes) else src.path, max_bytes=max_bytes,
                        max_pixels=int(settings["max_photo_pixels"]), min_pixels=int(settings["min_photo_pixels"]),
                        client_at=at, client_lat=point["lat"],
                        client_lng=point["lng"], tz=tz, watermark_lines=lines,
                        reject_invalid_exif=bool(settings["reject_invalid_exif"]),
                        exif_time_tolerance_s=float(settings["exif_time_tolerance_s"]),
                        exif_gps_tolerance_m=float(settings["exif_gps_tolerance_m"]),
                        sha256=None if isinstance(src, bytes) else src.sha256)
                try:
                    with dbtrace.section("blob writes"):
                        kept.store(src, done, {"tenant_id": ctx.tenant_id, "visit_id": visit_id})
                except BaseException:
                    kept.undo()
                    raise
                exif = dict(done.exif)
                exif_check = exif.pop("check", None)
                photo_doc = {
                    "sha256": done.sha256, "content_type": done.content_type, "size": done.size,
                    "width": done.width, "height": done.height,
                    "filename": str((photo or {}).get("filename") or "")[:200],
                    "blobs": {k: kept.ids[k] for k in ("original", "thumbnail", "watermarked")},
                    "exif": exif, "exif_check": exif_check,
                }
                flags.extend(done.flags)
        if photo_doc is None:
            flags.append("no_photo")
        won = False
        try:
            travel = rules.travel_check(store.last_check_in(ctx.tenant_id, v["employee_id"]), point, at, settings)
            if travel and travel["flagged"]:
                flags.append("impossible_travel")
            ci = {"at": at, "received_at": now, "point": point, "photo": photo_doc, "flags": flags, "travel": travel,
                  "deviation_m": rules.point_distance(v["location"], point), "tolerance_m": tol}
            ev = kit.event("visit.checked_in", event_data(v, {
                "status": rules.PENDING_CHECK_OUT, "at": at, "lat": point["lat"], "lng": point["lng"],
                "source": point["source"], "has_photo": photo_doc is not None,
                "photo_sha256": photo_doc["sha256"] if photo_doc else None, "flags": flags,
                "customer_name": v.get("customer_name")}))
            with kit.change([ev], store.step_check(v, "check_in")):
                full = store.claim_step(v, "check_in", {"check_in": ci}, now)
                won = True  # from here the check-in happened (a lost visit update is repaired on read)
                store.apply_step(visit_id, full, v)
        except BaseException:
            if not won:
                kept.undo()
            raise
        kept.done()
        store.save_last_check_in(ctx.tenant_id, v["employee_id"], visit_id, at, point)
        v = {**v, **full}
        return public(v)

    return idempotent(kit, store, visit_id, "check_in", idempotency_key, pause, work)


def check_out(kit: WorkerKit, store: Store,
              identity: Identity, sleep: Callable[[float], None], visit_id: str, data: dict[str, Any],
              idempotency_key: str | None) -> dict[str, Any]:
    ctx = kit.ctx
    visit = store.load_visit(ctx.tenant_id, visit_id)
    require_performer(ctx, visit, identity)

    def work() -> dict[str, Any]:
        v = store.load_visit(ctx.tenant_id, visit_id)
        rules.next_status(v["status"], "check_out")
        settings = store.settings(ctx.tenant_id)
        now = kit.now()
        body = data if isinstance(data, dict) else {}
        point = _point(body)
        at = _time(body, now)
        ci = v.get("check_in") or {}
        if ci.get("at") and at < ci["at"]:
            raise InvalidInput("visit.check_out_before_check_in", "check-out time is before check-in time",
                               {"check_in_at": ci["at"].isoformat(), "time": at.isoformat()})
        flags = _time_flags(at, now, v, settings["time_zone"])
        if point["mock_location"]:
            flags.append("mock_location")
        stay = rules.stay_minutes(ci.get("at"), at)
        plan_co = rules.point_distance(v["location"], point)
        ci_co = rules.point_distance(ci.get("point"), point)
        co = {"at": at, "received_at": now, "point": point, "flags": flags, "stay_minutes": stay,
              "plan_to_check_out_m": plan_co, "check_in_to_check_out_m": ci_co,
              "deviation_m": plan_co, "tolerance_m": rules.tolerance_for(point["source"], settings)}
        ev = kit.event("visit.checked_out", event_data(v, {
            "status": rules.PENDING_NOTES, "at": at, "stay_minutes": stay, "plan_to_check_out_m": plan_co,
            "check_in_to_check_out_m": ci_co, "source": point["source"]}))
        with kit.change([ev], store.step_check(v, "check_out")):
            full = store.claim_step(v, "check_out", {"check_out": co}, now)
            store.apply_step(visit_id, full)
        v.update(full)
        return public(v)

    return idempotent(kit, store, visit_id, "check_out", idempotency_key, sleep, work)


def write_notes(kit: WorkerKit, store: Store,
                identity: Identity, sleep: Callable[[float], None], visit_id: str, data: dict[str, Any],
                idempotency_key: str | None) -> dict[str, Any]:
    ctx = kit.ctx
    visit = store.load_visit(ctx.tenant_id, visit_id)
    require_performer(ctx, visit, identity)
    text = (data or {}).get("text") if isinstance(data, dict) else None
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_NOTES:
        raise InvalidInput("visit.bad_notes", f"notes text is required (at most {MAX_NOTES} characters)",
                           {"field": "text"})

    def work() -> dict[str, Any]:
        v = store.load_visit(ctx.tenant_id, visit_id)
        rules.next_status(v["status"], "notes")
        now = kit.now()
        notes: dict[str, Any] = {"text": text.strip(), "at": now, "by": ctx.user_id}
        ev = kit.event("visit.completed", event_data(v, {
            "status": rules.COMPLETED, "at": now, "customer_name": v.get("customer_name"),
            "notes_excerpt": notes["text"][:200],
            "stay_minutes": (v.get("check_out") or {}).get("stay_minutes")}))
        with kit.change([ev], store.step_check(v, "notes")):
            full = store.claim_step(v, "notes", {"notes": notes, "completed_at": now}, now)
            store.apply_step(visit_id, full)
        v.update(full)
        return public(v)

    return idempotent(kit, store, visit_id, "notes", idempotency_key, sleep, work)

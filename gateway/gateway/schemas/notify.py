"""Contracts of the notify routes: inbox, preferences, tenant channels (SMTP, webhooks),
deliveries and dead letters."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, RootModel

from gateway.schemas.base import Answer, Body, Count, Id, Omittable, Query

Kind = Literal["claim_request_submitted", "claim_request_approved", "claim_request_rejected", "visit_reviewed",
               "reclaim_warning", "reclaimed", "handover", "departure_handover", "daily_digest", "export_ready"]
#: what a webhook may subscribe to: every employee kind and the CBM visit notice (notify.rules.WEBHOOK_KINDS)
WebhookKind = Kind | Literal["cbm_visit_notice"]
Channel = Literal["inbox", "email", "webhook"]
Language = Literal["zh-CN", "en"]


class InboxQuery(Query):
    cursor: Omittable[str] = Field(None, max_length=200)
    limit: Omittable[int] = Field(None, ge=1, le=100)
    unread: Omittable[bool] = None


class Notification(Answer):
    id: str
    kind: str
    title: str
    body: str
    language: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    read: bool
    read_at: str | None = None
    created_at: str


class NotificationPage(Answer):
    items: list[Notification]
    next_cursor: str | None = None


class UnreadCount(Answer):
    unread: int


class Marked(Answer):
    marked: int


class PreferencesIn(Body):
    error_code = "preferences.invalid"
    channels: dict[Kind, list[Channel]] = Field(description="kind -> channels (fixed kinds cannot be chosen)")


class Preferences(Answer):
    channels: dict[str, list[Channel]]
    fixed: dict[str, list[Channel]] = Field(default_factory=dict, description="kinds whose channels are fixed")


class SmtpIn(Body):
    error_code = "settings.invalid_smtp"
    host: Omittable[str] = Field(None, min_length=1, max_length=253)
    port: Omittable[int] = Field(None, ge=1, le=65535)
    username: Omittable[str] = Field(None, max_length=200)
    password: Omittable[str] = Field(None, max_length=200)
    from_addr: Omittable[str] = Field(None, max_length=254, pattern=r"@")
    tls: Omittable[Literal["none", "starttls", "ssl"]] = None
    timeout: Omittable[float] = Field(None, gt=0, le=120)


class SettingsIn(Body):
    error_code = "settings.invalid"
    smtp: SmtpIn | None = Field(None, description="null removes the SMTP settings; host and from_addr are "  # nullable
                                                  "required when none are stored yet")
    retry_base_seconds: Omittable[float] = Field(None, ge=0.05, le=86400)
    retry_cap_seconds: Omittable[float] = Field(None, ge=0.05, le=7 * 86400)
    max_attempts: Omittable[int] = Field(None, ge=1, le=20)
    timezone: Omittable[str] = Field(None, max_length=64, description="an IANA time zone")
    digest_hour: Omittable[int] = Field(None, ge=0, le=23)
    language: Omittable[Language] = None
    allow_private_webhooks: Omittable[bool] = Field(None, description="switch the operator's allowance off")


class Smtp(Answer):
    host: str | None = None
    port: int | None = None
    username: str | None = None
    from_addr: str | None = None
    tls: str | None = None
    password_set: bool = False


class Settings(Answer):
    smtp: Smtp | None = None
    retry_base_seconds: float | None = Field(None, description="null: the service default")
    retry_cap_seconds: float | None = None
    max_attempts: int | None = None
    timezone: str
    digest_hour: int
    language: str
    allow_private_webhooks: bool
    private_webhooks_effective: bool


class WebhookIn(Body):
    url: str = Field(max_length=2000, description="http(s); no loopback, private, link-local, multicast or "
                                                   "reserved address unless the operator allows it")
    name: Omittable[str] = Field(None, max_length=100)
    kinds: Omittable[list[WebhookKind]] = Field(None, max_length=20)
    active: Omittable[bool] = None
    secret: Omittable[str] = Field(None, min_length=16, max_length=200)


class WebhookPatch(Body):
    url: Omittable[str] = Field(None, max_length=2000)
    name: Omittable[str] = Field(None, max_length=100)
    kinds: Omittable[list[WebhookKind]] = Field(None, max_length=20)
    active: Omittable[bool] = None
    secret: Omittable[str] = Field(None, min_length=16, max_length=200)


class Webhook(Answer):
    id: str
    url: str
    name: str = ""
    kinds: list[str] = Field(default_factory=list)
    active: bool = True
    created_at: str
    secret: str | None = Field(None, description="only when created or rotated")


class Webhooks(RootModel[list[Webhook]]):
    pass


class WebhookDeleted(Answer):
    deleted: str


class DeliveryQuery(Query):
    status: Omittable[Literal["pending", "sent", "dead"]] = None
    event_id: Omittable[Id] = None
    limit: Omittable[int] = Field(None, ge=1, le=500)


class DeadLetterQuery(Query):
    limit: Omittable[int] = Field(None, ge=1, le=500)


class Delivery(Answer):
    id: str
    event_id: str
    kind: str
    channel: str
    recipient: str
    status: Literal["pending", "sent", "dead"]
    attempts: Count
    generation: int = 0
    last_error: str | None = None
    dead_reason: str | None = None
    created_at: str
    next_at: str | None = None
    sent_at: str | None = None
    target: dict[str, Any] = Field(default_factory=dict)
    title: str | None = None
    attempt_log: list[dict[str, Any]] | None = Field(None, description="every attempt (time, outcome, latency)")


class Deliveries(RootModel[list[Delivery]]):
    pass



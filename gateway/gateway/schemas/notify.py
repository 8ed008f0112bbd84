"""Contracts of the notify routes: inbox, preferences, tenant channels (SMTP, webhooks),
deliveries and dead letters."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, RootModel

from gateway.schemas.base import Answer, Body, Count, Id, Query

Kind = Literal["claim_request_submitted", "claim_request_approved", "claim_request_rejected", "visit_reviewed",
               "reclaim_warning", "reclaimed", "handover", "departure_handover", "daily_digest", "export_ready"]
#: what a webhook may subscribe to: every employee kind and the CBM visit notice (notify.rules.WEBHOOK_KINDS)
WebhookKind = Kind | Literal["cbm_visit_notice"]
Channel = Literal["inbox", "email", "webhook"]
Language = Literal["zh-CN", "en"]


class InboxQuery(Query):
    cursor: str = Field(None, max_length=200)
    limit: int = Field(None, ge=1, le=100)
    unread: bool = None


class Notification(Answer):
    id: str
    kind: str
    title: str
    body: str
    language: str | None = None
    data: dict = Field(default_factory=dict)
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
    host: str = Field(None, min_length=1, max_length=253)
    port: int = Field(None, ge=1, le=65535)
    username: str = Field(None, max_length=200)
    password: str = Field(None, max_length=200)
    from_addr: str = Field(None, max_length=254, pattern=r"@")
    tls: Literal["none", "starttls", "ssl"] = None
    timeout: float = Field(None, gt=0, le=120)


class SettingsIn(Body):
    error_code = "settings.invalid"
    smtp: SmtpIn | None = Field(None, description="null removes the SMTP settings; host and from_addr are "  # nullable
                                                  "required when none are stored yet")
    retry_base_seconds: float = Field(None, ge=0.05, le=86400)
    retry_cap_seconds: float = Field(None, ge=0.05, le=7 * 86400)
    max_attempts: int = Field(None, ge=1, le=20)
    timezone: str = Field(None, max_length=64, description="an IANA time zone")
    digest_hour: int = Field(None, ge=0, le=23)
    language: Language = None
    allow_private_webhooks: bool = Field(None, description="switch the operator's allowance off")


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
    name: str = Field(None, max_length=100)
    kinds: list[WebhookKind] = Field(None, max_length=20)
    active: bool = None
    secret: str = Field(None, min_length=16, max_length=200)


class WebhookPatch(Body):
    url: str = Field(None, max_length=2000)
    name: str = Field(None, max_length=100)
    kinds: list[WebhookKind] = Field(None, max_length=20)
    active: bool = None
    secret: str = Field(None, min_length=16, max_length=200)


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
    status: Literal["pending", "sent", "dead"] = None
    event_id: Id = None
    limit: int = Field(None, ge=1, le=500)


class DeadLetterQuery(Query):
    limit: int = Field(None, ge=1, le=500)


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
    target: dict = Field(default_factory=dict)
    title: str | None = None
    attempt_log: list[dict] | None = Field(None, description="every attempt (time, outcome, latency)")


class Deliveries(RootModel[list[Delivery]]):
    pass



"""Message templates in zh-CN and en, chosen by the recipient's language.

Rendering is safe: a missing or empty value becomes a placeholder ("—"), an
unknown language falls back to zh-CN, an unknown kind to a generic message, and a
stray brace in a value is never interpreted — a message is never broken.
"""
from __future__ import annotations

import string
from typing import Any

PLACEHOLDER = "—"
DEFAULT_LANGUAGE = "zh-CN"
LANGUAGES = ("zh-CN", "en")

#: kind -> language -> (title, body)
TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "invitation": {
        "zh-CN": ("加入组织邀请", "{name}，您好：{tenant_name}邀请您加入组织。邀请码：{invitation_token}。"
                  "请在拜访应用中接受邀请：{accept_url}"),
        "en": ("Invitation to join the organisation", "Hello {name}, {tenant_name} invites you to join the "
               "organisation. Invitation code: {invitation_token}. Accept it in the visit app: {accept_url}"),
    },
    "cbm_visit_notice": {
        "zh-CN": ("合作伙伴拜访通知", "{cbm_name}，您好：合作伙伴员工{employee_name}计划于{planned_at}拜访客户"
                  "{customer_name}，主题：{topic}。"),
        "en": ("Partner visit notice", "Hello {cbm_name}, partner employee {employee_name} plans to visit "
               "{customer_name} at {planned_at}. Topic: {topic}."),
    },
    "claim_request_submitted": {
        "zh-CN": ("新的领取申请", "{requester_name}申请领取客户{customer_name}，理由：{reason}。请处理。"),
        "en": ("New claim request", "{requester_name} asks to claim customer {customer_name}. Reason: {reason}. "
               "Please review it."),
    },
    "claim_request_approved": {
        "zh-CN": ("领取申请已通过", "您领取客户{customer_name}的申请已通过。"),
        "en": ("Claim request approved", "Your request to claim customer {customer_name} was approved."),
    },
    "claim_request_rejected": {
        "zh-CN": ("领取申请被驳回", "您领取客户{customer_name}的申请被驳回，原因：{reason}。"),
        "en": ("Claim request rejected", "Your request to claim customer {customer_name} was rejected. "
               "Reason: {reason}."),
    },
    "visit_reviewed": {
        "zh-CN": ("拜访审核结果", "您对客户{customer_name}的拜访（{planned_at}）审核结果：{result}。说明：{reason}。"),
        "en": ("Visit review result", "Your visit to {customer_name} ({planned_at}) was reviewed: {result}. "
               "Note: {reason}."),
    },
    "reclaim_warning": {
        "zh-CN": ("客户即将被收回", "客户{customer_name}将于{reclaim_at}被收回公海，请及时跟进。"),
        "en": ("Customer will be reclaimed", "Customer {customer_name} will return to the public pool at "
               "{reclaim_at}. Follow it up in time."),
    },
    "reclaimed": {
        "zh-CN": ("客户已被收回", "客户{customer_name}已被收回公海，原因：{reason}。"),
        "en": ("Customer reclaimed", "Customer {customer_name} has returned to the public pool. Reason: {reason}."),
    },
    "handover": {
        "zh-CN": ("客户交接", "{from_name}的客户{customer_name}已交接给您。"),
        "en": ("Customer handed over", "Customer {customer_name} of {from_name} has been handed over to you."),
    },
    "departure_handover": {
        "zh-CN": ("离职交接", "{from_name}已离职，其客户和联系人已交接给您。"),
        "en": ("Departure handover", "{from_name} has left; their customers and contacts are now yours."),
    },
    "daily_digest": {
        "zh-CN": ("今日待拜访", "您今天（{date}）有{count}个待拜访：{items}"),
        "en": ("Today's pending visits", "You have {count} pending visit(s) today ({date}): {items}"),
    },
    "export_ready": {
        "zh-CN": ("导出已完成", "您申请的报表导出{name}已生成，可下载：{download_url}"),
        "en": ("Export ready", "Your report export {name} is ready to download: {download_url}"),
    },
    "webhook_test": {
        "zh-CN": ("Webhook 测试", "这是一条测试消息：Webhook「{name}」已连通（{sent_at}）。"),
        "en": ("Webhook test", "This is a test message: the webhook \"{name}\" is reachable ({sent_at})."),
    },
}

GENERIC: dict[str, tuple[str, str]] = {
    "zh-CN": ("通知", "您有一条新通知（{kind}）。"),
    "en": ("Notification", "You have a new notification ({kind})."),
}

RESULT_WORDS = {
    "zh-CN": {"valid": "有效拜访", "invalid": "无效拜访", "approved": "通过", "rejected": "驳回"},
    "en": {"valid": "valid", "invalid": "invalid", "approved": "approved", "rejected": "rejected"},
}


def language_of(value: Any) -> str:
    """Normalise a language tag to one we have templates for ('en-GB' -> 'en', 'zh' -> 'zh-CN')."""
    if not isinstance(value, str) or not value.strip():
        return DEFAULT_LANGUAGE
    v = value.strip().lower().replace("_", "-")
    if v.startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def choose_language(person: dict[str, Any], hint: Any, request_language: Any, tenant_default: Any) -> str:
    """The recipient's own choice (identity's ``preferred_language``; stand-ins give ``language``),
    else the event's hint (e.g. an invitee's or a CBM's language), else the Accept-Language of the
    request that caused the event (carried in the envelope), else the tenant's default, else zh-CN."""
    own = person.get("preferred_language") if "preferred_language" in person else person.get("language")
    for candidate in (own, hint, request_language, tenant_default):
        if isinstance(candidate, str) and candidate.strip():
            return language_of(candidate)
    return DEFAULT_LANGUAGE


def _plain(value: Any) -> str:
    if value is None:
        return PLACEHOLDER
    if isinstance(value, (list, tuple)):
        parts = [_plain(v) for v in value if v not in (None, "")]
        return "; ".join(parts) if parts else PLACEHOLDER
    text = str(value).strip()
    return text if text else PLACEHOLDER


def safe_format(template: str, values: dict[str, Any]) -> str:
    """Format ``template`` with ``values``; a missing/empty value renders as the placeholder.
    Only simple ``{name}`` fields are honoured; attribute/index lookups render the placeholder."""
    out: list[str] = []
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        out.append(literal)
        if field is None:
            continue
        if not field.isidentifier():
            out.append(PLACEHOLDER)
            continue
        out.append(_plain(values.get(field)))
    return "".join(out)


def render(kind: str, language: Any, values: dict[str, Any] | None = None) -> dict[str, str]:
    """``{"title", "body", "language"}`` for ``kind`` in the recipient's language."""
    lang = language_of(language)
    vals = dict(values or {})
    vals.setdefault("kind", kind)
    result = vals.get("result")
    if isinstance(result, str) and result in RESULT_WORDS[lang]:
        vals["result"] = RESULT_WORDS[lang][result]
    title, body = TEMPLATES.get(kind, GENERIC)[lang] if kind in TEMPLATES else GENERIC[lang]
    return {"title": safe_format(title, vals), "body": safe_format(body, vals), "language": lang}

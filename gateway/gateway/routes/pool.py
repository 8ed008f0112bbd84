"""HTTP routes of the pool service: public-pool search, claim, release, assignment,
capacity, rules (+ preview), reclaim (admin trigger, log, warnings), claim requests and
daily targets."""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.openapi import operation, schema
from gateway.routing import call_service, idempotency_key, read_json, rpc_route

TAG = ["pool"]
P = "/api/v1/pool"


def body_route(method: str, *, path: Mapping[str, str] | None = None, query: Iterable[str] = (),
               required: bool = False, idempotent: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Like ``rpc_route(..., body="data")`` but the JSON body may be absent when not required."""
    rename = dict(path or {})
    names = tuple(query)

    async def endpoint(request: Request) -> Response:
        kwargs: dict = {rename.get(k, k): v for k, v in request.path_params.items()}
        kwargs.update({n: request.query_params[n] for n in names if n in request.query_params})
        kwargs["data"] = await read_json(request, required=required)
        if idempotent:
            key = idempotency_key(request)
            if key:
                kwargs["idempotency_key"] = key
        return JSONResponse(await call_service(request, "pool", method, kwargs))

    endpoint.__name__ = f"pool_{method}"
    return endpoint


POOL_CUSTOMER = schema("PoolCustomer", {"type": "object", "properties": {
    "id": {"type": "string"}, "name": {"type": ["string", "null"]}, "name_key": {"type": ["string", "null"]},
    "industry": {"type": ["string", "null"]}, "grade": {"type": ["string", "null"]},
    "phones": {"type": "object", "description": "masked while the customer is in the public pool"},
    "owner_id": {"type": ["string", "null"]}, "pool": {"type": "string", "enum": ["public", "private"]},
    "released_at": {"type": ["string", "null"]}, "previous_owner_id": {"type": ["string", "null"]},
    "previous_owner_dept_id": {"type": ["string", "null"]}, "entered_at": {"type": ["string", "null"]},
    "reclaim_on": {"type": ["string", "null"], "format": "date"},
    "reclaim_rule": {"type": ["string", "null"], "enum": ["no_contact", "no_visit", "no_deal", None]}}})
POOL_PAGE = schema("PoolCustomerPage", {"type": "object", "properties": {
    "items": {"type": "array", "items": POOL_CUSTOMER}, "total": {"type": "integer"},
    "page": {"type": "integer"}, "page_size": {"type": "integer"}}})
REASON = {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 500}}}
RULES = schema("PoolRules", {"type": "object", "description": "partial updates merge over the current rules",
                             "properties": {
    "capacity": {"type": "integer", "minimum": 1}, "cooldown_days": {"type": "integer", "minimum": 0},
    "daily_claim_limit": {"type": "integer", "minimum": 1},
    "reclaim": {"type": "object", "properties": {r: {"type": "object", "properties": {
        "enabled": {"type": "boolean"}, "days": {"type": "integer", "minimum": 1}}}
        for r in ("no_contact", "no_visit", "no_deal")}},
    "warning_lead_days": {"type": "array", "items": {"type": "integer", "minimum": 1}},
    "protection": {"type": "object", "properties": {k: {"type": "integer", "minimum": 0} for k in (
        "service_months", "renewal_months", "after_expiry_months")}},
    "request_entry_working_days": {"type": "integer"}, "name_fix_working_days": {"type": "integer"},
    "targets": {"type": "object", "properties": {k: {"type": "integer"} for k in (
        "prepared_prospects", "new_prospects", "effective_calls", "field_visits", "field_new_prospects")}}}})
CLAIM_REQUEST_IN = schema("ClaimRequestInput", {"type": "object", "required": ["name", "address"], "properties": {
    "name": {"type": "string"}, "landline": {"type": "string"}, "fax": {"type": "string"},
    "address": {"type": "string"}, "remarks": {"type": "string"}, "customer_id": {"type": "string"}}})
CLAIM_REQUEST = schema("ClaimRequest", {"type": "object", "properties": {
    "id": {"type": "string"}, "status": {"type": "string", "enum": ["pending", "approved", "rejected", "lapsed"]},
    "requester_id": {"type": "string"}, "customer_id": {"type": ["string", "null"]},
    "elements": {"type": "object"}, "remarks": {"type": ["string", "null"]},
    "enter_by": {"type": ["string", "null"], "description": "end of the 2nd Chinese working day after the reply"},
    "name_fix_by": {"type": ["string", "null"]}}})

Q_SEARCH = {"keyword": {"type": "string"}, "released_from": {"type": "string"}, "released_to": {"type": "string"},
            "previous_owner_dept_id": {"type": "string"}, "grade": {"type": "string"},
            "page": {"type": "integer"}, "page_size": {"type": "integer", "maximum": 100}}
ERR = {400: "invalid input", 404: "not found"}

operation("GET", f"{P}/customers", "Search the public pool (phones masked)", tags=TAG, query=Q_SEARCH,
          responses={200: {"description": "a page", "schema": POOL_PAGE}, 400: "invalid search"})
operation("GET", f"{P}/customers/{{id}}", "A customer's pool status and reclaim date", tags=TAG,
          responses={200: {"description": "pool view", "schema": POOL_CUSTOMER}, 404: "not found"})
operation("POST", f"{P}/customers/{{id}}/claim", "Claim a public-pool customer (first come, first served)",
          request_schema=REASON, tags=TAG, idempotent=True,
          responses={200: {"description": "claimed", "schema": POOL_CUSTOMER}, 404: "not found",
                     409: "someone else won (details.winner_id)",
                     422: "capacity full / cool-down / daily limit / protected (details say the numbers or until)"})
operation("POST", f"{P}/customers/{{id}}/assign", "Assign a customer directly (support, tenant admin)",
          request_schema={"type": "object", "required": ["owner_id"], "properties": {
              "owner_id": {"type": "string"}, "reason": {"type": "string"}}}, tags=TAG, idempotent=True,
          responses={200: {"description": "assigned", "schema": POOL_CUSTOMER}, 403: "not support/admin",
                     404: "customer or owner not in the tenant", 409: "changed meanwhile",
                     422: "capacity full / owner not active"})
operation("POST", "/api/v1/customers/{id}/release", "Release a customer to the public pool (owner, with reason)",
          request_schema={"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}},
          tags=TAG, idempotent=True, responses={200: "released", 400: "reason missing", 404: "not your customer",
                                                409: "changed meanwhile"})
operation("GET", f"{P}/capacity", "Private-pool capacity: held, capacity, free", tags=TAG,
          query={"owner_id": {"type": "string"}},
          responses={200: "capacity", 404: "not the caller, a subordinate, or (admin/support) an employee"})
operation("GET", f"{P}/rules", "The tenant's pool rules", tags=TAG,
          responses={200: {"description": "rules", "schema": RULES}})
operation("PUT", f"{P}/rules", "Change the pool rules (tenant admin; validated)", request_schema=RULES, tags=TAG,
          responses={200: {"description": "saved", "schema": RULES}, 400: "details.fields names each problem",
                     403: "not the tenant admin"})
operation("POST", f"{P}/rules/preview", "Preview a rule change: how many customers would be reclaimed, and when",
          request_schema=RULES, tags=TAG, query={"days": {"type": "integer", "minimum": 1, "maximum": 366}},
          responses={200: "total, by_day [{day, count, customer_ids}], by_rule", 400: "invalid rules",
                     403: "not the tenant admin"})
operation("POST", f"{P}/reclaim/run", "Run the automatic-reclaim sweep now (tenant admin)", tags=TAG,
          responses={200: "evaluated, reclaimed, warned, skipped", 403: "not the tenant admin"})
operation("GET", f"{P}/reclaims", "Reclaim log", tags=TAG,
          query={"customer_id": {"type": "string"}, "limit": {"type": "integer"}}, responses={200: "log"})
operation("GET", f"{P}/reclaim-warnings", "Reclaim warnings sent", tags=TAG,
          query={"customer_id": {"type": "string"}}, responses={200: "warnings"})
operation("GET", f"{P}/claim-requests", "Claim requests (support: the queue; others: their own)", tags=TAG,
          query={"status": {"type": "string", "enum": ["pending", "approved", "rejected"]},
                 "page": {"type": "integer", "minimum": 1}, "page_size": {"type": "integer", "minimum": 1,
                                                                          "maximum": 200}},
          responses={200: "requests, oldest first: {items, total}; with page_size one page (+ page, page_size)"})
operation("POST", f"{P}/claim-requests", "Submit a claim request (four elements + remarks; duplicate-checked)",
          request_schema=CLAIM_REQUEST_IN, tags=TAG, idempotent=True,
          responses={200: {"description": "submitted", "schema": CLAIM_REQUEST}, 400: "incomplete",
                     404: "customer_id is not a customer of the tenant", 409: "duplicate found"})
operation("POST", f"{P}/claim-requests/{{id}}/approve", "Approve a claim request (support)", tags=TAG,
          request_schema={"type": "object", "properties": {"reason": {"type": "string"},
                                                           "approved_name": {"type": "string"}}},
          responses={200: {"description": "approved", "schema": CLAIM_REQUEST}, 403: "not support",
                     404: "not found", 409: "already decided"})
operation("POST", f"{P}/claim-requests/{{id}}/reject", "Reject a claim request with a reason (support)", tags=TAG,
          request_schema={"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}},
          responses={200: {"description": "rejected", "schema": CLAIM_REQUEST}, 400: "reason missing",
                     403: "not support", 404: "not found", 409: "already decided"})
operation("GET", f"{P}/targets", "Daily targets vs the actuals the pool knows (entries, claims)", tags=TAG,
          query={"day": {"type": "string", "format": "date"}, "user_id": {"type": "string"}},
          responses={200: "targets and actuals", 400: "bad day",
                     404: "not the caller, a subordinate, or (admin/support) an employee"})

ROUTES = [
    Route(f"{P}/customers", rpc_route("pool", "search_pool", query=Q_SEARCH), methods=["GET"]),
    Route(f"{P}/customers/{{id}}", rpc_route("pool", "get_pool_customer", path={"id": "customer_id"}),
          methods=["GET"]),
    Route(f"{P}/customers/{{id}}/claim", body_route("claim_customer", path={"id": "customer_id"}, idempotent=True),
          methods=["POST"]),
    Route(f"{P}/customers/{{id}}/assign", body_route("assign_customer", path={"id": "customer_id"},
                                                     required=True, idempotent=True), methods=["POST"]),
    Route("/api/v1/customers/{id}/release", body_route("release_customer", path={"id": "customer_id"},
                                                        idempotent=True), methods=["POST"]),
    Route(f"{P}/capacity", rpc_route("pool", "capacity", query=["owner_id"]), methods=["GET"]),
    Route(f"{P}/rules", rpc_route("pool", "get_rules"), methods=["GET"]),
    Route(f"{P}/rules", rpc_route("pool", "update_rules", body="data"), methods=["PUT"]),
    Route(f"{P}/rules/preview", body_route("preview_rules", query=["days"]), methods=["POST"]),
    Route(f"{P}/reclaim/run", rpc_route("pool", "run_reclaim_sweep", timeout=120.0), methods=["POST"]),
    Route(f"{P}/reclaims", rpc_route("pool", "reclaim_log", query=["customer_id", "limit"]), methods=["GET"]),
    Route(f"{P}/reclaim-warnings", rpc_route("pool", "reclaim_warnings", query=["customer_id"]), methods=["GET"]),
    Route(f"{P}/claim-requests", rpc_route("pool", "list_claim_requests", query=["status", "page", "page_size"]), methods=["GET"]),
    Route(f"{P}/claim-requests", body_route("submit_claim_request", required=True, idempotent=True),
          methods=["POST"]),
    Route(f"{P}/claim-requests/{{id}}/approve", body_route("approve_claim_request", path={"id": "request_id"}),
          methods=["POST"]),
    Route(f"{P}/claim-requests/{{id}}/reject", body_route("reject_claim_request", path={"id": "request_id"}),
          methods=["POST"]),
    Route(f"{P}/targets", rpc_route("pool", "daily_targets", query=["day", "user_id"]), methods=["GET"]),
]

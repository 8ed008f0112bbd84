"""HTTP routes of the pool service: public-pool search, claim, release, assignment,
capacity, rules (+ preview), reclaim (admin trigger, log, warnings), claim requests and
daily targets. Bodies of the ownership commands are optional (``{}`` when absent)."""
from __future__ import annotations

from gateway.api import Api
from gateway.schemas import pool as s
from gateway.schemas.base import Result, Results

api = Api(tags=["pool"])
P = "/api/v1/pool"
_CID = {"id": "customer_id"}
_RID = {"id": "request_id"}
NOT_FOUND = {404: "not found"}

ROUTES = [
    api.rpc("GET", f"{P}/customers", "pool.search_pool", "Search the public pool (phones masked)",
            query=s.SearchQuery, response=s.PoolPage, errors={400: "invalid search"}),
    api.rpc("GET", f"{P}/customers/{{id}}", "pool.get_pool_customer", "A customer's pool status and reclaim date",
            path_names=_CID, response=s.PoolCustomer, errors=NOT_FOUND),
    api.rpc("POST", f"{P}/customers/{{id}}/claim", "pool.claim_customer",
            "Claim a public-pool customer (first come, first served)", path_names=_CID, body=s.ReasonIn,
            body_required=False, pass_key=True, response=s.PoolCustomer,
            errors={**NOT_FOUND, 409: "someone else won (details.winner_id)",
                    422: "capacity full / cool-down / daily limit / protected (details say the numbers or until)"}),
    api.rpc("POST", f"{P}/customers/{{id}}/assign", "pool.assign_customer",
            "Assign a customer directly (support, tenant admin)", path_names=_CID, body=s.AssignIn, pass_key=True,
            response=s.PoolCustomer, errors={403: "not support/admin", 409: "changed meanwhile",
                                             422: "capacity full / owner not active",
                                             404: "customer or owner not in the tenant"}),
    api.rpc("POST", "/api/v1/customers/{id}/release", "pool.release_customer",
            "Release a customer to the public pool (owner, with reason)", path_names=_CID, body=s.ReasonIn,
            body_required=False, pass_key=True, response=Result,
            errors={400: "pool.reason_required", 404: "not your customer", 409: "changed meanwhile"}),
    api.rpc("GET", f"{P}/capacity", "pool.capacity", "Private-pool capacity: held, capacity, free",
            query=s.OwnerQuery, response=s.Capacity,
            errors={404: "not the caller, a subordinate, or (admin/support) an employee"}),
    api.rpc("GET", f"{P}/rules", "pool.get_rules", "The tenant's pool rules", response=s.PoolRules),
    api.rpc("PUT", f"{P}/rules", "pool.update_rules", "Change the pool rules (tenant admin; validated)",
            body=s.RulesIn, response=s.PoolRules,
            errors={400: "details.fields names each problem", 403: "not the tenant admin"}),
    api.rpc("POST", f"{P}/rules/preview", "pool.preview_rules",
            "Preview a rule change: how many customers would be reclaimed, and when", body=s.RulesIn,
            body_required=False, query=s.PreviewQuery, response=Result,
            errors={200: "total, by_day [{day, count, customer_ids}], by_rule", 400: "invalid rules",
                    403: "not the tenant admin"}),
    api.rpc("POST", f"{P}/reclaim/run", "pool.run_reclaim_sweep", "Run the automatic-reclaim sweep now (tenant "
            "admin)", timeout=120.0, response=Result,
            errors={200: "evaluated, reclaimed, warned, skipped", 403: "not the tenant admin"}),
    api.rpc("GET", f"{P}/reclaims", "pool.reclaim_log", "Reclaim log", query=s.ReclaimQuery, response=Results),
    api.rpc("GET", f"{P}/reclaim-warnings", "pool.reclaim_warnings", "Reclaim warnings sent",
            query=s.CustomerQuery, response=Results),
    api.rpc("GET", f"{P}/claim-requests", "pool.list_claim_requests",
            "Claim requests (support: the queue; others: their own), oldest first; with page_size one page",
            query=s.ClaimRequestQuery, response=s.ClaimRequestPage),
    api.rpc("POST", f"{P}/claim-requests", "pool.submit_claim_request",
            "Submit a claim request (four elements + remarks; duplicate-checked)", body=s.ClaimRequestIn,
            pass_key=True, response=s.ClaimRequest,
            errors={400: "incomplete", 404: "customer_id is not a customer of the tenant", 409: "duplicate found"}),
    api.rpc("POST", f"{P}/claim-requests/{{id}}/approve", "pool.approve_claim_request",
            "Approve a claim request (support)", path_names=_RID, body=s.ApproveIn, body_required=False,
            response=s.ClaimRequest, errors={403: "not support", 409: "already decided", **NOT_FOUND}),
    api.rpc("POST", f"{P}/claim-requests/{{id}}/reject", "pool.reject_claim_request",
            "Reject a claim request with a reason (support)", path_names=_RID, body=s.RejectIn, body_required=False,
            response=s.ClaimRequest,
            errors={400: "reason missing", 403: "not support", 409: "already decided", **NOT_FOUND}),
    api.rpc("GET", f"{P}/targets", "pool.daily_targets", "Daily targets vs the actuals the pool knows (entries, "
            "claims)", query=s.TargetsQuery, response=Result,
            errors={400: "bad day", 404: "not the caller, a subordinate, or (admin/support) an employee"}),
]

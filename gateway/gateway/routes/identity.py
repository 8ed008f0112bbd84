"""HTTP routes of the identity service: sessions, organisation, joining, menus, operator."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmkit.errors import InvalidInput
from gateway import session
from gateway.openapi import operation, schema
from gateway.ratelimit import check_attempt
from gateway.routing import call_service, read_json, rpc_route

TAG = ["identity"]

_ID = {"type": "string"}
_IDS = {"type": "array", "items": _ID}
_ROLES = {"type": "array", "items": {"type": "string",
                                     "enum": ["tenant_admin", "dept_admin", "all_customers", "support", "employee"]}}

LOGIN = schema("LoginRequest", {
    "type": "object", "required": ["tenant_code", "mobile", "password"],
    "properties": {"tenant_code": {"type": "string"}, "mobile": {"type": "string"}, "password": {"type": "string"},
                   "bind_device": {"type": "boolean", "description": "issue a long-lived device token (现在绑定)"}},
})
TOKENS = schema("Tokens", {
    "type": "object", "required": ["access_token", "expires_in"],
    "properties": {"access_token": {"type": "string"}, "token_type": {"type": "string"},
                   "expires_in": {"type": "integer"}, "device_token": {"type": "string"},
                   "device_token_expires_in": {"type": "integer"},
                   "device_bound": {"type": "boolean", "description": "cookie mode: the device cookie was set"}},
})
EMPLOYEE = schema("Employee", {
    "type": "object",
    "properties": {"id": _ID, "tenant_id": _ID, "name": {"type": "string"}, "mobile": {"type": "string"},
                   "email": {"type": ["string", "null"]}, "language": {"type": "string", "enum": ["zh-CN", "en"]},
                   "roles": _ROLES, "dept_ids": _IDS, "primary_dept_id": _ID,
                   "status": {"type": "string",
                              "enum": ["created", "pending", "joined", "left", "deleted", "disabled"]},
                   "membership": {"type": "string"}, "disabled": {"type": "boolean"}},
})
EMPLOYEE_IN = schema("EmployeeInput", {
    "type": "object", "required": ["name", "mobile", "dept_ids"],
    "properties": {"name": {"type": "string", "maxLength": 64}, "mobile": {"type": "string"},
                   "email": {"type": "string"}, "language": {"type": "string", "enum": ["zh-CN", "en"]},
                   "roles": _ROLES, "dept_ids": _IDS, "primary_dept_id": _ID,
                   "invite": {"type": "boolean", "description": "invite at once (the mobile is the confirmed one)"}},
})
EMPLOYEE_PATCH = schema("EmployeePatch", {
    "type": "object",
    "properties": {"name": {"type": "string"}, "mobile": {"type": "string"}, "email": {"type": "string"},
                   "language": {"type": "string"}, "roles": _ROLES, "dept_ids": _IDS, "primary_dept_id": _ID},
})
DEPARTMENT = schema("Department", {
    "type": "object",
    "properties": {"id": _ID, "name": {"type": "string"}, "parent_id": {"type": ["string", "null"]},
                   "manager_id": {"type": ["string", "null"]}, "children": {"type": "array"}},
})
DEPARTMENT_IN = schema("DepartmentInput", {
    "type": "object", "required": ["name"],
    "properties": {"name": {"type": "string", "maxLength": 64}, "parent_id": _ID,
                   "manager_id": {"type": ["string", "null"]}},
})
INVITE = schema("InvitationRequest", {
    "type": "object", "required": ["mobile"],
    "properties": {"mobile": {"type": "string", "description": "the admin confirms the employee's phone number"}},
})
ACCEPT = schema("InvitationAccept", {
    "type": "object", "required": ["token", "password"],
    "properties": {"token": {"type": "string"}, "password": {"type": "string", "minLength": 8}},
})
MENUS = schema("MenuPermissions", {
    "type": "object", "required": ["grants"],
    "properties": {"grants": {"type": "object", "properties": {"customer_visits": _IDS}}},
})
TENANT_IN = schema("TenantInput", {
    "type": "object", "required": ["code", "name", "admin_mobile", "admin_name", "admin_password"],
    "properties": {"code": {"type": "string"}, "name": {"type": "string"}, "admin_mobile": {"type": "string"},
                   "admin_name": {"type": "string"}, "admin_password": {"type": "string"}},
})

E401 = {401: "not authenticated (login codes: login.unknown_account, login.wrong_password, login.not_joined, "
             "login.left, login.disabled, login.locked)"}
COMMON = {400: "invalid input", 401: "not authenticated", 403: "not allowed", 404: "not found"}


def _need(data: dict[str, Any], *fields: str) -> None:
    for f in fields:
        if f not in data or data[f] is None:
            raise InvalidInput("validation.required", f"{f} is required", {"field": f})


async def login(request: Request) -> Response:
    data = await read_json(request)
    _need(data, "tenant_code", "mobile", "password")
    session.check_login(request)
    check_attempt(request, f"{str(data['tenant_code']).strip().lower()}|{str(data['mobile']).strip()}")
    result = await call_service(request, "identity", "login", {
        "tenant_code": data["tenant_code"], "mobile": data["mobile"], "password": data["password"],
        "bind_device": data.get("bind_device", False)})
    return session.login_response(request, result)


async def refresh(request: Request) -> Response:
    data = await read_json(request, required=False)
    token, from_cookie = session.refresh_token(request, data)  # the body's device_token, or the cookie's
    if token is None:
        _need(data, "device_token")
    check_attempt(request)
    return await session.refresh_response(
        call_service(request, "identity", "refresh", {"device_token": token}), from_cookie)


async def accept(request: Request) -> Response:
    data = await read_json(request)
    _need(data, "token", "password")
    check_attempt(request, f"invitation|{request.path_params['id']}")
    return JSONResponse(await call_service(request, "identity", "accept_invitation", {
        "invitation_id": request.path_params["id"], "token": data["token"], "password": data["password"]}))


async def list_employees(request: Request) -> Response:
    """Every employee (``{items}``); with ``q``, ``page`` or ``page_size`` one page of the
    matching ones (``{items, total, page, page_size}``, the console's table)."""
    params = request.query_params
    kwargs = {k: params[k] for k in ("role", "dept_id", "status") if k in params}
    if any(k in params for k in ("q", "page", "page_size")):
        kwargs.update({k: params[k] for k in ("q", "page", "page_size") if k in params})
        return JSONResponse(await call_service(request, "identity", "search_employees", kwargs))
    items = await call_service(request, "identity", "list_employees", kwargs)
    return JSONResponse({"items": items})


async def departure_preview(request: Request) -> Response:
    """What a leaver would hand over and to whom (SPEC §2): identity names the receiver (and
    checks the caller may delete the employee), customers and visits count what moves."""
    employee_id = request.path_params["id"]
    who = await call_service(request, "identity", "departure_preview", {"employee_id": employee_id})
    records = await call_service(request, "customers", "handover_preview", {"owner_id": employee_id})
    plans = await call_service(request, "visits", "handover_preview", {"employee_id": employee_id})
    return JSONResponse({**who, "customers": records["customers"], "contacts": records["contacts"],
                         "future_visits": plans["future_visits"]})


async def invite(request: Request) -> Response:
    data = await read_json(request)
    result = await call_service(request, "identity", "invite_employee",
                                {"employee_id": request.path_params["id"], "data": data})
    return JSONResponse(result, status_code=201)


async def create_tenant(request: Request) -> Response:
    data = await read_json(request)
    _need(data, "code", "name", "admin_mobile", "admin_name", "admin_password")
    kwargs = {k: data[k] for k in ("code", "name", "admin_mobile", "admin_name", "admin_password")}
    kwargs["operator_secret"] = request.headers.get("x-operator-secret", "")
    return JSONResponse(await call_service(request, "identity", "create_tenant", kwargs), status_code=201)


async def operator_tenant(request: Request) -> Response:
    return JSONResponse(await call_service(request, "identity", "operator_tenant", {
        "operator_secret": request.headers.get("x-operator-secret", ""), "code": request.path_params["code"]}))


operation("POST", "/api/v1/auth/login", "Log in with tenant code, mobile and password", LOGIN,
          {200: {"description": "tokens", "schema": TOKENS}, 400: "invalid input", **E401,
           429: "auth.rate_limited: too many attempts from this client or for this account (Retry-After)"}, TAG,
          description="Without bind_device (普通登录) only an access token is issued; with it (现在绑定) also a "
                      "long-lived device token for POST /api/v1/auth/refresh. With the header "
                      "X-CRM-Session: cookie (the web app) the device token is set as the HttpOnly cookie "
                      "crm_device (Path=/api/v1/auth) instead of being returned, and the answer says device_bound; "
                      "403 csrf.origin_mismatch for another Origin.")
operation("POST", "/api/v1/auth/refresh", "New access token from a device token (body, or the crm_device cookie "
          "with the header X-CRM-Session: cookie)",
          {"type": "object", "properties": {"device_token": {"type": "string"}}},
          {200: {"description": "tokens", "schema": TOKENS}, 401: "device token invalid or revoked (a refused "
           "cookie is cleared)", 403: "csrf.header_missing / csrf.origin_mismatch (cookie refresh)",
           429: "auth.rate_limited: too many attempts from this client or for this account (Retry-After)"}, TAG)
operation("POST", "/api/v1/auth/logout", "Log out: revokes every token of the caller at once and clears the "
          "device cookie",
          None, {200: "logged out", 401: "not authenticated"}, TAG)
operation("GET", "/api/v1/me", "The caller: employee, tenant, menus", None,
          {200: {"description": "me", "schema": EMPLOYEE}, 401: "not authenticated"}, TAG)
operation("GET", "/api/v1/departments", "Department list and tree", None, {200: "departments", **COMMON}, TAG)
operation("POST", "/api/v1/departments", "Create a department (tenant admin)", DEPARTMENT_IN,
          {201: {"description": "created", "schema": DEPARTMENT}, 409: "sibling name taken", **COMMON}, TAG,
          idempotent=True)
operation("GET", "/api/v1/departments/{id}", "One department", None,
          {200: {"description": "department", "schema": DEPARTMENT}, **COMMON}, TAG)
operation("PATCH", "/api/v1/departments/{id}", "Rename, move or set the manager of a department (tenant admin)",
          DEPARTMENT_IN, {200: {"description": "updated", "schema": DEPARTMENT},
                          400: "invalid input; department.cycle when moving under its own descendant", **{
                              k: v for k, v in COMMON.items() if k != 400}}, TAG)
operation("DELETE", "/api/v1/departments/{id}", "Delete an empty department (tenant admin)", None,
          {200: "deleted", 409: "department.not_empty", **COMMON}, TAG)
operation("GET", "/api/v1/employees", "Employees of the organisation", None,
          {200: "employees: {items}; with q, page or page_size one page {items, total, page, page_size}",
           **COMMON}, TAG,
          query={"role": {"type": "string"}, "dept_id": {"type": "string"}, "status": {"type": "string"},
                 "q": {"type": "string", "description": "in the name or the mobile"},
                 "page": {"type": "integer", "minimum": 1},
                 "page_size": {"type": "integer", "minimum": 1, "maximum": 200}})
operation("GET", "/api/v1/employees/{id}/departure-preview", "What a departure would hand over and to whom: "
          "customers, contacts and future visit plans (those who may delete the employee)", None,
          {200: {"description": "preview", "schema": schema("DeparturePreview", {
              "type": "object", "properties": {
                  "employee_id": _ID, "name": {"type": "string"}, "handover_to": {"type": ["string", "null"]},
                  "handover_name": {"type": ["string", "null"]}, "customers": {"type": "integer"},
                  "contacts": {"type": "integer"}, "future_visits": {"type": "integer"}}})},
           404: "employee.not_found", **COMMON}, TAG)
operation("POST", "/api/v1/employees", "Create an employee (tenant admin; dept admin inside their subtree)",
          EMPLOYEE_IN, {201: {"description": "created", "schema": EMPLOYEE}, 409: "employee.mobile_taken",
                        **COMMON}, TAG, idempotent=True)
operation("GET", "/api/v1/employees/{id}", "One employee", None, {200: {"description": "employee",
                                                                        "schema": EMPLOYEE}, **COMMON}, TAG)
operation("PATCH", "/api/v1/employees/{id}", "Change an employee", EMPLOYEE_PATCH,
          {200: {"description": "employee", "schema": EMPLOYEE}, 409: "employee.mobile_taken", **COMMON}, TAG)
operation("DELETE", "/api/v1/employees/{id}", "Delete an employee: they leave the organisation, every token "
          "is revoked, employee.left names the handover target", None,
          {200: "deleted", 422: "employee.last_admin", **COMMON}, TAG)
operation("POST", "/api/v1/employees/{id}/disable", "Disable an employee (revokes every token)", None,
          {200: "disabled", **COMMON}, TAG)
operation("POST", "/api/v1/employees/{id}/enable", "Enable an employee", None, {200: "enabled", **COMMON}, TAG)
operation("POST", "/api/v1/employees/{id}/invitation", "Invite an employee to join (加入组织): the admin confirms "
          "the phone number; status becomes pending", INVITE,
          {201: "invitation (id, expiry, sent_to: invitee); the one-time token goes only to the invitee "
                "(development stacks with INVITE_TOKEN_TO_INVITER=1 also return it)", 409: "already joined",
           422: "invitation.mobile_mismatch", **COMMON}, TAG, idempotent=True)
operation("POST", "/api/v1/employees/me/leave", "Leave the organisation (revokes every token)", None,
          {200: "left", 401: "not authenticated", 422: "employee.last_admin"}, TAG)
operation("POST", "/api/v1/invitations/{id}/accept", "Accept an invitation and set a password (public)", ACCEPT,
          {200: "joined", 400: "invalid input", 401: "invitation.invalid_token", 404: "invitation.not_found",
           409: "invitation.used or superseded", 422: "invitation.expired",
           429: "auth.rate_limited: too many attempts from this client or for this account (Retry-After)"}, TAG)
operation("GET", "/api/v1/menu-permissions", "PC menu grants per department (tenant admin)", None,
          {200: {"description": "grants", "schema": MENUS}, **COMMON}, TAG)
operation("PUT", "/api/v1/menu-permissions", "Set the PC menu grants per department (tenant admin)", MENUS,
          {200: {"description": "grants", "schema": MENUS}, **COMMON}, TAG)
operation("POST", "/api/v1/operator/tenants", "Create a tenant with its admin (operator: X-Operator-Secret)",
          TENANT_IN, {201: "created", 401: "operator.unauthenticated", 409: "tenant.code_taken",
                      400: "invalid input"}, ["operator"])
operation("GET", "/api/v1/operator/tenants/{code}", "A tenant by code (operator: X-Operator-Secret)", None,
          {200: "tenant", 401: "operator.unauthenticated", 404: "tenant.not_found"}, ["operator"])

routes = [
    Route("/api/v1/auth/login", login, methods=["POST"]),
    Route("/api/v1/auth/refresh", refresh, methods=["POST"]),
    Route("/api/v1/auth/logout", session.clearing_cookie(rpc_route("identity", "logout")), methods=["POST"]),
    Route("/api/v1/me", rpc_route("identity", "me"), methods=["GET"]),
    Route("/api/v1/departments", rpc_route("identity", "list_departments"), methods=["GET"]),
    Route("/api/v1/departments", rpc_route("identity", "create_department", body="data", status_code=201),
          methods=["POST"]),
    Route("/api/v1/departments/{id}", rpc_route("identity", "get_department", path={"id": "department_id"}),
          methods=["GET"]),
    Route("/api/v1/departments/{id}", rpc_route("identity", "update_department", body="data",
                                                path={"id": "department_id"}), methods=["PATCH"]),
    Route("/api/v1/departments/{id}", rpc_route("identity", "delete_department", path={"id": "department_id"}),
          methods=["DELETE"]),
    Route("/api/v1/employees", list_employees, methods=["GET"]),
    Route("/api/v1/employees", rpc_route("identity", "create_employee", body="data", status_code=201),
          methods=["POST"]),
    Route("/api/v1/employees/me/leave", rpc_route("identity", "leave"), methods=["POST"]),
    Route("/api/v1/employees/{id}", rpc_route("identity", "get_employee", path={"id": "employee_id"}),
          methods=["GET"]),
    Route("/api/v1/employees/{id}", rpc_route("identity", "update_employee", body="data",
                                              path={"id": "employee_id"}), methods=["PATCH"]),
    Route("/api/v1/employees/{id}", rpc_route("identity", "delete_employee", path={"id": "employee_id"}),
          methods=["DELETE"]),
    Route("/api/v1/employees/{id}/departure-preview", departure_preview, methods=["GET"]),
    Route("/api/v1/employees/{id}/disable", rpc_route("identity", "disable_employee", path={"id": "employee_id"}),
          methods=["POST"]),
    Route("/api/v1/employees/{id}/enable", rpc_route("identity", "enable_employee", path={"id": "employee_id"}),
          methods=["POST"]),
    Route("/api/v1/employees/{id}/invitation", invite, methods=["POST"]),
    Route("/api/v1/invitations/{id}/accept", accept, methods=["POST"]),
    Route("/api/v1/menu-permissions", rpc_route("identity", "get_menu_permissions"), methods=["GET"]),
    Route("/api/v1/menu-permissions", rpc_route("identity", "set_menu_permissions", body="data"), methods=["PUT"]),
    Route("/api/v1/operator/tenants", create_tenant, methods=["POST"]),
    Route("/api/v1/operator/tenants/{code}", operator_tenant, methods=["GET"]),
]
ROUTES = routes

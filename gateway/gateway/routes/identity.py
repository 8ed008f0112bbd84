"""HTTP routes of the identity service: sessions, organisation, joining, menus, operator."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crmkit.errors import InvalidInput
from gateway import session
from gateway.api import Api, Inputs
from gateway.ratelimit import check_attempt
from gateway.routing import call_service
from gateway.schemas import identity as s

api = Api(tags=["identity"])
operator = Api(tags=["operator"])

E401 = {401: "not authenticated (login codes: login.unknown_account, login.wrong_password, login.not_joined, "
             "login.left, login.disabled, login.locked)"}
LIMITED = {429: "auth.rate_limited: too many attempts from this client or for this account (Retry-After)"}
COMMON = {400: "invalid input", 401: "not authenticated", 403: "not allowed", 404: "not found"}
D, E = "/api/v1/departments", "/api/v1/employees"


async def login(request: Request, inp: Inputs) -> Response:
    data = inp.body or {}
    session.check_login(request)
    check_attempt(request, f"{data['tenant_code'].strip().lower()}|{data['mobile'].strip()}")
    result = await call_service(request, "identity", "login", {
        "tenant_code": data["tenant_code"], "mobile": data["mobile"], "password": data["password"],
        "bind_device": data.get("bind_device", False)})
    return session.login_response(request, result)


async def refresh(request: Request, inp: Inputs) -> Response:
    token, from_cookie = session.refresh_token(request, inp.body or {})  # the body's device_token, or the cookie's
    if token is None:
        raise InvalidInput("validation.required", "device_token is required (or the crm_device cookie)",
                           {"field": "device_token", "errors": [{"field": "device_token", "code": "missing",
                                                                 "message": "Field required"}]})
    check_attempt(request)
    return await session.refresh_response(
        call_service(request, "identity", "refresh", {"device_token": token}), from_cookie)


async def accept(request: Request, inp: Inputs) -> Response:
    data = inp.body or {}
    check_attempt(request, f"invitation|{inp.path['id']}")
    return JSONResponse(await call_service(request, "identity", "accept_invitation", {
        "invitation_id": inp.path["id"], "token": data["token"], "password": data["password"]}))


async def logout(request: Request, inp: Inputs) -> Response:
    """Revokes every token of the caller; the answer also clears the device cookie."""
    response = JSONResponse(await call_service(request, "identity", "logout", {}))
    session.clear_device_cookie(response)
    return response


async def list_employees(request: Request, inp: Inputs) -> Response:
    """Every employee (``{items}``); with ``q``, ``page`` or ``page_size`` one page of the
    matching ones (``{items, total, page, page_size}``, the console's table)."""
    kwargs = dict(inp.query)
    if any(k in kwargs for k in ("q", "page", "page_size")):
        return JSONResponse(await call_service(request, "identity", "search_employees", kwargs))
    return JSONResponse({"items": await call_service(request, "identity", "list_employees", kwargs)})


async def departure_preview(request: Request, inp: Inputs) -> Response:
    """What a leaver would hand over and to whom (SPEC §2): identity names the receiver (and
    checks the caller may delete the employee), customers and visits count what moves."""
    employee_id = inp.path["id"]
    who = await call_service(request, "identity", "departure_preview", {"employee_id": employee_id})
    records = await call_service(request, "customers", "handover_preview", {"owner_id": employee_id})
    plans = await call_service(request, "visits", "handover_preview", {"employee_id": employee_id})
    return JSONResponse({**who, "customers": records["customers"], "contacts": records["contacts"],
                         "future_visits": plans["future_visits"]})


async def create_tenant(request: Request, inp: Inputs) -> Response:
    kwargs = dict(inp.body or {})
    kwargs["operator_secret"] = request.headers.get("x-operator-secret", "")
    return JSONResponse(await call_service(request, "identity", "create_tenant", kwargs), status_code=201)


async def operator_tenant(request: Request, inp: Inputs) -> Response:
    return JSONResponse(await call_service(request, "identity", "operator_tenant", {
        "operator_secret": request.headers.get("x-operator-secret", ""), "code": inp.path["code"]}))


routes = [
    api.handler("POST", "/api/v1/auth/login", login, "Log in with tenant code, mobile and password",
                description="Without bind_device (普通登录) only an access token is issued; with it (现在绑定) also "
                            "a long-lived device token for POST /api/v1/auth/refresh. With the header "
                            "X-CRM-Session: cookie (the web app) the device token is set as the HttpOnly cookie "
                            "crm_device (Path=/api/v1/auth) instead of being returned, and the answer says "
                            "device_bound; 403 csrf.origin_mismatch for another Origin.",
                body=s.LoginIn, response=s.Tokens, public=True,
                errors={400: "invalid input", **E401, 403: "csrf.header_missing / csrf.origin_mismatch (cookie mode)",
                        **LIMITED}),
    api.handler("POST", "/api/v1/auth/refresh", refresh, "New access token from a device token (body, or the "
                "crm_device cookie with the header X-CRM-Session: cookie); the device token rotates: the answer "
                "(or, from the cookie, the cookie) carries the next one, and the used one revokes its whole "
                "family when presented again", body=s.RefreshIn, body_required=False, response=s.Tokens,
                public=True, errors={401: "device token invalid or revoked (a refused cookie is cleared)",
                                     403: "csrf.header_missing / csrf.origin_mismatch (cookie refresh)", **LIMITED}),
    api.handler("POST", "/api/v1/auth/logout", logout, "Log out: revokes every token of the caller at once and "
                "clears the device cookie", response=s.LoggedOut, errors={401: "not authenticated"}),
    api.rpc("GET", "/api/v1/me", "identity.me", "The caller: employee, tenant, menus", response=s.Me,
            errors={401: "not authenticated"}),
    api.rpc("GET", D, "identity.list_departments", "Department list and tree", response=s.Departments,
            errors=COMMON),
    api.rpc("POST", D, "identity.create_department", "Create a department (tenant admin)", body=s.DepartmentIn,
            response=s.Department, status=201, errors={409: "sibling name taken", **COMMON}),
    api.rpc("GET", f"{D}/{{id}}", "identity.get_department", "One department", path_names={"id": "department_id"},
            response=s.Department, errors=COMMON),
    api.rpc("PATCH", f"{D}/{{id}}", "identity.update_department",
            "Rename, move or set the manager of a department (tenant admin)", path_names={"id": "department_id"},
            body=s.DepartmentPatch, response=s.Department,
            errors={**COMMON, 400: "invalid input; department.cycle when moving under its own descendant"}),
    api.rpc("DELETE", f"{D}/{{id}}", "identity.delete_department", "Delete an empty department (tenant admin)",
            path_names={"id": "department_id"}, response=s.IdDeleted,
            errors={409: "department.not_empty", **COMMON}),
    api.handler("GET", E, list_employees, "Employees of the organisation: every one ({items}); with q, page or "
                "page_size one page of the matching ones ({items, total, page, page_size})", query=s.EmployeeQuery,
                response=s.Employees, errors=COMMON),
    api.rpc("POST", E, "identity.create_employee", "Create an employee (tenant admin; dept admin inside their "
            "subtree)", body=s.EmployeeIn, response=s.Employee, status=201,
            errors={409: "employee.mobile_taken", **COMMON}),
    api.rpc("POST", f"{E}/me/leave", "identity.leave", "Leave the organisation (revokes every token)",
            response=s.Employee, errors={401: "not authenticated", 422: "employee.last_admin"}),
    api.rpc("GET", f"{E}/{{id}}", "identity.get_employee", "One employee", path_names={"id": "employee_id"},
            response=s.Employee, errors=COMMON),
    api.rpc("PATCH", f"{E}/{{id}}", "identity.update_employee", "Change an employee",
            path_names={"id": "employee_id"}, body=s.EmployeePatch, response=s.Employee,
            errors={409: "employee.mobile_taken", **COMMON}),
    api.rpc("DELETE", f"{E}/{{id}}", "identity.delete_employee", "Delete an employee: they leave the organisation, "
            "every token is revoked, employee.left names the handover target", path_names={"id": "employee_id"},
            response=s.Employee, errors={422: "employee.last_admin", **COMMON}),
    api.handler("GET", f"{E}/{{id}}/departure-preview", departure_preview, "What a departure would hand over "
                "and to whom: customers, contacts and future visit plans (those who may delete the employee)",
                response=s.DeparturePreview,
                errors={**COMMON, 404: "employee.not_found"}),
    api.rpc("POST", f"{E}/{{id}}/disable", "identity.disable_employee", "Disable an employee (revokes every token)",
            path_names={"id": "employee_id"}, response=s.Employee, errors=COMMON),
    api.rpc("POST", f"{E}/{{id}}/enable", "identity.enable_employee", "Enable an employee",
            path_names={"id": "employee_id"}, response=s.Employee, errors=COMMON),
    api.rpc("POST", f"{E}/{{id}}/invitation", "identity.invite_employee", "Invite an employee to join (加入组织): "
            "the admin confirms the phone number; status becomes pending", path_names={"id": "employee_id"},
            body=s.InvitationIn, response=s.Invitation, status=201,
            errors={201: "invitation (id, expiry, sent_to: invitee); the one-time token goes only to the invitee "
                         "(development stacks with INVITE_TOKEN_TO_INVITER=1 also return it)",
                    409: "already joined", 422: "invitation.mobile_mismatch", **COMMON}),
    api.handler("POST", "/api/v1/invitations/{id}/accept", accept, "Accept an invitation and set a password (public)",
                path_model=s.InvitationPath, body=s.AcceptIn, response=s.Joined, public=True,
                errors={400: "invalid input", 404: "invitation.not_found (an unknown id and a wrong token "
                                                   "answer alike)",
                        409: "invitation.used or superseded", 422: "invitation.expired", **LIMITED}),
    api.rpc("GET", "/api/v1/menu-permissions", "identity.get_menu_permissions",
            "PC menu grants per department (tenant admin)", response=s.Menus, errors=COMMON),
    api.rpc("PUT", "/api/v1/menu-permissions", "identity.set_menu_permissions",
            "Set the PC menu grants per department (tenant admin)", body=s.MenusIn, response=s.Menus,
            errors=COMMON),
    operator.handler("POST", "/api/v1/operator/tenants", create_tenant,
                     "Create a tenant with its admin (operator: X-Operator-Secret)", body=s.TenantIn,
                     response=s.TenantCreated, status=201,
                     errors={401: "operator.unauthenticated", 409: "tenant.code_taken", 400: "invalid input"}),
    operator.handler("GET", "/api/v1/operator/tenants/{code}", operator_tenant,
                     "A tenant by code (operator: X-Operator-Secret)", path_model=s.TenantPath, response=s.Tenant,
                     errors={401: "operator.unauthenticated", 404: "tenant.not_found"}),
]
ROUTES = routes

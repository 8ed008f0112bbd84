"""HTTP routes of the customers service: customers, duplicate check, ownership and
sharing, projects, contact notes, timeline, contacts, tag groups, custom fields,
xlsx import/export and the map."""
from __future__ import annotations

import base64
import contextlib
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import IO, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from crmkit.errors import InvalidInput, TooLarge, UnsupportedMedia
from gateway.openapi import operation, schema
from gateway.routing import PART_BYTES, call_service, read_json, rpc_route, send_in_parts

TAG = ["customers"]
MAX_UPLOAD = 10 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BULK_TIMEOUT = 180.0

_PHONES = {"type": "array", "items": {"type": "string"}, "maxItems": 10}
CUSTOMER_IN = schema("CustomerInput", {
    "type": "object", "required": ["name", "address"],
    "description": "at least one of landlines, faxes, mobiles is required",
    "properties": {
        "name": {"type": "string", "maxLength": 100, "description": "company name as on the business licence"},
        "address": {"type": "string", "maxLength": 200}, "landlines": _PHONES, "faxes": _PHONES, "mobiles": _PHONES,
        "industry": {"type": "string"}, "grade": {"type": "string"}, "region": {"type": "string"},
        "location": {"type": "object", "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90},
                                                      "lng": {"type": "number", "minimum": -180, "maximum": 180}}},
        "kind": {"type": "string", "enum": ["own", "vendor"]},
        "customer_type": {"type": "string", "enum": ["company", "person"]},
        "cbm_id": {"type": "string"}, "contract_start": {"type": "string", "format": "date"},
        "contract_end": {"type": "string", "format": "date"},
        "billing": {"type": "object", "properties": {k: {"type": "string"} for k in
                                                     ("title", "tax_no", "bank", "account", "address", "phone")}},
        "tags": {"type": "array", "items": {"type": "string"}}, "custom": {"type": "object"},
        "remark": {"type": "string"},
    },
})
CUSTOMER = schema("Customer", {"type": "object", "properties": {
    "id": {"type": "string"}, "name": {"type": "string"}, "name_key": {"type": "string"},
    "phone_keys": {"type": "array", "items": {"type": "string"}}, "owner_id": {"type": ["string", "null"]},
    "owner_seq": {"type": "integer"}, "shared_with": {"type": "array", "items": {"type": "string"}},
    "dept_ids": {"type": "array", "items": {"type": "string"}}, "created_at": {"type": "string"}}})
PAGE = schema("CustomerPage", {"type": "object", "properties": {
    "items": {"type": "array", "items": CUSTOMER}, "total": {"type": "integer"}, "page": {"type": "integer"},
    "page_size": {"type": "integer"}}})
HOLDER = schema("DuplicateHolder", {"type": "object", "properties": {
    "type": {"type": "string", "enum": ["owner", "public_pool", "unowned"]}, "owner_id": {"type": ["string", "null"]},
    "owner_name": {"type": ["string", "null"]}, "supervisor_id": {"type": ["string", "null"]},
    "supervisor_name": {"type": ["string", "null"]}}})
DUP_IN = schema("DuplicateCheckInput", {"type": "object", "properties": {
    "name": {"type": "string"}, "landlines": _PHONES, "faxes": _PHONES, "mobiles": _PHONES,
    "phones": {"type": "array", "items": {"type": "string"}},
    "billing": {"type": "object", "properties": {"title": {"type": "string"}, "phone": {"type": "string"}}}}})
DUP_OUT = schema("DuplicateCheckResult", {"type": "object", "properties": {
    "duplicate": {"type": "boolean"}, "name_key": {"type": ["string", "null"]},
    "phone_keys": {"type": "array", "items": {"type": "string"}},
    "matches": {"type": "array", "items": {"type": "object", "properties": {
        "customer_id": {"type": "string"}, "name": {"type": "string"},
        "matched_on": {"type": "array", "items": {"type": "object", "properties": {
            "on": {"type": "string", "enum": ["name_key", "phone"]}, "value": {"type": "string"}}}},
        "holder": HOLDER}}}}})
OWNER_CHANGE = schema("OwnerChange", {"type": "object", "properties": {
    "customer_id": {"type": "string"}, "from_owner_id": {"type": ["string", "null"]},
    "to_owner_id": {"type": ["string", "null"]}, "seq": {"type": "integer"}, "path": {"type": "string"},
    "at": {"type": "string"}}})
IMPORT_REPORT = schema("ImportCheckReport", {"type": "object", "properties": {
    "ok": {"type": "boolean"}, "rows": {"type": ["integer", "null"]}, "truncated": {"type": "boolean"},
    "problems": {"type": "array", "items": {"type": "object", "properties": {
        "row": {"type": "integer"}, "column": {"type": ["string", "null"]}, "code": {"type": "string"},
        "message": {"type": "string"}}}}}})
CONTACT_IN = schema("ContactInput", {"type": "object", "required": ["name", "mobile"], "properties": {
    "name": {"type": "string"}, "mobile": {"type": "string", "description": "immutable after creation"},
    "title": {"type": "string"}, "company": {"type": "string"}, "address": {"type": "string"},
    "customer_id": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
    "custom": {"type": "object"}, "share_scope": {"type": "string", "enum": ["private", "department", "company"]}}})
TAG_GROUP_IN = schema("TagGroupInput", {"type": "object", "required": ["name", "color"], "properties": {
    "name": {"type": "string"}, "color": {"type": "string", "enum": ["red", "orange", "yellow", "green", "blue",
                                                                    "purple"]},
    "tags": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"},
                                                                          "name": {"type": "string"}}}}}})
FIELD_IN = schema("CustomFieldInput", {"type": "object", "required": ["entity", "key", "label", "type"], "properties": {
    "entity": {"type": "string", "enum": ["customer", "contact"]}, "key": {"type": "string"},
    "label": {"type": "string"}, "type": {"type": "string", "enum": ["text", "number", "date", "select",
                                                                     "multiselect", "bool"]},
    "options": {"type": "array", "items": {"type": "string"}}, "required": {"type": "boolean"}}})
FILE = {"description": "xlsx file", "content_type": XLSX, "schema": {"type": "string", "format": "binary"}}
STREAMED_FILE = {"description": "xlsx file, streamed (Content-Length known up front; the service hands it over "
                                "in parts of at most 1 MiB)", "content_type": XLSX,
                 "schema": {"type": "string", "format": "binary"}}
UPLOAD = {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
_PAGING = {"page": {"type": "integer", "minimum": 1}, "page_size": {"type": "integer", "minimum": 1, "maximum": 200}}


# -- uploads and downloads -------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def spooled_upload(request: Request) -> AsyncIterator[IO[bytes]]:
    """The xlsx of a multipart form (field ``file``) or of the raw body, streamed into a
    spool file (memory up to 1 MiB, then disk) and checked: ≤ 10 MB, a zip signature."""
    ctype = request.headers.get("content-type", "").lower()
    form = None
    own: IO[bytes] | None = None  # the spool this function made (a form's file is the form's)
    try:
        if ctype.startswith("multipart/form-data"):
            form = await request.form(max_files=1, max_fields=5)  # Starlette spools the file itself
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InvalidInput("import.no_file", "send the workbook in the form field 'file'")
            spool = upload.file
            spool.seek(0, 2)
            size = spool.tell()
        else:
            spool = own = tempfile.SpooledTemporaryFile(max_size=PART_BYTES)  # noqa: SIM115 - closed below
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_UPLOAD:
                    break
                spool.write(chunk)
        if size > MAX_UPLOAD:
            raise TooLarge("import.too_large", f"the file exceeds {MAX_UPLOAD} bytes", {"limit": MAX_UPLOAD})
        if not size:
            raise InvalidInput("import.no_file", "no file given")
        spool.seek(0)
        if spool.read(4) != b"PK\x03\x04":
            raise UnsupportedMedia("import.not_xlsx", "the file is not an xlsx workbook")
        spool.seek(0)
        yield spool
    finally:
        if form is not None:
            await form.close()
        if own is not None:
            own.close()


async def _import_call(request: Request, method: str) -> Any:
    async with spooled_upload(request) as spool:
        sent = await send_in_parts(request, "customers", spool)
    return await call_service(request, "customers", method, sent, timeout=BULK_TIMEOUT)


def _download(result: dict[str, Any]) -> Response:
    """A small file answered whole in the reply (the import templates)."""
    data = base64.b64decode(result["data_b64"])
    return Response(data, media_type=result.get("content_type") or XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{result["filename"]}"'})


def streamed_download(request: Request, service: str, result: dict[str, Any]) -> StreamingResponse:
    """An export stored by ``service`` in parts (``{download_id, parts, size, filename,
    content_type}``), streamed to the client part after part with ``download_part`` — one
    part (≤ 1 MiB) in memory at a time. The service deletes each part as it is read."""
    download_id, parts = result["download_id"], int(result["parts"])

    async def body() -> AsyncIterator[bytes]:
        for index in range(parts):
            part = await call_service(request, service, "download_part",
                                      {"download_id": download_id, "index": index})
            yield base64.b64decode(part["data_b64"])

    return StreamingResponse(body(), media_type=result.get("content_type") or XLSX,
                             headers={"Content-Disposition": f'attachment; filename="{result["filename"]}"',
                                      "Content-Length": str(int(result["size"]))})


async def import_template(request: Request) -> Response:
    return _download(await call_service(request, "customers", "import_template", {}))


def _import_route(method: str, status_code: int = 200) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that streams the uploaded workbook to ``customers.<method>``."""
    async def endpoint(request: Request) -> Response:
        return JSONResponse(await _import_call(request, method), status_code=status_code)
    return endpoint


async def contact_import_template(request: Request) -> Response:
    return _download(await call_service(request, "customers", "contact_import_template", {}))


async def export_customers(request: Request) -> Response:
    kwargs = {"owner_ids": request.query_params["owner_ids"]} if "owner_ids" in request.query_params else {}
    result = await call_service(request, "customers", "export_customers", kwargs, timeout=BULK_TIMEOUT)
    return streamed_download(request, "customers", result)


async def export_employee_customers(request: Request) -> Response:
    result = await call_service(request, "customers", "export_employee_customers", {}, timeout=BULK_TIMEOUT)
    return streamed_download(request, "customers", result)


async def customer_map(request: Request) -> Response:
    kwargs = {"owner_ids": request.query_params["owner_ids"]} if "owner_ids" in request.query_params else {}
    result = await call_service(request, "customers", "customer_map", kwargs)
    return JSONResponse(result, media_type="application/geo+json")


# -- OpenAPI ------------------------------------------------------------------------------------------
C = "/api/v1/customers"
operation("POST", f"{C}/duplicate-check", "Duplicate check (撞单) by company-name key and every number",
          DUP_IN, {200: {"description": "matches and who holds them", "schema": DUP_OUT}}, TAG)
operation("GET", C, "List visible customers (paginated)", None, {200: {"description": "page", "schema": PAGE}}, TAG,
          query={"q": {"type": "string"}, "owner_id": {"type": "string"}, "grade": {"type": "string"},
                 "tag": {"type": "string"}, "kind": {"type": "string"},
                 "dept_id": {"type": "string", "description": "assigned to this department (分配到部门)"},
                 "unowned": {"type": "boolean", "description": "nobody follows them (无人负责; admins only)"},
                 **_PAGING})
operation("POST", C, "Enter a customer (duplicate check enforced; the entrant becomes owner)", CUSTOMER_IN,
          {201: {"description": "created", "schema": CUSTOMER}, 400: "invalid input", 409: "duplicate (holder named)"},
          TAG, idempotent=True)
operation("GET", f"{C}/import/template", "Download the xlsx import template", None, {200: FILE}, TAG)
operation("POST", f"{C}/import/check", "Check an xlsx file: every problem by row and column", UPLOAD,
          {200: {"description": "report", "schema": IMPORT_REPORT}, 413: "file too large", 415: "not xlsx"}, TAG,
          request_content_type="multipart/form-data")
operation("POST", f"{C}/import", "Import a clean xlsx file (all or nothing)", UPLOAD,
          {201: "created customers", 413: "file too large", 415: "not xlsx", 422: "the file has problems"}, TAG,
          request_content_type="multipart/form-data")
operation("GET", f"{C}/export", "Export visible customers (xlsx, formula injection neutralised)", None,
          {200: STREAMED_FILE}, TAG, query={"owner_ids": {"type": "string"}})
operation("GET", f"{C}/export/employee-customers", "Export the employee–customer table (xlsx)", None,
          {200: STREAMED_FILE}, TAG)
operation("GET", f"{C}/map", "Customer distribution as GeoJSON for one or several employees", None,
          {200: "GeoJSON FeatureCollection"}, TAG, query={"owner_ids": {"type": "string"}})
operation("POST", f"{C}/share", "Share all of A's customers with B (several B); unshare with unshare=true",
          {"type": "object", "properties": {"from_owner_id": {"type": "string"},
                                            "to_user_ids": {"type": "array", "items": {"type": "string"}},
                                            "unshare": {"type": "boolean"}}}, {200: "shared"}, TAG)
operation("POST", f"{C}/bind", "Bind customers to an employee (owner_id) or unbind them (owner_id null)",
          {"type": "object", "properties": {"customer_ids": {"type": "array", "items": {"type": "string"}},
                                            "owner_id": {"type": ["string", "null"]}, "reason": {"type": "string"}}},
          {200: "changed", 409: "owner changed meanwhile"}, TAG)
operation("POST", f"{C}/departments", "Assign customers to departments (unassign=true to unbind)",
          {"type": "object", "properties": {"customer_ids": {"type": "array", "items": {"type": "string"}},
                                            "dept_ids": {"type": "array", "items": {"type": "string"}},
                                            "unassign": {"type": "boolean"}}}, {200: "assigned"}, TAG)
operation("GET", f"{C}/{{id}}", "Read a customer (404 outside the caller's visibility)", None,
          {200: {"description": "customer", "schema": CUSTOMER}, 404: "not found"}, TAG)
operation("PATCH", f"{C}/{{id}}", "Edit a customer (owner, supervisor, admin); billing changes re-run the "
          "duplicate check", CUSTOMER_IN, {200: "updated", 403: "not allowed", 409: "duplicate"}, TAG)
operation("DELETE", f"{C}/{{id}}", "Soft-delete a customer (admin only, audited)", None, {200: "deleted"}, TAG)
operation("POST", f"{C}/{{id}}/transfer", "Transfer to a new owner (linearised, logged)",
          {"type": "object", "required": ["new_owner_id"], "properties": {"new_owner_id": {"type": "string"},
                                                                          "reason": {"type": "string"}}},
          {200: {"description": "the change", "schema": OWNER_CHANGE}, 409: "another change won"}, TAG)
operation("GET", f"{C}/{{id}}/ownership", "Ownership log of a customer", None, {200: "log"}, TAG)
operation("GET", f"{C}/{{id}}/projects", "Projects of a vendor customer", None, {200: "projects"}, TAG)
operation("POST", f"{C}/{{id}}/projects", "Register a project of a vendor customer",
          {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"},
                                                                  "code": {"type": "string"}}},
          {201: "created", 422: "not a vendor customer"}, TAG)
operation("GET", f"{C}/{{id}}/contact-notes", "Contact notes (联系小计) of a customer", None, {200: "notes"}, TAG,
          query=_PAGING)
operation("POST", f"{C}/{{id}}/contact-notes", "Log a contact (resets the pool's no-contact clock)",
          {"type": "object", "required": ["content"], "properties": {
              "kind": {"type": "string", "enum": ["call", "message", "meeting", "visit", "other"]},
              "content": {"type": "string"}, "contact_id": {"type": "string"}}}, {201: "created"}, TAG)
operation("GET", f"{C}/{{id}}/timeline", "Timeline (业务往来), newest first", None, {200: "entries"}, TAG,
          query=_PAGING)
operation("GET", "/api/v1/contacts", "Search contacts (scope company/unowned: admin only)", None, {200: "page"},
          ["contacts"], query={"q": {"type": "string"}, "tag": {"type": "string"},
                               "scope": {"type": "string", "enum": ["mine", "company", "unowned"]},
                               "customer_id": {"type": "string"}, **_PAGING})
operation("POST", "/api/v1/contacts", "Add a contact (unique mobile; no colleague phones)", CONTACT_IN,
          {201: "created", 409: "mobile held (holder named)", 422: "colleague phone or tier limit"}, ["contacts"])
operation("GET", "/api/v1/contacts/{id}", "Read a contact", None, {200: "contact"}, ["contacts"])
operation("PATCH", "/api/v1/contacts/{id}", "Edit a contact (owner, supervisor, admin; mobile immutable)",
          CONTACT_IN, {200: "updated", 422: "mobile immutable"}, ["contacts"])
operation("DELETE", "/api/v1/contacts/{id}", "Delete a contact (admin only)", None, {200: "deleted"}, ["contacts"])
operation("GET", "/api/v1/contacts/tier", "The tenant's contact tier, its limit and the contacts counted against it",
          None, {200: "{tier, contact_limit, used, tiers}"}, ["contacts"])
operation("PUT", "/api/v1/contacts/tier", "Set the tenant's contact tier (basic 2000 / pro 10000 / enterprise 20000)",
          {"type": "object", "properties": {"tier": {"type": "string"}}}, {200: "set"}, ["contacts"])
operation("GET", "/api/v1/contacts/import/template", "Download the contact import template", None, {200: FILE},
          ["contacts"])
operation("POST", "/api/v1/contacts/import/check", "Check a contact xlsx (admin): tags, owners by real name "
          "(ambiguous names refused), duplicates", UPLOAD, {200: {"description": "report", "schema": IMPORT_REPORT}},
          ["contacts"], request_content_type="multipart/form-data")
operation("POST", "/api/v1/contacts/import", "Import a clean contact xlsx (admin; all or nothing)", UPLOAD,
          {201: "created", 422: "the file has problems"}, ["contacts"], request_content_type="multipart/form-data")
operation("GET", "/api/v1/tag-groups", "Tag groups", None, {200: "groups"}, ["tags"])
operation("POST", "/api/v1/tag-groups", "Create a tag group (admin; six colours)", TAG_GROUP_IN, {201: "created"},
          ["tags"])
operation("PATCH", "/api/v1/tag-groups/{id}", "Edit a tag group (admin)", TAG_GROUP_IN, {200: "updated"}, ["tags"])
operation("DELETE", "/api/v1/tag-groups/{id}", "Delete a tag group (admin)", None, {200: "deleted"}, ["tags"])
operation("GET", "/api/v1/custom-fields", "Custom and built-in fields", None, {200: "fields"}, ["custom fields"],
          query={"entity": {"type": "string", "enum": ["customer", "contact"]}})
operation("POST", "/api/v1/custom-fields", "Define a custom field (admin)", FIELD_IN, {201: "created"},
          ["custom fields"])
operation("DELETE", "/api/v1/custom-fields/{id}", "Delete a custom field (admin; built-ins refused with 422)", None,
          {200: "deleted", 422: "built-in field"}, ["custom fields"])

_ID = {"id": "customer_id"}
routes = [
    Route(f"{C}/duplicate-check", rpc_route("customers", "duplicate_check", body="data"), methods=["POST"]),
    Route(f"{C}/import/template", import_template, methods=["GET"]),
    Route(f"{C}/import/check", _import_route("import_check"), methods=["POST"]),
    Route(f"{C}/import", _import_route("import_customers", 201), methods=["POST"]),
    Route(f"{C}/export/employee-customers", export_employee_customers, methods=["GET"]),
    Route(f"{C}/export", export_customers, methods=["GET"]),
    Route(f"{C}/map", customer_map, methods=["GET"]),
    Route(f"{C}/share", rpc_route("customers", "share_customers", body="data"), methods=["POST"]),
    Route(f"{C}/bind", rpc_route("customers", "bind_customers", body="data"), methods=["POST"]),
    Route(f"{C}/departments", rpc_route("customers", "assign_departments", body="data"), methods=["POST"]),
    Route(C, rpc_route("customers", "list_customers",
                       query=("q", "owner_id", "grade", "tag", "kind", "dept_id", "unowned", "page", "page_size")),
          methods=["GET"]),
    Route(C, rpc_route("customers", "create_customer", body="data", idempotent=True, status_code=201),
          methods=["POST"]),
    Route(f"{C}/{{id}}", rpc_route("customers", "get_customer", path=_ID), methods=["GET"]),
    Route(f"{C}/{{id}}", rpc_route("customers", "update_customer", path=_ID, body="data"), methods=["PATCH"]),
    Route(f"{C}/{{id}}", rpc_route("customers", "delete_customer", path=_ID, query=("reason",)),
          methods=["DELETE"]),
    Route(f"{C}/{{id}}/transfer", rpc_route("customers", "transfer_customer", path=_ID, body="data"),
          methods=["POST"]),
    Route(f"{C}/{{id}}/ownership", rpc_route("customers", "ownership_history", path=_ID), methods=["GET"]),
    Route(f"{C}/{{id}}/projects", rpc_route("customers", "list_projects", path=_ID), methods=["GET"]),
    Route(f"{C}/{{id}}/projects", rpc_route("customers", "create_project", path=_ID, body="data", status_code=201),
          methods=["POST"]),
    Route(f"{C}/{{id}}/contact-notes", rpc_route("customers", "list_contact_notes", path=_ID,
                                                 query=("page", "page_size")), methods=["GET"]),
    Route(f"{C}/{{id}}/contact-notes", rpc_route("customers", "add_contact_note", path=_ID, body="data",
                                                 status_code=201), methods=["POST"]),
    Route(f"{C}/{{id}}/timeline", rpc_route("customers", "customer_timeline", path=_ID,
                                            query=("page", "page_size")), methods=["GET"]),
    Route("/api/v1/contacts/import/template", contact_import_template, methods=["GET"]),
    Route("/api/v1/contacts/import/check", _import_route("contact_import_check"), methods=["POST"]),
    Route("/api/v1/contacts/import", _import_route("import_contacts", 201), methods=["POST"]),
    Route("/api/v1/contacts/tier", rpc_route("customers", "contact_tier"), methods=["GET"]),
    Route("/api/v1/contacts/tier", rpc_route("customers", "set_contact_tier", body="data"), methods=["PUT"]),
    Route("/api/v1/contacts", rpc_route("customers", "list_contacts",
                                        query=("q", "tag", "scope", "customer_id", "page", "page_size")),
          methods=["GET"]),
    Route("/api/v1/contacts", rpc_route("customers", "create_contact", body="data", status_code=201),
          methods=["POST"]),
    Route("/api/v1/contacts/{id}", rpc_route("customers", "get_contact", path={"id": "contact_id"}), methods=["GET"]),
    Route("/api/v1/contacts/{id}", rpc_route("customers", "update_contact", path={"id": "contact_id"}, body="data"),
          methods=["PATCH"]),
    Route("/api/v1/contacts/{id}", rpc_route("customers", "delete_contact", path={"id": "contact_id"}),
          methods=["DELETE"]),
    Route("/api/v1/tag-groups", rpc_route("customers", "list_tag_groups"), methods=["GET"]),
    Route("/api/v1/tag-groups", rpc_route("customers", "create_tag_group", body="data", status_code=201),
          methods=["POST"]),
    Route("/api/v1/tag-groups/{id}", rpc_route("customers", "update_tag_group", path={"id": "group_id"}, body="data"),
          methods=["PATCH"]),
    Route("/api/v1/tag-groups/{id}", rpc_route("customers", "delete_tag_group", path={"id": "group_id"}),
          methods=["DELETE"]),
    Route("/api/v1/custom-fields", rpc_route("customers", "list_custom_fields", query=("entity",)), methods=["GET"]),
    Route("/api/v1/custom-fields", rpc_route("customers", "create_custom_field", body="data", status_code=201),
          methods=["POST"]),
    Route("/api/v1/custom-fields/{id}", rpc_route("customers", "delete_custom_field", path={"id": "field_id"}),
          methods=["DELETE"]),
]

# -- deleted customers (admin: audit, restore) and CBM records -------------------------------------
CBM_IN = schema("CbmInput", {"type": "object", "required": ["name", "email"], "properties": {
    "name": {"type": "string", "maxLength": 100}, "email": {"type": "string", "format": "email", "maxLength": 254},
    "mobile": {"type": ["string", "null"]}, "remark": {"type": ["string", "null"]}}})
CBM = schema("Cbm", {"type": "object", "properties": {
    "id": {"type": "string"}, "name": {"type": "string"}, "email": {"type": "string"},
    "mobile": {"type": ["string", "null"]}, "remark": {"type": ["string", "null"]},
    "created_at": {"type": "string"}, "updated_at": {"type": "string"}}})
CBM_PAGE = schema("CbmPage", {"type": "object", "properties": {
    "items": {"type": "array", "items": CBM}, "total": {"type": "integer"}, "page": {"type": "integer"},
    "page_size": {"type": "integer"}}})
DELETED_PAGE = schema("DeletedCustomerPage", {"type": "object", "properties": {
    "items": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "owner_id": {"type": ["string", "null"]},
        "owner_name": {"type": ["string", "null"]}, "deleted_at": {"type": ["string", "null"]},
        "deleted_by": {"type": ["string", "null"]}, "deleted_by_name": {"type": ["string", "null"]},
        "reason": {"type": "string"}}}},
    "total": {"type": "integer"}, "page": {"type": "integer"}, "page_size": {"type": "integer"}}})
D = "/api/v1/deleted-customers"
operation("GET", D, "Deleted customers, most recently deleted first, with who deleted them, when and why (admin)",
          None, {200: {"description": "page", "schema": DELETED_PAGE}, 403: "admins only"}, TAG, query=_PAGING)
operation("POST", f"{D}/{{id}}/restore", "Restore a deleted customer (admin): the duplicate check runs again; back "
          "to its previous owner while active (or owner_id; null = unowned); logged in the ownership log and "
          "the timeline", {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 500},
                                                            "owner_id": {"type": ["string", "null"]}}},
          {200: {"description": "the restored customer", "schema": CUSTOMER}, 403: "admins only",
           404: "no such deleted customer", 409: "duplicate (holder named) or not deleted",
           422: "owner inactive or private pool full"}, TAG)
operation("GET", "/api/v1/cbms", "CBM records (vendor direct-sales contacts) of the tenant", None,
          {200: {"description": "page", "schema": CBM_PAGE}}, ["cbms"], query={"q": {"type": "string"}, **_PAGING})
operation("POST", "/api/v1/cbms", "Add a CBM record (admin)", CBM_IN,
          {201: {"description": "created", "schema": CBM}, 400: "invalid", 403: "admins only"}, ["cbms"])
operation("GET", "/api/v1/cbms/{id}", "Read a CBM record", None, {200: {"description": "CBM", "schema": CBM},
                                                                  404: "not found"}, ["cbms"])
operation("PATCH", "/api/v1/cbms/{id}", "Edit a CBM record (admin)", CBM_IN,
          {200: {"description": "updated", "schema": CBM}, 403: "admins only", 404: "not found"}, ["cbms"])
operation("DELETE", "/api/v1/cbms/{id}", "Delete a CBM record (admin; linked customers then show no CBM)", None,
          {200: "deleted", 403: "admins only", 404: "not found"}, ["cbms"])


async def restore_customer(request: Request) -> Response:
    """The body is optional (``{reason?, owner_id?}``)."""
    data = await read_json(request, required=False)
    return JSONResponse(await call_service(request, "customers", "restore_customer",
                                           {"customer_id": request.path_params["id"], "data": data}))


_CBM = {"id": "cbm_id"}
routes += [
    Route(D, rpc_route("customers", "list_deleted_customers", query=("page", "page_size")), methods=["GET"]),
    Route(f"{D}/{{id}}/restore", restore_customer, methods=["POST"]),
    Route("/api/v1/cbms", rpc_route("customers", "list_cbms", query=("q", "page", "page_size")), methods=["GET"]),
    Route("/api/v1/cbms", rpc_route("customers", "create_cbm", body="data", status_code=201), methods=["POST"]),
    Route("/api/v1/cbms/{id}", rpc_route("customers", "get_cbm", path=_CBM), methods=["GET"]),
    Route("/api/v1/cbms/{id}", rpc_route("customers", "update_cbm", path=_CBM, body="data"), methods=["PATCH"]),
    Route("/api/v1/cbms/{id}", rpc_route("customers", "delete_cbm", path=_CBM), methods=["DELETE"]),
]
ROUTES = routes

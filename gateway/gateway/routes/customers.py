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

from crmkit.errors import InvalidInput, TooLarge, UnsupportedMedia
from gateway.api import Api, Inputs
from gateway.routing import PART_BYTES, call_service, send_in_parts
from gateway.schemas import customers as s
from gateway.schemas.base import Deleted, Record, RecordPage, Records, Result, Results, UploadForm

TAG = ["customers"]
MAX_UPLOAD = 10 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BULK_TIMEOUT = 180.0
STREAMED = "xlsx file, streamed (Content-Length known up front; the service hands it over in parts of at most 1 MiB)"

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
            spool: IO[bytes] = upload.file
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


async def import_template(request: Request, _inp: Inputs) -> Response:
    return _download(await call_service(request, "customers", "import_template", {}))


def _import_route(method: str, status_code: int = 200) -> Callable[[Request, Inputs], Awaitable[Response]]:
    """An endpoint that streams the uploaded workbook to ``customers.<method>``."""
    async def endpoint(request: Request, _inp: Inputs) -> Response:
        return JSONResponse(await _import_call(request, method), status_code=status_code)
    return endpoint


async def contact_import_template(request: Request, _inp: Inputs) -> Response:
    return _download(await call_service(request, "customers", "contact_import_template", {}))


async def export_customers(request: Request, inp: Inputs) -> Response:
    result = await call_service(request, "customers", "export_customers", dict(inp.query), timeout=BULK_TIMEOUT)
    return streamed_download(request, "customers", result)


async def export_employee_customers(request: Request, _inp: Inputs) -> Response:
    result = await call_service(request, "customers", "export_employee_customers", {}, timeout=BULK_TIMEOUT)
    return streamed_download(request, "customers", result)


async def customer_map(request: Request, inp: Inputs) -> Response:
    result = await call_service(request, "customers", "customer_map", dict(inp.query))
    return JSONResponse(result, media_type="application/geo+json")


# -- routes ------------------------------------------------------------------------------------------
api = Api(tags=["customers"])
contacts = Api(tags=["contacts"])
tags = Api(tags=["tags"])
fields = Api(tags=["custom fields"])
C, K = "/api/v1/customers", "/api/v1/contacts"
_ID = {"id": "customer_id"}
XLSX_IN = {"body": UploadForm, "body_content": "multipart/form-data"}
FILE = {"response_content": XLSX}
NOT_FOUND = {404: "not found or not visible"}

routes = [
    api.rpc("POST", f"{C}/duplicate-check", "customers.duplicate_check",
            "Duplicate check (撞单) by company-name key and every number", body=s.DuplicateCheckIn,
            response=s.DuplicateCheck, errors={200: "matches and who holds them"}),
    api.handler("GET", f"{C}/import/template", import_template, "Download the xlsx import template", **FILE),
    api.handler("POST", f"{C}/import/check", _import_route("import_check"),
                "Check an xlsx file: every problem by row and column", **XLSX_IN, response=s.ImportReport,
                errors={413: "file too large", 415: "not xlsx"}),
    api.handler("POST", f"{C}/import", _import_route("import_customers", 201),
                "Import a clean xlsx file (all or nothing)", **XLSX_IN, response=s.ImportReport, status=201,
                errors={201: "created customers", 413: "file too large", 415: "not xlsx",
                        422: "the file has problems"}),
    api.handler("GET", f"{C}/export/employee-customers", export_employee_customers,
                "Export the employee–customer table (xlsx)", errors={200: STREAMED}, **FILE),
    api.handler("GET", f"{C}/export", export_customers, "Export visible customers (xlsx, formula injection "
                "neutralised)", query=s.OwnersQuery, errors={200: STREAMED}, **FILE),
    api.handler("GET", f"{C}/map", customer_map, "Customer distribution as GeoJSON for one or several employees",
                query=s.OwnersQuery, response=s.GeoJson, response_content="application/geo+json"),
    api.rpc("POST", f"{C}/share", "customers.share_customers", "Share all of A's customers with B (several B); "
            "unshare with unshare=true", body=s.ShareIn, response=Result),
    api.rpc("POST", f"{C}/bind", "customers.bind_customers", "Bind customers to an owner (owner_id null: back to "
            "the public pool)", body=s.BindIn, response=s.OwnerChanges),
    api.rpc("POST", f"{C}/departments", "customers.assign_departments", "Assign (or unassign) departments to "
            "customers", body=s.DepartmentsIn, response=Result),
    api.rpc("GET", C, "customers.list_customers", "List visible customers (paginated)", query=s.CustomerQuery,
            response=s.CustomerPage),
    api.rpc("POST", C, "customers.create_customer", "Enter a customer (duplicate check enforced; the entrant "
            "becomes owner)", body=s.CustomerIn, response=s.Customer, status=201, pass_key=True,
            errors={400: "invalid input", 409: "duplicate (holder named)"}),
    api.rpc("GET", f"{C}/{{id}}", "customers.get_customer", "One customer", path_names=_ID, response=s.Customer,
            errors=NOT_FOUND),
    api.rpc("PATCH", f"{C}/{{id}}", "customers.update_customer", "Edit a customer (owner, supervisor, admin); "
            "billing changes re-run the duplicate check", path_names=_ID, body=s.CustomerPatch, response=s.Customer,
            errors={403: "not allowed", 409: "duplicate", **NOT_FOUND}),
    api.rpc("DELETE", f"{C}/{{id}}", "customers.delete_customer", "Soft-delete a customer (admin only, audited)",
            path_names=_ID, query=s.DeleteQuery, response=Result, errors=NOT_FOUND),
    api.rpc("POST", f"{C}/{{id}}/transfer", "customers.transfer_customer", "Transfer to a new owner (linearised, "
            "logged)", path_names=_ID, body=s.TransferIn, response=s.OwnerChange,
            errors={409: "another change won", **NOT_FOUND}),
    api.rpc("GET", f"{C}/{{id}}/ownership", "customers.ownership_history", "Ownership log of a customer",
            path_names=_ID, response=Results, errors=NOT_FOUND),
    api.rpc("GET", f"{C}/{{id}}/projects", "customers.list_projects", "Projects of a vendor customer",
            path_names=_ID, response=Records, errors=NOT_FOUND),
    api.rpc("POST", f"{C}/{{id}}/projects", "customers.create_project", "Register a project of a vendor customer",
            path_names=_ID, body=s.ProjectIn, response=Record, status=201,
            errors={422: "not a vendor customer", **NOT_FOUND}),
    api.rpc("GET", f"{C}/{{id}}/contact-notes", "customers.list_contact_notes", "Contact notes (联系小计) of a "
            "customer", path_names=_ID, query=s.PageQuery, response=s.NotePage, errors=NOT_FOUND),
    api.rpc("POST", f"{C}/{{id}}/contact-notes", "customers.add_contact_note", "Log a contact (resets the pool's "
            "no-contact clock)", path_names=_ID, body=s.NoteIn, response=s.Note, status=201, errors=NOT_FOUND),
    api.rpc("GET", f"{C}/{{id}}/timeline", "customers.customer_timeline", "Timeline (业务往来), newest first",
            path_names=_ID, query=s.PageQuery, response=s.TimelinePage, errors=NOT_FOUND),
    contacts.handler("GET", f"{K}/import/template", contact_import_template, "Download the contact import template",
                     **FILE),
    contacts.handler("POST", f"{K}/import/check", _import_route("contact_import_check"),
                     "Check a contact xlsx (admin): tags, owners by real name (ambiguous names refused), duplicates",
                     **XLSX_IN, response=s.ImportReport, errors={413: "file too large", 415: "not xlsx"}),
    contacts.handler("POST", f"{K}/import", _import_route("import_contacts", 201),
                     "Import a clean contact xlsx (admin; all or nothing)", **XLSX_IN, response=s.ImportReport,
                     status=201, errors={422: "the file has problems", 413: "file too large", 415: "not xlsx"}),
    contacts.rpc("GET", f"{K}/tier", "customers.contact_tier", "The tenant's contact tier, its limit and the "
                 "contacts counted against it", response=s.TierUse),
    contacts.rpc("PUT", f"{K}/tier", "customers.set_contact_tier", "Set the tenant's contact tier (basic 2000 / "
                 "pro 10000 / enterprise 20000)", body=s.TierIn, response=s.Tier, errors={403: "admin only"}),
    contacts.rpc("GET", K, "customers.list_contacts", "Search contacts (scope company/unowned: admin only)",
                 query=s.ContactQuery, response=RecordPage),
    contacts.rpc("POST", K, "customers.create_contact", "Add a contact (unique mobile; no colleague phones)",
                 body=s.ContactIn, response=Record, status=201,
                 errors={409: "mobile held (holder named)", 422: "colleague phone or tier limit"}),
    contacts.rpc("GET", f"{K}/{{id}}", "customers.get_contact", "Read a contact", path_names={"id": "contact_id"},
                 response=Record, errors=NOT_FOUND),
    contacts.rpc("PATCH", f"{K}/{{id}}", "customers.update_contact", "Edit a contact (owner, supervisor, admin; "
                 "mobile immutable)", path_names={"id": "contact_id"}, body=s.ContactPatch, response=Record,
                 errors={422: "mobile immutable", **NOT_FOUND}),
    contacts.rpc("DELETE", f"{K}/{{id}}", "customers.delete_contact", "Delete a contact (admin only)",
                 path_names={"id": "contact_id"}, response=Deleted, errors=NOT_FOUND),
    tags.rpc("GET", "/api/v1/tag-groups", "customers.list_tag_groups", "Tag groups", response=Records),
    tags.rpc("POST", "/api/v1/tag-groups", "customers.create_tag_group", "Create a tag group (admin; six colours)",
             body=s.TagGroupIn, response=Record, status=201),
    tags.rpc("PATCH", "/api/v1/tag-groups/{id}", "customers.update_tag_group", "Edit a tag group (admin)",
             path_names={"id": "group_id"}, body=s.TagGroupPatch, response=Record, errors=NOT_FOUND),
    tags.rpc("DELETE", "/api/v1/tag-groups/{id}", "customers.delete_tag_group", "Delete a tag group (admin)",
             path_names={"id": "group_id"}, response=Deleted, errors=NOT_FOUND),
    fields.rpc("GET", "/api/v1/custom-fields", "customers.list_custom_fields", "Custom and built-in fields",
               query=s.FieldQuery, response=Records),
    fields.rpc("POST", "/api/v1/custom-fields", "customers.create_custom_field", "Define a custom field (admin)",
               body=s.FieldIn, response=Record, status=201),
    fields.rpc("DELETE", "/api/v1/custom-fields/{id}", "customers.delete_custom_field",
               "Delete a custom field (admin; built-ins refused with 422)", path_names={"id": "field_id"},
               path_model=s.FieldPath, response=Deleted, errors={422: "built-in field", **NOT_FOUND}),
]

# -- deleted customers (admin: audit, restore) and CBM records -------------------------------------
D = "/api/v1/deleted-customers"
cbms = Api(tags=["cbms"])
_CBM = {"id": "cbm_id"}
routes += [
    api.rpc("GET", D, "customers.list_deleted_customers", "Deleted customers, most recently deleted first, with "
            "who deleted them, when and why (admin)", query=s.PageQuery, response=s.DeletedCustomerPage,
            errors={403: "admins only"}),
    api.rpc("POST", f"{D}/{{id}}/restore", "customers.restore_customer", "Restore a deleted customer (admin): the "
            "duplicate check runs again; back to its previous owner while active (or owner_id; null = unowned); "
            "logged in the ownership log and the timeline", path_names=_ID, body=s.RestoreIn, body_required=False,
            response=s.Customer, errors={403: "admins only", 404: "no such deleted customer",
                                         409: "duplicate (holder named) or not deleted",
                                         422: "owner inactive or private pool full"}),
    cbms.rpc("GET", "/api/v1/cbms", "customers.list_cbms", "CBM records (vendor direct-sales contacts) of the "
             "tenant", query=s.CbmQuery, response=s.CbmPage),
    cbms.rpc("POST", "/api/v1/cbms", "customers.create_cbm", "Add a CBM record (admin)", body=s.CbmIn,
             response=s.Cbm, status=201, errors={403: "admins only"}),
    cbms.rpc("GET", "/api/v1/cbms/{id}", "customers.get_cbm", "Read a CBM record", path_names=_CBM,
             response=s.Cbm, errors=NOT_FOUND),
    cbms.rpc("PATCH", "/api/v1/cbms/{id}", "customers.update_cbm", "Edit a CBM record (admin)", path_names=_CBM,
             body=s.CbmPatch, response=s.Cbm, errors={403: "admins only", **NOT_FOUND}),
    cbms.rpc("DELETE", "/api/v1/cbms/{id}", "customers.delete_cbm", "Delete a CBM record (admin; linked customers "
             "then show no CBM)", path_names=_CBM, response=Deleted, errors={403: "admins only", **NOT_FOUND}),
]
ROUTES = routes

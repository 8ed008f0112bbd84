"""Contact import: template, check (every problem by row and column), all-or-nothing
import. Required: name, mobile, tag; the owner is given by a colleague's real name and an
ambiguous or unknown name is an error of the check step (the seed picks at random; we
refuse to guess). The workbook is read through the customers import's one reading path
(``sheets.first_sheet_rows``: zip-bomb, DOCTYPE and cell-length guard first); owners and
colleague phones are resolved from one ``identity.list_employees`` answer per check."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from crmkit.context import CallContext
from crmkit.errors import BusinessRule, Conflict
from customers import uploads
from customers.catalog import require_admin
from customers.contacts import contact_limit
from customers.peers import Directory
from customers.phones import parse_phone
from customers.rules import illegal_chars
from customers.sheets import (
    MAX_CELL,
    Parsed,
    check_header,
    col_letter,
    data_rows,
    first_sheet_rows,
    shown,
    template_workbook,
)
from customers.store import Store, new_id

if TYPE_CHECKING:
    from crmkit.nameko.kit import WorkerKit

COLUMNS: tuple[tuple[str, str], ...] = (
    ("姓名*", "name"), ("手机*", "mobile"), ("标签*", "tag"), ("负责人*", "owner_name"), ("职务", "title"),
    ("公司", "company"), ("地址", "address"),
)
HEADERS = tuple(h for h, _ in COLUMNS)
COL = {f: col_letter(i) for i, (_, f) in enumerate(COLUMNS)}
REQUIRED = ("name", "mobile", "tag", "owner_name")
LIMITS = {"name": 100, "title": 50, "company": 100, "address": 200, "tag": 50, "owner_name": 50}


NOTES = {"name": "必填 / required", "mobile": "必填，创建后不可修改 / required, cannot be changed later",
         "tag": "必填，填写已有标签的名称 / required: the name of an existing tag",
         "owner_name": "必填，同事的真实姓名（重名时无法导入）/ required: a colleague's real name (must be unique)"}
SAMPLE_ROW = ["张三", "13800138000", "重点客户", "李四", "采购经理", "苏州示例精密电子有限公司",
              "苏州市工业园区星湖街 1 号"]


def template_bytes() -> bytes:
    return template_workbook(COLUMNS, "contacts", SAMPLE_ROW, NOTES, [
        "表头不可修改，带 * 的列必填 / do not change the headers; columns marked * are required",
        "同事的手机号不能作为联系人 / a colleague's phone cannot be a contact",
    ])


def parse_contacts(data: bytes | str) -> Parsed:
    out = Parsed()
    with first_sheet_rows(data) as it:
        check_header(out, next(it, None), HEADERS)
        if out.total:
            return out
        seen: dict[str, int] = {}
        for rownum, cells in data_rows(out, it, len(HEADERS)):
            row: dict[str, Any] = {}
            ok = True
            for i, (_, f) in enumerate(COLUMNS):
                v = cells[i]
                text = "" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)).strip()
                if text.startswith("="):
                    out.add(rownum, COL[f], "formula", "formulas are not allowed")
                    ok = False
                elif len(text) > min(MAX_CELL, LIMITS.get(f, 64)):
                    out.add(rownum, COL[f], "too_long", "too long")
                    ok = False
                elif illegal_chars(text):
                    out.add(rownum, COL[f], "illegal_characters", "illegal characters")
                    ok = False
                elif not text and f in REQUIRED:
                    out.add(rownum, COL[f], "missing_required", "is required")
                    ok = False
                row[f] = text or None
            if not ok:
                continue
            ph = parse_phone(row["mobile"])
            if ph is None or ph.kind not in ("mobile", "intl"):
                out.add(rownum, COL["mobile"], "invalid_mobile", "not a mobile number")
                continue
            row["mobile"] = ph.number
            if ph.number in seen:
                out.add(rownum, COL["mobile"], "duplicate_in_file", f"same mobile as row {seen[ph.number]}")
                continue
            seen[ph.number] = rownum
            out.rows.append((rownum, row))
    return out


def _digits(mobile: Any) -> str:
    return "".join(ch for ch in str(mobile or "") if ch.isdigit())


def resolve(store: Store, ctx: CallContext, d: Directory, parsed: Parsed) -> list[tuple[int, dict[str, Any]]]:
    """Tags by name, owners by real name, tenant duplicates, colleague phones, tier limit —
    every problem of every clean row, also when other rows have problems. Names and
    phones of colleagues come from one ``list_employees`` answer."""
    tags: dict[str, list[str]] = {}
    for g in store.tag_groups.find({"tenant_id": ctx.tenant_id}):
        for t in g.get("tags") or []:
            tags.setdefault(t["name"], []).append(t["id"])
    members = d.members()
    by_name: dict[str, list[dict[str, Any]]] = {}
    phones: set[str] = set()
    for e in members:
        by_name.setdefault(str(e.get("name") or "").strip(), []).append(e)
        phones.add(_digits(e.get("mobile")))
    ready: list[tuple[int, dict[str, Any]]] = []
    for rownum, row in parsed.rows:
        ok = True
        ids = tags.get(row["tag"], [])
        if len(ids) != 1:
            parsed.add(rownum, COL["tag"], "tag_not_found" if not ids else "tag_ambiguous",
                       f"tag {shown(row['tag'])} " + ("does not exist" if not ids else "is in several groups"))
            ok = False
        name = row["owner_name"]
        found = by_name.get(name, [])
        if len(found) != 1:
            parsed.add(rownum, COL["owner_name"], "owner_not_found" if not found else "owner_ambiguous",
                       f"{shown(name)} " + ("is not a colleague" if not found else
                                            f"names {len(found)} colleagues; give a unique name"))
            ok = False
        elif found[0].get("status") != "joined":
            parsed.add(rownum, COL["owner_name"], "owner_inactive",
                       f"{shown(name)} is not an active colleague (status {found[0].get('status')})")
            ok = False
        if store.contact_mobiles.find_one({"_id": f"{ctx.tenant_id}|{row['mobile']}"}):
            parsed.add(rownum, COL["mobile"], "duplicate_in_tenant", "this mobile is already a contact")
            ok = False
        if _digits(row["mobile"]) in phones:
            parsed.add(rownum, COL["mobile"], "colleague_mobile", "a colleague's phone cannot be a contact")
            ok = False
        if ok:
            ready.append((rownum, {**row, "tags": [ids[0]], "owner_id": str(found[0]["id"])}))
    limit = contact_limit(store, ctx.tenant_id)
    have = store.contacts.count_documents({"tenant_id": ctx.tenant_id, "deleted": False})
    if have + len(parsed.rows) > limit:
        parsed.add(0, None, "limit_reached", f"the tenant's contact limit is {limit}; it has {have}")
    return ready


def run_import(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, parsed: Parsed) -> dict[str, Any]:
    ready = resolve(store, ctx, d, parsed)
    if parsed.total:
        raise BusinessRule("import.has_problems", "the file has problems; fix them and import again",
                           parsed.details())
    if not ready:
        raise BusinessRule("import.empty", "the file has no rows")
    now = kit.now()
    import_id = new_id()
    docs, held = [], []
    try:
        for rownum, r in ready:
            cid = new_id()
            store.contact_mobiles.insert_one({"_id": f"{ctx.tenant_id}|{r['mobile']}", "contact_id": cid,
                                              "at": now})
            held.append(r["mobile"])
            docs.append({"_id": cid, "tenant_id": ctx.tenant_id, "name": r["name"], "mobile": r["mobile"],
                         "title": r.get("title"), "company": r.get("company"), "address": r.get("address"),
                         "tags": r["tags"], "custom": {}, "share_scope": "private", "customer_id": None,
                         "owner_id": r["owner_id"], "unowned": False, "deleted": False, "created_at": now,
                         "updated_at": now, "created_by": ctx.user_id, "import_id": import_id, "import_row": rownum})
        for i in range(0, len(docs), 500):
            store.contacts.insert_many(docs[i:i + 500])
    except DuplicateKeyError:
        _undo(store, ctx, import_id, held)
        raise Conflict("import.duplicate_meanwhile", "a mobile was added while importing; check again") from None
    except BaseException:
        _undo(store, ctx, import_id, held)
        raise
    return {"import_id": import_id, "created": len(docs),
            "contacts": [{"row": x["import_row"], "id": x["_id"], "name": x["name"]} for x in docs]}


def _undo(store: Store, ctx: CallContext, import_id: str, mobiles: list[str]) -> None:
    store.contacts.delete_many({"tenant_id": ctx.tenant_id, "import_id": import_id})
    for m in mobiles:
        store.contact_mobiles.delete_one({"_id": f"{ctx.tenant_id}|{m}"})


def check_file(store: Store, ctx: CallContext, d: Directory, file_b64: Any, upload_id: Any, parts: Any
               ) -> dict[str, Any]:
    """The contact import check: every problem of the file, also in a mixed file."""
    from customers import imports
    parsed = uploads.parsed(store, ctx, parse_contacts, file_b64, upload_id, parts, require_admin)
    resolve(store, ctx, d, parsed)
    return imports.report(parsed)


def import_file(kit: WorkerKit, store: Store, ctx: CallContext, d: Directory, file_b64: Any, upload_id: Any, parts: Any
                ) -> dict[str, Any]:
    parsed = uploads.parsed(store, ctx, parse_contacts, file_b64, upload_id, parts, require_admin)
    return run_import(kit, store, ctx, d, parsed)

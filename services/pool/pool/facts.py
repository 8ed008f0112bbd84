"""The customer facts the pool keeps on its rows (name, name key, industry, grade, region, the
raw numbers it masks, the contract dates), read from what customers sends: the body of
``customer.created``/``customer.updated`` and the facts ``pool.enter`` is given, so a row made by
an entry is searchable at once. Producers may add fields; only these are read, from a flat
body or one nesting the record under ``customer``. Pure, no I/O."""
from __future__ import annotations

from typing import Any

#: what a row keeps of a customer's text: bounded, whoever sent it
MAX_TEXT = 1000
MAX_NUMBERS = 50


def record(data: dict[str, Any]) -> dict[str, Any]:
    inner = data.get("customer")
    return inner if isinstance(inner, dict) else data


def _phones(rec: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key in ("landlines", "faxes", "mobiles"):
        vals = rec.get(key)
        if isinstance(vals, str):
            vals = [vals]
        if isinstance(vals, list):
            out[key] = [str(v.get("number") if isinstance(v, dict) else v) for v in vals if v]
    return out


def contract(rec: dict[str, Any]) -> dict[str, Any]:
    inner = rec.get("contract")
    c: dict[str, Any] = inner if isinstance(inner, dict) else rec
    out: dict[str, Any] = {}
    for src, dst in (("contract_start", "contract_start"), ("start", "contract_start"),
                     ("contract_end", "contract_end"), ("end", "contract_end"),
                     ("contract_start_date", "contract_start"), ("contract_end_date", "contract_end")):
        if c.get(src):
            out[dst] = str(c[src])[:10]
    return out


def customer_fields(data: dict[str, Any]) -> dict[str, Any]:
    rec = record(data)
    fields: dict[str, Any] = {}
    for key in ("name", "name_key", "industry", "grade", "region"):
        if key in rec:
            fields[key] = rec[key]
    if "company_name" in rec and "name" not in fields:
        fields["name"] = rec["company_name"]
    phones = _phones(rec)
    if phones:
        fields["phones"] = phones
    fields.update(contract(rec))
    return fields

"""Turning raw request input into checked values: JSON bodies (bounded depth, no lone
surrogates), query strings and path parameters, each against its pydantic model.

Every failure is a ``400`` with ``details.errors = [{"field", "code", "message"}]`` (the
field as a dotted path: ``location.lat``, ``query.page``) and ``details.field`` /
``details.fields`` naming the offending fields. The top-level code is the first error's
code, or the model's own ``error_code`` when it declares one (e.g. ``customer.invalid``,
the code the customers service uses for the same checks).
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from crmkit.errors import InvalidInput

#: JSON deeper than this is refused before any model sees it (real bodies are ≤ 5 deep)
MAX_DEPTH = 32

#: pydantic error type -> the stable code the services already use for the same failure
_TYPE_CODES = {
    "missing": "validation.required",
    "extra_forbidden": "validation.unknown_field",
    "string_too_long": "validation.too_long",
    "too_long": "validation.too_long",
    "string_too_short": "validation.too_short",
    "too_short": "validation.too_short",
    "string_pattern_mismatch": "validation.format",
    "literal_error": "validation.enum",
    "enum": "validation.enum",
    "greater_than": "validation.range",
    "greater_than_equal": "validation.range",
    "less_than": "validation.range",
    "less_than_equal": "validation.range",
    "finite_number": "validation.range",
    "value_error": "validation.format",
}


def _code_for(error_type: str) -> str:
    if error_type in _TYPE_CODES:
        return _TYPE_CODES[error_type]
    if error_type.endswith(("_type", "_parsing")) or error_type in ("model_attributes_type", "dict_type"):
        return "validation.type"
    return "validation.invalid"


def parse_json(raw: bytes, *, required: bool = True) -> Any:
    """The body as JSON; ``400 invalid_json`` when malformed, not an object, deeper than
    :data:`MAX_DEPTH` or carrying a lone surrogate (``"\\ud800"``, not UTF-8 encodable)."""
    if not raw.strip():
        if required:
            raise InvalidInput("invalid_json", "request body must be a JSON object")
        return {}
    try:
        data = json.loads(raw)
    except RecursionError:
        raise InvalidInput("invalid_json", f"JSON nested deeper than {MAX_DEPTH} levels",
                           {"max_depth": MAX_DEPTH}) from None
    except ValueError:  # includes UnicodeDecodeError
        raise InvalidInput("invalid_json", "request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("invalid_json", "request body must be a JSON object")
    check_plain(data)
    return data


def check_plain(data: Any) -> None:
    """Depth ≤ :data:`MAX_DEPTH` and every string and key encodable as UTF-8, walked
    without recursion."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            _check_text(node)
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise InvalidInput("invalid_json", f"JSON nested deeper than {MAX_DEPTH} levels",
                               {"max_depth": MAX_DEPTH})
        if isinstance(node, dict):
            for key, value in node.items():
                _check_text(key)
                stack.append((value, depth + 1))
        else:
            stack.extend((value, depth + 1) for value in node)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("invalid_json", "a string holds a lone surrogate (not valid Unicode text)") from None


#: what pydantic puts in an error's location for a member of a union or a validator (not a field)
_TAG = re.compile(r"^(constrained-\w+|function-(after|before|wrap|plain)(\[.*\])?|literal\[.*\]|is-instance\[.*\]"
                  r"|(bool|str|int|float|bytes|list|dict)(\[.*\])?)$")


def errors_of(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    out = []
    for err in exc.errors(include_url=False, include_context=False, include_input=False):
        parts = [str(p) for p in err["loc"]]
        loc = ".".join(p for i, p in enumerate(parts) if not (i and _TAG.match(p)) and not p.startswith("function-"))
        field = ".".join(p for p in (prefix, loc) if p) or prefix or "body"
        out.append({"field": field, "code": _code_for(err["type"]), "message": err["msg"]})
    return out


def raise_invalid(errors: list[dict[str, str]], code: str | None = None) -> None:
    first = errors[0]
    raise InvalidInput(code or first["code"], f"{first['field']}: {first['message']}", {
        "field": first["field"], "fields": {e["field"]: e["message"] for e in errors}, "errors": errors,
    })


def validate_body(model: type[BaseModel], data: Any) -> BaseModel:
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as exc:
        raise_invalid(errors_of(exc), getattr(model, "error_code", None))
    raise AssertionError("unreachable")


def validate_params(model: type[BaseModel], values: Mapping[str, str], where: str) -> BaseModel:
    """Query or path parameters (strings) against their model, in lax mode (``"5"`` is 5)."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        raise_invalid(errors_of(exc, where))
    raise AssertionError("unreachable")

"""One valid request per operation of the OpenAPI document, built from the operation's own
schemas plus fixture data — no random generation and no search (``hypothesis.find`` cost
2-30 s per operation here, shrinking and tracing, for requests that were invalid anyway).

- path parameters come from the fixture data (``Prepared.path``);
- the body follows the operation's request-body schema: a property takes the fixture's value
  when the fixture names it (at any depth), otherwise a required property takes the simplest
  value its schema allows (first enum value, the minimum, ``true``, a future day ...) and an
  optional one is left out;
- ``multipart/form-data`` bodies put ``format: binary`` properties in files and the rest in
  form fields (as text).

A required value that neither the fixture nor the schema can give (an id, a patterned
string) raises :class:`CannotBuild`: the caller reports the operation, never skips it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

MULTIPART = "multipart/form-data"
JSON = "application/json"
METHODS = ("get", "put", "post", "patch", "delete")


class CannotBuild(Exception):
    """The schema asks for a value that the fixture data does not give and that cannot be made up."""


@dataclass
class Prepared:
    """Fixture data for one operation: whom to call as, the path parameters, body values by
    property name and files by (binary) property name."""

    role: str = "admin"
    path: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    url: str
    json: Any = None
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.json is not None:
            out["json"] = self.json
        if self.data is not None:
            out["data"] = self.data
        if self.files is not None:
            out["files"] = self.files
        return out

    def other(self) -> Request:
        """Another request on the same operation (a body or a query with one more field)."""
        if self.json is not None:
            return Request(self.method, self.url, json={**self.json, "_another_request": True})
        if self.files is not None or self.data is not None:
            return Request(self.method, self.url, data={**(self.data or {}), "_another_request": "1"},
                           files=self.files)
        sep = "&" if "?" in self.url else "?"
        return Request(self.method, f"{self.url}{sep}_another_request=1")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def body(self) -> tuple[str, dict[str, Any], bool] | None:
        """(content type, schema, required) of the request body."""
        rb = self.spec.get("requestBody")
        if not rb:
            return None
        ctype, media = next(iter(rb["content"].items()))
        return ctype, media.get("schema") or {}, bool(rb.get("required"))

    def header(self, name: str) -> bool:
        return any(p.get("in") == "header" and p.get("name", "").lower() == name.lower()
                   for p in self.spec.get("parameters", []))


def operations(doc: dict[str, Any]) -> list[Operation]:
    return [Operation(m.upper(), path, spec) for path, item in doc["paths"].items()
            for m, spec in item.items() if m in METHODS]


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            raise CannotBuild(f"external $ref {ref}")
        node: Any = doc
        for part in ref[2:].split("/"):
            node = node[part]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def value(doc: dict[str, Any], schema: dict[str, Any], values: dict[str, Any], where: str) -> Any:
    """The simplest value ``schema`` allows (objects: their required properties, and every
    property ``values`` names)."""
    schema = resolve(doc, schema)
    for alt in ("anyOf", "oneOf"):
        if alt in schema:
            options = [s for s in schema[alt] if resolve(doc, s).get("type") != "null"]
            return value(doc, options[0], values, where)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return obj(doc, schema, values, where)
    if kind == "array":
        n = int(schema.get("minItems", 0))
        return [value(doc, schema.get("items") or {}, values, f"{where}[]") for _ in range(n)]
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        n = min(max(low, 1), schema.get("maximum", low + 1))
        return int(n) if kind == "integer" else float(n)
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return (date.today() + timedelta(days=2)).isoformat()
        if fmt == "date-time":
            return (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat()
        if fmt == "binary" or "pattern" in schema:
            raise CannotBuild(f"{where}: no fixture value for a {fmt or 'patterned'} string")
        n = min(max(int(schema.get("minLength", 0)), 4), int(schema.get("maxLength", 200)))
        return ("接口测试" * (n // 4 + 1))[:n]
    raise CannotBuild(f"{where}: cannot make a value of {schema}")


def obj(doc: dict[str, Any], schema: dict[str, Any], values: dict[str, Any], where: str) -> dict[str, Any]:
    props: dict[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    out: dict[str, Any] = {}
    for name, sub in props.items():
        if name in values:
            out[name] = values[name]
        elif name in required:
            out[name] = value(doc, sub, values, f"{where}.{name}")
    return out


def build(doc: dict[str, Any], op: Operation, prepared: Prepared) -> Request:
    url = op.path
    for param in op.spec.get("parameters", []):
        if param.get("in") != "path":
            continue
        name = param["name"]
        if name not in prepared.path:
            raise CannotBuild(f"path.{name}: no fixture value")
        url = url.replace("{" + name + "}", prepared.path[name])
    body = op.body
    if body is None:
        return Request(op.method, url)
    ctype, schema, _required = body
    if ctype == MULTIPART:
        props = resolve(doc, schema).get("properties") or {}
        files = {name: prepared.files[name] for name in props if name in prepared.files}
        missing = [n for n in resolve(doc, schema).get("required", []) if n not in files and n not in prepared.values]
        if missing:
            raise CannotBuild(f"body.{missing[0]}: no fixture file or value")
        data = {name: str(prepared.values[name]) for name in props if name in prepared.values}
        return Request(op.method, url, data=data, files=files)
    if ctype != JSON:
        raise CannotBuild(f"body: content type {ctype}")
    return Request(op.method, url, json=value(doc, schema, prepared.values, "body"))

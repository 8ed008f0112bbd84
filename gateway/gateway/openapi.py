"""OpenAPI 3.1 document built from the declared routes (:mod:`gateway.api`), and a
self-contained docs page.

Every request body, query parameter and answer of a declared route is a pydantic model;
their JSON schemas (``model_json_schema``) go under ``components/schemas`` and the
operations refer to them, so the document publishes exactly what the gateway validates.
A route that is not declared still appears (its path parameters, a bare 200). ``GET /docs``
renders the document with inline HTML and JS only (no CDN).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from gateway.api import JSON, Api, Inputs, Operation, operation_of
from gateway.schemas.base import Id, Open

OPENAPI_PATH = "/api/v1/openapi.json"
DOCS_PATH = "/docs"
REF = "#/components/schemas/{model}"


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class Error(BaseModel):
    """Every error: ``{"error": {"code", "message", "details"}}``; invalid input lists each
    problem in ``details.errors`` as ``{field, code, message}``."""

    error: ErrorInfo


_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")
_ID_SCHEMA = TypeAdapter(Id).json_schema()
BINARY = {"type": "string", "format": "binary"}
IDEMPOTENCY_PARAM = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": "a retry with the same key and the same request gets the first answer again (header "
                   "Idempotent-Replayed: true) and has exactly one effect; the same key with another request "
                   "is 422 idempotency.key_reused; keys are the caller's own and kept 24 h",
}


def _template(path: str) -> str:
    """Starlette ``/x/{id:int}`` → OpenAPI ``/x/{id}``."""
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", path)


def _walk(routes: Iterable[BaseRoute], prefix: str = "") -> Iterable[tuple[str, Route]]:
    for route in routes:
        if isinstance(route, Mount):
            yield from _walk(route.routes or (), prefix + route.path)
        elif isinstance(route, Route) and route.include_in_schema:
            yield prefix + route.path, route


def _models(ops: Iterable[Operation]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = [Error]
    for op in ops:
        extra = [_described(v)[1] for v in op.errors.values()]
        for m in (op.query, op.body, op.response, op.path_model, *op.other_bodies.values(), *extra):
            if m is not None and m not in seen:
                seen.append(m)
    return seen


def _content(content_type: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {content_type: {"schema": schema}}


def _inline(model: type[BaseModel]) -> dict[str, Any]:
    """A parameter model's properties (their own $defs are already components)."""
    return model.model_json_schema(ref_template=REF)


def _parameters(op: Operation | None, path: str) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    path_schema = _inline(op.path_model) if op and op.path_model else {"properties": {}}
    for name in _PARAM.findall(path):
        schema = dict(path_schema["properties"].get(name) or _ID_SCHEMA)
        schema.pop("title", None)
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    if op and op.query is not None:
        q = _inline(op.query)
        required = set(q.get("required", []))
        for name, schema in q.get("properties", {}).items():
            schema = dict(schema)
            schema.pop("title", None)
            description = schema.pop("description", None)
            param = {"name": name, "in": "query", "required": name in required, "schema": schema}
            if description:
                param["description"] = description
            params.append(param)
    if op and op.keyed:
        params.append(dict(IDEMPOTENCY_PARAM))
    return params


def _described(spec: Any) -> tuple[str, type[BaseModel] | None]:
    """An ``errors`` entry: a description, or ``(description, model)`` when the answer is not an Error."""
    return (spec[0], spec[1]) if isinstance(spec, tuple) else (str(spec), None)


def _operation(method: str, path: str, route: Route, refs: dict[type[BaseModel], dict[str, Any]]) -> dict[str, Any]:
    op = operation_of(route)
    name = getattr(route, "name", None) or "endpoint"
    out: dict[str, Any] = {
        "operationId": f"{method.lower()}_{re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_') or 'root'}",
        "summary": (op.summary if op else "") or name.replace("_", " "),
        "tags": list(op.tags) if op else ["api"],
    }
    if op and op.description:
        out["description"] = op.description
    params = _parameters(op, path)
    if params:
        out["parameters"] = params
    if op and op.body is not None:
        content = _content(op.body_content, refs[op.body])
        content.update({ctype: {"schema": refs[m]} for ctype, m in op.other_bodies.items()})
        out["requestBody"] = {"required": op.body_required, "content": content}
    error = refs[Error]
    responses: dict[str, Any] = {}
    if op:
        ok: dict[str, Any] = {"description": _described(op.errors.get(op.status, "OK"))[0]}
        if op.response is not None:
            ok["content"] = _content(op.response_content, refs[op.response])
        elif op.response_content != JSON:
            text = op.response_content.startswith("text/")
            ok["content"] = _content(op.response_content, {"type": "string"} if text else BINARY)
        responses[str(op.status)] = ok
        for status, spec in sorted(op.errors.items()):
            if status != op.status:
                description, model = _described(spec)
                responses[str(status)] = {"description": description,
                                          "content": _content(JSON, refs[model] if model else error)}
    else:
        responses["200"] = {"description": "OK"}
    responses.setdefault("default", {"description": "Error", "content": _content(JSON, error)})
    out["responses"] = responses
    return out


def _tidy(node: Any) -> Any:
    """Drop ``"default": null`` (an optional field that may be left out is not thereby nullable)."""
    if isinstance(node, dict):
        return {k: _tidy(v) for k, v in node.items() if not (k == "default" and v is None)}
    if isinstance(node, list):
        return [_tidy(v) for v in node]
    return node


def build_document(routes: Iterable[BaseRoute], title: str = "CRM API", version: str = "1.0.0") -> dict[str, Any]:
    walked = [(_template(p), r) for p, r in _walk(routes)]
    ops = [op for _, r in walked if (op := operation_of(r)) is not None]
    models = _models(ops)
    keys, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    refs = {m: keys[(m, "validation")] for m in models}
    paths: dict[str, dict[str, Any]] = {}
    tags: list[str] = []
    for path, route in walked:
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            operation = _operation(method, path, route, refs)
            paths.setdefault(path, {})[method.lower()] = operation
            tags.extend(t for t in operation["tags"] if t not in tags)
    document: dict[str, Any] = _tidy({
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "servers": [{"url": "/"}],
        "tags": [{"name": t} for t in tags],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(defs.get("$defs", {}).items()))},
    })
    return document


class Document(Open):
    """This OpenAPI 3.1 document."""


async def openapi_json(request: Request, _inp: Inputs) -> Response:
    return JSONResponse(build_document(request.app.routes))


async def docs_page(request: Request, _inp: Inputs) -> Response:
    url = request.scope.get("root_path", "") + OPENAPI_PATH
    page = DOCS_HTML.replace("__SPEC_URL__", json.dumps(url).replace("</", "<\\/"))
    return HTMLResponse(page)


_ops = Api(tags=["ops"])
routes = [
    _ops.handler("GET", OPENAPI_PATH, openapi_json, "This OpenAPI 3.1 document", response=Document, public=True),
    _ops.handler("GET", DOCS_PATH, docs_page, "Human-readable API docs (self-contained HTML)",
                 response_content="text/html", public=True),
]

DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CRM API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1d2430;color:#fff;padding:12px 24px}header h1{margin:0;font-size:18px}
main{max-width:1100px;margin:0 auto;padding:16px 24px}
h2{border-bottom:1px solid #ccd;padding-bottom:4px;margin-top:28px}
details{background:#fff;border:1px solid #dde;border-radius:6px;margin:6px 0}
summary{cursor:pointer;padding:8px 12px;list-style:none}
.m{display:inline-block;min-width:64px;font-weight:700;font-family:monospace;text-align:center;
border-radius:4px;color:#fff;margin-right:8px;padding:1px 4px}
.GET{background:#2b7bb9}.POST{background:#2f9e44}.PUT{background:#c77d00}.PATCH{background:#8a5cc2}
.DELETE{background:#c92a2a}.p{font-family:monospace;font-weight:600}.s{color:#556;margin-left:10px}
.body{padding:4px 14px 12px}pre{background:#f0f2f5;padding:8px;border-radius:4px;overflow:auto}
#q{width:100%;padding:6px;font-size:14px;box-sizing:border-box}
</style></head>
<body><header><h1 id="title">CRM API</h1></header>
<main><input id="q" placeholder="filter operations"><div id="ops">loading&hellip;</div></main>
<script>
(function () {
  "use strict";
  var specUrl = __SPEC_URL__;
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function section(parent, title, obj) {
    parent.appendChild(el("h4", "", title));
    parent.appendChild(el("pre", "", JSON.stringify(obj, null, 2)));
  }
  function render(spec) {
    document.getElementById("title").textContent = spec.info.title + " " + spec.info.version;
    var groups = {}, order = (spec.tags || []).map(function (t) { return t.name; });
    Object.keys(spec.paths).forEach(function (path) {
      Object.keys(spec.paths[path]).forEach(function (method) {
        var op = spec.paths[path][method];
        (op.tags || ["api"]).forEach(function (tag) {
          if (order.indexOf(tag) < 0) { order.push(tag); }
          (groups[tag] = groups[tag] || []).push({path: path, method: method.toUpperCase(), op: op});
        });
      });
    });
    var root = document.getElementById("ops");
    root.textContent = "";
    order.forEach(function (tag) {
      if (!groups[tag]) { return; }
      root.appendChild(el("h2", "", tag));
      groups[tag].forEach(function (item) {
        var d = el("details"), s = el("summary");
        d.dataset.search = (item.method + " " + item.path + " " + (item.op.summary || "")).toLowerCase();
        s.appendChild(el("span", "m " + item.method, item.method));
        s.appendChild(el("span", "p", item.path));
        s.appendChild(el("span", "s", item.op.summary || ""));
        d.appendChild(s);
        var b = el("div", "body");
        if (item.op.description) { b.appendChild(el("p", "", item.op.description)); }
        if (item.op.parameters) { section(b, "Parameters", item.op.parameters); }
        if (item.op.requestBody) { section(b, "Request body", item.op.requestBody.content); }
        section(b, "Responses", item.op.responses);
        d.appendChild(b);
        root.appendChild(d);
      });
    });
    if (spec.components && spec.components.schemas) {
      root.appendChild(el("h2", "", "Schemas"));
      section(root, "components.schemas", spec.components.schemas);
    }
  }
  document.getElementById("q").addEventListener("input", function (ev) {
    var q = ev.target.value.toLowerCase();
    Array.prototype.forEach.call(document.querySelectorAll("#ops details"), function (d) {
      d.style.display = d.dataset.search.indexOf(q) >= 0 ? "" : "none";
    });
  });
  fetch(specUrl).then(function (r) { return r.json(); }).then(render).catch(function (e) {
    document.getElementById("ops").textContent = "could not load " + specUrl + ": " + e;
  });
})();
</script></body></html>
"""

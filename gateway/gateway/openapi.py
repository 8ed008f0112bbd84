"""OpenAPI 3.1 document built from the registered routes, and a self-contained docs page.

Route modules describe their operations with :func:`operation` (at import time, or as a
decorator on the endpoint); :func:`build_document` walks the app's routes and emits one
operation per route and method, using the registered description where there is one.
``GET /docs`` renders the document with inline HTML and JS only (no CDN).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import BaseRoute, Mount, Route

OPENAPI_PATH = "/api/v1/openapi.json"
DOCS_PATH = "/docs"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}

_REGISTRY: dict[tuple[str, str], dict[str, Any]] = {}
_SCHEMAS: dict[str, dict[str, Any]] = {"Error": ERROR_SCHEMA}
_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


def operation(
    method: str,
    path: str,
    summary: str,
    request_schema: dict[str, Any] | None = None,
    responses: Mapping[int | str, Any] | None = None,
    tags: Iterable[str] = ("api",),
    *,
    description: str = "",
    query: Mapping[str, dict[str, Any]] | None = None,
    idempotent: bool = False,
    request_content_type: str = "application/json",
) -> Callable[[Any], Any]:
    """Register the description of ``method path``; usable as a call or a decorator.

    ``responses`` maps a status to a description string or to
    ``{"description": ..., "schema": {...}, "content_type": ...}``.
    ``query`` maps query parameter names to JSON schemas.
    """
    _REGISTRY[(method.upper(), _template(path))] = {
        "summary": summary,
        "description": description,
        "request_schema": request_schema,
        "request_content_type": request_content_type,
        "responses": dict(responses or {}),
        "tags": list(tags),
        "query": dict(query or {}),
        "idempotent": idempotent,
    }

    def decorator(endpoint: Any) -> Any:
        return endpoint

    return decorator


def schema(name: str, definition: dict[str, Any]) -> dict[str, Any]:
    """Register a named schema under ``components.schemas``; returns its ``$ref`` object."""
    _SCHEMAS[name] = definition
    return {"$ref": f"#/components/schemas/{name}"}


def registered() -> dict[tuple[str, str], dict[str, Any]]:
    return dict(_REGISTRY)


def _template(path: str) -> str:
    """Starlette ``/x/{id:int}`` → OpenAPI ``/x/{id}``."""
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", path)


def _walk(routes: Iterable[BaseRoute], prefix: str = "") -> Iterable[tuple[str, Route]]:
    for route in routes:
        if isinstance(route, Mount):
            yield from _walk(route.routes or (), prefix + route.path)
        elif isinstance(route, Route) and route.include_in_schema:
            yield prefix + route.path, route


def _response(status: str, spec: Any) -> dict[str, Any]:
    if isinstance(spec, str):
        spec = {"description": spec}
    out: dict[str, Any] = {"description": spec.get("description") or status}
    schema = spec.get("schema")
    if schema is None and status.startswith(("4", "5")):
        schema = {"$ref": "#/components/schemas/Error"}
    if schema is not None:
        out["content"] = {spec.get("content_type", "application/json"): {"schema": schema}}
    return out


def _operation(method: str, path: str, route: Route) -> dict[str, Any]:
    info = _REGISTRY.get((method, path), {})
    name = getattr(route, "name", None) or "endpoint"
    op: dict[str, Any] = {
        "operationId": f"{method.lower()}_{re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_') or 'root'}",
        "summary": info.get("summary") or name.replace("_", " "),
        "tags": info.get("tags") or ["api"],
    }
    if info.get("description"):
        op["description"] = info["description"]
    params: list[dict[str, Any]] = [
        {"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in _PARAM.findall(path)
    ]
    for qname, schema in (info.get("query") or {}).items():
        params.append({"name": qname, "in": "query", "required": False, "schema": schema})
    if info.get("idempotent"):
        params.append({
            "name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "a retried request with the same key has exactly one effect",
        })
    if params:
        op["parameters"] = params
    if info.get("request_schema") is not None:
        op["requestBody"] = {
            "required": True,
            "content": {info.get("request_content_type", "application/json"): {"schema": info["request_schema"]}},
        }
    responses = {str(k): _response(str(k), v) for k, v in (info.get("responses") or {}).items()}
    if not any(k.startswith("2") for k in responses):
        responses["200"] = {"description": "OK"}
    responses.setdefault("default", {
        "description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    })
    op["responses"] = responses
    return op


def build_document(routes: Iterable[BaseRoute], title: str = "CRM API", version: str = "1.0.0") -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    tags: list[str] = []
    for raw_path, route in _walk(routes):
        path = _template(raw_path)
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            op = _operation(method, path, route)
            paths.setdefault(path, {})[method.lower()] = op
            tags.extend(t for t in op["tags"] if t not in tags)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "servers": [{"url": "/"}],
        "tags": [{"name": t} for t in tags],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(_SCHEMAS.items()))},
    }


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(build_document(request.app.routes))


async def docs_page(request: Request) -> HTMLResponse:
    url = request.scope.get("root_path", "") + OPENAPI_PATH
    page = DOCS_HTML.replace("__SPEC_URL__", json.dumps(url).replace("</", "<\\/"))
    return HTMLResponse(page)


operation("GET", OPENAPI_PATH, "This OpenAPI 3.1 document", tags=["ops"],
          responses={200: {"description": "OpenAPI document", "schema": {"type": "object"}}})
operation("GET", DOCS_PATH, "Human-readable API docs (self-contained HTML)", tags=["ops"],
          responses={200: {"description": "HTML page", "content_type": "text/html", "schema": {"type": "string"}}})

routes = [
    Route(OPENAPI_PATH, openapi_json, methods=["GET"], name="openapi"),
    Route(DOCS_PATH, docs_page, methods=["GET"], name="docs"),
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

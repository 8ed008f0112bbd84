"""The OpenAPI document is built from the routes and is structurally valid 3.1."""
from __future__ import annotations

import re

import pytest
from pydantic import Field
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from gateway.api import Api
from gateway.app import create_app
from gateway.schemas.base import Answer, Body, Query

from conftest import FakeBridge, make_settings

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


async def endpoint(request):
    return JSONResponse({})


class WidgetIn(Body):
    name: str = Field(max_length=10)


class Widget(Answer):
    id: str
    name: str


class WidgetQuery(Query):
    expand: bool = None


_api = Api(tags=["widgets"])
ROUTES = [
    _api.rpc("POST", "/api/v1/widgets", "things.create", "Create a widget", body=WidgetIn, response=Widget,
             status=201, errors={409: "duplicate"}),
    _api.rpc("GET", "/api/v1/widgets/{id}", "things.get", "Get a widget", query=WidgetQuery, response=Widget),
    Route("/api/v1/undocumented/{a}/{b}", endpoint, methods=["GET", "DELETE"], name="undocumented_thing"),
    Mount("/api/v1/mounted", routes=[Route("/inner", endpoint, methods=["PUT"])]),
]


@pytest.fixture(scope="module")
def doc():
    with TestClient(create_app(make_settings(), bridge=FakeBridge(), extra_routes=ROUTES)) as c:
        r = c.get("/api/v1/openapi.json")
        assert r.status_code == 200
        return r.json()


def resolve(doc, ref):
    assert ref.startswith("#/")
    node = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def walk_refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from walk_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk_refs(v)


def test_top_level_structure(doc):
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    assert isinstance(doc["paths"], dict)
    assert "Error" in doc["components"]["schemas"]


def test_every_route_is_documented(doc):
    for path in ("/healthz", "/readyz", "/metrics", "/api/v1/openapi.json", "/docs", "/api/v1/widgets",
                 "/api/v1/widgets/{id}", "/api/v1/undocumented/{a}/{b}", "/api/v1/mounted/inner"):
        assert path in doc["paths"], path
    assert set(doc["paths"]["/api/v1/undocumented/{a}/{b}"]) == {"get", "delete"}
    assert "head" not in doc["paths"]["/healthz"]


def test_operations_are_valid(doc):
    op_ids = []
    for path, item in doc["paths"].items():
        assert path.startswith("/")
        declared = set(re.findall(r"{([^}]+)}", path))
        for method, op in item.items():
            assert method in METHODS
            op_ids.append(op["operationId"])
            assert op["summary"] and op["tags"]
            assert op["responses"] and all(re.fullmatch(r"[1-5]\d\d|default", k) for k in op["responses"])
            for resp in op["responses"].values():
                assert resp["description"]
            params = op.get("parameters", [])
            path_params = {p["name"] for p in params if p["in"] == "path"}
            assert path_params == declared, (path, method)
            for p in params:
                assert p["in"] in {"path", "query", "header", "cookie"}
                assert "schema" in p
                if p["in"] == "path":
                    assert p["required"] is True
    assert len(op_ids) == len(set(op_ids))
    for ref in walk_refs(doc):
        resolve(doc, ref)


def test_declared_operation_details(doc):
    post = doc["paths"]["/api/v1/widgets"]["post"]
    assert post["summary"] == "Create a widget" and post["tags"] == ["widgets"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/WidgetIn"}
    body = doc["components"]["schemas"]["WidgetIn"]
    assert body["properties"]["name"]["maxLength"] == 10 and body["required"] == ["name"]
    assert body["additionalProperties"] is False  # the model refuses unknown fields, the document says so
    assert post["responses"]["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Widget"}
    assert post["responses"]["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in post["parameters"])
    get = doc["paths"]["/api/v1/widgets/{id}"]["get"]
    assert {"name": "expand", "in": "query", "required": False, "schema": {"type": "boolean"}} in get["parameters"]
    assert {t["name"] for t in doc["tags"]} >= {"ops", "widgets"}
    readyz = doc["paths"]["/readyz"]["get"]
    assert readyz["responses"]["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Readiness"}


def test_every_api_operation_is_declared_with_models(doc):
    """Every /api/v1 route of the real app has a declaration; JSON bodies and answers are models."""
    for path, item in doc["paths"].items():
        if not path.startswith("/api/v1/") or path.startswith(("/api/v1/undocumented", "/api/v1/mounted")):
            continue
        for method, op in item.items():
            assert op["summary"] and op["tags"] != ["api"], (method, path)
            ok = [v for k, v in op["responses"].items() if k.startswith("2")]
            assert ok and all("content" in v for v in ok), (method, path)
            if method in ("post", "put", "patch") and "requestBody" in op:
                for content in op["requestBody"]["content"].values():
                    assert "$ref" in content["schema"], (method, path)


def test_idempotency_key_is_advertised_where_the_layer_covers_it(doc):
    """Every mutating call of an authenticated user, and nowhere else: public routes and operator
    calls have no caller to scope a key to (the layer passes them through)."""
    for path, item in doc["paths"].items():
        if not path.startswith("/api/v1/") or path.startswith(("/api/v1/undocumented", "/api/v1/mounted")):
            continue
        for method, op in item.items():
            keyed = any(p["name"] == "Idempotency-Key" for p in op.get("parameters", []))
            public = (method, path) in {("post", "/api/v1/auth/login"), ("post", "/api/v1/auth/refresh"),
                                        ("post", "/api/v1/invitations/{id}/accept")}
            want = method in ("post", "put", "patch", "delete") and not public and "/operator/" not in path
            assert keyed == want, (method, path)


def test_docs_page_is_self_contained():
    with TestClient(create_app(make_settings(), bridge=FakeBridge())) as c:
        r = c.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "<script>" in html and '"/api/v1/openapi.json"' in html
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html)
    assert "cdn" not in html.lower()

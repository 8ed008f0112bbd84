"""Route declarations: one :class:`Operation` per method and path says what the route takes
(``path``, ``query``, ``body`` models), what it answers (``response`` model, status) and
what it calls; the generic endpoint validates, calls the service and answers, and
:mod:`gateway.openapi` writes the document from the same declaration.

    from gateway.api import Api
    from gateway.schemas.customers import CustomerIn, Customer, CustomerListQuery

    api = Api(tags=["customers"])
    ROUTES = [
        api.rpc("POST", "/api/v1/customers", "customers.create_customer", "Enter a customer",
                body=CustomerIn, response=Customer, status=201, pass_key=True, errors={409: "duplicate"}),
        api.rpc("GET", "/api/v1/customers", "customers.list_customers", "List customers",
                query=CustomerListQuery, response=CustomerPage),
        api.handler("POST", "/api/v1/visits/{id}/check-in", check_in, "Check in",
                    body=CheckInForm, body_content="multipart/form-data", response=Visit),
    ]

``rpc`` kwargs: every path parameter (renamed through ``path_names``), the query parameters
that are present (as the text the client sent, after the model accepted them; under
``query_as`` when given), the JSON body under ``body_as`` (``"data"``; ``None`` spreads its
fields as kwargs), and ``idempotency_key`` when ``pass_key`` (for services that dedupe by
key themselves; the gateway's own replay layer covers every mutating route).
A ``handler`` gets ``(request, Inputs)`` and returns its own response.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmkit.errors import UnsupportedMedia
from gateway.auth import OPERATOR_PREFIX
from gateway.routing import call_service, idempotency_key
from gateway.schemas.base import Id
from gateway.validation import errors_of, parse_json, raise_invalid, validate_body, validate_params

JSON = "application/json"
_ID = TypeAdapter(Id)
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Inputs:
    """What a request brought, checked: path parameters, the present query parameters (raw
    text) and the JSON body (the parsed object) with their validated models."""

    path: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any] | None
    query_model: BaseModel | None = None
    body_model: BaseModel | None = None


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tags: tuple[str, ...] = ("api",)
    description: str = ""
    path_model: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_content: str = JSON
    #: other content types the handler reads itself (content type -> model), published beside ``body``
    other_bodies: Mapping[str, type[BaseModel]] = field(default_factory=dict)
    body_required: bool = True
    response: type[BaseModel] | None = None
    response_content: str = JSON
    status: int = 200
    errors: Mapping[int, Any] = field(default_factory=dict)  # status -> description | (description, model)
    public: bool = False  # no bearer token (login, refresh, invitation acceptance, docs)

    @property
    def mutating(self) -> bool:
        return self.method in MUTATING

    @property
    def keyed(self) -> bool:
        """The Idempotency-Key layer covers it: a mutating call of an authenticated user (not a
        public route, not an operator call — neither has a caller to scope a key to)."""
        return self.mutating and not self.public and not self.path.startswith(OPERATOR_PREFIX)

    def query_names(self) -> dict[str, str]:
        """wire name -> attribute name of each declared query parameter"""
        if self.query is None:
            return {}
        return {(f.alias or name): name for name, f in self.query.model_fields.items()}

    async def inputs(self, request: Request) -> Inputs:
        path = {k: str(v) for k, v in request.path_params.items()}
        if self.path_model is not None:
            validate_params(self.path_model, path, "path")
        else:  # every path parameter is an id unless the route says otherwise
            for name, value in path.items():
                try:
                    _ID.validate_python(value)
                except ValidationError as exc:
                    raise_invalid(errors_of(exc, f"path.{name}"))
        query: dict[str, str] = {}
        query_model = None
        if self.query is not None:
            names = self.query_names()
            query = {k: v for k, v in request.query_params.items() if k in names}
            query_model = validate_params(self.query, query, "query")
        body = body_model = None
        if self.body is not None and self.body_content == JSON:
            body = await read_body(request, required=self.body_required)
            body_model = validate_body(self.body, body)
        return Inputs(path, query, body, query_model, body_model)


async def read_body(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The JSON object of the request, then :func:`gateway.validation.parse_json`. A body sent
    with another ``Content-Type`` than ``application/json`` (or ``application/*+json``) is
    ``415 unsupported_media_type``; a body without any ``Content-Type`` is read as JSON."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and not (ctype == JSON or (ctype.startswith("application/") and ctype.endswith("+json"))):
        raise UnsupportedMedia("unsupported_media_type", "send the body as application/json",
                               {"content_type": ctype, "expected": JSON})
    data: dict[str, Any] = parse_json(await request.body(), required=required)
    return data


Handler = Callable[[Request, Inputs], Awaitable[Response]]


def _endpoint(op: Operation, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await handler(request, await op.inputs(request))

    endpoint.operation = op  # type: ignore[attr-defined]
    return endpoint


class Api:
    """Declares the routes of one area (its OpenAPI tags)."""

    def __init__(self, tags: list[str] | tuple[str, ...]) -> None:
        self.tags = tuple(tags)

    def handler(self, method: str, path: str, handler: Handler, summary: str, **spec: Any) -> Route:
        op = Operation(method.upper(), path, summary, tags=tuple(spec.pop("tags", self.tags)), **spec)
        endpoint = _endpoint(op, handler)
        endpoint.__name__ = getattr(handler, "__name__", "endpoint")
        return Route(path, endpoint, methods=[op.method])

    def rpc(self, method: str, path: str, target: str, summary: str, *, path_names: Mapping[str, str] | None = None,
            body_as: str | None = "data", query_as: str | None = None, pass_key: bool = False,
            timeout: float | None = None, **spec: Any) -> Route:
        """A route that calls ``target`` (``"service.method"``) and answers its result as JSON."""
        service, rpc_method = target.split(".", 1)
        rename = dict(path_names or {})
        status = int(spec.get("status", 200))

        async def call(request: Request, inp: Inputs) -> Response:
            kwargs: dict[str, Any] = {rename.get(k, k): v for k, v in inp.path.items()}
            if inp.query:
                if query_as:
                    kwargs[query_as] = dict(inp.query)
                else:
                    kwargs.update(inp.query)
            if inp.body is not None:
                if body_as:
                    kwargs[body_as] = inp.body
                elif inp.body_model is not None:
                    kwargs.update({name: inp.body.get(f.alias or name)
                                   for name, f in type(inp.body_model).model_fields.items()})
            if pass_key:
                key = idempotency_key(request)
                if key:
                    kwargs["idempotency_key"] = key
            result = await call_service(request, service, rpc_method, kwargs, timeout=timeout)
            return JSONResponse(result, status_code=status)

        call.__name__ = f"{service}_{rpc_method}"
        return self.handler(method, path, call, summary, **spec)


def operation_of(route: Any) -> Operation | None:
    return getattr(getattr(route, "endpoint", None), "operation", None)

"""The machinery behind the declarations: event and RPC specs, the registry, and the two
validation modes.

Policy on extra fields (forward compatible, never silent at the source):

- **at emit** (``check_emit``) a payload is validated *strictly*: every field the declaration
  requires is there, types are exact (no ``"3"`` for an int), and an undeclared field is
  refused. A producer cannot drift from its declaration, and a new field starts life in
  ``contracts`` (and so in the README tables) before any service can send it.
- **at delivery** (``check_delivery``) the same declaration is applied *leniently*: unknown
  fields are kept (a producer one release ahead may add some), types are coerced where
  lossless, and only the fields in ``NEEDS`` (what every consumer reads unconditionally) must
  be present; any other declared field may be absent or null. A field that is present with
  the wrong type is refused: a consumer must never guess a shape.

A breaking change is a new ``VERSION`` (a consumer parks a version it does not know as a dead
letter, replayable once it is upgraded) or a new event name.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model


class Refused(ValueError):
    """A message that does not match its declaration. ``code`` is a stable dotted string,
    ``details`` JSON-plain (the kit turns this into a CrmError or a dead letter)."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


# -- field types: payloads are plain JSON (ids as strings, datetimes as ISO-8601 strings) ------
def _iso_time(v: str) -> str:
    try:
        datetime.fromisoformat(v)
    except ValueError:
        raise ValueError("an ISO-8601 date-time string") from None
    return v


def _iso_day(v: str) -> str:
    try:
        date.fromisoformat(v)
    except ValueError:
        raise ValueError("an ISO-8601 date (YYYY-MM-DD)") from None
    return v


Id = Annotated[str, Field(min_length=1, max_length=200)]
IsoTime = Annotated[str, AfterValidator(_iso_time)]
IsoDay = Annotated[str, AfterValidator(_iso_day)]
JsonObject = dict[str, Any]


class Payload(BaseModel):
    """A declared message body. Subclasses set the fields; the config is the emit side's
    (strict, no undeclared field); the lenient delivery view is derived from it."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Event(Payload):
    """An event's ``data``. ``NAME``/``VERSION``/``PRODUCER`` go into the registry;
    ``NEEDS``: the fields every consumer reads unconditionally (required at delivery)."""

    NAME: ClassVar[str]
    VERSION: ClassVar[int] = 1
    PRODUCER: ClassVar[str]
    #: the exchange it travels on, when not its producer's (``Kit(topics=...)``): consumers
    #: subscribe to ``(EXCHANGE, NAME)``
    EXCHANGE: ClassVar[str | None] = None
    NEEDS: ClassVar[tuple[str, ...]] = ()
    #: the fields a producer may leave out, and which producer does (shown in the README)
    NOTES: ClassVar[Mapping[str, str]] = {}


def lenient_view(model: type[Payload], needs: Iterable[str] = ()) -> type[BaseModel]:
    """The delivery side's view of ``model``: extra fields kept, every field optional (and
    nullable) except those in ``needs``, lax (lossless) coercion."""
    needed = set(needs)
    unknown = needed - set(model.model_fields)
    if unknown:
        raise TypeError(f"{model.__name__}.NEEDS names undeclared fields {sorted(unknown)}")
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        ann: Any = info.annotation
        if info.metadata:
            ann = Annotated[(ann, *info.metadata)]
        fields[name] = (ann, ...) if name in needed else (ann | None, None)
    view: type[BaseModel] = create_model(
        f"{model.__name__}Delivered", __config__=ConfigDict(extra="allow"), **fields)
    return view


@dataclass(frozen=True)
class EventSpec:
    name: str
    version: int
    producer: str
    model: type[Event]
    delivered: type[BaseModel] = field(repr=False, compare=False)

    @property
    def exchange(self) -> str:
        """Where consumers subscribe: the producer's exchange unless the event says otherwise."""
        return self.model.EXCHANGE or self.producer


@dataclass(frozen=True)
class RpcSpec:
    """A call one service makes on another: ``service.method(**args)`` -> ``answer``.
    ``callers``: the services that make it (documentation and the static scan)."""

    service: str
    method: str
    args: type[Payload]
    answer: Any
    callers: tuple[str, ...]
    doc: str = ""
    answer_adapter: TypeAdapter[Any] | None = field(repr=False, compare=False, default=None)

    @property
    def key(self) -> tuple[str, str]:
        return (self.service, self.method)


class Registry:
    def __init__(self) -> None:
        self.events: dict[str, EventSpec] = {}
        self.rpcs: dict[tuple[str, str], RpcSpec] = {}

    def event(self, model: type[Event]) -> type[Event]:
        """Declare ``model`` (usable as a class decorator)."""
        name = model.NAME
        if name in self.events and self.events[name].model is not model:
            raise TypeError(f"event {name} is declared twice")
        self.events[name] = EventSpec(name, int(model.VERSION), model.PRODUCER, model,
                                      lenient_view(model, model.NEEDS))
        return model

    def rpc(self, service: str, method: str, args: type[Payload], answer: Any, callers: Iterable[str],
            doc: str = "") -> RpcSpec:
        spec = RpcSpec(service, method, args, answer, tuple(callers), doc, TypeAdapter(answer))
        if spec.key in self.rpcs:
            raise TypeError(f"rpc {service}.{method} is declared twice")
        self.rpcs[spec.key] = spec
        return spec


def _fields(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"field": ".".join(str(p) for p in e["loc"]) or "(payload)", "problem": e["msg"]}
            for e in exc.errors(include_url=False, include_context=False, include_input=False)]


def _describe(problems: list[dict[str, Any]]) -> str:
    return "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])


# -- events -------------------------------------------------------------------------------------
def check_emit(registry: Registry, producer: str, envelope: Mapping[str, Any]) -> None:
    """Refuse (``Refused``) an envelope its producer may not send: an undeclared type, a type
    another service owns, a version other than the declared one, a payload that does not match."""
    etype = str(envelope.get("type"))
    spec = registry.events.get(etype)
    if spec is None:
        raise Refused("event.undeclared", f"the event {etype} is not declared in contracts",
                      {"event_type": etype, "producer": producer})
    if spec.producer != producer:
        raise Refused("event.wrong_producer", f"the event {etype} is produced by {spec.producer}, not {producer}",
                      {"event_type": etype, "producer": producer, "declared_producer": spec.producer})
    if envelope.get("version") != spec.version:
        raise Refused("event.wrong_version", f"the event {etype} is declared at version {spec.version}",
                      {"event_type": etype, "version": envelope.get("version"), "declared_version": spec.version})
    try:
        spec.model.model_validate(envelope.get("data"), strict=True)
    except ValidationError as exc:
        problems = _fields(exc)
        raise Refused("event.invalid", f"the event {etype} does not match its declaration: {_describe(problems)}",
                      {"event_type": etype, "problems": problems}) from None


def check_delivery(registry: Registry, envelope: Mapping[str, Any]) -> None:
    """Refuse a delivered envelope a consumer cannot trust (see the module's policy)."""
    etype = str(envelope.get("type"))
    spec = registry.events.get(etype)
    if spec is None:
        raise Refused("event.undeclared", f"the event {etype} is not declared in contracts", {"event_type": etype})
    if envelope.get("version") != spec.version:
        raise Refused("event.unknown_version", f"this consumer knows {etype} at version {spec.version} only",
                      {"event_type": etype, "version": envelope.get("version"), "known_version": spec.version})
    try:
        spec.delivered.model_validate(envelope.get("data"))
    except ValidationError as exc:
        problems = _fields(exc)
        raise Refused("event.invalid", f"the event {etype} does not match its declaration: {_describe(problems)}",
                      {"event_type": etype, "problems": problems}) from None


# -- rpcs ---------------------------------------------------------------------------------------
def bind_args(spec: RpcSpec, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    names = list(spec.args.model_fields)
    if len(args) > len(names):
        raise Refused("rpc.invalid_request", f"{spec.service}.{spec.method} takes at most {len(names)} "
                      "positional arguments", {"service": spec.service, "method": spec.method})
    bound = dict(zip(names, args, strict=False))
    for k, v in kwargs.items():
        if k in bound:
            raise Refused("rpc.invalid_request", f"{spec.service}.{spec.method}: {k} given twice",
                          {"service": spec.service, "method": spec.method, "field": k})
        bound[k] = v
    return bound


def check_call(registry: Registry, service: str, method: str, args: tuple[Any, ...],
               kwargs: Mapping[str, Any]) -> RpcSpec | None:
    """Strict check of a service-to-service call's arguments before it is sent; the spec
    (to check the answer with) or None for an undeclared call."""
    spec = registry.rpcs.get((service, method))
    if spec is None:
        return None
    try:
        spec.args.model_validate(bind_args(spec, args, kwargs), strict=True)
    except ValidationError as exc:
        problems = _fields(exc)
        raise Refused("rpc.invalid_request", f"{service}.{method}: arguments do not match the declaration: "
                      f"{_describe(problems)}", {"service": service, "method": method, "problems": problems}) from None
    return spec


def check_answer(spec: RpcSpec, answer: Any) -> None:
    """Lenient check of an answer on receipt (extra fields kept, lossless coercion)."""
    adapter = spec.answer_adapter or TypeAdapter(spec.answer)
    try:
        adapter.validate_python(answer)
    except ValidationError as exc:
        problems = _fields(exc)
        raise Refused("rpc.invalid_answer", f"{spec.service}.{spec.method}: the answer does not match the "
                      f"declaration: {_describe(problems)}",
                      {"service": spec.service, "method": spec.method, "problems": problems}) from None


class Answer(BaseModel):
    """An answer object: the fields callers read, typed; others kept (lenient)."""

    model_config = ConfigDict(extra="allow")

"""Service-to-service RPC with a timeout on every call, each signed for its own target.

Nameko's ``RpcProxy`` waits for a reply forever. ``TimedRpc("customers", timeout=5)``
gives a proxy whose every call is bounded; a timeout raises ``UpstreamTimeout`` and
an unroutable call (the target is not running) raises ``Unavailable``. Each call carries
the worker's context signed afresh for that call (target service and method, this
worker's call id, the arguments; see ``crmkit.context``) — never the header the worker
itself received, which is bound to the worker's own call. A request larger than
``MAX_MESSAGE_BYTES`` is refused before it is sent (``413 request.too_large``). A call declared
in ``contracts.RPCS`` has its arguments checked before it is sent and its answer on receipt
(``crmkit.messages``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import eventlet
from nameko import exceptions as nameko_exceptions
from nameko.exceptions import UnknownService, registry
from nameko.rpc import MethodProxy, RpcProxy

from crmkit import config, errors, messages
from crmkit.context import HEADER_NAME, CallBinding, call_body, digest, sign
from crmkit.nameko import replies
from crmkit.nameko.kit import WORKER_KIT_ATTR


def register_errors() -> None:
    """Let nameko re-raise our errors as themselves on the calling side, and keep JSON
    numbers, booleans and nulls in error details (nameko stringifies every non-string)."""
    for cls in errors.ERROR_TYPES.values():
        registry[f"{cls.__module__}.{cls.__name__}"] = cls
    original = nameko_exceptions.safe_for_serialization
    if getattr(original, "crm_json_plain", False):
        return

    def safe_for_serialization(value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, dict):
            return {str(k): safe_for_serialization(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [safe_for_serialization(v) for v in value]
        return original(value)

    safe_for_serialization.crm_json_plain = True  # type: ignore[attr-defined]
    nameko_exceptions.safe_for_serialization = safe_for_serialization


_F = TypeVar("_F", bound=Callable[..., Any])


register_errors()
replies.install()  # bounded replies that cannot end the container (crmkit.nameko.replies)


class TimedRpc(RpcProxy):
    def __init__(self, target_service: str, timeout: float = 10.0, **options: Any):
        super().__init__(target_service, **options)
        self.timeout = timeout

    def setup(self) -> None:
        super().setup()
        self.key = config.context_key()
        self.ttl = config.context_ttl()
        self.max_bytes = config.max_message_bytes()

    def get_dependency(self, worker_ctx: Any) -> TimedServiceProxy:
        return TimedServiceProxy(self, worker_ctx)


class SignedMethodProxy(MethodProxy):
    """nameko's method proxy with the context header signed for this one call."""

    def __init__(self, rpc: TimedRpc, worker_ctx: Any, method_name: str, timeout: float):
        super().__init__(worker_ctx, rpc.target_service, method_name, rpc.rpc_reply_listener, **dict(rpc.options))
        self._rpc = rpc
        self._timeout = timeout
        self._header: str | None = None

    def _call(self, *args: Any, **kwargs: Any) -> Any:
        body = call_body(args, kwargs)
        if len(body) > self._rpc.max_bytes:
            raise errors.TooLarge("request.too_large", f"{self.service_name}.{self.method_name}: request larger than "
                                  f"the {self._rpc.max_bytes}-byte message limit",
                                  {"bytes": len(body), "limit": self._rpc.max_bytes})
        wk = getattr(self.worker_ctx, WORKER_KIT_ATTR, None)
        ctx = wk.current_context() if wk is not None else None
        self._header = None if ctx is None else sign(
            ctx, self._rpc.key, ttl=max(self._rpc.ttl, self._timeout),
            call=CallBinding(self.service_name, self.method_name, self.worker_ctx.call_id, digest(body)))
        return super()._call(*args, **kwargs)

    def get_message_headers(self, worker_ctx: Any) -> dict[str, Any]:
        headers: dict[str, Any] = super().get_message_headers(worker_ctx)
        headers.pop(HEADER_NAME, None)
        if self._header:
            headers[HEADER_NAME] = self._header
        return headers


class TimedServiceProxy:
    def __init__(self, rpc: TimedRpc, worker_ctx: Any):
        self._rpc = rpc
        self._worker_ctx = worker_ctx
        self._service = rpc.target_service
        self._timeout = rpc.timeout

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
            limit = timeout or self._timeout
            spec = messages.check_call(self._service, name, args, kwargs)  # declared calls: strict arguments
            method = SignedMethodProxy(self._rpc, self._worker_ctx, name, limit)
            try:
                reply = method.call_async(*args, **kwargs)
                with eventlet.Timeout(limit):
                    answer = reply.result()
            except eventlet.Timeout:
                raise errors.UpstreamTimeout("upstream_timeout", f"{self._service}.{name} did not answer in "
                                             f"{limit}s", {"service": self._service}) from None
            except UnknownService:
                raise errors.Unavailable("service_unavailable", f"{self._service} is not running",
                                         {"service": self._service}) from None
            if spec is not None:
                messages.check_answer(spec, answer)  # lenient: extra fields kept
            return answer

        return call


def api(fn: _F) -> _F:
    """``@api``: a nameko ``@rpc`` whose CrmErrors are expected (no traceback logged)."""
    from nameko.rpc import rpc

    return rpc(expected_exceptions=(errors.CrmError,))(fn)


def secret_api(*sensitive: str) -> Callable[[_F], _F]:
    """``@secret_api("password")``: ``@api`` whose listed arguments never reach logs
    (nameko's ``sensitive_arguments``)."""
    from nameko.rpc import rpc

    return rpc(expected_exceptions=(errors.CrmError,), sensitive_arguments=sensitive)

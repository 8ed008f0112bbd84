"""Service-to-service RPC with a timeout on every call.

Nameko's ``RpcProxy`` waits for a reply forever. ``TimedRpc("customers", timeout=5)``
gives a proxy whose every call is bounded; a timeout raises ``UpstreamTimeout`` and
an unroutable call (the target is not running) raises ``Unavailable``. The caller's
signed context travels on by nameko's own header propagation.
"""
from __future__ import annotations

from typing import Any

import eventlet
from nameko import exceptions as nameko_exceptions
from nameko.exceptions import UnknownService, registry
from nameko.rpc import RpcProxy

from crmkit import errors
from crmkit.nameko import replies


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


register_errors()
replies.install()  # bounded replies that cannot end the container (crmkit.nameko.replies)


class TimedRpc(RpcProxy):
    def __init__(self, target_service: str, timeout: float = 10.0, **options: Any):
        super().__init__(target_service, **options)
        self.timeout = timeout

    def get_dependency(self, worker_ctx: Any) -> TimedServiceProxy:
        return TimedServiceProxy(super().get_dependency(worker_ctx), self.target_service, self.timeout)


class TimedServiceProxy:
    def __init__(self, proxy: Any, service: str, timeout: float):
        self._proxy = proxy
        self._service = service
        self._timeout = timeout

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._proxy, name)

        def call(*args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
            limit = timeout or self._timeout
            try:
                reply = method.call_async(*args, **kwargs)
                with eventlet.Timeout(limit):
                    return reply.result()
            except eventlet.Timeout:
                raise errors.UpstreamTimeout("upstream_timeout", f"{self._service}.{name} did not answer in "
                                             f"{limit}s", {"service": self._service}) from None
            except UnknownService:
                raise errors.Unavailable("service_unavailable", f"{self._service} is not running",
                                         {"service": self._service}) from None

        return call


def api(fn: Any) -> Any:
    """``@api``: a nameko ``@rpc`` whose CrmErrors are expected (no traceback logged)."""
    from nameko.rpc import rpc

    return rpc(expected_exceptions=(errors.CrmError,))(fn)

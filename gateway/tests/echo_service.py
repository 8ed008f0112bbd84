"""A tiny nameko service the bridge tests call over the real broker.

Its name comes from ``ECHO_SERVICE_NAME`` so parallel test runs do not share a queue.
Run with ``nameko run --broker amqp://... echo_service`` (EVENTLET_NO_GREENDNS=yes).
"""
import os

import eventlet
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from crmkit.errors import Conflict


class ContextData(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return worker_ctx.context_data


class EchoService:
    name = os.environ.get("ECHO_SERVICE_NAME", "gateway_echo")
    context_data = ContextData()

    @rpc
    def health(self):
        return {"status": "ok"}

    @rpc
    def echo(self, **kwargs):
        return kwargs

    @rpc
    def slow(self, seconds=1.0):
        eventlet.sleep(float(seconds))
        return {"slept": seconds}

    @rpc
    def fail(self, **kwargs):
        raise Conflict("customer.duplicate", "a customer with this name exists", {"name": kwargs.get("name")})

    @rpc
    def boom(self):
        raise ValueError("secret internals")

    @rpc
    def whoami(self):
        return {"crm_context": self.context_data.get("crm_context"),
                "call_id_stack": self.context_data.get("call_id_stack")}

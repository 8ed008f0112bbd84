"""Foundation: gateway -> RPC -> service -> database read, next to a bare pika RPC
consumer doing the same indexed pymongo read (no framework)."""
from __future__ import annotations

import subprocess
import sys
import uuid

from bench.load import http_load, pika_rpc_load, ratio

CONCURRENCY = 20
TOTAL = 3000


def run(stack, infra, env) -> None:
    queue = f"bench-bare-{uuid.uuid4().hex[:6]}"
    bare = subprocess.Popen([sys.executable, "-m", "bench.bare_rpc_consumer", infra.amqp_uri, infra.mongo_uri,
                             env["MONGO_DB_PREFIX"] + "identity", queue], stdout=subprocess.PIPE, env=env)
    try:
        assert bare.stdout is not None and bare.stdout.readline().strip() == b"ready"
        http_load("warm-up", f"{stack.url}/healthz/identity", CONCURRENCY, 300)
        pika_rpc_load("warm-up", infra.amqp_uri, queue, CONCURRENCY, 300)
        ours = http_load("gateway -> nameko identity.health (db read)", f"{stack.url}/healthz/identity",
                         CONCURRENCY, TOTAL)
        base = pika_rpc_load("bare pika RPC consumer + pymongo (same read)", infra.amqp_uri, queue,
                             CONCURRENCY, TOTAL)
        direct = pika_rpc_load("pika -> nameko identity.health (no gateway)", infra.amqp_uri,
                               "identity.health", CONCURRENCY, TOTAL, exchange="nameko-rpc")
        http_only = http_load("gateway /healthz (no RPC: HTTP layer + load client)", f"{stack.url}/healthz",
                              CONCURRENCY, TOTAL)
        print(ours.line())
        print(http_only.line())
        print(direct.line())
        print(base.line())
        print(ratio(ours, base))
    finally:
        bare.terminate()
        bare.wait(5)

"""Identity: logins/s (argon2id dominates) next to a bare argon2 verify loop with the
same cost; authenticated ``GET /api/v1/me`` next to the foundation path (gateway ->
identity.health); and an authenticated read route (``GET /api/v1/departments/{id}``: one
RPC, one ``_id`` read) next to a bare pika RPC consumer doing one indexed pymongo read
(issue 16: no request pays an identity RPC for authentication)."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import httpx

from bench.load import http_load, pika_rpc_load, ratio, timed_loop

LOGIN_CONCURRENCY = 4  # argon2 is CPU-bound: a few callers saturate the cores
LOGINS = 120
ME_CONCURRENCY = 20
ME_TOTAL = 2000


def run(stack, infra, env) -> None:
    from argon2 import PasswordHasher, Type

    code = f"bench{uuid.uuid4().hex[:8]}"
    mobile, password = "13700000000", "Bench-pass-123"
    with httpx.Client(base_url=stack.url, timeout=30) as http:
        r = http.post("/api/v1/operator/tenants", headers={"X-Operator-Secret": env["OPERATOR_SECRET"]}, json={
            "code": code, "name": "bench", "admin_mobile": mobile, "admin_name": "bench",
            "admin_password": password})
        r.raise_for_status()
        body = {"tenant_code": code, "mobile": mobile, "password": password}
        token = http.post("/api/v1/auth/login", json=body).json()["access_token"]
        root_dept = r.json()["root_dept_id"]

    ph = PasswordHasher(time_cost=int(env.get("ARGON2_TIME_COST") or os.environ.get("ARGON2_TIME_COST") or 2),
                        memory_cost=int(env.get("ARGON2_MEMORY_KIB") or 19456), parallelism=1, type=Type.ID)
    stored = ph.hash(password)
    bare = timed_loop("bare argon2id verify loop (1 thread)", lambda: ph.verify(stored, password), LOGINS // 2)
    logins = http_load("POST /api/v1/auth/login", f"{stack.url}/api/v1/auth/login", LOGIN_CONCURRENCY, LOGINS,
                       method="POST", json_body=body)
    print(bare.line())
    print(logins.line())
    print(ratio(logins, bare))

    auth = {"Authorization": f"Bearer {token}"}
    http_load("warm-up", f"{stack.url}/api/v1/me", ME_CONCURRENCY, 200, headers=auth)
    base = http_load("gateway -> identity.health (foundation path)", f"{stack.url}/healthz/identity",
                     ME_CONCURRENCY, ME_TOTAL)
    me = http_load("GET /api/v1/me (authenticated)", f"{stack.url}/api/v1/me", ME_CONCURRENCY,
                   ME_TOTAL, headers=auth)
    print(base.line())
    print(me.line())
    print(ratio(me, base))

    queue = f"bench-bare-{uuid.uuid4().hex[:6]}"
    bare_rpc = subprocess.Popen([sys.executable, "-m", "bench.bare_rpc_consumer", infra.amqp_uri, infra.mongo_uri,
                                 env["MONGO_DB_PREFIX"] + "identity", queue], stdout=subprocess.PIPE, env=env)
    try:
        assert bare_rpc.stdout is not None and bare_rpc.stdout.readline().strip() == b"ready"
        route = f"{stack.url}/api/v1/departments/{root_dept}"
        http_load("warm-up", route, ME_CONCURRENCY, 200, headers=auth)
        pika_rpc_load("warm-up", infra.amqp_uri, queue, ME_CONCURRENCY, 200)
        read = http_load("GET /api/v1/departments/{id} (read route)", route, ME_CONCURRENCY, ME_TOTAL,
                         headers=auth)
        bare_read = pika_rpc_load("bare pika RPC consumer + pymongo (one read)", infra.amqp_uri, queue,
                                  ME_CONCURRENCY, ME_TOTAL)
        print(read.line())
        print(bare_read.line())
        print(ratio(read, bare_read))
    finally:
        bare_rpc.terminate()
        bare_rpc.wait(5)

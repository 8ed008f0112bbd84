"""Identity: logins/s (argon2id dominates) next to a bare argon2 verify loop with the
same cost, and authenticated ``GET /api/v1/me`` next to the foundation path
(gateway -> identity.health) and a bare pika RPC consumer doing one indexed read."""
from __future__ import annotations

import os
import uuid

import httpx

from bench.load import http_load, ratio, timed_loop

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
    me = http_load("GET /api/v1/me (authenticate + me: 2 RPCs)", f"{stack.url}/api/v1/me", ME_CONCURRENCY,
                   ME_TOTAL, headers=auth)
    print(base.line())
    print(me.line())
    print(ratio(me, base))

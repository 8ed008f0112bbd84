"""Closed-loop load generators: N concurrent callers for a fixed number of requests."""
from __future__ import annotations

import asyncio
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pika


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(len(data) * p))] * 1000

    def line(self) -> str:
        return (f"{self.name:<48} {self.rps:9.1f} req/s   p50 {self.pct(0.5):7.2f} ms   "
                f"p99 {self.pct(0.99):7.2f} ms   (n={self.requests})")


def http_load(name: str, url: str, concurrency: int, total: int, headers: dict | None = None,
              method: str = "GET", json_body: object = None, timeout: float = 30) -> Result:
    async def run() -> Result:
        latencies: list[float] = []
        remaining = total
        async with httpx.AsyncClient(timeout=timeout, headers=headers or {},
                                     limits=httpx.Limits(max_connections=concurrency)) as client:
            async def worker() -> None:
                nonlocal remaining
                while remaining > 0:
                    remaining -= 1
                    t = time.perf_counter()
                    r = await client.request(method, url, json=json_body)
                    latencies.append(time.perf_counter() - t)
                    if r.status_code >= 400:
                        raise RuntimeError(f"{url}: {r.status_code} {r.text[:200]}")
            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return Result(name, len(latencies), time.perf_counter() - started, latencies)
    return asyncio.run(run())


def pika_rpc_load(name: str, amqp_uri: str, queue: str, concurrency: int, total: int,
                  exchange: str = "") -> Result:
    """``exchange=""``: publish straight to ``queue``; ``exchange="nameko-rpc"``: ``queue`` is
    the routing key ``<service>.<method>`` and replies come back through that exchange."""
    latencies: list[float] = []
    lock = threading.Lock()
    per = total // concurrency

    def worker() -> None:
        conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
        ch = conn.channel()
        reply = ch.queue_declare("", exclusive=True).method.queue
        if exchange:
            ch.queue_bind(reply, exchange, routing_key=reply)
        mine = []
        for _ in range(per):
            cid = uuid.uuid4().hex
            t = time.perf_counter()
            ch.basic_publish(exchange, queue, '{"args": [], "kwargs": {}}',
                             pika.BasicProperties(reply_to=reply, correlation_id=cid,
                                                  content_type="application/json",
                                                  headers={"nameko.call_id_stack": [f"bench.{cid}"]}))
            for _m, props, _body in ch.consume(reply, auto_ack=True, inactivity_timeout=10):
                if props is None or props.correlation_id == cid:
                    break
            ch.cancel()
            mine.append(time.perf_counter() - t)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Result(name, len(latencies), time.perf_counter() - started, latencies)


def timed_loop(name: str, fn: Callable[[], object], total: int) -> Result:
    latencies = []
    started = time.perf_counter()
    for _ in range(total):
        t = time.perf_counter()
        fn()
        latencies.append(time.perf_counter() - t)
    return Result(name, total, time.perf_counter() - started, latencies)


def thread_load(name: str, fn: Callable[[], object], concurrency: int, total: int) -> Result:
    """``fn`` called ``total`` times by ``concurrency`` threads (a bare client's closed loop)."""
    latencies: list[float] = []
    lock = threading.Lock()
    remaining = [total]

    def worker() -> None:
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            t = time.perf_counter()
            fn()
            with lock:
                latencies.append(time.perf_counter() - t)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return Result(name, len(latencies), time.perf_counter() - started, latencies)


def ratio(ours: Result, base: Result) -> str:
    return (f"  ratio ours/baseline: throughput {ours.rps / base.rps:.2f}x, "
            f"p50 {ours.pct(0.5) / base.pct(0.5):.2f}x, p99 {ours.pct(0.99) / base.pct(0.99):.2f}x")


__all__ = ["Result", "http_load", "pika_rpc_load", "timed_loop", "thread_load", "ratio", "statistics"]

"""Load check for the print desk: a bounded burst of concurrent render requests on loopback.

    .venv/bin/python bench/serve_load.py      # prints the figures; bench/run.py includes them

200 requests, 20 at a time, mixed languages, levels and regions, against `handout serve`
started on a free loopback port; it stops by itself.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
REQUESTS = 200
CONCURRENCY = 20
CHOICES = [
    {"lang": lang, "level": level, **({"region": region} if region else {})}
    for lang, level, region in itertools.product(
        ["en", "es", "th", "ar", "zh_Hans", "vi", "id"], ["easy", "standard"], [None])
] + [{"lang": "es", "level": "easy", "region": "US-AL"}, {"lang": "th", "level": "easy",
                                                          "region": "TH"}]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_rss_mb(pid: int) -> float:
    """Peak resident memory of the server and its worker processes, in MB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(c) for c in children.read_text().split()]
    for each in pids:
        status = Path(f"/proc/{each}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total / 1024


async def _burst(base: str) -> tuple[list[float], int]:
    limit = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []
    failures = 0

    async def one(client: httpx.AsyncClient, index: int) -> None:
        nonlocal failures
        params = {"handout": "kratom-chronic-pain", **CHOICES[index % len(CHOICES)]}
        async with limit:
            start = time.perf_counter()
            response = await client.get(f"{base}/api/render", params=params)
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200 or not response.content.startswith(b"%PDF"):
                failures += 1

    async with httpx.AsyncClient(timeout=120) as client:
        await asyncio.gather(*(one(client, i) for i in range(REQUESTS)))
    return latencies, failures


def run() -> dict[str, float]:
    port = _free_port()
    handout = Path(sys.executable).with_name("handout")
    server = subprocess.Popen([str(handout), "serve", "--port", str(port), "--workers", "2",
                               "-C", str(ROOT)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        start = time.perf_counter()
        latencies, failures = asyncio.run(_burst(base))
        wall = time.perf_counter() - start
        health = httpx.get(f"{base}/healthz").json()
        peak = _peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=20)
    latencies.sort()
    return {"requests": REQUESTS, "concurrency": CONCURRENCY, "failures": failures,
            "distinct": len(CHOICES), "wall_s": wall,
            "p50_ms": statistics.median(latencies) * 1000,
            "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
            "max_ms": latencies[-1] * 1000, "renders": health["renders"],
            "cache_hits": health["cache_hits"],
            "hit_rate": health["cache_hits"] / REQUESTS, "peak_rss_mb": peak}


def report(figures: dict[str, float]) -> str:
    return f"""
## 6. Print desk under load (`handout serve --workers 2`, loopback)

{figures['requests']:.0f} render requests, {figures['concurrency']:.0f} at a time, over {figures['distinct']:.0f} different documents (7 languages × 2 levels, two regional leaflets).

| what | value |
| --- | ---: |
| failed requests | **{figures['failures']:.0f}** |
| wall time | {figures['wall_s']:.2f} s |
| latency p50 / p95 / max | {figures['p50_ms']:.0f} / {figures['p95_ms']:.0f} / {figures['max_ms']:.0f} ms |
| renders / cache hits | {figures['renders']:.0f} / {figures['cache_hits']:.0f} (hit rate {figures['hit_rate'] * 100:.0f} %) |
| peak memory, server and workers together | {figures['peak_rss_mb']:.0f} MB |
"""


if __name__ == "__main__":
    print(report(run()))

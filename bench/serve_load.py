"""Load check for the print desk: cache hits against /healthz, the page, and a bounded burst.

    .venv/bin/python bench/serve_load.py              # this tree; bench/run.py includes it
    .venv/bin/python bench/serve_load.py OTHER_TREE   # the desk of another checkout, same run

Against `handout serve` started on a free loopback port (it stops by itself):

- 30 identical `/api/render` requests after the first, in turns with 30 `/healthz` requests:
  the medians and their ratio (the bar: a cache hit within 3× `/healthz`);
- the desk page: empty, and showing a chosen document (11 requests each, median);
- 200 render requests, 20 at a time, mixed languages, levels and regions.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
REQUESTS = 200
CONCURRENCY = 20
TURNS = 30
PAGES = 11
HANDOUT = "kratom-chronic-pain"
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


def _median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def _timed(send: Callable[[], httpx.Response]) -> float:
    start = time.perf_counter()
    response = send()
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed


def _quick_paths(http: httpx.Client) -> dict[str, float]:
    """Cache hits in turns with /healthz (so both see the same machine), then the page."""
    params = {"handout": HANDOUT, "lang": "es", "level": "easy"}
    http.get("/api/render", params=params).raise_for_status()  # the render; then hits
    health: list[float] = []
    hits: list[float] = []
    for _ in range(TURNS):
        health.append(_timed(lambda: http.get("/healthz")))
        hits.append(_timed(lambda: http.get("/api/render", params=params)))
    # The page's first request may parse the project: not counted.
    pages = [_timed(lambda: http.get("/")) for _ in range(PAGES + 1)][1:]
    shown = [_timed(lambda: http.get("/", params=params)) for _ in range(PAGES + 1)][1:]
    return {"healthz_ms": _median_ms(health), "hit_ms": _median_ms(hits),
            "hit_ratio": statistics.median(hits) / statistics.median(health),
            "page_ms": _median_ms(pages), "page_shown_ms": _median_ms(shown)}


async def _burst(base: str) -> tuple[list[float], int]:
    limit = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []
    failures = 0

    async def one(client: httpx.AsyncClient, index: int) -> None:
        nonlocal failures
        params = {"handout": HANDOUT, **CHOICES[index % len(CHOICES)]}
        async with limit:
            start = time.perf_counter()
            response = await client.get(f"{base}/api/render", params=params)
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200 or not response.content.startswith(b"%PDF"):
                failures += 1

    async with httpx.AsyncClient(timeout=120) as client:
        await asyncio.gather(*(one(client, i) for i in range(REQUESTS)))
    return latencies, failures


def run(tree: Path = ROOT) -> dict[str, float]:
    """The figures for the desk of ``tree`` (its sources and its project), started by this
    Python: an earlier commit's checkout is measured the same way as this one."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    server = subprocess.Popen([sys.executable, "-m", "handoutkit", "serve", "--port", str(port),
                               "--workers", "2", "-C", str(tree)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)  # polling a server that gives no readiness event
        with httpx.Client(base_url=base, timeout=120) as http:
            quick = _quick_paths(http)
            before = http.get("/healthz").json()
        start = time.perf_counter()
        latencies, failures = asyncio.run(_burst(base))
        wall = time.perf_counter() - start
        health = httpx.get(f"{base}/healthz").json()
        peak = _peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=20)
    latencies.sort()
    hits = health["cache_hits"] - before["cache_hits"]
    return {**quick, "requests": REQUESTS, "concurrency": CONCURRENCY, "failures": failures,
            "distinct": len(CHOICES), "wall_s": wall,
            "p50_ms": statistics.median(latencies) * 1000,
            "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
            "max_ms": latencies[-1] * 1000,
            "renders": health["renders"] - before["renders"], "cache_hits": hits,
            "hit_rate": hits / REQUESTS, "peak_rss_mb": peak}


def report(figures: dict[str, float]) -> str:
    return f"""
## 6. Print desk (`handout serve --workers 2`, loopback)

{TURNS} identical render requests after the first, in turns with {TURNS} `/healthz` requests (medians); the page, {PAGES} requests each (median).

| what | value |
| --- | ---: |
| `/healthz` | {figures['healthz_ms']:.1f} ms |
| cache hit (`/api/render`, same document) | {figures['hit_ms']:.1f} ms (**{figures['hit_ratio']:.1f}×** `/healthz`; bar 3×) |
| `/` page | {figures['page_ms']:.1f} ms |
| `/` page showing a document | {figures['page_shown_ms']:.1f} ms |

Then {figures['requests']:.0f} render requests, {figures['concurrency']:.0f} at a time, over {figures['distinct']:.0f} different documents (7 languages × 2 levels, two regional leaflets).

| what | value |
| --- | ---: |
| failed requests | **{figures['failures']:.0f}** |
| wall time | {figures['wall_s']:.2f} s |
| latency p50 / p95 / max | {figures['p50_ms']:.0f} / {figures['p95_ms']:.0f} / {figures['max_ms']:.0f} ms |
| renders / cache hits | {figures['renders']:.0f} / {figures['cache_hits']:.0f} (hit rate {figures['hit_rate'] * 100:.0f} %) |
| peak memory, server and workers together | {figures['peak_rss_mb']:.0f} MB |
"""


if __name__ == "__main__":
    print(report(run(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT)))

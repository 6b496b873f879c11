"""HTTP under load on loopback: a real ``matcher serve`` process, N concurrent clients for a
fixed time, mixed recruiter queries (top 20 with explanations, half of them filtered) and
company submissions (a new profile → stored, indexed, 5 suggestions). Bounded in time and
clients; reports throughput, p50/p99 per kind and the error count.

    .venv/bin/python bench/http_load.py --clients 8 --seconds 60

The server runs on a fresh SQLite database seeded from ``data/`` (572 firms); embeddings come
from ``--cache-dir`` (default ``var/cache``; the first start encodes the sample once).
Results: ``docs/benchmarks_http.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.nightly.profiles import synthesize  # noqa: E402
from bench.timing import p50_p99_ms  # noqa: E402

MATCHER = str(Path(sys.executable).with_name("matcher"))
CITIES = ("泉州市", "晋江市", "厦门市")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_healthy(base: str, server: subprocess.Popen[Any], limit_s: float, how: str) -> None:
    """Poll ``/health`` until the server answers; exit when it dies or takes over ``limit_s``."""
    deadline = time.monotonic() + limit_s
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            tail = server.stderr.read()[-2000:] if server.stderr else ""
            raise SystemExit(f"the server did not start ({how}) {tail!r}")
        time.sleep(0.5)


def make_key(env: dict[str, str], role: str, company: str | None = None) -> str:
    cmd = [MATCHER, "keys", "create", "--role", role, "--rate-per-min", "1000000"]
    if company:
        cmd += ["--company-id", company]
    return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout.strip()


async def client(
    base: str,
    recruiter: str,
    admin: str,
    scenarios: list[str],
    profiles: list[dict[str, Any]],
    share_submit: float,
    until: float,
    seed: int,
    out: dict[str, list[float]],
    errors: list[str],
) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        while time.monotonic() < until:
            if rng.random() < share_submit and profiles:
                kind = "company submission"
                body = profiles.pop()
                body.pop("id", None)
                body.pop("credit_code", None)
                request = http.post(
                    "/companies", json=body, headers={"Authorization": f"Bearer {admin}"}
                )
            else:
                kind = "recruiter query"
                params: dict[str, Any] = {"top_k": 20}
                if rng.random() < 0.5:
                    params["city"] = rng.choice(CITIES)
                request = http.get(
                    f"/scenarios/{rng.choice(scenarios)}/matches",
                    params=params,
                    headers={"Authorization": f"Bearer {recruiter}"},
                )
            start = time.perf_counter()
            try:
                response = await request
                ok = response.status_code < 400
                if not ok:
                    errors.append(f"{kind}: {response.status_code} {response.text[:200]}")
            except httpx.HTTPError as exc:
                ok = False
                errors.append(f"{kind}: {exc.__class__.__name__}")
            if ok:
                out.setdefault(kind, []).append(time.perf_counter() - start)


async def load(args: argparse.Namespace, base: str, keys: dict[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        tree = await http.get("/scenarios", headers={"Authorization": f"Bearer {keys['r']}"})
        scenarios = [
            o["id"]
            for c in tree.json()["data"]
            for o in c["opportunities"]
            if o["status"] == "open"
        ]
    profiles = [dict(p) for p in synthesize(10_000, seed=123)]
    random.Random(1).shuffle(profiles)
    out: dict[str, list[float]] = {}
    errors: list[str] = []
    until = time.monotonic() + args.seconds
    start = time.perf_counter()
    await asyncio.gather(
        *(
            client(
                base,
                keys["r"],
                keys["a"],
                scenarios,
                profiles,
                args.submit_share,
                until,
                i,
                out,
                errors,
            )
            for i in range(args.clients)
        )
    )
    wall = time.perf_counter() - start
    kinds = {
        kind: {
            "requests": len(times),
            "per_s": round(len(times) / wall, 1),
            **p50_p99_ms(times, 1),
        }
        for kind, times in out.items()
    }
    total = sum(len(t) for t in out.values())
    return {
        "clients": args.clients,
        "seconds": round(wall, 1),
        "submit_share": args.submit_share,
        "requests": total,
        "throughput_per_s": round(total / wall, 1),
        "errors": len(errors),
        "error_samples": errors[:5],
        "by_kind": kinds,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--submit-share", type=float, default=0.1)
    ap.add_argument("--cache-dir", default=str(ROOT / "var" / "cache"))
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_http.json")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "MATCHER_DATABASE_URL": f"sqlite:///{tmp}/matcher.db",
            "MATCHER_INDEX_DIR": f"{tmp}/index",
            "MATCHER_CACHE_DIR": args.cache_dir,
            "MATCHER_BATCH_DIR": f"{tmp}/batch",
            "MATCHER_SEED_CATALOGUE": str(ROOT / "data" / "scenarios.yaml"),
            "MATCHER_SEED_COMPANIES": str(ROOT / "data" / "companies.jsonl"),
        }
        port = free_port()
        server = subprocess.Popen(
            [MATCHER, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base, server, 600, "its stderr is below")
            keys = {"r": make_key(env, "recruiter"), "a": make_key(env, "admin")}
            results = asyncio.run(load(args, base, keys))
        finally:
            server.terminate()
            server.wait(timeout=60)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

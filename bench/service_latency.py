"""Service latency on the bundled data, in-process (FastAPI TestClient, no network).

Starts the app on a fresh SQLite database seeded from ``data/`` (572 firms, 28 opportunities),
then times each main route over many requests and prints medians and p95 as a Markdown table.
HTTP-level load (a real server, concurrent clients) is the reliability and performance
issues' work; this is the per-request cost of the thin service layer over the engine.

    .venv/bin/python bench/service_latency.py [--repeat 50] [--out docs/service_latency.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--cache-dir", default=str(ROOT / "var" / "cache"))
    ap.add_argument("--out")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from fastapi.testclient import TestClient

    from service import auth
    from service.app import create_app
    from service.config import Settings
    from service.db import transaction

    tmp = Path(tempfile.mkdtemp(prefix="svc-bench-"))
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp / 'm.db'}",
        index_dir=tmp / "index",
        cache_dir=Path(args.cache_dir),
        seed_catalogue=ROOT / "data" / "scenarios.yaml",
        seed_companies=ROOT / "data" / "companies.jsonl",
    )
    t0 = time.perf_counter()
    with TestClient(create_app(settings)) as client:
        start_s = time.perf_counter() - t0
        with transaction(client.app.state.sessions) as s:
            _, key = auth.create_key(s, "admin")
        h = {"Authorization": f"Bearer {key}"}
        profile = {
            "name": "基准测试储能科技有限公司",
            "description": "工商业储能系统集成，储能变流器与电池管理系统，园区微电网能量管理平台。",
            "industry_codes": ["3841"],
        }
        counter = iter(range(10**6))
        cases = {
            "GET /scenarios": lambda: client.get("/scenarios", headers=h),
            "GET /scenarios/S13/matches?top_k=20": lambda: client.get(
                "/scenarios/S13/matches?top_k=20", headers=h
            ),
            "… with filters city + min_capital": lambda: client.get(
                "/scenarios/S13/matches?top_k=20&city=泉州市&min_capital=1000", headers=h
            ),
            "POST /search": lambda: client.post(
                "/search", json={"text": "smart factory machine vision inspection"}, headers=h
            ),
            "GET /companies/F0001/suggestions": lambda: client.get(
                "/companies/F0001/suggestions", headers=h
            ),
            "POST /companies (new profile + suggestions)": lambda: client.post(
                "/companies",
                json={**profile, "description": profile["description"] + f" 第{next(counter)}版"},
                headers=h,
            ),
            "POST /feedback": lambda: client.post(
                "/feedback",
                json={"scenario_id": "S13", "company_id": "F0001", "stage": "contacted"},
                headers=h,
            ),
            "GET /scenarios/S13/matches.xlsx?top_k=50": lambda: client.get(
                "/scenarios/S13/matches.xlsx?top_k=50", headers=h
            ),
        }
        results = {}
        for name, call in cases.items():
            call()  # warm
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                r = call()
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code < 300, (name, r.status_code, r.text[:200])
            times.sort()
            results[name] = {
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
                "n": len(times),
            }
    print(f"start-up on a fresh database (seed + index, warm embedding cache): {start_s:.1f} s\n")
    print("| request | median ms | p95 ms |\n|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['median_ms']} | {r['p95_ms']} |")
    if args.out:
        Path(args.out).write_text(
            json.dumps(
                {"startup_s": round(start_s, 1), "routes": results}, ensure_ascii=False, indent=1
            ),
            "utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

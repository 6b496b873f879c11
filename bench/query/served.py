"""Recruiter query over HTTP at scale against the same engine in-process, same run.

A real ``matcher serve`` process serves an index of ``--profiles`` synthetic firms stored in a
SQLite database; one client asks every open scenario for its top 20 with explanations, without
a filter, with one (city) and with two (city + chain), first once ("first ask": nothing about
the scenario's firms remembered yet, as a recruiter opening it) and then ``--repeats`` times
("warm"). The server is then stopped and the same saved index is loaded in-process and asked
the same sequence, so the two columns differ only by the HTTP path (routing, authentication,
the recruiter's controls read from the database, JSON).

    .venv/bin/python bench/query/served.py --profiles 100000 --vectors synthetic \\
        --out docs/benchmarks_query_http_100k.json
    OMP_NUM_THREADS=2 .venv/bin/python bench/query/served.py --profiles 1000000 \\
        --vectors synthetic --nprobe 32 --out docs/benchmarks_query_http_1m.json

Stages (each skipped when its output exists in ``--work``, so a run resumes): **build** in a
child process (generate the firms, store them with the bulk seed, fit with IVF + SQ8 +
float16, hand the engine to the service's ``IndexHolder.adopt``, which saves it; the child's
memory is gone before the server starts), **serve** (HTTP), **in-process**.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.http_load import MATCHER, free_port, make_key, wait_until_healthy  # noqa: E402
from bench.query.run import (  # noqa: E402
    ExactRetrieval,
    forget_profiles,
    log_progress,
    peak_rss_mb,
    recall_vs_exact,
    stats,
    unfitted_engine,
)

logger = logging.getLogger("bench.query.served")
VARIANTS: dict[str, dict[str, str]] = {
    "no filter": {},
    "one filter (city)": {"city": "泉州市"},
    "two filters (city + chain)": {"city": "晋江市", "chain": "midstream"},
}


def settings_for(work: Path, cache: Path, database_url: str | None = None) -> dict[str, str]:
    """The service's environment for this run's database (default SQLite in ``work``) and
    folders."""
    return {
        "MATCHER_DATABASE_URL": database_url or f"sqlite:///{work / 'matcher.db'}",
        "MATCHER_INDEX_DIR": str(work / "index"),
        "MATCHER_CACHE_DIR": str(cache),
        "MATCHER_BATCH_DIR": str(work / "batch"),
        "MATCHER_MODELS_DIR": str(work / "models"),
        "MATCHER_SEED_CATALOGUE": "",
        "MATCHER_SEED_COMPANIES": "",
        "MATCHER_SAVE_DELAY_S": "3600",
    }


def build(args: argparse.Namespace) -> dict[str, Any]:
    """Store the firms, fit the engine and let the service adopt (and save) it."""
    from bench.nightly.profiles import synthesize
    from matcher.catalogue import company_from_dict, load_catalogue
    from matcher.config import EncoderConfig, EngineConfig, IndexConfig
    from service import store
    from service.config import Settings
    from service.db import make_db, migrate, session_factory, transaction
    from service.index import IndexHolder

    os.environ.update(settings_for(args.work, args.cache, args.database_url))
    settings = Settings(_env_file=None)
    db = make_db(settings.database_url)
    migrate(db)
    sessions = session_factory(db)
    start = time.perf_counter()
    companies = [company_from_dict(d) for d in synthesize(args.profiles, seed=0)]
    logger.info("generated %d profiles in %.1f s", len(companies), time.perf_counter() - start)
    start = time.perf_counter()
    with transaction(sessions) as s:
        if not store.is_empty(s):
            raise SystemExit(f"{settings.database_url} is not empty; remove {args.work} first")
        store.seed(s, load_catalogue(ROOT / "data" / "scenarios.yaml"), companies)
        store.bump_version(s)
    seed_s = time.perf_counter() - start
    logger.info("stored %d firms in %.1f s", len(companies), seed_s)
    with sessions() as s:
        scenarios = store.live_scenarios(s)
    index = IndexConfig(
        backend="ivf", ivf_storage="sq8", vector_dtype="float16", ivf_nprobe=args.nprobe
    )
    config = replace(EngineConfig(), encoder=EncoderConfig(name=settings.encoder), index=index)
    engine, synthetic = unfitted_engine(config, args.vectors, args.cache)
    start = time.perf_counter()
    engine.fit(scenarios, companies, progress=log_progress())
    fit_s = time.perf_counter() - start
    del companies
    holder = IndexHolder(settings, sessions)
    start = time.perf_counter()
    holder.adopt(engine)
    save_s = time.perf_counter() - start
    db.dispose()
    size = sum(f.stat().st_size for f in (args.work / "index").rglob("*") if f.is_file())
    return {
        "database": settings.database_url.split(":", 1)[0],
        "seed_db_s": round(seed_s, 1),
        "fit_s": round(fit_s, 1),
        "save_s": round(save_s, 1),
        "index_folder_mb": round(size / 2**20),
        "build_peak_rss_mb": round(peak_rss_mb()),
        **({"synthetic": synthetic} if synthetic else {}),
    }


def ask_sequence(
    ask: Any, scenario_ids: list[str], repeats: int
) -> dict[str, dict[str, dict[str, float]]]:
    """Per filter variant: each scenario asked once (first ask), then ``repeats`` times (warm)."""
    out = {}
    for name, params in VARIANTS.items():
        first, warm = [], []
        for sid in scenario_ids:
            start = time.perf_counter()
            ask(sid, params)
            first.append(time.perf_counter() - start)
            for _ in range(repeats):
                start = time.perf_counter()
                ask(sid, params)
                warm.append(time.perf_counter() - start)
        out[name] = {"first ask": stats(first), "warm": stats(warm)}
        logger.info("%s: %s", name, out[name])
    return out


def serve(args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, **settings_for(args.work, args.cache, args.database_url)}
    port = free_port()
    log = open(args.work / "server.log", "w")  # noqa: SIM115 - closed below
    start = time.perf_counter()
    server = subprocess.Popen(
        [MATCHER, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, server, 3600, f"see {args.work / 'server.log'}")
        start_s = time.perf_counter() - start
        logger.info("server ready in %.1f s", start_s)
        key = make_key(env, "recruiter")
        rss = _rss_mb(server.pid)
        with httpx.Client(
            base_url=base, timeout=120, headers={"Authorization": f"Bearer {key}"}
        ) as http:
            tree = http.get("/scenarios").json()["data"]
            open_ids = [o["id"] for c in tree for o in c["opportunities"] if o["status"] == "open"]

            def ask(sid: str, params: dict[str, str]) -> None:
                r = http.get(f"/scenarios/{sid}/matches", params={"top_k": 20, **params})
                r.raise_for_status()
                if not r.json()["data"]:
                    raise SystemExit(f"no matches for {sid} {params}")

            ask(open_ids[0], {})  # connection and first-request set-up
            results = ask_sequence(ask, open_ids, args.repeats)
    finally:
        server.terminate()
        server.wait(timeout=120)
        log.close()
    return {
        "server_start_s": round(start_s, 1),
        "server_rss_mb": rss,
        "scenarios": open_ids,
        "queries": results,
    }


def in_process(args: argparse.Namespace, open_ids: list[str]) -> dict[str, Any]:
    """The same sequence of questions to the saved index loaded in this process; then, per
    filter widening, cold and warm latency and recall@20 against the exact pipeline."""
    from matcher.constraints import Filters
    from matcher.engine import Engine

    start = time.perf_counter()
    engine = Engine.load(args.work / "index", cache_dir=args.cache)
    load_s = time.perf_counter() - start
    names = {"city": "city", "chain": "chain_position"}

    def filters(params: dict[str, str]) -> Filters:
        return Filters(**{names[k]: v for k, v in params.items()})

    def ask(sid: str, params: dict[str, str]) -> None:
        if not engine.match_scenario(sid, 20, filters(params)):
            raise SystemExit(f"no matches for {sid} {params}")

    ask(open_ids[0], {})
    out: dict[str, Any] = {
        "load_s": round(load_s, 1),
        "rss_mb": _rss_mb(os.getpid()),
        "queries": ask_sequence(ask, open_ids, args.repeats),
    }
    exact = ExactRetrieval(engine, open_ids)
    widening: dict[str, Any] = {}
    for w in args.widening:
        engine.corpus.doc_index.filter_widening = w  # type: ignore[attr-defined]
        engine.corpus.sent_index.filter_widening = w  # type: ignore[attr-defined]
        rows = widening[str(w)] = {}
        for name, params in VARIANTS.items():
            if not params and w != args.widening[0]:
                continue  # widening changes filtered searches only
            f = filters(params)
            cold, warm = [], []
            for sid in open_ids:
                for _ in range(args.repeats):
                    forget_profiles(engine)
                    start = time.perf_counter()
                    engine.match_scenario(sid, 20, f)
                    cold.append(time.perf_counter() - start)
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    engine.match_scenario(sid, 20, f)
                    warm.append(time.perf_counter() - start)
            rows[name] = {
                "cold": stats(cold),
                "warm": stats(warm),
                "recall_at_20_vs_exact": recall_vs_exact(engine, exact, open_ids, f),
            }
            logger.info("widening %s, %s: %s", w, name, rows[name])
    out["filter_widening"] = widening
    del exact
    from bench.query.submit import measure_adds

    out["add_one_firm"] = measure_adds(engine, args.add_firms, args.compare_removed)
    logger.info("adding a firm: %s", out["add_one_firm"])
    return out


def _rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return -1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--profiles", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--nprobe", type=int, default=16, help="IVF lists probed")
    ap.add_argument("--vectors", choices=["real", "synthetic"], default="synthetic")
    ap.add_argument(
        "--widening",
        type=lambda v: [float(x) for x in v.split(",")],
        default=[1.0, 0.5],
        help="IVF filter widenings to measure in-process (comma-separated)",
    )
    ap.add_argument("--cache", type=Path, default=ROOT / "var" / "bench" / "query" / "cache")
    ap.add_argument("--work", type=Path, help="default var/bench/query/http-<profiles>")
    ap.add_argument(
        "--database-url",
        help="an empty database for the build (default SQLite in --work); bench/http_load.py "
        "--prebuilt clones it for load runs",
    )
    ap.add_argument("--add-firms", type=int, default=20, help="new firms added one at a time")
    ap.add_argument(
        "--no-compare-removed",
        dest="compare_removed",
        action="store_false",
        help="skip timing the work additions used to do (no memory for it at 1M)",
    )
    ap.add_argument(
        "--stage",
        choices=["all", "build", "in-process"],
        default="all",
        help="in-process: only the in-process measurements, on an existing build",
    )
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_query_http.json")
    args = ap.parse_args(argv)
    args.work = args.work or ROOT / "var" / "bench" / "query" / f"http-{args.profiles}"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    built = args.work / "built.json"
    if args.stage == "build":
        args.work.mkdir(parents=True, exist_ok=True)
        built.write_text(json.dumps(build(args), indent=1, ensure_ascii=False) + "\n")
        return 0
    if args.stage == "in-process":
        if not built.exists():
            raise SystemExit(f"no build in {args.work}; run without --stage first")
        saved = json.loads((args.work / "index" / "scenarios.json").read_text("utf-8"))
        open_ids = [d["id"] for d in saved if d.get("status") == "open"]  # as GET /scenarios
        result = {"profiles": args.profiles, "in_process": in_process(args, open_ids)}
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        return 0
    if not built.exists():
        if args.work.exists() and any(args.work.iterdir()):
            raise SystemExit(f"{args.work} holds an unfinished build; remove it and rerun")
        cmd = [sys.executable, __file__, "--stage", "build", *(argv or sys.argv[1:])]
        subprocess.run(cmd, check=True)
    results: dict[str, Any] = {
        "profiles": args.profiles,
        "vectors": args.vectors,
        "index": {"backend": "ivf", "storage": "sq8", "dtype": "float16", "nprobe": args.nprobe},
        "repeats": args.repeats,
        "build": json.loads(built.read_text()),
        "http": serve(args),
    }
    results["in_process"] = in_process(args, results["http"]["scenarios"])
    ratios = {}
    for name in VARIANTS:
        h, p = results["http"]["queries"][name], results["in_process"]["queries"][name]
        ratios[name] = {
            kind: round(h[kind]["p50_ms"] / p[kind]["p50_ms"], 2) for kind in ("first ask", "warm")
        }
    results["http_over_in_process_p50"] = ratios
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

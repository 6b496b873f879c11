"""HTTP under load on loopback: a real ``matcher serve`` process, N concurrent clients for a
fixed time, a mix of the four things people do all day:

- **query**: a recruiter asks a scenario for its top 20 with explanations, half of the time
  with a city filter;
- **search**: a recruiter searches firms with free text (Chinese or English);
- **submit**: a company profile is stored, indexed and answered with 5 suggestions;
- **feedback**: a recruiter records a pipeline stage for a firm a query returned.

Bounded in clients and time. Reports throughput, p50/p99 per kind and every error, and checks
afterwards that each acknowledged write is in the database (``lost_writes``).

    .venv/bin/python bench/http_load.py --clients 8 --seconds 60
    .venv/bin/python bench/http_load.py --prebuilt var/bench/query/http-100000 \\
        --clients 8 --seconds 60 --out docs/reliability_load_sqlite_100k.json

Without ``--prebuilt`` the server seeds a fresh database (``--database-url``, default SQLite in
a temporary folder; an empty PostgreSQL database works too) from ``--catalogue`` and
``--companies`` (default ``data/``: 572 firms); embeddings come from ``--cache-dir``. With
``--prebuilt DIR`` (a build of ``bench/query/served.py``: 100k or 1M firms) the run works on a
copy of that build's database and index, so the build stays as it was: the SQLite file is
copied; a PostgreSQL build database is cloned with ``CREATE DATABASE … TEMPLATE``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.nightly.profiles import synthesize  # noqa: E402
from bench.timing import p50_p99_ms  # noqa: E402

MATCHER = str(Path(sys.executable).with_name("matcher"))
CITIES = ("泉州市", "晋江市", "厦门市")
SEARCHES = (
    "新能源汽车 动力电池 回收",
    "智能制造 鞋服 柔性生产线",
    "集成电路 封装测试",
    "跨境电商 数字化供应链",
    "低碳园区 储能 光伏",
    "smart warehouse robots and logistics software",
    "lithium battery recycling for electric vehicles",
    "industrial internet platform for textile factories",
    "醫療器械 體外診斷",
    "食品 冷链 物流",
)
STAGES = ("shortlisted", "contacted", "visited")
KINDS = ("query", "search", "submit", "feedback")


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
            raise SystemExit(f"the server did not start ({how})")
        time.sleep(0.5)


def make_key(env: dict[str, str], role: str, company: str | None = None) -> str:
    cmd = [MATCHER, "keys", "create", "--role", role, "--rate-per-min", "1000000"]
    if company:
        cmd += ["--company-id", company]
    return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout.strip()


def parse_mix(text: str) -> dict[str, float]:
    """``query=0.6,search=0.15,...`` → shares that sum to 1."""
    mix: dict[str, float] = {}
    for part in text.split(","):
        name, _, share = part.partition("=")
        if name.strip() not in KINDS:
            raise argparse.ArgumentTypeError(f"unknown kind {name!r}; expected one of {KINDS}")
        mix[name.strip()] = float(share)
    total = sum(mix.values())
    if total <= 0 or any(v < 0 for v in mix.values()):
        raise argparse.ArgumentTypeError("shares must be ≥ 0 and not all 0")
    return {k: v / total for k, v in mix.items()}


@dataclass
class Tally:
    """What the clients saw: latencies per kind, errors, and the writes the server acknowledged."""

    times: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seen_firms: list[tuple[str, str]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    feedback: list[int] = field(default_factory=list)


async def client(
    base: str,
    keys: dict[str, str],
    scenarios: list[str],
    profiles: list[dict[str, Any]],
    mix: dict[str, float],
    until: float,
    seed: int,
    tally: Tally,
) -> None:
    rng = random.Random(seed)
    kinds, weights = list(mix), list(mix.values())
    recruiter = {"Authorization": f"Bearer {keys['recruiter']}"}
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        while time.monotonic() < until:
            kind = rng.choices(kinds, weights)[0]
            if kind == "submit" and not profiles or kind == "feedback" and not tally.seen_firms:
                kind = "query"
            if kind == "submit":
                body = profiles.pop()
                body.pop("id", None)
                body.pop("credit_code", None)
                request = http.post("/companies", json=body, headers=admin)
            elif kind == "search":
                text = rng.choice(SEARCHES)
                params: dict[str, Any] = {"text": text, "top_k": 20}
                if rng.random() < 0.5:
                    params["filters"] = {"city": rng.choice(CITIES)}
                request = http.post("/search", json=params, headers=recruiter)
            elif kind == "feedback":
                sid, cid = rng.choice(tally.seen_firms)
                body = {"scenario_id": sid, "company_id": cid, "stage": rng.choice(STAGES)}
                request = http.post("/feedback", json=body, headers=recruiter)
            else:
                sid = rng.choice(scenarios)
                query: dict[str, Any] = {"top_k": 20}
                # filtered half the time, once some firm was seen to give feedback on (a
                # filter can match no firm of a small data set, and then feedback never starts)
                if tally.seen_firms and rng.random() < 0.5:
                    query["city"] = rng.choice(CITIES)
                request = http.get(f"/scenarios/{sid}/matches", params=query, headers=recruiter)
            start = time.perf_counter()
            try:
                response = await request
            except httpx.HTTPError as exc:
                tally.errors.append(f"{kind}: {exc.__class__.__name__} {exc}")
                continue
            elapsed = time.perf_counter() - start
            if response.status_code >= 400:
                tally.errors.append(f"{kind}: {response.status_code} {response.text[:200]}")
                continue
            tally.times.setdefault(kind, []).append(elapsed)
            data = response.json()
            if kind == "query" and data["data"] and len(tally.seen_firms) < 5000:
                tally.seen_firms.append((sid, rng.choice(data["data"])["company_id"]))
            elif kind == "submit":
                tally.created.append(data["company"]["id"])
            elif kind == "feedback":
                tally.feedback.append(data["id"])


async def load(args: argparse.Namespace, base: str, keys: dict[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        head = {"Authorization": f"Bearer {keys['recruiter']}"}
        tree = await http.get("/scenarios", headers=head)
        scenarios = [
            o["id"]
            for c in tree.json()["data"]
            for o in c["opportunities"]
            if o["status"] == "open"
        ]
        before = (await http.get("/health")).json()
    profiles = [dict(p) for p in synthesize(20_000, seed=123)]
    random.Random(1).shuffle(profiles)
    tally = Tally()
    until = time.monotonic() + args.seconds
    start = time.perf_counter()
    await asyncio.gather(
        *(
            client(base, keys, scenarios, profiles, args.mix, until, i, tally)
            for i in range(args.clients)
        )
    )
    wall = time.perf_counter() - start
    lost = await check_writes(base, keys, tally)
    by_kind = {
        kind: {"requests": len(t), "per_s": round(len(t) / wall, 1), **p50_p99_ms(t, 1)}
        for kind, t in tally.times.items()
    }
    total = sum(len(t) for t in tally.times.values())
    return {
        "clients": args.clients,
        "seconds": round(wall, 1),
        "mix": {k: round(v, 3) for k, v in args.mix.items()},
        "firms_before": before.get("companies"),
        "requests": total,
        "throughput_per_s": round(total / wall, 1),
        "errors": len(tally.errors),
        "error_samples": tally.errors[:10],
        "acknowledged_writes": {"companies": len(tally.created), "feedback": len(tally.feedback)},
        "lost_writes": lost,
        "by_kind": by_kind,
    }


async def check_writes(base: str, keys: dict[str, str], tally: Tally) -> list[str]:
    """Every acknowledged submission readable, every acknowledged feedback listed."""
    lost = []
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    async with httpx.AsyncClient(base_url=base, timeout=60, headers=admin) as http:
        for cid in tally.created:
            if (await http.get(f"/companies/{cid}")).status_code != 200:
                lost.append(f"company {cid}")
        have: set[int] = set()
        while True:
            page = await http.get("/feedback", params={"offset": len(have), "limit": 500})
            rows = page.json()["data"]
            have |= {row["id"] for row in rows}
            if len(rows) < 500:
                break
        lost += [f"feedback {fid}" for fid in tally.feedback if fid not in have]
    return lost


def prepare(args: argparse.Namespace, tmp: Path) -> dict[str, str]:
    """The server's environment: a fresh database, or a copy of a prebuilt one."""
    env = {
        **os.environ,
        "MATCHER_INDEX_DIR": str(tmp / "index"),
        "MATCHER_CACHE_DIR": str(args.cache_dir),
        "MATCHER_BATCH_DIR": str(tmp / "batch"),
        "MATCHER_MODELS_DIR": str(tmp / "models"),
        "MATCHER_SEED_CATALOGUE": str(args.catalogue),
        "MATCHER_SEED_COMPANIES": str(args.companies),
        "HF_HUB_OFFLINE": "1",
    }
    url = args.database_url or f"sqlite:///{tmp}/matcher.db"
    if args.prebuilt:
        built = args.prebuilt
        if not (built / "built.json").exists():
            raise SystemExit(f"{built} is not a finished bench/query/served.py build")
        shutil.copytree(built / "index", tmp / "index")
        if (built / "matcher.db").exists():
            shutil.copy(built / "matcher.db", tmp / "matcher.db")
        elif args.database_url:
            url = clone_postgres(args.database_url)
        else:
            raise SystemExit(f"{built} was built on a server database: pass its --database-url")
        env.update(MATCHER_SEED_CATALOGUE="", MATCHER_SEED_COMPANIES="")
        env["MATCHER_SAVE_DELAY_S"] = "3600"  # a 100k save would compete with the load
    env["MATCHER_DATABASE_URL"] = url
    return env


def clone_postgres(url: str) -> str:
    """A copy of the build database ``url`` named ``<name>_load`` (dropped first if present)."""
    from sqlalchemy import create_engine, make_url, text

    source = make_url(url)
    target = f"{source.database}_load"
    admin = create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{source.database}"'))
    admin.dispose()
    return source.set(database=target).render_as_string(hide_password=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument(
        "--mix",
        type=parse_mix,
        default=parse_mix("query=0.6,search=0.15,submit=0.1,feedback=0.15"),
        help="shares of each kind of request (default query=0.6,search=0.15,submit=0.1,"
        "feedback=0.15)",
    )
    ap.add_argument(
        "--database-url",
        help="default: SQLite in a temporary folder; with --prebuilt, the build's PostgreSQL "
        "database (cloned, never written)",
    )
    ap.add_argument("--prebuilt", type=Path, help="a bench/query/served.py build (--work) to copy")
    ap.add_argument("--catalogue", type=Path, default=ROOT / "data" / "scenarios.yaml")
    ap.add_argument("--companies", type=Path, default=ROOT / "data" / "companies.jsonl")
    ap.add_argument("--cache-dir", type=Path, default=ROOT / "var" / "cache")
    ap.add_argument("--start-limit-s", type=float, default=1800)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_http.json")
    args = ap.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0:
        ap.error("--clients must be ≥ 1 and --seconds > 0")
    with tempfile.TemporaryDirectory() as tmp:
        env = prepare(args, Path(tmp))
        port = free_port()
        log = open(Path(tmp) / "server.log", "w+")  # noqa: SIM115 - closed below
        start = time.perf_counter()
        server = subprocess.Popen(
            [MATCHER, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base, server, args.start_limit_s, "its log is below")
            start_s = time.perf_counter() - start
            keys = {"recruiter": make_key(env, "recruiter"), "admin": make_key(env, "admin")}
            results = {
                "database": env["MATCHER_DATABASE_URL"].split(":", 1)[0].split("+")[0],
                "prebuilt": str(args.prebuilt) if args.prebuilt else None,
                "server_start_s": round(start_s, 1),
                **asyncio.run(load(args, base, keys)),
            }
        except BaseException:
            log.seek(0)
            print(log.read()[-3000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            server.wait(timeout=120)
            log.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

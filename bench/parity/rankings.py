"""Every ranking the engine gives on the bundled data, as one JSON file, to compare two trees.

A refactoring must not change rankings: run this on the tree before and after (``PYTHONPATH``
picks the tree; it uses only the engine's public API) and compare the two files with
``--compare``. Covers, for each fusion method (convex, rrf) and constraint mode (flag, filter):
every open scenario's top 50 without a filter, with ``city=晋江市``, with a chain position, with
controls (pins, exclusions, "more like this"); every firm's top 10 scenarios (``suggest``); a
new unsaved profile's suggestions; free-text searches.

    PYTHONPATH=. .venv/bin/python bench/parity/rankings.py --out var/parity/after.json
    .venv/bin/python bench/parity/rankings.py --compare var/parity/before.json var/parity/after.json
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

FREE_TEXT = (
    "动力电池回收与梯次利用",
    "smart factory retrofit industrial robots",
    "鞋服 面料 功能性材料",
)


def _rows(matches: list[Any]) -> list[list[Any]]:
    return [
        [m.company_id if m.company_id else "", m.scenario_id, round(m.score, 6)] for m in matches
    ]


def dump(data: Path, cache: Path) -> dict[str, Any]:
    from matcher.catalogue import load_catalogue, load_companies
    from matcher.config import EngineConfig
    from matcher.constraints import Controls, Filters
    from matcher.engine import Engine
    from matcher.types import Company

    catalogue = load_catalogue(data / "scenarios.yaml")
    companies = load_companies(data / "companies.jsonl")
    base = Engine(EngineConfig(), cache_dir=cache).fit(catalogue.opportunities, companies)
    open_ids = [s.id for s in catalogue.opportunities if s.is_open]
    firm_ids = sorted(c.id for c in companies)
    new_firm = Company(
        id="NEW-1",
        name="厦门新材科技有限公司",
        description="专注功能性高分子材料、鞋底发泡材料与环保涂层的研发生产。",
        city="厦门市",
        products=("EVA发泡材料", "水性涂层"),
    )
    out: dict[str, Any] = {}
    for method in ("convex", "rrf"):
        for mode in ("flag", "filter"):
            cfg = EngineConfig()
            cfg = replace(
                cfg,
                fusion=replace(cfg.fusion, method=method),
                constraints=replace(cfg.constraints, mode=mode),
            )
            eng = base.reconfigured(cfg)
            key = f"{method}/{mode}"
            res: dict[str, Any] = {}
            for sid in open_ids:
                res[f"{sid}/all"] = _rows(eng.match_scenario(sid, top_k=50))
                res[f"{sid}/city"] = _rows(
                    eng.match_scenario(sid, top_k=20, filters=Filters(city="晋江市"))
                )
                res[f"{sid}/chain"] = _rows(
                    eng.match_scenario(sid, top_k=20, filters=Filters(chain_position="upstream"))
                )
                ctl = Controls(pinned=(firm_ids[3],), excluded=(firm_ids[5],), like=(firm_ids[7],))
                res[f"{sid}/controls"] = _rows(eng.match_scenario(sid, top_k=20, controls=ctl))
            for cid in firm_ids:
                res[f"suggest/{cid}"] = _rows(eng.suggest(cid, top_k=10))
            res["suggest/new"] = _rows(eng.suggest(new_firm, top_k=10))
            for k, text in enumerate(FREE_TEXT):
                res[f"text/{k}"] = _rows(eng.match_text(text, top_k=30))
            out[key] = res
    return out


def compare(a: dict[str, Any], b: dict[str, Any], tol: float) -> int:
    lists = same_ids = worst = 0
    diffs: list[str] = []
    for cfg in sorted(set(a) | set(b)):
        for key in sorted(set(a.get(cfg, {})) | set(b.get(cfg, {}))):
            ra, rb = a.get(cfg, {}).get(key), b.get(cfg, {}).get(key)
            lists += 1
            if ra is None or rb is None:
                diffs.append(f"{cfg} {key}: only in {'after' if ra is None else 'before'}")
                continue
            ids_a = [r[:2] for r in ra]
            ids_b = [r[:2] for r in rb]
            if ids_a != ids_b:
                diffs.append(f"{cfg} {key}: ids differ")
                continue
            same_ids += 1
            gap = max((abs(x[2] - y[2]) for x, y in zip(ra, rb, strict=True)), default=0.0)
            worst = max(worst, gap)
            if gap > tol:
                diffs.append(f"{cfg} {key}: scores differ by {gap:.2e}")
    print(f"{lists} lists, {same_ids} with identical ids, largest score gap {worst:.2e}")
    for d in diffs[:40]:
        print("  " + d)
    return 1 if diffs else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data")
    ap.add_argument("--cache", type=Path, default=ROOT / "var" / "cache")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    ap.add_argument("--tol", type=float, default=2e-6)
    args = ap.parse_args(argv)
    if args.compare:
        a, b = (json.loads(p.read_text("utf-8")) for p in args.compare)
        return compare(a, b, args.tol)
    if not args.out:
        ap.error("give --out FILE or --compare BEFORE AFTER")
    result = dump(args.data, args.cache)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, sort_keys=True), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Experiment: does a linear query head trained on GB/T taxonomy pairs help dense retrieval?

    python -m bench.quality.query_head --work-dir WORK_DIR [--reg 1.0] [--out FILE]

Issue 18, item 5 (encoder adaptation), in its cheapest form: a 512 × 512 head (1 MB), started
at the identity, applied to USE query vectors. Training uses the standard's texts only: for
every GB/T class, four template queries "a <another division's class> context seeks <this
class>" (zh), the class's vector (names plus half its 说明) as the positive, every other class
as a negative (InfoNCE, temperature 0.05), ``--reg`` pulling the head back to the identity;
one class in five is held out. It is then measured as plain dense retrieval (query vector ×
profile vectors) over the real query sets that ``bench.quality.prepare`` wrote to WORK_DIR,
with and without the head. Nothing here reaches the engine: docs/quality.md reports the
outcome (it did not help).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

try:
    from bench.quality import corpus as qc
except ModuleNotFoundError:  # run as a file
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.quality import corpus as qc

from matcher.config import EncoderConfig
from matcher.evaluate import load_qrels_csv, ndcg_at_k
from matcher.industry import IndustryInferrer, industry_table
from matcher.normalise import normalise
from matcher.plain import plain_encoder

TEMPLATES = (
    "{ctx}推进数字化改造，面向社会征集{dem}相关企业。",
    "{ctx}场景：寻求{dem}的产品与解决方案供应商。",
    "为服务{ctx}，现招引{dem}企业。",
    "{dem}供应商征集（应用于{ctx}）",
    "{ctx}需要{dem}",
)
RUNS = (
    ("cn", "cn"),
    ("en", "en"),
    ("xl_en_over_cn", "cn"),
    ("xl_zh_over_en", "en"),
    ("context_cn", "cn"),
    ("context_en", "en"),
    ("context_xl_en_over_cn", "cn"),
    ("context_xl_zh_over_en", "en"),
)


def train_head(enc: Any, reg: float, steps: int = 300, seed: int = 0) -> dict[str, Any]:
    import torch

    table = industry_table()
    codes = table.classes()
    texts = [normalise(x) for x in IndustryInferrer.texts(codes)]
    classes = torch.tensor(IndustryInferrer.class_vectors(codes, enc.encode(texts, "query")))
    rng = random.Random(seed)
    queries, positive = [], []
    for i, c in enumerate(codes):
        others = [j for j, d in enumerate(codes) if d[:2] != c[:2]]
        for _ in range(4):
            ctx = table.name(codes[rng.choice(others)])
            queries.append(rng.choice(TEMPLATES).format(ctx=ctx, dem=table.name(c)))
            positive.append(i)
    qv = torch.tensor(enc.encode(queries, "query"), dtype=torch.float32)
    pos = torch.tensor(positive)
    held = set(rng.sample(range(len(codes)), len(codes) // 5))
    train = torch.tensor([k for k, p in enumerate(positive) if p not in held])
    valid = torch.tensor([k for k, p in enumerate(positive) if p in held])
    eye = torch.eye(qv.shape[1])
    head = torch.nn.Parameter(eye.clone())
    opt = torch.optim.Adam([head], lr=1e-3)
    gen = torch.Generator().manual_seed(seed)

    def accuracy(ix: Any) -> float:
        with torch.no_grad():
            z = torch.nn.functional.normalize(qv[ix] @ head, dim=1)
            return float((torch.argmax(z @ classes.T, 1) == pos[ix]).float().mean())

    before = {"train": accuracy(train), "held_out": accuracy(valid)}
    for _ in range(steps):
        batch = train[torch.randint(len(train), (512,), generator=gen)]
        z = torch.nn.functional.normalize(qv[batch] @ head, dim=1)
        loss = torch.nn.functional.cross_entropy(z @ classes.T / 0.05, pos[batch])
        loss = loss + reg * ((head - eye) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {
        "head": head.detach().numpy(),
        "class_accuracy_before": before,
        "class_accuracy_after": {"train": accuracy(train), "held_out": accuracy(valid)},
        "training_queries": len(queries),
    }


def retrieval(enc: Any, work_dir: Path, head: np.ndarray) -> dict[str, list[float]]:
    """Plain dense nDCG@10 per run: without the head, with it."""
    out: dict[str, list[float]] = {}
    for run, corpus in RUNS:
        with (work_dir / f"{corpus}_companies.csv").open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        ids = [r["id"] for r in rows]
        firms = enc.encode([normalise(r["description"] or r["name"]) for r in rows], "passage")
        firms = firms / np.linalg.norm(firms, axis=1, keepdims=True)
        with (work_dir / "scenarios" / f"{run}.jsonl").open(encoding="utf-8") as fh:
            scen = [json.loads(line) for line in fh]
        qrels = load_qrels_csv(work_dir / "qrels" / f"{run}.csv")
        q = enc.encode([s["description"] or s["title"] for s in scen], "query")
        scores = []
        for m in (np.eye(q.shape[1]), head):
            z = q @ m
            sims = (z / np.linalg.norm(z, axis=1, keepdims=True)) @ firms.T
            scores.append(
                round(
                    float(
                        np.mean(
                            [
                                ndcg_at_k(
                                    [ids[j] for j in np.argsort(-sims[i])[:10]], qrels[s["id"]], 10
                                )
                                for i, s in enumerate(scen)
                                if s["id"] in qrels
                            ]
                        )
                    ),
                    4,
                )
            )
        out[run] = scores
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work-dir", type=Path, required=True)
    ap.add_argument("--reg", type=float, default=1.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    enc = plain_encoder(EncoderConfig(), args.work_dir / "cache")
    trained = train_head(enc, args.reg)
    runs = retrieval(enc, args.work_dir, trained.pop("head"))
    enc.cache.save()
    macro = [round(float(np.mean([v[k] for v in runs.values()])), 4) for k in (0, 1)]
    return qc.report(
        {
            "reg": args.reg,
            **trained,
            "plain_ndcg10_without_with": runs,
            "macro_without_with": macro,
        },
        args.out,
    )


if __name__ == "__main__":
    raise SystemExit(main())

"""Fusion weights chosen by cross-validation over labelled scenarios.

Scenarios (not pairs) are split into folds, so a weight set is always judged on scenarios it
was not chosen on. The objective is nDCG at a recruiter's shortlist depth (50 by default): at
depth 10 the sample dev set is saturated by TF-IDF alone, so it cannot tell weightings apart,
while the hard cases (English profiles, unfamiliar wording) sit deeper. The tuned parts are
dense, lexical, keyword and industry; ``structured`` keeps its configured weight (a policy
prior, not something relevance labels can teach).
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .config import EngineConfig
from .engine import Engine
from .folders import atomic_write
from .fuse import QUERY_SCALED, minmax
from .types import Company, Scenario

__all__ = ["TuneResult", "tune_weights", "write_card", "fast_ndcg"]

TUNED = ("dense", "lexical", "keyword", "industry")
PARTS = (*TUNED, "structured")


@dataclass(frozen=True)
class TuneResult:
    weights: dict[str, float]
    cutoff: int
    cv_ndcg: float
    fold_ndcg: list[float]
    fold_weights: list[dict[str, float]]
    single_part_ndcg: dict[str, float]
    equal_weights_ndcg: float
    scenarios: int
    companies: int
    folds: int
    step: float
    grid_size: int
    encoder: str
    created_at: str

    def summary(self) -> dict[str, object]:
        return asdict(self)


def fast_ndcg(scores: np.ndarray, gains: np.ndarray, ideal: float, k: int = 10) -> float:
    """nDCG@k of ranking by ``scores`` (ties broken by position), gain 2^g - 1."""
    if ideal <= 0:
        return 0.0
    order = np.lexsort((np.arange(len(scores)), -scores))[:k]
    g = gains[order]
    return float(((2.0**g - 1) / np.log2(np.arange(2, len(g) + 2))).sum() / ideal)


def _ideal(grades: Sequence[int], k: int = 10) -> float:
    g = np.sort(np.asarray(grades, dtype=np.float64))[::-1][:k]
    return float(((2.0**g - 1) / np.log2(np.arange(2, len(g) + 2))).sum())


def _grid(step: float, total: float) -> list[tuple[float, ...]]:
    """Every weighting of the tuned parts in steps of about ``step`` that sums to ``total``."""
    n = max(1, int(round(total / step)))
    unit = total / n
    out = []
    for combo in itertools.product(range(n + 1), repeat=len(TUNED) - 1):
        rest = n - sum(combo)
        if rest >= 0:
            out.append(tuple(c * unit for c in (*combo, rest)))
    return out


def tune_weights(
    scenarios: Sequence[Scenario],
    companies: Sequence[Company],
    qrels: Mapping[str, Mapping[str, int]],
    config: EngineConfig,
    folds: int = 5,
    step: float = 0.05,
    cache_dir: str | os.PathLike[str] | None = None,
    seed: int = 0,
    cutoff: int = 50,
    engine: Engine | None = None,
) -> TuneResult:
    """Grid-search fusion weights maximising mean nDCG@``cutoff``, cross-validated by scenario.

    ``engine``: an engine already fitted on these scenarios and companies, to skip encoding.
    """
    if folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {folds}")
    labelled = [s for s in scenarios if s.id in qrels and any(g > 0 for g in qrels[s.id].values())]
    if len(labelled) < folds:
        raise ValueError(f"need at least {folds} labelled scenarios, found {len(labelled)}")
    base = replace(config, constraints=replace(config.constraints, match_closed=True))
    if engine is None:
        engine = Engine(base, cache_dir=cache_dir).fit(scenarios, companies)
    penalty_w = base.constraints.penalty
    struct_w = base.fusion.weights.get("structured", 0.0)
    mats, gains, ideals = [], [], []
    for s in labelled:
        ids, raw, fails = engine.score_parts(s.id)
        cols = [minmax(raw[p]) if p in QUERY_SCALED else np.asarray(raw[p], float) for p in PARTS]
        m = np.stack(cols, axis=1)
        pen = np.array([penalty_w if f else 0.0 for f in fails])
        mats.append((m, pen))
        q = qrels[s.id]
        gains.append(np.array([q.get(i, 0) for i in ids], dtype=np.float64))
        ideals.append(_ideal(list(q.values()), cutoff))
    grid = _grid(step, 1.0 - struct_w)
    weights = np.array([(*w, struct_w) for w in grid])  # (G, 5)
    # ndcg[g, s]: every grid point on every scenario, computed once.
    table = np.zeros((len(grid), len(labelled)))
    for j, ((m, pen), g, ideal) in enumerate(zip(mats, gains, ideals, strict=True)):
        scores = m @ weights.T - pen[:, None]  # (n, G)
        for i in range(len(grid)):
            table[i, j] = fast_ndcg(scores[:, i], g, ideal, cutoff)
    order = list(range(len(labelled)))
    random.Random(seed).shuffle(order)
    fold_of = {s: k % folds for k, s in enumerate(order)}
    fold_scores, fold_weights = [], []
    for f in range(folds):
        train = [j for j in range(len(labelled)) if fold_of[j] != f]
        test = [j for j in range(len(labelled)) if fold_of[j] == f]
        best = int(np.argmax(table[:, train].mean(axis=1)))
        fold_scores.append(float(table[best, test].mean()))
        fold_weights.append(dict(zip(PARTS, map(float, weights[best]), strict=True)))
    best_all = int(np.argmax(table.mean(axis=1)))
    singles = {}
    for p_i, p in enumerate(TUNED):
        w = np.zeros(len(PARTS))
        w[p_i] = 1.0
        singles[p] = float(
            np.mean(
                [
                    fast_ndcg(m @ w - pen, g, ideal, cutoff)
                    for (m, pen), g, ideal in zip(mats, gains, ideals, strict=True)
                ]
            )
        )
    eq = np.array([(1 - struct_w) / len(TUNED)] * len(TUNED) + [struct_w])
    equal = float(
        np.mean(
            [
                fast_ndcg(m @ eq - pen, g, ideal, cutoff)
                for (m, pen), g, ideal in zip(mats, gains, ideals, strict=True)
            ]
        )
    )
    return TuneResult(
        weights={p: round(float(v), 4) for p, v in zip(PARTS, weights[best_all], strict=True)},
        cutoff=cutoff,
        cv_ndcg=float(np.mean(fold_scores)),
        fold_ndcg=fold_scores,
        fold_weights=fold_weights,
        single_part_ndcg=singles,
        equal_weights_ndcg=equal,
        scenarios=len(labelled),
        companies=len(companies),
        folds=folds,
        step=step,
        grid_size=len(grid),
        encoder=engine.encoder.fingerprint,
        created_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    )


def write_card(result: TuneResult, folder: Path) -> None:
    """``weights.json`` (machine-readable) and ``CARD.md`` (what, how, how well)."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / "weights.json", json.dumps(result.summary(), indent=1) + "\n")
    w = ", ".join(f"{k} {v:.2f}" for k, v in result.weights.items())
    singles = "\n".join(f"| {k} alone | {v:.3f} |" for k, v in result.single_part_ndcg.items())
    folds = "\n".join(
        f"| {i + 1} | {s:.3f} | " + ", ".join(f"{k} {v:.2f}" for k, v in fw.items()) + " |"
        for i, (s, fw) in enumerate(zip(result.fold_ndcg, result.fold_weights, strict=True))
    )
    card = f"""# Fusion weights: model card

- **What**: the weights of the convex fusion of score parts (see `matcher/fuse.py`).
- **Weights**: {w}.
- **Chosen on**: `data/eval/labels.csv`, {result.scenarios} labelled scenarios ×
  {result.companies} firms, grid step {result.step} over dense, lexical, keyword and industry
  ({result.grid_size} points);
  `structured` is fixed (policy prior). Encoder: `{result.encoder}`. Created {result.created_at}.
- **How well**: {result.folds}-fold cross-validation over scenarios; each fold picks the best grid
  point on the other folds and is scored on its own scenarios.

| fold | held-out nDCG@{result.cutoff} | weights chosen on the other folds |
|---|---|---|
{folds}

Mean held-out nDCG@{result.cutoff}: **{result.cv_ndcg:.3f}**. For comparison, on all labelled
scenarios:

| ranking | nDCG@{result.cutoff} |
|---|---|
{singles}
| equal weights | {result.equal_weights_ndcg:.3f} |

- **Limits**: the labels come from the sample data's generator (see `data/generator/README.md`);
  a zone's own feedback should replace them (the nightly job's learning-to-rank does that).
- **Objective**: nDCG@{result.cutoff}, a recruiter's shortlist depth. At depth 10 the sample
  set is saturated by TF-IDF alone (see `docs/quality.md`), so it cannot tell weightings apart.
- **Regenerate**: `matcher tune --out models/fusion` (then copy the weights into
  `FusionConfig`'s defaults; a test checks they agree).
"""
    atomic_write(folder / "CARD.md", card)

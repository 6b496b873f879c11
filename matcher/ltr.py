"""Learning to rank from recruiters' feedback.

Pipeline stages become graded labels (rejected 0 < shortlisted 1 < contacted 2 < visited 3 <
signed 4; a pair's latest stage counts). Each labelled scenario × firm pair is described by the
engine's score parts plus facts about both sides (scenario family and value, firm city, strength,
capital, constraint failure); LightGBM's lambdarank learns an ordering per scenario. At ranking
time the model's score, scaled to [0, 1] by the range its predictions had over the training
pairs (fixed with the model, so a pair's part does not depend on the other candidates), is added
to the fused score with weight ``learned_weight``: the ``learned`` part of a ``Match``.

A model is saved as a folder: ``model.txt`` (LightGBM's text format, no pickle), ``model.json``
(feature list, vocabularies, metrics, training facts) and ``CARD.md``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import itertools
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .constraints import strength
from .errors import DataError
from .evaluate import ndcg_at_k
from .folders import replace_folder
from .fuse import minmax
from .types import FEEDBACK_STAGES, SCORE_PARTS, Company, FeedbackStage, Reason, Scenario

__all__ = [
    "STAGE_GRADES",
    "LearnedRanker",
    "LtrConfig",
    "grades_from_feedback",
    "train",
    "heldout_split",
]

STAGE_GRADES: dict[FeedbackStage, int] = {
    "rejected": 0,
    "shortlisted": 1,
    "contacted": 2,
    "visited": 3,
    "signed": 4,
}
assert set(STAGE_GRADES) == set(FEEDBACK_STAGES)
PARTS = SCORE_PARTS
OTHER = "(other)"


@dataclass(frozen=True)
class LtrConfig:
    """Training settings; ``min_pairs`` and ``min_scenarios`` guard against learning from noise."""

    learned_weight: float = 0.5
    heldout_share: float = 0.25
    min_pairs: int = 40
    min_scenarios: int = 2
    max_cities: int = 30
    num_trees: int = 120
    learning_rate: float = 0.08
    num_leaves: int = 15
    min_data_in_leaf: int = 5
    eval_k: int = 10
    seed: int = 7


def grades_from_feedback(events: Sequence[tuple[str, str, str]]) -> dict[tuple[str, str], int]:
    """``(scenario_id, company_id, stage)`` events in time order → the latest grade per pair."""
    out: dict[tuple[str, str], int] = {}
    for sid, cid, stage in events:
        if stage not in STAGE_GRADES:
            raise DataError(f"unknown feedback stage {stage!r}; use {', '.join(FEEDBACK_STAGES)}")
        out[(sid, cid)] = STAGE_GRADES[stage]  # type: ignore[index]
    return out


def heldout_split(pairs: Sequence[tuple[str, str]], share: float) -> set[tuple[str, str]]:
    """A stable split: a pair is held out when its hash falls under ``share`` (no randomness)."""
    held = set()
    for sid, cid in pairs:
        h = int(hashlib.sha1(f"{sid}\0{cid}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        if h < share:
            held.add((sid, cid))
    return held


@dataclass
class LearnedRanker:
    """A trained lambdarank model with the vocabularies its features need."""

    booster_text: str
    cities: list[str]
    families: list[str]
    learned_weight: float
    metrics: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    # lowest and highest prediction over the training pairs: the range the learned part is
    # scaled by (None for a model saved before models kept it: min-max over the candidates)
    score_range: tuple[float, float] | None = None
    _booster: Any = field(default=None, repr=False, compare=False)

    @property
    def feature_names(self) -> list[str]:
        return feature_names(self.cities, self.families)

    def booster(self) -> Any:
        if self._booster is None:
            import lightgbm as lgb

            self._booster = lgb.Booster(model_str=self.booster_text)
        return self._booster

    def predict(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        return np.asarray(self.booster().predict(x, num_threads=1), np.float64)

    def scale(self, predictions: np.ndarray) -> np.ndarray:
        """Predictions mapped to [0, 1] by :attr:`score_range` (clipped outside it)."""
        p = np.asarray(predictions, np.float64)
        if self.score_range is None:
            return minmax(p)
        lo, hi = self.score_range
        if hi - lo < 1e-12:
            return np.zeros_like(p)
        return np.clip((p - lo) / (hi - lo), 0.0, 1.0)

    def features(
        self,
        scenarios: Sequence[Scenario],
        companies: Sequence[Company],
        parts: Mapping[str, np.ndarray],
        raw: Mapping[str, np.ndarray],
        fails: Sequence[Sequence[Reason]],
    ) -> np.ndarray:
        return pair_features(scenarios, companies, parts, raw, fails, self.cities, self.families)

    # ------------------------------------------------------------------ persistence
    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``model.txt``, ``model.json`` and ``CARD.md`` atomically."""
        meta = {
            "format_version": 1,
            "kind": "lightgbm-lambdarank",
            "features": self.feature_names,
            "cities": self.cities,
            "families": self.families,
            "learned_weight": self.learned_weight,
            "score_range": list(self.score_range) if self.score_range else None,
            "metrics": self.metrics,
            "info": self.info,
        }

        def write(tmp: Path) -> None:
            (tmp / "model.txt").write_text(self.booster_text, "utf-8")
            (tmp / "model.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
            (tmp / "CARD.md").write_text(_card(meta), "utf-8")

        return replace_folder(folder, write)

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> LearnedRanker:
        folder = Path(folder)
        try:
            meta = json.loads((folder / "model.json").read_text("utf-8"))
            text = (folder / "model.txt").read_text("utf-8")
        except (OSError, ValueError) as exc:
            raise DataError(f"{folder}: not a learned-ranker folder ({exc})") from exc
        return cls(
            booster_text=text,
            cities=list(meta["cities"]),
            families=list(meta["families"]),
            learned_weight=float(meta["learned_weight"]),
            score_range=(
                (float(meta["score_range"][0]), float(meta["score_range"][1]))
                if meta.get("score_range")
                else None
            ),
            metrics=dict(meta.get("metrics") or {}),
            info=dict(meta.get("info") or {}),
        )


def feature_names(cities: Sequence[str], families: Sequence[str]) -> list[str]:
    return (
        [f"part_{p}" for p in PARTS]
        + [
            "raw_dense",
            "raw_lexical",
            "constraint_failed",
            "scenario_value_log",
            "firm_strength",
            "firm_capital_log",
            "firm_listed",
            "chain_match",
        ]
        + [f"city={c}" for c in cities]
        + [f"family={f}" for f in families]
    )


def pair_features(
    scenarios: Sequence[Scenario],
    companies: Sequence[Company],
    parts: Mapping[str, np.ndarray],
    raw: Mapping[str, np.ndarray],
    fails: Sequence[Sequence[Reason]],
    cities: Sequence[str],
    families: Sequence[str],
) -> np.ndarray:
    """One row per pair (aligned sequences)."""
    n = len(companies)
    city_col = {c: i for i, c in enumerate(cities)}
    fam_col = {f: i for i, f in enumerate(families)}
    base = 13
    x = np.zeros((n, base + len(cities) + len(families)), np.float32)
    for j, p in enumerate(PARTS):
        if p in parts:
            x[:, j] = np.asarray(parts[p], np.float32)
    x[:, 5] = np.asarray(raw.get("dense", np.zeros(n)), np.float32)
    x[:, 6] = np.asarray(raw.get("lexical", np.zeros(n)), np.float32)
    for i, (s, c) in enumerate(zip(scenarios, companies, strict=True)):
        x[i, 7] = 1.0 if fails[i] else 0.0
        x[i, 8] = math.log1p(max(s.value_yi or 0.0, 0.0))
        x[i, 9] = strength(c)
        x[i, 10] = math.log1p(max(c.registered_capital_wan or 0.0, 0.0))
        x[i, 11] = 1.0 if c.listed else 0.0
        x[i, 12] = 1.0 if s.chain_position and s.chain_position == c.chain_position else 0.0
        col = city_col.get(_city(c), city_col.get(OTHER))
        if col is not None:
            x[i, base + col] = 1.0
        fcol = fam_col.get(s.parent_id or s.id, fam_col.get(OTHER))
        if fcol is not None:
            x[i, base + len(cities) + fcol] = 1.0
    return x


def _lgb_name(name: str) -> str:
    """A feature name LightGBM accepts: it refuses JSON's special characters (a city written
    "Ho Chi Minh City, Vietnam" has a comma); the saved model keeps the names as they are."""
    return re.sub(r'[",:\[\]{}\\]', "_", name)


def _city(c: Company) -> str:
    return (c.city or "").strip() or OTHER


def vocabularies(
    scenarios: Sequence[Scenario], companies: Sequence[Company], max_cities: int
) -> tuple[list[str], list[str]]:
    counts: dict[str, int] = {}
    for c in companies:
        counts[_city(c)] = counts.get(_city(c), 0) + 1
    cities = [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:max_cities]
    if OTHER not in cities:
        cities.append(OTHER)
    families = sorted({s.parent_id or s.id for s in scenarios}) + [OTHER]
    return cities, families


def mean_ndcg(groups: Mapping[str, tuple[Sequence[float], Sequence[int]]], k: int) -> float:
    """Mean nDCG@k over scenarios of graded labels ordered by score (ties by label order)."""
    vals = []
    for scores, labels in groups.values():
        if max(labels, default=0) <= 0:
            continue
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        ranked = [f"{i}" for i in order]
        rel = {f"{i}": int(labels[i]) for i in range(len(labels))}
        vals.append(ndcg_at_k(ranked, rel, k))
    return float(np.mean(vals)) if vals else 0.0


@dataclass
class TrainingSet:
    """Labelled pairs with their features and the current ranker's scores."""

    sids: list[str]
    cids: list[str]
    x: np.ndarray
    labels: np.ndarray
    fused: np.ndarray
    current_part: np.ndarray | None = None  # the adopted model's learned part, if there is one
    current_weight: float = 0.0


def train(
    data: TrainingSet, cities: list[str], families: list[str], cfg: LtrConfig
) -> tuple[LearnedRanker | None, dict[str, Any]]:
    """Fit on the training pairs, compare with the current ranker on held-out pairs.

    Returns the candidate model (``None`` when there is too little feedback) and a report with
    both held-out nDCG figures.
    """
    pairs = list(zip(data.sids, data.cids, strict=True))
    report: dict[str, Any] = {"pairs": len(pairs), "scenarios": len(set(data.sids))}
    if len(pairs) < cfg.min_pairs or len(set(data.sids)) < cfg.min_scenarios:
        report["skipped"] = (
            f"too little feedback: {len(pairs)} labelled pairs over {len(set(data.sids))} "
            f"scenarios (need {cfg.min_pairs} and {cfg.min_scenarios})"
        )
        return None, report
    held = heldout_split(pairs, cfg.heldout_share)
    is_held = np.array([p in held for p in pairs])
    train_idx = np.flatnonzero(~is_held)
    test_idx = np.flatnonzero(is_held)
    if len(train_idx) < cfg.min_pairs // 2 or len(test_idx) == 0:
        report["skipped"] = "the held-out split left too few pairs on one side"
        return None, report
    import lightgbm as lgb

    order = sorted(train_idx, key=lambda i: (data.sids[i], data.cids[i]))
    group_sizes = [len(list(g)) for _, g in itertools.groupby(order, key=lambda i: data.sids[i])]
    params = {
        "objective": "lambdarank",
        "metric": "ndcg",
        "learning_rate": cfg.learning_rate,
        "num_leaves": cfg.num_leaves,
        "min_data_in_leaf": cfg.min_data_in_leaf,
        "num_threads": 1,
        "deterministic": True,
        "force_row_wise": True,
        "seed": cfg.seed,
        "verbosity": -1,
        "label_gain": [0, 1, 3, 7, 15],
    }
    ds = lgb.Dataset(
        data.x[order],
        label=data.labels[order],
        group=group_sizes,
        feature_name=[_lgb_name(n) for n in feature_names(cities, families)],
        free_raw_data=False,
    )
    booster = lgb.train(params, ds, num_boost_round=cfg.num_trees)
    model = LearnedRanker(
        booster_text=booster.model_to_string(),
        cities=cities,
        families=families,
        learned_weight=cfg.learned_weight,
    )
    train_pred = model.predict(data.x[train_idx])
    model.score_range = (float(train_pred.min()), float(train_pred.max()))
    # Held-out comparison: both rankers order the same held-out pairs within each scenario,
    # each adding its learned part as ranking does.
    new_scores = data.fused[test_idx] + cfg.learned_weight * model.scale(
        model.predict(data.x[test_idx])
    )
    if data.current_part is not None:
        cur_scores = data.fused[test_idx] + data.current_weight * data.current_part[test_idx]
    else:
        cur_scores = data.fused[test_idx]
    groups_new: dict[str, tuple[list[float], list[int]]] = {}
    groups_cur: dict[str, tuple[list[float], list[int]]] = {}
    for pos, i in enumerate(test_idx):
        sid = data.sids[i]
        groups_new.setdefault(sid, ([], []))
        groups_cur.setdefault(sid, ([], []))
        groups_new[sid][0].append(float(new_scores[pos]))
        groups_new[sid][1].append(int(data.labels[i]))
        groups_cur[sid][0].append(float(cur_scores[pos]))
        groups_cur[sid][1].append(int(data.labels[i]))
    report.update(
        train_pairs=int(len(train_idx)),
        heldout_pairs=int(len(test_idx)),
        ndcg_current=round(mean_ndcg(groups_cur, cfg.eval_k), 4),
        ndcg_new=round(mean_ndcg(groups_new, cfg.eval_k), 4),
        k=cfg.eval_k,
    )
    model.metrics = dict(report)
    model.info = {
        "trained_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "lightgbm": lgb.__version__,
        "params": params,
        "trees": cfg.num_trees,
    }
    return model, report


def _card(meta: dict[str, Any]) -> str:
    m = meta.get("metrics", {})
    lines = [
        "# Learned ranker (LightGBM lambdarank)",
        "",
        "Learned from recruiters' feedback (graded: rejected 0, shortlisted 1, contacted 2, "
        "visited 3, signed 4; a pair's latest stage counts).",
        "",
        f"- trained: {meta.get('info', {}).get('trained_at', '?')}",
        f"- labelled pairs: {m.get('pairs')} over {m.get('scenarios')} scenarios; "
        f"{m.get('train_pairs')} for training, {m.get('heldout_pairs')} held out "
        "(a stable hash split of the pairs)",
        f"- held-out nDCG@{m.get('k')}: current ranker {m.get('ndcg_current')}, "
        f"this model {m.get('ndcg_new')}",
        f"- used as: fused score + {meta.get('learned_weight')} × model score (scaled to "
        f"[0, 1] by its range over the training pairs, {meta.get('score_range')}), shown as "
        "the `learned` part",
        f"- features ({len(meta.get('features', []))}): {', '.join(meta.get('features', []))}",
        "",
        "Limits: it learns what recruiters did, including their biases (a preferred city is "
        "learned as such); with few labels per scenario it generalises across scenarios "
        "through the shared features. Adopted only when it beats the current ranker on the "
        "held-out pairs.",
        "",
    ]
    return "\n".join(lines)

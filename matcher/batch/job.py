"""The nightly job: encode what changed, rebuild the index, learn from feedback, re-rank every
scenario × firm pair, snapshot and diff. Resumable stage by stage, block by block.

Layout under ``work_dir``::

    runs/<run_id>/state.json        stages done, timings, counts (rewritten atomically)
    runs/<run_id>/input/            the data the run ranks (captured once, so a resumed run
                                    ranks the same data while the service takes writes)
    runs/<run_id>/encode/, rerank/  one file per finished block
    index/versions/<run_id>/        the run's index; index/CURRENT.json points at the live one
    snapshots/<run_id>/             snapshots; snapshots/CURRENT.json points at the last good one
    <models_dir>/<run_id>/          adopted learned rankers; <models_dir>/CURRENT.json

A killed run is resumed by the next call: finished stages and blocks are not redone, and the
live index and the last good snapshot change only by an atomic pointer switch at the end of
their stage.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..catalogue import company_from_dict, scenario_from_dict
from ..config import EngineConfig
from ..constraints import Controls
from ..corpus import texts_to_encode
from ..encode import EmbeddingCache, create_encoder
from ..encode.cache import text_key
from ..engine import Engine
from ..errors import DataError
from ..folders import atomic_write, replace_folder
from ..ltr import (
    LearnedRanker,
    LtrConfig,
    TrainingSet,
    grades_from_feedback,
    train,
    vocabularies,
)
from ..rank import Ranker, unexplained
from ..types import QUERY_SCALED, Company, Match, Reason, Scenario
from .erase import Tombstone, drop_from_input, erase_snapshot_folder
from .executor import Executor
from .snapshot import diff_snapshots, read_snapshot, write_snapshot

__all__ = ["BatchConfig", "BatchInput", "BatchResult", "run_nightly", "STAGES"]

logger = logging.getLogger(__name__)
# the ids of a run's firms → those erased since its input was captured, with tombstones
ErasedSince = Callable[[Sequence[str]], Mapping[str, Tombstone]]
STAGES = ("encode", "index", "learn", "rerank", "diff")
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BatchConfig:
    """``top_n`` firms kept per scenario (and as many in reserve, for the diff), ``top_m``
    scenarios per firm; ``max_scenarios_per_firm`` caps how many scenarios' top N one firm may
    hold (a greedy assignment by score across scenarios; ``None``: no cap)."""

    top_n: int = 50
    top_m: int = 5
    candidates: int = 300
    block_size: int = 2000
    encode_block: int = 512
    max_scenarios_per_firm: int | None = None
    learn: bool = True
    ltr: LtrConfig = field(default_factory=LtrConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)


@dataclass
class BatchInput:
    """What the job ranks: the live scenarios, the firms, feedback events in time order
    ``(scenario_id, company_id, stage)`` and the recruiters' controls per scenario."""

    scenarios: list[Scenario]
    companies: list[Company]
    feedback: list[tuple[str, str, str]] = field(default_factory=list)
    controls: dict[str, Controls] = field(default_factory=dict)


@dataclass
class BatchResult:
    run_id: str
    resumed: bool
    stages: dict[str, dict[str, Any]]
    snapshot_dir: Path
    index_dir: Path
    content_hash: str
    diff: dict[str, Any]
    model: dict[str, Any]


# ---------------------------------------------------------------------------- small helpers
def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _write_json(path: Path, data: Any) -> None:
    atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1))


def _read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return default


def _save_npz(path: Path, **arrays: Any) -> None:
    atomic_write(path, lambda f: np.savez(f, **arrays))


def _save_npy(path: Path, array: np.ndarray) -> None:
    atomic_write(path, lambda f: np.save(f, array))


def _text_hash(company: Company) -> str:
    return hashlib.sha1(company.text().encode("utf-8")).hexdigest()


def current_pointer(folder: Path) -> Path | None:
    """The folder a ``CURRENT.json`` in ``folder`` points at, if it exists."""
    data = _read_json(folder / "CURRENT.json")
    if not data or "version" not in data:
        return None
    for target in (folder / str(data["version"]), folder / "versions" / str(data["version"])):
        if target.exists():
            return target
    return None


def _point(folder: Path, version: str) -> None:
    _write_json(folder / "CURRENT.json", {"version": version, "at": _now()})


# ---------------------------------------------------------------------------- workers
_ENGINES: dict[str, Engine] = {}


def _engine_at(folder: str, cache_dir: str | None) -> Engine:
    """One engine per worker process, loaded once (the driver registers its own)."""
    eng = _ENGINES.get(folder)
    if eng is None:
        eng = Engine.load(folder, cache_dir=cache_dir)
        _ENGINES[folder] = eng
    return eng


class EncodeWorker:
    """Loads the encoder once; encodes one block of ``(role, texts)``."""

    def __init__(self, name: str, model_path: str | None, num_threads: int) -> None:
        self.encoder = create_encoder(name, model_path, num_threads)

    def __call__(self, block: tuple[str, list[str]]) -> np.ndarray:
        role, texts = block
        return np.asarray(self.encoder.encode(texts, role), np.float32)  # type: ignore[arg-type]


class SimilarityWorker:
    """Raw dense and lexical similarity of a block of firms against every ranked scenario."""

    def __init__(self, index_dir: str, cache_dir: str | None, scenario_ids: list[str]) -> None:
        self.engine = _engine_at(index_dir, cache_dir)
        self.scenario_ids = scenario_ids

    def __call__(self, company_ids: list[str]) -> dict[str, np.ndarray]:
        eng = self.engine
        states = [eng.corpus.scenarios[sid] for sid in self.scenario_ids]
        # float64, as the live path fuses them: a firm row equals its suggestion list
        return eng.scoring.similarities(company_ids, states)


class ScoreWorker:
    """One block of firms, ranked by the engine's own ranking code (:class:`matcher.rank.Ranker`)
    from the block's raw parts, computed once per pair: each scenario's best candidates among
    the block's firms (parts scaled from the scenario's floor to its best score over every
    firm, so blocks compare), and each firm's best scenarios, ranked as :meth:`Engine.suggest`
    ranks them (min-max across the open scenarios, in the engine's scenario order)."""

    def __init__(
        self,
        index_dir: str,
        cache_dir: str | None,
        ranker_dir: str | None,
        scenario_ids: list[str],
        ceilings: dict[str, dict[str, float]],
        k_prime: int,
        top_m: int,
        excluded: dict[str, list[str]],
    ) -> None:
        self.engine = _engine_at(index_dir, cache_dir)
        self.engine.ranker = LearnedRanker.load(ranker_dir) if ranker_dir else None
        self.scenario_ids = scenario_ids
        self.ceilings = ceilings
        self.k_prime = k_prime
        self.top_m = top_m
        self.excluded = {sid: set(v) for sid, v in excluded.items()}

    def __call__(self, block: tuple[list[str], np.ndarray, np.ndarray]) -> dict[str, Any]:
        ids, dense, lexical = block
        eng = self.engine
        corpus = eng.corpus
        firms = [corpus.companies[i] for i in ids]
        n, s_count = len(ids), len(self.scenario_ids)
        bounded_all: dict[str, np.ndarray] = {}
        fails_all: list[list[list[Reason]]] = []
        per_scen_ids: list[list[str]] = []
        per_scen_scores: list[list[float]] = []
        for j, sid in enumerate(self.scenario_ids):
            st = corpus.scenarios[sid]
            bounded, fails = eng.scoring.bounded([st] * n, firms)
            for k, v in bounded.items():
                bounded_all.setdefault(k, np.zeros((n, s_count)))[:, j] = v
            fails_all.append(fails)
            excl = self.excluded.get(sid, set())
            rows = [k for k, cid in enumerate(ids) if cid not in excl]
            raw = {
                "dense": np.asarray(dense[rows, j], np.float64),
                "lexical": np.asarray(lexical[rows, j], np.float64),
                **{k: v[rows] for k, v in bounded.items()},
            }
            pairs = [(st, firms[k]) for k in rows]
            sub_fails = [fails[k] for k in rows]
            fused = eng.ranking.fuse(pairs, raw, sub_fails, eng.floor(st), self.ceilings[sid])
            # Failing pairs stay candidates, as live retrieval keeps them: the final ranking
            # drops them (filter mode) after scaling over every candidate.
            fused = replace(fused, keep=np.ones(len(pairs), dtype=bool))
            chosen = eng.ranking.order(pairs, fused, self.k_prime, collapse=False)
            per_scen_ids.append([ids[rows[i]] for i in chosen])
            per_scen_scores.append([float(fused.final[i]) for i in chosen])
        # Firm → scenarios: the firm's suggestion list (less recruiters' exclusions), from the
        # parts computed above.
        column = {sid: j for j, sid in enumerate(self.scenario_ids)}
        states = [st for st in eng.open_scenarios() if st.scenario.id in column]
        cols = [column[st.scenario.id] for st in states]
        firm_top: list[list[dict[str, Any]]] = []
        for i, cid in enumerate(ids):
            raw_i = {
                "dense": np.asarray(dense[i, cols], np.float64),
                "lexical": np.asarray(lexical[i, cols], np.float64),
                **{k: v[i, cols] for k, v in bounded_all.items()},
            }
            fails_i = [fails_all[j][i] for j in cols]
            hidden = sum(1 for sid in self.scenario_ids if cid in self.excluded.get(sid, ()))
            ranked = eng.ranking.rank(
                [(st, firms[i]) for st in states],
                raw_i,
                fails_i,
                top_k=self.top_m + hidden,
                collapse=False,
                explain=unexplained,
                min_score=eng.config.suggest_min_score,
            )
            kept = [m for m in ranked if cid not in self.excluded.get(m.scenario_id, ())]
            firm_top.append([_firm_entry(m, rank) for rank, m in enumerate(kept[: self.top_m], 1)])
        return {"scen_ids": per_scen_ids, "scen_scores": per_scen_scores, "firm_top": firm_top}


def _firm_entry(m: Match, rank: int) -> dict[str, Any]:
    """A firm row's entry (compact: no explanation), rounded as ``Match.to_dict`` rounds."""
    return {
        "scenario_id": m.scenario_id,
        "rank": rank,
        "score": round(m.score, 6),
        "parts": {k: round(v, 6) for k, v in m.parts.items()},
        "contributions": {k: round(v, 6) for k, v in m.contributions.items()},
        "penalty": round(m.penalty, 6),
    }


# ---------------------------------------------------------------------------- the job
class NightlyJob:
    def __init__(
        self,
        config: BatchConfig,
        work_dir: str | os.PathLike[str],
        models_dir: str | os.PathLike[str],
        cache_dir: str | os.PathLike[str] | None,
        executor: Executor,
        progress: Progress | None = None,
        checkpoint: Callable[[str, str], None] | None = None,
        erased: ErasedSince | None = None,
    ) -> None:
        self.config = config
        self.checkpoint = checkpoint
        self.erased = erased
        self.dropped: dict[str, Tombstone] = {}
        self.work = Path(work_dir)
        self.models = Path(models_dir)
        self.cache_dir = str(cache_dir) if cache_dir else None
        self.executor = executor
        self.progress = progress
        self.engine: Engine | None = None

    # -------------------------------------------------------------- run bookkeeping
    def _unfinished(self) -> Path | None:
        runs = self.work / "runs"
        if not runs.exists():
            return None
        for d in sorted(runs.iterdir(), reverse=True):
            st = _read_json(d / "state.json")
            if st and st.get("status") == "running" and (d / "input" / "done").exists():
                return d
        return None

    def _capture(self, run_dir: Path, data: BatchInput) -> None:
        inp = run_dir / "input"
        inp.mkdir(parents=True, exist_ok=True)
        _write_json(inp / "scenarios.json", [s.to_dict() for s in data.scenarios])
        with open(inp / "companies.jsonl", "w", encoding="utf-8") as f:
            for c in data.companies:
                f.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
        _write_json(inp / "feedback.json", [list(e) for e in data.feedback])
        _write_json(inp / "controls.json", {k: asdict(v) for k, v in data.controls.items()})
        (inp / "done").write_text(_now())

    def _load_input(self, run_dir: Path) -> BatchInput:
        inp = run_dir / "input"
        scen = [scenario_from_dict(d) for d in _read_json(inp / "scenarios.json", [])]
        comps = [
            company_from_dict(json.loads(line))
            for line in (inp / "companies.jsonl").read_text("utf-8").splitlines()
            if line.strip()
        ]
        fb = [tuple(e) for e in _read_json(inp / "feedback.json", [])]
        ctl = {
            k: Controls(
                pinned=tuple(v["pinned"]), excluded=tuple(v["excluded"]), like=tuple(v["like"])
            )
            for k, v in _read_json(inp / "controls.json", {}).items()
        }
        return BatchInput(scen, comps, fb, ctl)  # type: ignore[arg-type]

    def _drop_erased(self, run_dir: Path, state: dict[str, Any], inp: BatchInput) -> BatchInput:
        """Drop the firms erased since the input was captured (``erased`` asks the source of
        truth) from everything this run has made so far, before it publishes more: its input,
        unfinished stage outputs, the fitted engine (and its saved version once live) and
        its snapshot. Returns the input without them."""
        if self.erased is None:
            return inp
        gone = dict(self.erased([c.id for c in inp.companies]))
        if not gone:
            return inp
        drop_from_input(run_dir, gone)
        for stage in ("encode", "rerank"):
            if not self._stage_done(state, stage):
                shutil.rmtree(run_dir / stage, ignore_errors=True)
        engine = self.engine
        if engine is not None and not set(gone).isdisjoint(engine.companies_):
            engine.erase_companies(list(gone))
            if self._stage_done(state, "index"):  # its saved copy is live: saved again
                engine.save(self.work / "index" / "versions" / run_dir.name)
        snap = self.work / "snapshots" / run_dir.name
        if snap.exists() and erase_snapshot_folder(snap, gone):
            manifest = _read_json(snap / "manifest.json", {})
            if "rerank" in state["stages"]:
                state["stages"]["rerank"]["content_hash"] = manifest.get("content_hash")
                _write_json(run_dir / "state.json", state)
        self.dropped.update(gone)
        logger.info("nightly %s: dropped %d firms erased meanwhile", run_dir.name, len(gone))
        return self._load_input(run_dir)

    def _stage_done(self, state: dict[str, Any], stage: str) -> bool:
        return state["stages"].get(stage, {}).get("status") == "done"

    def _finish_stage(
        self, run_dir: Path, state: dict[str, Any], stage: str, t0: float, **counts: Any
    ) -> None:
        state["stages"][stage] = {
            "status": "done",
            "seconds": round(time.perf_counter() - t0, 3),
            "finished_at": _now(),
            **counts,
        }
        state["stage"] = stage
        _write_json(run_dir / "state.json", state)
        logger.info("nightly %s: %s done in %.1f s", run_dir.name, stage, time.perf_counter() - t0)

    def _point_reached(self, stage: str, where: str) -> None:
        """Fault-injection point (``where``: ``start`` or ``mid``); tests kill the process here."""
        if self.checkpoint is not None:
            self.checkpoint(stage, where)

    def _tick(self, stage: str) -> Callable[[int, int], None] | None:
        if self.progress is None:
            return None
        progress = self.progress
        return lambda done, total: progress(stage, done, total)

    # -------------------------------------------------------------- entry point
    def run(self, data: BatchInput | Callable[[], BatchInput]) -> BatchResult:
        """Resume the unfinished run if there is one, else start a new one on ``data``."""
        run_dir = self._unfinished()
        resumed = run_dir is not None
        if run_dir is None:
            run_id = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
            run_dir = self.work / "runs" / run_id
            run_dir.mkdir(parents=True, exist_ok=False)
            state: dict[str, Any] = {
                "run_id": run_id,
                "status": "running",
                "started_at": _now(),
                "stages": {},
                "stage": None,
            }
            _write_json(run_dir / "state.json", state)
            self._capture(run_dir, data() if callable(data) else data)
        else:
            state = _read_json(run_dir / "state.json")
            logger.info("resuming nightly run %s after stage %s", run_dir.name, state.get("stage"))
        run_id = run_dir.name
        inp = self._drop_erased(run_dir, state, self._load_input(run_dir))
        if not inp.companies or not inp.scenarios:
            raise DataError("nothing to rank: the run has no companies or no scenarios")
        try:
            self._encode(run_dir, state, inp)
            inp = self._drop_erased(run_dir, state, inp)
            index_dir = self._index(run_dir, state, inp)
            inp = self._drop_erased(run_dir, state, inp)
            model = self._learn(run_dir, state, inp)
            inp = self._drop_erased(run_dir, state, inp)
            snap = self._rerank(run_dir, state, inp)
            inp = self._drop_erased(run_dir, state, inp)
            diff = self._diff(run_dir, state, inp)
        except BaseException as exc:
            if not isinstance(exc, (KeyboardInterrupt, SystemExit)):
                state["error"] = f"{exc.__class__.__name__}: {exc}"
                _write_json(run_dir / "state.json", state)
            raise
        state["status"] = "done"
        state["finished_at"] = _now()
        _write_json(run_dir / "state.json", state)
        return BatchResult(
            run_id=run_id,
            resumed=resumed,
            stages=state["stages"],
            snapshot_dir=snap,
            index_dir=index_dir,
            content_hash=state["stages"]["rerank"]["content_hash"],
            diff=diff,
            model=model,
        )

    # -------------------------------------------------------------- stage 1: encode
    def _encode(self, run_dir: Path, state: dict[str, Any], inp: BatchInput) -> None:
        if self._stage_done(state, "encode"):
            return
        self._point_reached("encode", "start")
        t0 = time.perf_counter()
        cfg = self.config.engine
        probe = Engine(cfg, cache_dir=self.cache_dir)
        encoder = probe.encoder
        fp = encoder.fingerprint
        cache: EmbeddingCache = encoder.cache
        # Firms whose text is unchanged since the last finished encode are skipped without even
        # normalising their text (their vectors are cached; if the cache was lost, the index
        # stage encodes what is missing).
        key = json.dumps([fp, asdict(cfg.encoder), cfg.scenario_focus], sort_keys=True)
        seen = _read_json(self.work / "encoded.json", {})
        known = seen.get("companies", {}) if seen.get("key") == key else {}
        hashes = {c.id: _text_hash(c) for c in inp.companies}
        changed = [c for c in inp.companies if known.get(c.id) != hashes[c.id]]
        texts: dict[Any, list[str]] = texts_to_encode(cfg, inp.scenarios, changed)
        blocks: list[tuple[Any, list[str]]] = []
        total = 0
        for role, items in texts.items():
            missing = [t for t in items if cache.get(fp, text_key(fp, role, t)) is None]
            total += len(items)
            for k in range(0, len(missing), self.config.encode_block):
                blocks.append((role, missing[k : k + self.config.encode_block]))
        out = run_dir / "encode"
        out.mkdir(exist_ok=True)
        todo = [i for i in range(len(blocks)) if not (out / f"block-{i:05d}.npy").exists()]
        enc = cfg.encoder
        results = self.executor.map(
            EncodeWorker,
            (enc.name, enc.model_path, enc.num_threads),
            [blocks[i] for i in todo],
            self._tick("encode"),
        )
        for pos, vecs in results:
            i = todo[pos]
            _save_npy(out / f"block-{i:05d}.npy", vecs)
            self._point_reached("encode", "mid")
        encoded = 0
        for i, (role, items) in enumerate(blocks):
            vecs = np.load(out / f"block-{i:05d}.npy", allow_pickle=False)
            for t, v in zip(items, vecs, strict=True):
                cache.put(fp, text_key(fp, role, t), v)
            encoded += len(items)
        cache.save()
        _write_json(self.work / "encoded.json", {"key": key, "companies": hashes})
        self._finish_stage(
            run_dir,
            state,
            "encode",
            t0,
            texts=total,
            encoded=encoded,
            cached=total - encoded,
            blocks=len(blocks),
            unchanged_firms=len(inp.companies) - len(changed),
        )

    # -------------------------------------------------------------- stage 2: index
    def _index(self, run_dir: Path, state: dict[str, Any], inp: BatchInput) -> Path:
        versions = self.work / "index" / "versions"
        target = versions / run_dir.name
        if self._stage_done(state, "index"):
            self.engine = _engine_at(str(target), self.cache_dir)
            return target
        self._point_reached("index", "start")
        t0 = time.perf_counter()
        engine = Engine(self.config.engine, cache_dir=self.cache_dir).fit(
            inp.scenarios, inp.companies, progress=self.progress
        )
        encoded = engine.encoder.encoded
        self.engine = engine
        self._drop_erased(run_dir, state, inp)  # deleted while fitting: not published
        engine.save(target)  # atomic: a temp folder renamed into place
        self._point_reached("index", "mid")  # saved, not yet live
        _point(self.work / "index", run_dir.name)  # the switch: one atomic rename
        _ENGINES[str(target)] = engine
        self.engine = engine
        self._finish_stage(
            run_dir,
            state,
            "index",
            t0,
            companies=len(inp.companies),
            scenarios=len(inp.scenarios),
            encoded_during_fit=encoded,
            version=run_dir.name,
        )
        return target

    # -------------------------------------------------------------- stage 3: learn
    def _learn(self, run_dir: Path, state: dict[str, Any], inp: BatchInput) -> dict[str, Any]:
        if self._stage_done(state, "learn"):
            return dict(state["stages"]["learn"])
        self._point_reached("learn", "start")
        t0 = time.perf_counter()
        engine = self.engine
        assert engine is not None
        current_dir = current_pointer(self.models)
        current = LearnedRanker.load(current_dir) if current_dir else None
        grades = grades_from_feedback(inp.feedback)
        known_c = set(engine.companies_)
        grades = {p: g for p, g in grades.items() if p[0] in engine.scenarios_ and p[1] in known_c}
        report: dict[str, Any] = {"labelled_pairs": len(grades)}
        adopted = False
        if not self.config.learn or not grades:
            report["skipped"] = "learning is off" if not self.config.learn else "no feedback yet"
        else:
            data, cities, families = self._training_set(engine, grades, current, inp)
            model, rep = train(data, cities, families, self.config.ltr)
            report.update(rep)
            self._point_reached("learn", "mid")  # trained, not yet adopted
            if model is not None and rep["ndcg_new"] > rep["ndcg_current"]:
                model.info["run_id"] = run_dir.name
                model.save(self.models / run_dir.name)
                _point(self.models, run_dir.name)
                adopted = True
        report["adopted"] = adopted
        active = current_pointer(self.models)
        report["active_model"] = active.name if active else None
        _write_json(run_dir / "learn.json", report)
        self._finish_stage(run_dir, state, "learn", t0, **report)
        return report

    def _training_set(
        self,
        engine: Engine,
        grades: Mapping[tuple[str, str], int],
        current: LearnedRanker | None,
        inp: BatchInput,
    ) -> tuple[TrainingSet, list[str], list[str]]:
        """Features of the labelled pairs, with the parts and fused score the live ranking
        gives them when every firm is a candidate (the ranking code, without a re-ranker)."""
        cities, families = vocabularies(inp.scenarios, inp.companies, self.config.ltr.max_cities)
        probe = LearnedRanker("", cities, families, self.config.ltr.learned_weight)
        ranking = Ranker(engine.config, engine.corpus, engine.explainer)
        by_sid: dict[str, list[str]] = {}
        for sid, cid in sorted(grades):
            by_sid.setdefault(sid, []).append(cid)
        all_ids = sorted(engine.companies_)
        pos = {cid: i for i, cid in enumerate(all_ids)}
        sids: list[str] = []
        cids: list[str] = []
        xs: list[np.ndarray] = []
        labels: list[int] = []
        cur_part: list[float] = []
        fused_l: list[float] = []
        for sid, labelled in by_sid.items():
            st = engine.scenarios_[sid]
            _, raw, fails = engine.score_parts(sid, all_ids)
            pairs = [(st, engine.companies_[c]) for c in all_ids]
            fused = ranking.fuse(pairs, raw, fails, floor=engine.floor(st))
            idx = [pos[c] for c in labelled]
            scen = st.scenario
            comps = [engine.companies_[c].company for c in labelled]
            sub_parts = {k: v[idx] for k, v in fused.parts.items()}
            sub_raw = {k: np.asarray(v)[idx] for k, v in raw.items()}
            sub_fails = [fails[i] for i in idx]
            x = probe.features([scen] * len(labelled), comps, sub_parts, sub_raw, sub_fails)
            if current is not None:
                cx = current.features([scen] * len(labelled), comps, sub_parts, sub_raw, sub_fails)
                cur_part += list(current.scale(current.predict(cx)))
            sids += [sid] * len(labelled)
            cids += labelled
            xs.append(x)
            labels += [grades[(sid, c)] for c in labelled]
            fused_l += list(fused.final[idx])
        data = TrainingSet(
            sids=sids,
            cids=cids,
            x=np.vstack(xs),
            labels=np.array(labels),
            fused=np.array(fused_l),
            current_part=np.array(cur_part) if current is not None else None,
            current_weight=current.learned_weight if current is not None else 0.0,
        )
        return data, cities, families

    # -------------------------------------------------------------- stage 4: rerank
    def _rerank(self, run_dir: Path, state: dict[str, Any], inp: BatchInput) -> Path:
        snap_dir = self.work / "snapshots" / run_dir.name
        if self._stage_done(state, "rerank"):
            return snap_dir
        self._point_reached("rerank", "start")
        t0 = time.perf_counter()
        engine = self.engine
        assert engine is not None
        cfg = self.config
        index_dir = str(self.work / "index" / "versions" / run_dir.name)
        ranker_dir = current_pointer(self.models)
        engine.ranker = LearnedRanker.load(ranker_dir) if ranker_dir else None
        sids = sorted(s.id for s in inp.scenarios if s.is_open and s.id in engine.scenarios_)
        ids = sorted(engine.companies_)
        blocks = [ids[k : k + cfg.block_size] for k in range(0, len(ids), cfg.block_size)]
        out = run_dir / "rerank"
        out.mkdir(exist_ok=True)

        # pass 1: raw dense and lexical similarity, for normalisation over all firms
        sims = self._blocks(
            "similarity",
            out,
            "sim",
            blocks,
            SimilarityWorker,
            (index_dir, self.cache_dir, sids),
        )
        # each scenario's best dense and lexical score over every firm: where its parts reach 1
        ceilings: dict[str, dict[str, float]] = {sid: {} for sid in sids}
        for part in QUERY_SCALED:
            hi = np.max([b[part].max(axis=0) for b in sims], axis=0)
            for j, sid in enumerate(sids):
                ceilings[sid][part] = float(hi[j])
        # pass 2: fused scores per block → candidates per scenario, best scenarios per firm
        excluded = {sid: list(c.excluded) for sid, c in inp.controls.items()}
        k_prime = max(cfg.candidates, 2 * cfg.top_n)
        work = [(blk, sims[i]["dense"], sims[i]["lexical"]) for i, blk in enumerate(blocks)]
        scored = self._blocks(
            "scoring",
            out,
            "score",
            work,
            ScoreWorker,
            (
                index_dir,
                self.cache_dir,
                str(ranker_dir) if ranker_dir else None,
                sids,
                ceilings,
                k_prime,
                cfg.top_m,
                excluded,
            ),
        )
        # reduce: each scenario's K' best over all blocks, then the engine's own ranking
        scen_rows = []
        cap = cfg.max_scenarios_per_firm
        per_scenario: dict[str, list[Match]] = {}
        position = {cid: k for k, cid in enumerate(engine.companies_)}
        tick = self._tick("ranking")
        for j, sid in enumerate(sids):
            cands: list[tuple[float, str]] = []
            for b in scored:
                cands += [
                    (-sc, cid)
                    for cid, sc in zip(b["scen_ids"][j], b["scen_scores"][j], strict=True)
                ]
            cands.sort()
            # in corpus order, as live retrieval lists every firm when it scores them all
            # (rrf ranks tied values in the candidates' order)
            cand_ids = sorted((cid for _, cid in cands[:k_prime]), key=position.__getitem__)
            want = len(cand_ids) if cap else 2 * cfg.top_n
            per_scenario[sid] = engine.match_scenario(
                sid, max(want, 1), controls=inp.controls.get(sid), candidate_ids=cand_ids
            )
            if tick:
                tick(j + 1, len(sids))
        capped = _assign_with_cap(per_scenario, cfg.top_n, cap) if cap else None
        for sid in sids:
            ranked = per_scenario[sid]
            top = capped[sid] if capped is not None else ranked[: cfg.top_n]
            chosen = {m.company_id for m in top}
            reserve = [m for m in ranked if m.company_id not in chosen][: cfg.top_n]
            scen_rows.append(
                {
                    "scenario_id": sid,
                    "matches": [m.to_dict() for m in top],
                    "reserve": [
                        {
                            "company_id": m.company_id,
                            "score": round(m.score, 6),
                            "contributions": {k: round(v, 6) for k, v in m.contributions.items()},
                        }
                        for m in reserve
                    ],
                }
            )
        firm_rows = []
        for blk, b in zip(blocks, scored, strict=True):
            for cid, top in zip(blk, b["firm_top"], strict=True):
                firm_rows.append({"company_id": cid, "scenarios": top})
        meta = {
            "run_id": run_dir.name,
            "created_at": _now(),
            "top_n": cfg.top_n,
            "top_m": cfg.top_m,
            "scenarios": len(sids),
            "companies": len(ids),
            "max_scenarios_per_firm": cap,
            "model": ranker_dir.name if ranker_dir else None,
        }
        digests: list[str] = []
        replace_folder(
            snap_dir, lambda tmp: digests.append(write_snapshot(tmp, scen_rows, firm_rows, meta))
        )
        digest = digests[0]
        limited = 0
        if capped is not None:
            limited = sum(
                1
                for sid in sids
                for m in per_scenario[sid][: cfg.top_n]
                if m.company_id not in {x.company_id for x in capped[sid]}
            )
        self._finish_stage(
            run_dir,
            state,
            "rerank",
            t0,
            scenarios=len(sids),
            companies=len(ids),
            blocks=len(blocks),
            content_hash=digest,
            displaced_by_cap=limited,
        )
        return snap_dir

    def _blocks(
        self,
        stage: str,
        out: Path,
        prefix: str,
        blocks: Sequence[Any],
        worker: type,
        init: tuple[Any, ...],
    ) -> list[Any]:
        """Run ``worker`` over blocks not finished before; each result is saved as it lands."""
        ext = "npz" if prefix == "sim" else "json"
        files = [out / f"{prefix}-{i:05d}.{ext}" for i in range(len(blocks))]
        todo = [i for i, f in enumerate(files) if not f.exists()]
        for pos, result in self.executor.map(
            worker, init, [blocks[i] for i in todo], self._tick(stage)
        ):
            i = todo[pos]
            if prefix == "sim":
                _save_npz(files[i], **result)
            else:
                _write_json(files[i], result)
            self._point_reached("rerank", "mid")
        if prefix != "sim":
            return [_read_json(f) for f in files]
        loaded = []
        for f in files:
            with np.load(f, allow_pickle=False) as z:
                loaded.append({k: z[k] for k in z.files})
        return loaded

    # -------------------------------------------------------------- stage 5: diff
    def _diff(self, run_dir: Path, state: dict[str, Any], inp: BatchInput) -> dict[str, Any]:
        snaps = self.work / "snapshots"
        if self._stage_done(state, "diff"):
            return _read_json(run_dir / "diff.json", {})
        self._point_reached("diff", "start")
        t0 = time.perf_counter()
        previous_dir = current_pointer(snaps)
        if previous_dir is not None and previous_dir.name == run_dir.name:
            previous_dir = None
        previous = read_snapshot(previous_dir) if previous_dir else None
        before: set[str] | None = None
        if previous_dir is not None:
            prev_input = self.work / "runs" / previous_dir.name / "input" / "companies.jsonl"
            if prev_input.exists():
                before = {
                    json.loads(line)["id"]
                    for line in prev_input.read_text("utf-8").splitlines()
                    if line.strip()
                }
        current = read_snapshot(snaps / run_dir.name)
        diff = diff_snapshots(previous, current, before)
        diff["previous"] = previous_dir.name if previous_dir else None
        _write_json(run_dir / "diff.json", diff)
        self._point_reached("diff", "mid")  # computed, the snapshot not yet the last good one
        _point(snaps, run_dir.name)  # this snapshot is now the last good one
        self._finish_stage(
            run_dir,
            state,
            "diff",
            t0,
            entered=diff["entered"],
            left=diff["left"],
            previous=diff["previous"],
        )
        return diff


def _assign_with_cap(
    ranked: Mapping[str, Sequence[Match]], top_n: int, cap: int
) -> dict[str, list[Match]]:
    """Greedy global assignment: best pairs first; a firm fills at most ``cap`` scenarios' top
    N (pinned firms always keep their place)."""
    out: dict[str, list[Match]] = {sid: [] for sid in ranked}
    load: dict[str, int] = {}
    pairs = [
        (not m.pinned, -round(m.score, 9), sid, m.company_id, m)
        for sid, ms in ranked.items()
        for m in ms
    ]
    for _, _, sid, cid, m in sorted(pairs, key=lambda p: p[:4]):
        if len(out[sid]) >= top_n:
            continue
        if not m.pinned and load.get(cid, 0) >= cap:
            continue
        out[sid].append(m)
        load[cid] = load.get(cid, 0) + 1
    from dataclasses import replace

    return {
        sid: [
            replace(m, rank=r)
            for r, m in enumerate(
                sorted(ms, key=lambda m: (not m.pinned, -round(m.score, 9), m.company_id)), start=1
            )
        ]
        for sid, ms in out.items()
    }


def run_nightly(
    data: BatchInput | Callable[[], BatchInput],
    work_dir: str | os.PathLike[str],
    models_dir: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str] | None = None,
    config: BatchConfig | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    checkpoint: Callable[[str, str], None] | None = None,
    erased: ErasedSince | None = None,
) -> BatchResult:
    """Run (or resume) the nightly job; see the module docstring for what lands where.

    ``erased(ids)``: which of the run's firms were erased since its input was captured (and
    their tombstones); asked before each stage, so a deletion during a run is never
    published by it."""
    from .local import LocalExecutor

    job = NightlyJob(
        config or BatchConfig(),
        work_dir,
        models_dir,
        cache_dir,
        executor or LocalExecutor(),
        progress,
        checkpoint,
        erased,
    )
    return job.run(data)

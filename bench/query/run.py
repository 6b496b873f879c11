"""Recruiter query and company suggestion through the whole engine, in-process.

Recruiter query: scenario → top 20 firms with dense + lexical + structured fusion and
explanations for the 20, without a filter, with one filter (city) and with two (city + chain
position), for every open scenario, repeated: "warm" repeats a query, "cold" first clears what
earlier queries cached about profiles (as at a million firms, where a query's 20 firms are
rarely the last one's). With and without filters, recall@20 against the exact pipeline (the same
scoring of candidates found by brute-force search) shows what the ANN index loses. Free-text queries
include encoding the query. Company suggestion: a new profile (not in the
index) → encode it and rank every scenario; its encoding alone is timed too, to show what the
suggestion's time is made of. Medians and p99 over all calls.

    .venv/bin/python bench/query/run.py --profiles 10000               # about 3 minutes
    .venv/bin/python bench/query/run.py --profiles 100000 --backend ivf  # encodes for ~15 min once

Embeddings are cached in ``--cache`` (default ``var/bench/query/cache``), so a rerun at the
same or a smaller size skips the encoding. Results: ``docs/benchmarks_query.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.nightly.profiles import synthesize  # noqa: E402
from bench.timing import p50_p99_ms  # noqa: E402
from matcher import explain  # noqa: E402
from matcher.catalogue import company_from_dict, load_catalogue  # noqa: E402
from matcher.config import EngineConfig, IndexConfig, with_overrides  # noqa: E402
from matcher.constraints import Filters, passes_filters  # noqa: E402
from matcher.corpus import texts_to_encode  # noqa: E402
from matcher.engine import Engine  # noqa: E402

logger = logging.getLogger("bench.query")


def stats(times: list[float]) -> dict[str, float]:
    return {
        "calls": len(times),
        **p50_p99_ms(times),
    }


FREE_TEXT = (
    "动力电池回收与梯次利用",
    "智能制造 工业互联网 数字化车间",
    "sports shoes upper knitting machines",
    "光伏储能一体化解决方案",
    "cold-chain logistics for seafood",
)


def forget_profiles(engine: Engine) -> None:
    """Clear what earlier queries cached about profiles (word cuts, mapped texts, term tests,
    matched terms, keywords found, remembered score parts), so the next query pays for its
    candidates and its 20 explanations in full, as one over a million firms would."""
    for cached in (explain._run_words, explain._runs, explain._profile_forms):
        cached.cache_clear()
    engine.clear_memos()  # term tests, matched terms, each stored scenario's score parts
    for cs in engine.companies_.values():
        cs.keyword_found.clear()


def passing(engine: Engine, f: Filters) -> list[str]:
    return [cid for cid, cs in engine.companies_.items() if passes_filters(cs.company, cs.codes, f)]


class ExactRetrieval:
    """The engine's candidate retrieval with brute-force search in place of its vector index:
    the nearest ``c`` profiles and ``2c`` sentences among the firms a filter leaves.

    Scores come from the engine's own vector stores, in chunks, for the given scenarios at once
    (a million profiles and six million sentences never exist as one float32 matrix)."""

    def __init__(self, engine: Engine, scenario_ids: list[str], chunk: int = 200_000) -> None:
        self.engine = e = engine
        self.ids = list(e.companies_)
        rows = np.array([e.corpus.int_of[i] for i in self.ids], dtype=np.int64)
        pos_of = np.full(int(rows.max()) + 1, -1, dtype=np.int64)
        pos_of[rows] = np.arange(len(rows))
        owners = e.corpus.sent_owner[: e.corpus.next_sent]
        sent_rows = np.flatnonzero(owners >= 0)
        self.owners = pos_of[owners[sent_rows]]
        self.column = {sid: k for k, sid in enumerate(scenario_ids)}
        q = np.stack([e.scenarios_[sid].vector for sid in scenario_ids]).astype(np.float32)

        def scores(store: Any, which: np.ndarray) -> np.ndarray:
            out = np.empty((len(which), len(q)), np.float32)
            for lo in range(0, len(which), chunk):
                out[lo : lo + chunk] = store.rows(which[lo : lo + chunk]) @ q.T
            return out

        self.doc_scores = scores(e.corpus.doc_store, rows)
        self.sent_scores = scores(e.corpus.sent_store, sent_rows)
        self._ok: dict[str, np.ndarray] = {}

    def allowed(self, f: Filters) -> np.ndarray:
        key = repr(f)
        if key not in self._ok:
            e = self.engine
            self._ok[key] = (
                np.array(
                    [
                        passes_filters(e.companies_[i].company, e.companies_[i].codes, f)
                        for i in self.ids
                    ]
                )
                if not f.is_empty()
                else np.ones(len(self.ids), bool)
            )
        return self._ok[key]

    def candidates(self, sid: str, f: Filters, want: int = 20) -> list[str]:
        e = self.engine
        c = min(len(self.ids), max(e.config.candidates, want * 5))
        ok = self.allowed(f)
        if not f.is_empty() and ok.sum() <= max(c, e.config.exact_filtered):
            return [self.ids[r] for r in np.flatnonzero(ok)]
        k = self.column[sid]
        doc = np.where(ok, self.doc_scores[:, k], -np.inf)
        found = dict.fromkeys(self.ids[r] for r in _top(doc, c) if ok[r])
        sent = np.where(ok[self.owners], self.sent_scores[:, k], -np.inf)
        for s in _top(sent, 2 * c):
            if ok[self.owners[s]] and len(found) < 2 * c:
                found.setdefault(self.ids[self.owners[s]], None)
        return list(found)


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first (ties by index, as a stable sort)."""
    if k < len(scores):
        part = np.argpartition(-scores, k - 1)[:k]
        return part[np.lexsort((part, -scores[part]))]
    return np.argsort(-scores, kind="stable")


def recall_vs_exact(
    engine: Engine, exact: ExactRetrieval, scenario_ids: list[str], f: Filters
) -> float:
    """Mean recall@20 of the engine's result against the exact pipeline's: the same scoring of
    candidates found by brute-force search (what the ANN index approximates)."""
    recalls = []
    for sid in scenario_ids:
        got = {m.company_id for m in engine.match_scenario(sid, 20, f)}
        ref = engine.match_scenario(sid, 20, f, candidate_ids=exact.candidates(sid, f))
        if ref:
            recalls.append(len(got & {m.company_id for m in ref}) / len(ref))
    return round(statistics.mean(recalls), 4) if recalls else 1.0


def timed_calls(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def rss_mb() -> float:
    """Current resident set size of this process, MiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def index_bytes(index: Any) -> int:
    """Bytes a faiss index holds for its vectors and ids (IVF: codes + ids per list)."""
    raw = index._index
    n = int(raw.ntotal)
    if hasattr(raw, "invlists"):
        return n * (int(raw.code_size) + 8) + int(raw.quantizer.ntotal) * index.dim * 4
    return n * (index.dim * 4 + 8)


def memory_report(engine: Engine, rss_before: float) -> dict[str, Any]:
    mb = 1024 * 1024
    n_docs, n_sents = len(engine.corpus.doc_index), len(engine.corpus.sent_index)
    raw = (n_docs + n_sents) * engine.corpus.doc_store.dim * 4
    parts = {
        "doc_store": engine.corpus.doc_store.nbytes,
        "sentence_store": engine.corpus.sent_store.nbytes,
        "doc_index": index_bytes(engine.corpus.doc_index),
        "sentence_index": index_bytes(engine.corpus.sent_index),
        "lexical_rows": engine.corpus.lex.nbytes,
    }
    vectors = sum(v for k, v in parts.items() if k != "lexical_rows")
    return {
        "profiles": n_docs,
        "sentences": n_sents,
        "raw_float32_vectors_mb": round(raw / mb, 1),
        **{f"{k}_mb": round(v / mb, 1) for k, v in parts.items()},
        "vectors_and_indexes_over_raw": round(vectors / raw, 3),
        "rss_growth_during_fit_mb": round(rss_mb() - rss_before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def log_progress() -> Callable[[str, int, int], None]:
    last: dict[str, float] = {}

    def report(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last.get(stage, 0.0) > 30 or done == total:
            last[stage] = now
            logger.info("%s: %d / %d", stage, done, total)

    return report


def synthetic_encoder(config: EngineConfig, cache: Path) -> tuple[Any, dict[str, Any]]:
    """The pattern encoder over the real one, its noise calibrated on 300 varied sentences."""
    from bench.query.synth import PatternEncoder, calibrate, fidelity
    from matcher.encode import CachingEncoder, EmbeddingCache, create_encoder
    from matcher.explain import split_sentences
    from matcher.normalise import normalise

    real = CachingEncoder(create_encoder(config.encoder.name), EmbeddingCache(cache))
    sample = [company_from_dict(d) for d in synthesize(600, seed=7)]
    sents = [normalise(x) for c in sample[:300] for x in split_sentences(c.description)][:300]
    sigma, cos = calibrate(real, sents)
    enc = PatternEncoder(real, sigma)
    info = {
        "sigma": round(sigma, 4),
        "real_sentence_cosine_to_canonical_median": round(cos, 4),
        "profiles_fidelity": fidelity(real, enc, [normalise(c.text()) for c in sample[300:]]),
        "sentences_fidelity": fidelity(
            real,
            enc,
            [normalise(x) for c in sample[300:400] for x in split_sentences(c.description)],
        ),
    }
    real.cache.save()
    logger.info("synthetic vectors: %s", info)

    class _KeepNothing(EmbeddingCache):
        def put(self, fingerprint: str, key: str, vector: np.ndarray) -> None:
            return None

    return CachingEncoder(enc, _KeepNothing(), batch_size=4096), info


def unfitted_engine(
    config: EngineConfig, vectors: str, cache: Path
) -> tuple[Engine, dict[str, Any]]:
    """An engine on the real encoder (``vectors="real"``, cached in ``cache``) or on synthetic
    vectors, with the synthetic vectors' calibration and fidelity (empty for real ones)."""
    if vectors == "synthetic":
        encoder, synthetic = synthetic_encoder(config, cache)
        return Engine(config, cache_dir=None, encoder=encoder), synthetic
    return Engine(config, cache_dir=cache), {}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--profiles", type=int, default=10_000)
    ap.add_argument("--backend", choices=["flat", "ivf"], default="flat")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--new-profiles", type=int, default=50)
    ap.add_argument(
        "--no-recall",
        dest="recall",
        action="store_false",
        help="skip recall@20 against the exact pipeline (minutes at 100k)",
    )
    ap.add_argument("--storage", choices=["flat", "sq8"], default="flat", help="IVF list storage")
    ap.add_argument("--dtype", choices=["float32", "float16"], default="float32")
    ap.add_argument("--nprobe", type=int, default=IndexConfig().ivf_nprobe, help="IVF lists probed")
    ap.add_argument(
        "--vectors",
        choices=["real", "synthetic"],
        default="real",
        help="synthetic: pattern vectors + calibrated noise (bench/query/synth.py), for 1M",
    )
    ap.add_argument("--cache", type=Path, default=ROOT / "var" / "bench" / "query" / "cache")
    ap.add_argument("--config", default="{}", help="engine settings to override (JSON)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_query.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    scenarios = [s for s in load_catalogue(ROOT / "data" / "scenarios.yaml").opportunities]
    start = time.perf_counter()
    companies = [company_from_dict(d) for d in synthesize(args.profiles, seed=0)]
    logger.info("generated %d profiles in %.1f s", len(companies), time.perf_counter() - start)
    index_cfg = IndexConfig(
        backend=args.backend,
        ivf_storage=args.storage,
        vector_dtype=args.dtype,
        ivf_nprobe=args.nprobe,
    )
    config = replace(with_overrides(EngineConfig(), json.loads(args.config)), index=index_cfg)
    engine, synthetic = unfitted_engine(config, args.vectors, args.cache)
    rss_before = rss_mb()
    start = time.perf_counter()
    engine.fit(scenarios, companies, progress=log_progress())
    fit_s = time.perf_counter() - start
    logger.info("fitted %d firms in %.1f s", len(companies), fit_s)

    open_ids = [s.id for s in engine.scenarios if s.is_open]
    cities = ("泉州市", "晋江市", "厦门市")
    variants = {
        "no filter": Filters(),
        "one filter (city)": Filters(city=cities[0]),
        "two filters (city + chain)": Filters(city=cities[1], chain_position="midstream"),
    }
    for sid in open_ids[:3]:  # warm-up
        engine.match_scenario(sid, 20)
    memory = memory_report(engine, rss_before)  # after the first search: IVF lists trained
    logger.info("memory: %s", memory)
    recruiter: dict[str, Any] = {}
    exact = ExactRetrieval(engine, open_ids) if args.recall else None
    for name, f in variants.items():
        warm: list[float] = []
        cold: list[float] = []
        sizes = []
        for sid in open_ids:
            for _ in range(args.repeats):
                forget_profiles(engine)
                cold += timed_calls(lambda sid=sid, f=f: engine.match_scenario(sid, 20, f), 1)
            call = lambda sid=sid, f=f: engine.match_scenario(sid, 20, f)  # noqa: E731
            warm += timed_calls(call, args.repeats)
            sizes.append(len(engine.match_scenario(sid, 20, f)))
        recruiter[name] = {
            "cold": stats(cold),
            "warm": stats(warm),
            "mean_results": round(statistics.mean(sizes), 1),
            "firms_passing": len(passing(engine, f)),
        }
        if exact is not None:
            recruiter[name]["recall_at_20_vs_exact"] = recall_vs_exact(engine, exact, open_ids, f)
        logger.info("recruiter query, %s: %s", name, recruiter[name])

    free: list[float] = []
    for _ in range(args.repeats):
        for text in FREE_TEXT:
            forget_profiles(engine)
            free += timed_calls(lambda text=text: engine.match_text(text, 20), 1)
    recruiter["free text (encode the query, cold)"] = stats(free)

    results: dict[str, Any] = {
        "profiles": args.profiles,
        "scenarios_open": len(open_ids),
        "backend": args.backend,
        "ivf_storage": args.storage,
        "vector_dtype": args.dtype,
        "ivf_nprobe": args.nprobe,
        "vectors": args.vectors,
        **({"synthetic": synthetic} if synthetic else {}),
        "fit_s": round(fit_s, 1),
        "memory": memory,
        "recruiter_query_top20": recruiter,
    }
    if args.vectors == "synthetic":  # a suggestion's cost is encoding one real profile
        args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
        print(json.dumps(results, indent=1, ensure_ascii=False))
        return 0
    fresh = [
        replace(company_from_dict(d), id=f"NEW{i:05d}")
        for i, d in enumerate(synthesize(args.new_profiles, seed=99))
    ]
    encoder = engine.encoder.encoder  # the raw model behind the cache: a new text is never cached
    engine.suggest(fresh[0], 5)
    suggest_t, encode_t = [], []
    for c in fresh[1:]:
        texts = texts_to_encode(engine.config, [], [c])["passage"]
        start = time.perf_counter()
        encoder.encode(texts)
        encode_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        engine.suggest(c, 5)
        suggest_t.append(time.perf_counter() - start)
    results |= {
        "company_suggestion": {
            **stats(suggest_t),
            "encode_only": stats(encode_t),
            "encode_share_of_p50": round(
                statistics.median(encode_t) / statistics.median(suggest_t), 3
            ),
        },
    }
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

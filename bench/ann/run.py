"""ANN stage side by side: our faiss backends against hnswlib, usearch and chromadb, on the same
vectors in the same process, each swept over its search parameter so all are compared at equal
recall@20 (0.95 and 0.99) against exact search.

Vectors: ``--real`` synthetic profiles (``bench/nightly/profiles.py``) encoded with the engine's
USE encoder, then expanded to each size by sampling a real vector and adding Gaussian noise
whose scale is chosen so a synthetic vector's cosine to its source equals the median cosine of
a real vector to its nearest real neighbour (so the clustering matches the real embeddings;
random unit vectors would make every ANN look bad). Queries: the 28 scenario texts and
held-out profile texts, encoded the same way. Searches run one query at a time on one thread
(a recruiter's query); builds use both cores.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/ann/run.py --sizes 10000 100000          # about 10 minutes
    .venv/bin/python bench/ann/run.py --sizes 1000000 --systems faiss-ivf faiss-hnsw hnswlib usearch

Encoded vectors are cached under ``--work`` (default ``var/bench/ann``), so reruns and larger
sizes start from them. Results: ``docs/benchmarks_ann.json``, table in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.nightly.profiles import synthesize  # noqa: E402
from bench.timing import p50_p99_ms  # noqa: E402

logger = logging.getLogger("bench.ann")
K = 20
TARGETS = (0.95, 0.99)


def rss_mb() -> float:
    """Resident memory of this process now (``/proc/self/statm``)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


# ------------------------------------------------------------------ vectors
def encode_texts(texts: list[str]) -> np.ndarray:
    from matcher.encode import create_encoder

    encoder = create_encoder("use", num_threads=2)
    out = []
    for i in range(0, len(texts), 256):
        out.append(encoder.encode(texts[i : i + 256], role="passage"))
        logger.info("encoded %d / %d", min(i + 256, len(texts)), len(texts))
    return np.vstack(out).astype(np.float32)


def real_vectors(n_real: int, n_queries: int, work: Path) -> tuple[np.ndarray, np.ndarray]:
    """(base vectors, query vectors), encoded once and cached."""
    path = work / f"real-{n_real}-{n_queries}.npz"
    if path.exists():
        data = np.load(path)
        return data["base"], data["queries"]
    from matcher.catalogue import load_catalogue

    profiles = list(synthesize(n_real + n_queries, seed=11))
    texts = [
        "\n".join([p["name"], p["description"], "、".join(p.get("products") or [])])
        for p in profiles
    ]
    catalogue = load_catalogue(ROOT / "data" / "scenarios.yaml")
    scen = [f"{s.title_zh}\n{s.description_zh}" for s in catalogue.opportunities]
    vecs = encode_texts(texts + scen)
    rng = np.random.default_rng(3)
    order = rng.permutation(n_real + n_queries)
    base = vecs[order[:n_real]]
    held = vecs[order[n_real:]][: max(0, n_queries - len(scen))]
    queries = np.vstack([vecs[n_real + n_queries :], held])
    work.mkdir(parents=True, exist_ok=True)
    np.savez(path, base=base, queries=queries)
    return base, queries


def nn_cosine_median(base: np.ndarray, sample: int = 2000) -> float:
    rng = np.random.default_rng(5)
    idx = rng.choice(len(base), min(sample, len(base)), replace=False)
    sims = base[idx] @ base.T
    sims[np.arange(len(idx)), idx] = -np.inf
    return float(np.median(sims.max(axis=1)))


def expand(base: np.ndarray, n: int, seed: int = 7) -> tuple[np.ndarray, float]:
    """``n`` vectors: the real ones first, then noisy copies (noise matched to real NN cosine)."""
    if n <= len(base):
        return base[:n].copy(), 0.0
    target = nn_cosine_median(base)
    sigma = float(np.sqrt(max(1.0 / target**2 - 1.0, 1e-6)))  # cos(r + σg/√d, r) ≈ 1/√(1+σ²)
    rng = np.random.default_rng(seed)
    d = base.shape[1]
    out = np.empty((n, d), dtype=np.float32)
    out[: len(base)] = base
    for start in range(len(base), n, 100_000):
        end = min(n, start + 100_000)
        src = base[rng.integers(0, len(base), end - start)]
        noisy = src + rng.standard_normal(src.shape, dtype=np.float32) * (sigma / np.sqrt(d))
        out[start:end] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    return out, sigma


def exact_top(base: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    out = np.empty((len(queries), k), dtype=np.int64)
    for i in range(0, len(queries), 64):
        sims = queries[i : i + 64] @ base.T
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        order = np.take_along_axis(sims, top, 1).argsort(axis=1)[:, ::-1]
        out[i : i + 64] = np.take_along_axis(top, order, 1)
    return out


# ------------------------------------------------------------------ systems
class System:
    """One ANN library: build once, then set its search parameter and answer one query."""

    name = ""
    params: tuple[int, ...] = ()
    param_name = ""

    def build(self, base: np.ndarray) -> None: ...

    def set_param(self, value: int) -> None: ...

    def search(self, q: np.ndarray, k: int) -> np.ndarray: ...

    def size_mb(self) -> float | None:
        return None


class FaissFlat(System):
    name, params, param_name = "faiss-flat (exact)", (0,), "-"

    def build(self, base: np.ndarray) -> None:
        from matcher.index.faiss_flat import FaissFlatIndex

        self.index = FaissFlatIndex(base.shape[1])
        self.index.add(np.arange(len(base)), base)

    def search(self, q: np.ndarray, k: int) -> np.ndarray:
        return self.index.search(q[None, :], k)[1][0]

    def size_mb(self) -> float:
        return len(self.index) * self.index.dim * 4 / 2**20


class FaissIVF(System):
    name, params, param_name = "faiss-ivf (ours)", (1, 2, 4, 8, 16, 32, 64, 128), "nprobe"

    def build(self, base: np.ndarray) -> None:
        from matcher.index.faiss_ivf import FaissIVFIndex

        self.index = FaissIVFIndex(base.shape[1], exact_below=1)
        self.index.add(np.arange(len(base)), base)
        self.index.search(base[:1], 1)  # trains
        self.nlist = int(self.index._index.nlist)

    def set_param(self, value: int) -> None:
        self.index._index.nprobe = value

    def search(self, q: np.ndarray, k: int) -> np.ndarray:
        return self.index.search(q[None, :], k)[1][0]

    def size_mb(self) -> float:
        import faiss

        return len(faiss.serialize_index(self.index._index)) / 2**20


class FaissHNSW(System):
    name, params, param_name = "faiss-hnsw M16", (16, 24, 32, 48, 64, 96, 128, 256), "efSearch"

    def build(self, base: np.ndarray) -> None:
        import faiss

        self.index = faiss.IndexHNSWFlat(base.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = 100
        self.index.add(base)

    def set_param(self, value: int) -> None:
        self.index.hnsw.efSearch = value

    def search(self, q: np.ndarray, k: int) -> np.ndarray:
        return self.index.search(q[None, :], k)[1][0]

    def size_mb(self) -> float:
        import faiss

        return len(faiss.serialize_index(self.index)) / 2**20


class FaissHNSW32(FaissHNSW):
    name = "faiss-hnsw M32"

    def build(self, base: np.ndarray) -> None:
        import faiss

        self.index = faiss.IndexHNSWFlat(base.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = 100
        self.index.add(base)


class Hnswlib(System):
    name, params, param_name = "hnswlib", (16, 24, 32, 48, 64, 96, 128, 256), "ef"

    def build(self, base: np.ndarray) -> None:
        import hnswlib

        self.index = hnswlib.Index(space="ip", dim=base.shape[1])
        self.index.init_index(max_elements=len(base), ef_construction=100, M=16)
        self.index.set_num_threads(2)
        self.index.add_items(base, np.arange(len(base)))
        self.index.set_num_threads(1)

    def set_param(self, value: int) -> None:
        self.index.set_ef(max(value, K))

    def size_mb(self) -> float:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "index.bin"
            self.index.save_index(str(path))
            return path.stat().st_size / 2**20

    def search(self, q: np.ndarray, k: int) -> np.ndarray:
        return self.index.knn_query(q, k)[0][0].astype(np.int64)


class Usearch(System):
    name, params, param_name = "usearch", (16, 24, 32, 48, 64, 96, 128, 256), "expansion_search"

    def build(self, base: np.ndarray) -> None:
        from usearch.index import Index

        self.index = Index(
            ndim=base.shape[1], metric="ip", dtype="f32", connectivity=16, expansion_add=100
        )
        self.index.add(np.arange(len(base)), base, threads=2)

    def set_param(self, value: int) -> None:
        self.index.expansion_search = value

    def search(self, q: np.ndarray, k: int) -> np.ndarray:
        return np.asarray(self.index.search(q, k, threads=1).keys, dtype=np.int64)

    def size_mb(self) -> float:
        return float(self.index.memory_usage) / 2**20


class Chroma(System):
    name, params, param_name = (
        "chromadb (in-process)",
        (16, 24, 32, 48, 64, 96, 128, 256),
        "ef_search",
    )

    def build(self, base: np.ndarray) -> None:
        import chromadb

        self.client = chromadb.EphemeralClient()
        self.col = self.client.create_collection(
            f"bench{len(base)}",
            configuration={"hnsw": {"space": "ip", "ef_construction": 100, "max_neighbors": 16}},
        )
        step = min(5000, self.client.get_max_batch_size())
        for i in range(0, len(base), step):
            chunk = base[i : i + step]
            self.col.add(ids=[str(j) for j in range(i, i + len(chunk))], embeddings=chunk)

    def set_param(self, value: int) -> None:
        self.col.modify(configuration={"hnsw": {"ef_search": value}})

    def search(self, q: np.ndarray, k: int) -> np.ndarray:
        found = self.col.query(query_embeddings=q[None, :], n_results=k, include=[])
        return np.asarray([int(i) for i in found["ids"][0]], dtype=np.int64)


SYSTEMS: dict[str, Callable[[], System]] = {
    "faiss-flat": FaissFlat,
    "faiss-ivf": FaissIVF,
    "faiss-hnsw": FaissHNSW,
    "faiss-hnsw32": FaissHNSW32,
    "hnswlib": Hnswlib,
    "usearch": Usearch,
    "chromadb": Chroma,
}


# ------------------------------------------------------------------ measuring
def sweep(system: System, queries: np.ndarray, truth: np.ndarray) -> list[dict[str, Any]]:
    points = []
    for value in system.params:
        system.set_param(value)
        for q in queries[:20]:  # warm-up
            system.search(q, K)
        times, hits = [], 0
        for q, t in zip(queries, truth, strict=True):
            start = time.perf_counter()
            found = system.search(q, K)
            times.append(time.perf_counter() - start)
            hits += len(set(found.tolist()) & set(t.tolist()))
        recall = hits / truth.size
        points.append(
            {
                "param": value,
                "recall": round(recall, 4),
                **p50_p99_ms(times, 4),
            }
        )
        logger.info(
            "%s %s=%s recall %.4f p50 %.3f ms",
            system.name,
            system.param_name,
            value,
            recall,
            points[-1]["p50_ms"],
        )
        if recall >= 0.999:
            break
    return points


def at_recall(points: list[dict[str, Any]], target: float) -> dict[str, Any] | None:
    """The fastest (by p50) sweep point whose recall reaches ``target``."""
    ok = [p for p in points if p["recall"] >= target]
    return min(ok, key=lambda p: p["p50_ms"]) if ok else None


def run_size(
    n: int, base_real: np.ndarray, queries: np.ndarray, names: Iterable[str]
) -> dict[str, Any]:
    import faiss

    base, sigma = expand(base_real, n)
    truth = exact_top(base, queries, K)
    out: dict[str, Any] = {
        "n": n,
        "dim": int(base.shape[1]),
        "queries": len(queries),
        "noise_sigma": round(sigma, 4),
        "raw_mb": round(base.nbytes / 2**20, 1),
        "systems": {},
    }
    for name in names:
        system = SYSTEMS[name]()
        gc.collect()
        before = rss_mb()
        faiss.omp_set_num_threads(2)
        start = time.perf_counter()
        system.build(base)
        build_s = time.perf_counter() - start
        grown = rss_mb() - before
        faiss.omp_set_num_threads(1)
        points = sweep(system, queries, truth)
        size = system.size_mb()
        out["systems"][system.name] = {
            "build_s": round(build_s, 2),
            "rss_growth_mb": round(grown, 1),
            "index_mb": round(size, 1) if size is not None else None,
            "param_name": system.param_name,
            "sweep": points,
            **{f"at_{t}": at_recall(points, t) for t in TARGETS},
            **({"nlist": system.nlist} if isinstance(system, FaissIVF) else {}),
        }
        logger.info("%s: build %.1f s, RSS +%.0f MB", system.name, build_s, grown)
        del system
        gc.collect()
    return out


def table(results: dict[str, Any]) -> str:
    """The results as the markdown table in ``docs/benchmarks.md``: per size and system, build
    time, memory and the fastest point at each recall target, with its ratio to the fastest."""
    lines = []
    for size in results["sizes"]:
        lines += [
            f"**{size['n']:,} vectors** × {size['dim']} (raw float32 {size['raw_mb']} MB), "
            f"{size['queries']} queries, recall@{results['k']} against exact search",
            "",
            "| system | build s | memory MB | recall ≥ 0.95: param, p50 / p99 ms (× fastest) "
            "| recall ≥ 0.99: param, p50 / p99 ms (× fastest) |",
            "|---|---:|---:|---|---|",
        ]
        fastest = {}
        for t in TARGETS:
            got = [s[f"at_{t}"]["p50_ms"] for s in size["systems"].values() if s[f"at_{t}"]]
            fastest[t] = min(got) if got else None
        for name, sys_ in size["systems"].items():
            cells = []
            for t in TARGETS:
                p = sys_[f"at_{t}"]
                if p is None:
                    cells.append("not reached")
                    continue
                ratio = p["p50_ms"] / fastest[t] if fastest[t] else 1.0
                cells.append(
                    f"{sys_['param_name']}={p['param']}: {p['p50_ms']:.3f} / {p['p99_ms']:.3f} "
                    f"(×{ratio:.2f}), recall {p['recall']:.3f}"
                )
            memory = sys_["index_mb"] if sys_["index_mb"] is not None else sys_["rss_growth_mb"]
            lines.append(
                f"| {name} | {sys_['build_s']:.1f} | {memory:,.0f} | {cells[0]} | {cells[1]} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--real", type=int, default=10_000, help="profiles actually encoded")
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=list(SYSTEMS))
    ap.add_argument("--work", type=Path, default=ROOT / "var" / "bench" / "ann")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_ann.json")
    ap.add_argument("--table", action="store_true", help="print --out as a markdown table")
    args = ap.parse_args(argv)
    if args.table:
        print(table(json.loads(args.out.read_text())))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    base_real, queries = real_vectors(args.real, args.queries, args.work)
    results = {"k": K, "real_profiles": args.real, "threads_search": 1, "sizes": []}
    for n in args.sizes:
        results["sizes"].append(run_size(n, base_real, queries, args.systems))
        args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

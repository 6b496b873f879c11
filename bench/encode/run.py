"""Encoding throughput: the engine's encoding path against the raw model called in a loop (the
ceiling), on the same texts in the same process, and what batching by length changes.

Texts: synthetic profiles (``bench/nightly/profiles.py``): whole profiles and their sentences,
as the engine encodes them. Each variant runs ``--repeats`` times on a cold cache; medians.

    .venv/bin/python bench/encode/run.py --profiles 2000
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.nightly.profiles import synthesize  # noqa: E402
from bench.timing import median_seconds  # noqa: E402
from matcher.encode.cache import CachingEncoder, EmbeddingCache  # noqa: E402
from matcher.encode.use import UseEncoder  # noqa: E402
from matcher.explain import split_sentences  # noqa: E402

logger = logging.getLogger("bench.encode")


def texts_of(n: int) -> list[str]:
    out = []
    for p in synthesize(n, seed=21):
        text = "\n".join([p["name"], p["description"], "、".join(p.get("products") or [])])
        out.append(text)
        out += split_sentences(p["description"])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profiles", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_encode.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    texts = texts_of(args.profiles)
    encoder = UseEncoder(num_threads=args.threads)
    model = encoder._model
    encoder.encode(texts[:64])  # warm-up

    def raw(batch: int, by_length: bool = False) -> Callable[[], None]:
        order = sorted(texts, key=len) if by_length else texts

        def go() -> None:
            for i in range(0, len(order), batch):
                model.encode(order[i : i + batch])

        return go

    def engine(batch: int) -> Callable[[], None]:
        def go() -> None:
            with tempfile.TemporaryDirectory() as tmp:
                CachingEncoder(encoder, EmbeddingCache(Path(tmp)), batch_size=batch).encode(texts)

        return go

    variants: dict[str, Callable[[], None]] = {
        "raw model, batches of 64": raw(64),
        "raw model, batches of 256": raw(256),
        "raw model, batches of 64 by length": raw(64, True),
        "raw model, batches of 256 by length": raw(256, True),
        "engine (CachingEncoder), batches of 64": engine(64),
        "engine (CachingEncoder), batches of 256": engine(256),
    }
    results: dict[str, Any] = {
        "texts": len(texts),
        "profiles": args.profiles,
        "threads": args.threads,
        "mean_chars": round(statistics.mean(len(t) for t in texts), 1),
        "variants": {},
    }
    for name, fn in variants.items():
        seconds = median_seconds(fn, args.repeats)
        results["variants"][name] = {
            "seconds": round(seconds, 2),
            "texts_per_s": round(len(texts) / seconds, 1),
        }
        logger.info("%s: %.2f s, %.0f texts/s", name, seconds, len(texts) / seconds)
    ceiling = max(v["texts_per_s"] for k, v in results["variants"].items() if k.startswith("raw"))
    for v in results["variants"].values():
        v["share_of_ceiling"] = round(v["texts_per_s"] / ceiling, 3)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

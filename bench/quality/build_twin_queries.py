"""Build the frozen traditional-script twins of the Chinese query sets: *_trad.jsonl.

Scraped scenario texts come in traditional characters with pinyin artefacts ("來(lái)"); the
engine must rank them as it ranks their simplified twins (issue 18: within 0.02 nDCG@10).
Each twin is a committed Chinese query (``cn``, ``xl_zh_over_en``, ``context_cn``,
``context_xl_zh_over_en``) with every text field converted by OpenCC ``s2t`` and, after every
other Han character, its tone-marked pinyin in brackets, as scrapers leave it. Ids gain a
``tw-`` prefix; every other field (class, phrasing, variant, base id) is kept, so a twin shares
its simplified query's fold. Deterministic: ``--check`` verifies the committed files.

    python -m bench.quality.build_twin_queries [--out-dir DIR] [--check]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

try:
    from bench.quality import build_queries as bq
    from bench.quality import corpus as qc
except ModuleNotFoundError:  # run as a file
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.quality import build_queries as bq
    from bench.quality import corpus as qc

# simplified set → its twin set (the runs are registered in corpus.TWIN_RUNS)
TWINS = {simple: twin for twin, simple in qc.TWIN_RUNS.items()}
TEXT_FIELDS = ("title", "description")
PREFIX = "tw-"


def scrape(text: str) -> str:
    """Traditional characters, with pinyin after every other Han character."""
    import opencc
    from pypinyin import Style, pinyin

    out = []
    for i, ch in enumerate(opencc.OpenCC("s2t").convert(text)):
        out.append(ch)
        if "\u4e00" <= ch <= "\u9fff" and i % 2 == 0:
            out.append(f"({pinyin(ch, style=Style.TONE)[0][0]})")
    return "".join(out)


def twin(query: dict[str, Any]) -> dict[str, Any]:
    out = dict(query)
    out["id"] = PREFIX + query["id"]
    if "base_id" in out:
        out["base_id"] = PREFIX + out["base_id"]
    for key in TEXT_FIELDS:
        if out.get(key):
            out[key] = scrape(out[key])
    return out


def build_all(queries_dir: Path = qc.QUERIES_DIR) -> dict[str, list[dict[str, Any]]]:
    built = {}
    for source, name in TWINS.items():
        with (queries_dir / f"{source}.jsonl").open(encoding="utf-8") as fh:
            built[name] = [twin(json.loads(line)) for line in fh if line.strip()]
    return built


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=qc.QUERIES_DIR)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return bq.write_or_check(build_all(), args.out_dir, args.check)


if __name__ == "__main__":
    sys.exit(main())

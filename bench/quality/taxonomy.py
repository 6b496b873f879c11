"""How well the engine infers a firm's GB/T 4754 division from its text (measurement only).

    python -m bench.quality.taxonomy [--corpus-dir DIR] [--out FILE] [--config JSON]

The Chinese corpus's firms carry a CSRC-2012 code (``C39``); CSRC-2012 divisions follow the
GB/T 4754 divisions, so the division of the engine's inferred class (``39``) can be checked
against it. The labels are read here only, to count agreement: they never reach the engine.
Reports top-1 division accuracy of the single inferred class (what filters and the displayed
code use), top-3 accuracy of the division mass of P(class | firm), and the same for the class
texts without 说明 (names only, as before issue 18) for comparison. Firms whose CSRC code is
not a GB/T division (none here, but checked) are skipped.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

try:
    from bench.quality import corpus as qc
except ModuleNotFoundError:  # run as a file
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.quality import corpus as qc

from matcher.config import EngineConfig, with_overrides
from matcher.engine import Engine
from matcher.industry import industry_table, unpack
from matcher.normalise import normalise
from matcher.types import Company, Scenario

logger = logging.getLogger(__name__)


def labelled_firms(corpus_dir: Path) -> tuple[list[Company], dict[str, str]]:
    """The Chinese corpus's firms with an intro and a CSRC division, and that division."""
    divisions = {c for c in industry_table().names if len(c) == 2 and c.isdigit()}
    companies: list[Company] = []
    truth: dict[str, str] = {}
    with (corpus_dir / qc.CN_FILE).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code = row["csrc2012_code"].strip()
            div = code[1:3] if len(code) >= 3 else ""
            if not row["intro"].strip() or div not in divisions:
                continue
            cid = row["stock_code"]
            name = row["full_name"] or row["short_name"]
            companies.append(Company(id=cid, name=name, description=row["intro"]))
            truth[cid] = div
    return companies, truth


def division_scores(eng: Engine, truth: dict[str, str]) -> dict[str, float]:
    """Top-1 (the inferred class) and top-3 (division mass) agreement with ``truth``."""
    tax = eng.corpus.taxonomy
    top1 = top3 = 0
    for cid, div in truth.items():
        st = eng.corpus.companies[cid]
        top1 += st.codes[0][:2] == div
        entries, probs = unpack([st.taxonomy])
        mass: dict[str, float] = {}
        for e, p in zip(entries[0], probs[0], strict=True):
            if p > 0:
                d = tax.entries[int(e)][:2]
                mass[d] = mass.get(d, 0.0) + float(p)
        top3 += div in sorted(mass, key=mass.__getitem__, reverse=True)[:3]
    n = max(len(truth), 1)
    return {"top1": top1 / n, "top3": top3 / n}


def names_only(eng: Engine, truth: dict[str, str]) -> float:
    """Top-1 division agreement with class texts of names alone (the earlier inferrer)."""
    table = industry_table()
    codes = table.classes()
    class_vecs = eng.encoder.encode([normalise(table.path_text(c)) for c in codes], "query")
    ids = list(truth)
    doc = eng.corpus.doc_vectors(ids)
    best = np.argmax(doc @ class_vecs.T, axis=1)
    return float(np.mean([codes[b][:2] == truth[i] for b, i in zip(best, ids, strict=True)]))


def measure(corpus_dir: Path, config: EngineConfig) -> dict[str, Any]:
    companies, truth = labelled_firms(corpus_dir)
    t0 = time.perf_counter()
    probe = Scenario(id="probe", title_zh="探针", description_zh="探针")  # fit needs one
    eng = Engine(config).fit([probe], companies)
    scores = division_scores(eng, truth)
    return {
        "firms": len(truth),
        "divisions_in_truth": len(set(truth.values())),
        "inferred_top1": round(scores["top1"], 4),
        "distribution_top3": round(scores["top3"], 4),
        "names_only_top1": round(names_only(eng, truth), 4),
        "majority_division_share": round(
            max(list(truth.values()).count(d) for d in set(truth.values())) / len(truth), 4
        ),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus-dir", type=Path, default=Path("../shared/eval"))
    ap.add_argument("--out", type=Path)
    ap.add_argument("--config", default="{}", help="engine settings to override (JSON)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = with_overrides(EngineConfig(), json.loads(args.config))
    result = {"config": json.loads(args.config), **measure(args.corpus_dir, config)}
    return qc.report(result, args.out)


if __name__ == "__main__":
    raise SystemExit(main())

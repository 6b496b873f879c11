"""Read the external labelled corpora (kept outside the repo) into one small common shape.

Nothing here copies corpus text into the repository: callers pass the corpus folder and write
derived files to a work folder that git ignores.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
HARNESS_DIR = Path(__file__).resolve().parent
DEFAULT_CORPUS_DIR = REPO_ROOT.parent / "shared" / "eval"
DEFAULT_WORK_DIR = HARNESS_DIR / "work"
QUERIES_DIR = HARNESS_DIR / "queries"

CN_FILE = "cn_listed_intro_with_sw_csrc_labels.csv"
EN_FILE = "en_russell3000_descriptions_gics.csv"
SW_HIERARCHY_FILE = "sw2021_industry_hierarchy.csv"
GICS_HIERARCHY_FILE = "gics_2022_hierarchy.csv"

# Query files (committed) -> corpus they are run against.
RUNS: dict[str, str] = {
    "cn": "cn",
    "en": "en",
    "xl_en_over_cn": "cn",
    "xl_zh_over_en": "en",
    "context_cn": "cn",
    "context_en": "en",
    "context_xl_en_over_cn": "cn",
    "context_xl_zh_over_en": "en",
    # traditional-script twins with pinyin artefacts (build_twin_queries.py)
    "cn_trad": "cn",
    "xl_zh_over_en_trad": "en",
    "context_cn_trad": "cn",
    "context_xl_zh_over_en_trad": "en",
}
# The context sets (build_context_queries.py): each base query in every title variant, as ids
# ``{base_id}#{variant}``.
CONTEXT_RUNS = ("context_cn", "context_en", "context_xl_en_over_cn", "context_xl_zh_over_en")
# twin run → the simplified run it was made from (build_twin_queries.py)
TWIN_RUNS = {
    "cn_trad": "cn",
    "xl_zh_over_en_trad": "xl_zh_over_en",
    "context_cn_trad": "context_cn",
    "context_xl_zh_over_en_trad": "context_xl_zh_over_en",
}
TITLE_VARIANTS = ("none", "context", "demand", "first30", "full")
VARIANT_SEP = "#"

_LEVEL_SUFFIX = re.compile(r"[ⅠⅡⅢ]+$")


@dataclass(frozen=True)
class Firm:
    """A labelled company: ``label`` is the fine class, ``parent`` the class above it.

    CN: label = SW2021 L2 code, parent = SW2021 L1 code.
    EN: label = GICS sub-industry code, parent = GICS industry code.
    """

    id: str
    name: str
    description: str
    label: str
    parent: str


@dataclass(frozen=True)
class SwNode:
    code: str
    name: str  # with the "Ⅱ"/"Ⅲ" level suffix removed
    level: int
    parent_code: str


@dataclass(frozen=True)
class GicsNames:
    sub_industry: str
    industry: str
    sector: str


def report(result: dict, out: Path | None) -> int:
    """Print a bench's JSON result, and write it to ``out`` when given (a CLI's last step)."""
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
    return 0


def display_path(path: Path) -> str:
    """Path relative to the repo root when it lies next to it (no machine paths in results)."""
    path = Path(path).resolve()
    if path.is_relative_to(REPO_ROOT.parent):
        return os.path.relpath(path, REPO_ROOT)
    return str(path)


def repo_path(text: str) -> Path:
    """Inverse of display_path: relative paths are taken from the repo root."""
    return REPO_ROOT / text


def variant_of(query_id: str) -> str | None:
    """``ctxcn-280200#first30`` -> ``first30``; None for ids without a title variant."""
    base, sep, variant = query_id.rpartition(VARIANT_SEP)
    return variant if sep and base and variant in TITLE_VARIANTS else None


def strip_level_suffix(name: str) -> str:
    """Drop Shenwan's level markers: ``"中药Ⅱ"`` -> ``"中药"``."""
    return _LEVEL_SUFFIX.sub("", name.strip())


def _read_csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            yield {k: (v or "").strip() for k, v in row.items() if k is not None}


def _check_unique(firms: list[Firm], source: Path) -> list[Firm]:
    dupes = [i for i, n in Counter(f.id for f in firms).items() if n > 1]
    if dupes:
        raise ValueError(f"{source}: duplicate company ids after filtering: {dupes[:5]}")
    return firms


def load_cn_firms(corpus_dir: Path) -> list[Firm]:
    """Chinese listed firms with an SW2021 L1+L2 label and an intro, in file order."""
    path = corpus_dir / CN_FILE
    firms: list[Firm] = []
    skipped = 0
    for row in _read_csv(path):
        if not (row["sw2021_l2_code"] and row["sw2021_l1_code"] and row["intro"]):
            skipped += 1
            continue
        firms.append(
            Firm(
                row["stock_code"],
                row["full_name"] or row["short_name"],
                row["intro"],
                row["sw2021_l2_code"],
                row["sw2021_l1_code"],
            )
        )
    logger.info(
        "%s: kept %d firms, skipped %d without label or text", path.name, len(firms), skipped
    )
    return _check_unique(firms, path)


def en_company_id(ticker: str) -> str:
    """Tickers such as ``BRK/B`` become ``BRK.B`` to fit the engine's id pattern."""
    return ticker.replace("/", ".")


def load_en_firms(corpus_dir: Path) -> list[Firm]:
    """Russell 3000 firms with a GICS sub-industry and a Bloomberg (else Yahoo) description."""
    path = corpus_dir / EN_FILE
    firms: list[Firm] = []
    skipped = 0
    for row in _read_csv(path):
        text = row["description_bloomberg"] or row["description_yahoo"]
        if not (row["gics_sub_industry_code"] and row["gics_industry_code"] and text):
            skipped += 1
            continue
        firms.append(
            Firm(
                en_company_id(row["ticker"]),
                row["company_name"],
                text,
                row["gics_sub_industry_code"],
                row["gics_industry_code"],
            )
        )
    logger.info(
        "%s: kept %d firms, skipped %d without label or text", path.name, len(firms), skipped
    )
    return _check_unique(firms, path)


def load_firms(corpus: str, corpus_dir: Path) -> list[Firm]:
    if corpus == "cn":
        return load_cn_firms(corpus_dir)
    if corpus == "en":
        return load_en_firms(corpus_dir)
    raise ValueError(f"unknown corpus {corpus!r}")


def load_sw_hierarchy(corpus_dir: Path) -> dict[str, SwNode]:
    return {
        row["code"]: SwNode(
            row["code"], strip_level_suffix(row["name"]), int(row["level"]), row["parent_code"]
        )
        for row in _read_csv(corpus_dir / SW_HIERARCHY_FILE)
    }


def sw_children(hierarchy: dict[str, SwNode], code: str) -> list[SwNode]:
    """Direct children of an SW node, by code."""
    return sorted((n for n in hierarchy.values() if n.parent_code == code), key=lambda n: n.code)


def load_gics_names(corpus_dir: Path) -> dict[str, GicsNames]:
    """GICS sub-industry code -> names; sub-industries without a name are left out."""
    return {
        row["sub_industry_code"]: GicsNames(row["sub_industry"], row["industry"], row["sector"])
        for row in _read_csv(corpus_dir / GICS_HIERARCHY_FILE)
        if row["sub_industry"]
    }


def label_counts(firms: Iterable[Firm]) -> Counter[str]:
    return Counter(f.label for f in firms)


def label_parents(firms: Iterable[Firm]) -> dict[str, str]:
    """Fine label -> parent label, checking that the corpus is consistent."""
    parents: dict[str, str] = {}
    for f in firms:
        if parents.setdefault(f.label, f.parent) != f.parent:
            raise ValueError(f"label {f.label} has two parents: {parents[f.label]}, {f.parent}")
    return parents


def grade(firm: Firm, label: str, parent: str | None) -> int:
    """2 = same fine label, 1 = sibling under the same parent, 0 = anything else."""
    if firm.label == label:
        return 2
    if parent is not None and firm.parent == parent:
        return 1
    return 0


def read_jsonl(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_jsonl(path: Path, records: Iterable[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")

"""Ranking metrics over ranked id lists and graded relevance judgements (qrels).

Conventions shared by every function here:

* A ranking is a sequence of ids, best first. If an id occurs more than once, only its first
  occurrence is credited; later copies keep their rank slot but earn nothing, so duplicates can
  never push a metric above its ideal value.
* Grades are small non-negative integers (0 = not relevant, 1 = partly, 2 = fully relevant).
  Ids absent from the qrels have grade 0. Negative grades are treated as 0.
* A query with no item at or above ``min_grade`` scores 0.0 on every metric.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = [
    "Metrics",
    "dcg_at_k",
    "evaluate_run",
    "load_qrels_csv",
    "load_run_jsonl",
    "ndcg_at_k",
    "random_run",
    "recall_at_k",
    "reciprocal_rank",
]

MIN_GRADE = 0
MAX_GRADE = 2
_QRELS_HEADER = ("scenario_id", "company_id", "grade")


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


def _first_occurrences(ranked_ids: Iterable[str]) -> Iterator[tuple[int, str | None]]:
    """Yield (0-based rank, id), with None in place of an id already seen higher up."""
    seen: set[str] = set()
    for rank, doc_id in enumerate(ranked_ids):
        if doc_id in seen:
            yield rank, None
        else:
            seen.add(doc_id)
            yield rank, doc_id


def dcg_at_k(gains: Sequence[float], k: int) -> float:
    """Discounted cumulative gain of the first ``k`` graded positions.

    ``gains[i]`` is the relevance grade at rank ``i + 1``; each position contributes
    ``(2**grade - 1) / log2(rank + 1)``.
    """
    _check_k(k)
    return sum(
        (math.pow(2.0, max(g, 0.0)) - 1.0) / math.log2(rank + 2) for rank, g in enumerate(gains[:k])
    )


def ndcg_at_k(ranked_ids: Sequence[str], qrels: Mapping[str, int], k: int = 10) -> float:
    """Normalised DCG@k; the ideal ranking is built from all of the query's qrels."""
    _check_k(k)
    ideal = dcg_at_k(sorted((max(g, 0) for g in qrels.values()), reverse=True), k)
    if ideal <= 0.0:
        return 0.0
    grades = [
        0 if doc_id is None else qrels.get(doc_id, 0)
        for _, doc_id in _first_occurrences(ranked_ids[:k])
    ]
    return dcg_at_k(grades, k) / ideal


def recall_at_k(
    ranked_ids: Sequence[str], qrels: Mapping[str, int], k: int = 50, min_grade: int = 1
) -> float:
    """Share of the items with grade >= ``min_grade`` that appear in the top ``k``."""
    _check_k(k)
    relevant = {doc_id for doc_id, g in qrels.items() if g >= min_grade}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked_ids[:k])) / len(relevant)


def reciprocal_rank(
    ranked_ids: Sequence[str], qrels: Mapping[str, int], min_grade: int = 1
) -> float:
    """1 / rank of the first item with grade >= ``min_grade`` at any depth, else 0.0."""
    for rank, doc_id in enumerate(ranked_ids, start=1):
        if qrels.get(doc_id, 0) >= min_grade:
            return 1.0 / rank
    return 0.0


@dataclass(frozen=True)
class Metrics:
    """Per-query means over the queries that have at least one relevant item."""

    ndcg_at_10: float
    recall_at_50: float
    mrr: float
    queries: int


def evaluate_run(
    run: Mapping[str, Sequence[str]],
    qrels: Mapping[str, Mapping[str, int]],
    ndcg_k: int = 10,
    recall_k: int = 50,
    min_grade: int = 1,
) -> Metrics:
    """Average nDCG@``ndcg_k``, Recall@``recall_k`` and MRR over the judged queries.

    A query counts when its qrels hold an item with grade >= ``min_grade`` (nDCG always uses
    the full grades). Judged queries missing from ``run`` score 0; run queries without
    judgements are ignored. The field names of :class:`Metrics` keep the default cut-offs.
    """
    judged = sorted(q for q, rels in qrels.items() if any(g >= min_grade for g in rels.values()))
    if not judged:
        logger.warning("no query has an item with grade >= %d; all metrics are 0", min_grade)
        return Metrics(ndcg_at_10=0.0, recall_at_50=0.0, mrr=0.0, queries=0)
    missing = [q for q in judged if q not in run]
    if missing:
        logger.warning(
            "%d of %d judged queries are missing from the run, e.g. %s",
            len(missing),
            len(judged),
            missing[0],
        )
    ndcg = recall = rr = 0.0
    for q in judged:
        ranked = run.get(q, ())
        ndcg += ndcg_at_k(ranked, qrels[q], ndcg_k)
        recall += recall_at_k(ranked, qrels[q], recall_k, min_grade)
        rr += reciprocal_rank(ranked, qrels[q], min_grade)
    n = len(judged)
    return Metrics(ndcg_at_10=ndcg / n, recall_at_50=recall / n, mrr=rr / n, queries=n)


def load_qrels_csv(path: str | Path) -> dict[str, dict[str, int]]:
    """Read ``scenario_id,company_id,grade[,note]`` rows into ``{scenario: {company: grade}}``.

    Raises ValueError naming the file and line for a bad header, a short row, an empty id, a
    grade that is not an integer in 0..2, or a repeated (scenario, company) pair.
    """
    path = Path(path)
    qrels: dict[str, dict[str, int]] = {}
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if (
            header is None
            or tuple(h.strip() for h in header[:3]) != _QRELS_HEADER
            or not (3 <= len(header) <= 4 and (len(header) == 3 or header[3].strip() == "note"))
        ):
            raise ValueError(
                f"{path}:1: expected header 'scenario_id,company_id,grade[,note]', got {header!r}"
            )
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) not in (3, 4) or len(row) > len(header):
                raise ValueError(f"{path}:{line}: expected {len(header)} fields, got {len(row)}")
            scenario_id, company_id, grade_text = (cell.strip() for cell in row[:3])
            if not scenario_id or not company_id:
                raise ValueError(f"{path}:{line}: empty scenario_id or company_id")
            try:
                grade = int(grade_text)
            except ValueError:
                raise ValueError(f"{path}:{line}: grade {grade_text!r} is not an integer") from None
            if not MIN_GRADE <= grade <= MAX_GRADE:
                raise ValueError(f"{path}:{line}: grade {grade} outside {MIN_GRADE}..{MAX_GRADE}")
            judged = qrels.setdefault(scenario_id, {})
            if company_id in judged:
                raise ValueError(
                    f"{path}:{line}: duplicate judgement for ({scenario_id}, {company_id})"
                )
            judged[company_id] = grade
    logger.debug("read %d judged queries from %s", len(qrels), path)
    return qrels


def load_run_jsonl(path: str | Path) -> dict[str, list[str]]:
    """Read ``matcher rank`` output: one ``{"scenario_id", "matches": [...]}`` object a line.

    The order of ``matches`` (best first) is kept; scores are not re-sorted. Raises ValueError
    naming the file and line for invalid JSON, a missing field or a repeated scenario.
    """
    path = Path(path)
    run: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{line_no}: invalid JSON ({exc.msg})") from None
            if not isinstance(record, dict) or "scenario_id" not in record:
                raise ValueError(f"{path}:{line_no}: missing 'scenario_id'")
            matches = record.get("matches")
            if not isinstance(matches, list):
                raise ValueError(f"{path}:{line_no}: 'matches' must be a list")
            try:
                ranked = [str(m["company_id"]) for m in matches]
            except (KeyError, TypeError):
                raise ValueError(f"{path}:{line_no}: every match needs a 'company_id'") from None
            scenario_id = str(record["scenario_id"])
            if scenario_id in run:
                raise ValueError(f"{path}:{line_no}: duplicate scenario_id {scenario_id!r}")
            run[scenario_id] = ranked
    logger.debug("read rankings for %d queries from %s", len(run), path)
    return run


def random_run(
    query_ids: Iterable[str], doc_ids: Sequence[str], seed: int = 0
) -> dict[str, list[str]]:
    """Rank all ``doc_ids`` in a random order per query, reproducible for a given seed.

    Each query's order depends only on (seed, query id, doc_ids), not on the other queries.
    """
    docs = list(doc_ids)
    run: dict[str, list[str]] = {}
    for q in query_ids:
        ranked = docs.copy()
        random.Random(f"{seed}:{q}").shuffle(ranked)
        run[q] = ranked
    return run

"""Tests for matcher.evaluate against hand-computed values.

Constants used below: log2(3) = 1.5849625, so 3 / log2(3) = 1.8927893 and 1 / log2(3) = 0.6309298;
log2(4) = 2. Gains are 2**grade - 1: grade 0 -> 0, grade 1 -> 1, grade 2 -> 3.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.evaluate import (
    Metrics,
    dcg_at_k,
    evaluate_run,
    load_qrels_csv,
    load_run_jsonl,
    ndcg_at_k,
    random_run,
    recall_at_k,
    reciprocal_rank,
)

# Running example: ranked [a, b, c] with grades {a: 0, b: 2, c: 1}.
RANKED = ["a", "b", "c"]
QRELS = {"a": 0, "b": 2, "c": 1}
# DCG@3   = 0/log2(2) + 3/log2(3) + 1/log2(4) = 0 + 1.8927893 + 0.5 = 2.3927893
# IDCG@3  from grades [2, 1, 0] = 3/1 + 1/log2(3) + 0 = 3 + 0.6309298 = 3.6309298
# nDCG@3  = 2.3927893 / 3.6309298 = 0.6590018
DCG3 = 2.3927893
IDCG3 = 3.6309298
NDCG3 = 0.6590018


class TestDcg:
    def test_hand_computed(self) -> None:
        assert dcg_at_k([0, 2, 1], 3) == pytest.approx(DCG3, abs=1e-6)

    def test_truncates_at_k(self) -> None:
        # Only the first two positions: 0 + 3/log2(3) = 1.8927893
        assert dcg_at_k([0, 2, 1], 2) == pytest.approx(1.8927893, abs=1e-6)

    def test_k_larger_than_list(self) -> None:
        assert dcg_at_k([0, 2, 1], 100) == pytest.approx(DCG3, abs=1e-6)

    def test_first_rank_undiscounted(self) -> None:
        # grade 2 at rank 1: (2**2 - 1) / log2(2) = 3
        assert dcg_at_k([2], 1) == pytest.approx(3.0)

    def test_empty(self) -> None:
        assert dcg_at_k([], 10) == 0.0

    def test_bad_k(self) -> None:
        with pytest.raises(ValueError, match="k must be >= 1"):
            dcg_at_k([1], 0)


class TestNdcg:
    def test_hand_computed(self) -> None:
        assert ndcg_at_k(RANKED, QRELS, k=3) == pytest.approx(NDCG3, abs=1e-6)

    def test_k_larger_than_list(self) -> None:
        assert ndcg_at_k(RANKED, QRELS, k=10) == pytest.approx(NDCG3, abs=1e-6)

    def test_k2(self) -> None:
        # DCG@2 = 1.8927893; IDCG@2 = 3 + 0.6309298 = 3.6309298 -> 0.5212960
        assert ndcg_at_k(RANKED, QRELS, k=2) == pytest.approx(0.5212960, abs=1e-6)

    def test_k1_irrelevant_top(self) -> None:
        assert ndcg_at_k(RANKED, QRELS, k=1) == 0.0

    def test_perfect_ranking(self) -> None:
        assert ndcg_at_k(["b", "c", "a"], QRELS, k=10) == pytest.approx(1.0)

    def test_ideal_uses_all_qrels_not_just_retrieved(self) -> None:
        # ranked [x, b]: DCG = 0 + 3/log2(3) = 1.8927893
        # ideal from {b: 2, c: 1, d: 1}: 3 + 1/log2(3) + 1/2 = 4.1309298 -> 0.4581993
        qrels = {"b": 2, "c": 1, "d": 1}
        assert ndcg_at_k(["x", "b"], qrels, k=10) == pytest.approx(0.4581993, abs=1e-6)

    def test_no_relevant_item(self) -> None:
        assert ndcg_at_k(RANKED, {"a": 0, "b": 0}, k=10) == 0.0
        assert ndcg_at_k(RANKED, {}, k=10) == 0.0

    def test_empty_ranking(self) -> None:
        assert ndcg_at_k([], QRELS, k=10) == 0.0

    def test_duplicates_credited_once(self) -> None:
        # [b, b, c]: the second b earns nothing -> DCG = 3 + 0 + 1/2 = 3.5
        # 3.5 / 3.6309298 = 0.9639404 (crediting it twice would exceed 1)
        assert ndcg_at_k(["b", "b", "c"], QRELS, k=3) == pytest.approx(0.9639404, abs=1e-6)
        assert ndcg_at_k(["b", "b", "b", "c"], QRELS, k=10) <= 1.0

    def test_bad_k(self) -> None:
        with pytest.raises(ValueError):
            ndcg_at_k(RANKED, QRELS, k=0)


class TestRecall:
    def test_cutoff(self) -> None:
        # relevant (grade >= 1) = {b, c}; top-2 = {a, b} -> 1/2
        assert recall_at_k(RANKED, QRELS, k=2) == pytest.approx(0.5)

    def test_min_grade(self) -> None:
        # relevant (grade >= 2) = {b}; found at rank 2 -> 1/1
        assert recall_at_k(RANKED, QRELS, k=2, min_grade=2) == pytest.approx(1.0)
        assert recall_at_k(RANKED, QRELS, k=1, min_grade=2) == 0.0

    def test_k_larger_than_list(self) -> None:
        assert recall_at_k(RANKED, QRELS, k=50) == pytest.approx(1.0)

    def test_unretrieved_relevant(self) -> None:
        # {b, c, d} relevant, only b retrieved -> 1/3
        assert recall_at_k(["b", "x"], {"b": 2, "c": 1, "d": 1}, k=50) == pytest.approx(1 / 3)

    def test_duplicates_count_once(self) -> None:
        assert recall_at_k(["b", "b", "b"], QRELS, k=50) == pytest.approx(0.5)

    def test_no_relevant_item(self) -> None:
        assert recall_at_k(RANKED, {"a": 0}, k=50) == 0.0
        assert recall_at_k(RANKED, {}, k=50) == 0.0


class TestReciprocalRank:
    def test_first_relevant(self) -> None:
        assert reciprocal_rank(RANKED, QRELS) == pytest.approx(1 / 2)

    def test_min_grade(self) -> None:
        # [a, c, b]: first grade >= 1 is c at rank 2, first grade >= 2 is b at rank 3
        assert reciprocal_rank(["a", "c", "b"], QRELS) == pytest.approx(1 / 2)
        assert reciprocal_rank(["a", "c", "b"], QRELS, min_grade=2) == pytest.approx(1 / 3)

    def test_any_depth(self) -> None:
        ranked = [f"x{i}" for i in range(59)] + ["b"]
        assert reciprocal_rank(ranked, QRELS) == pytest.approx(1 / 60)

    def test_none_relevant(self) -> None:
        assert reciprocal_rank(["a", "x"], QRELS) == 0.0
        assert reciprocal_rank([], QRELS) == 0.0


class TestEvaluateRun:
    def test_averages_over_judged_queries(self) -> None:
        qrels = {
            "q1": QRELS,  # nDCG@10 0.6590018, recall 2/2, RR 1/2
            "q2": {"x": 1},  # perfect: 1, 1, 1
            "q3": {"y": 0},  # no relevant item: not counted
            "q4": {"z": 2},  # missing from the run: 0, 0, 0
        }
        run = {"q1": RANKED, "q2": ["x"], "q3": ["y"], "q5": ["z"]}  # q5 is not judged
        m = evaluate_run(run, qrels)
        assert m.queries == 3
        # (0.6590018 + 1 + 0) / 3 = 0.5530006
        assert m.ndcg_at_10 == pytest.approx(0.5530006, abs=1e-6)
        assert m.recall_at_50 == pytest.approx(2 / 3)
        # (1/2 + 1 + 0) / 3 = 0.5
        assert m.mrr == pytest.approx(0.5)

    def test_cutoffs(self) -> None:
        m = evaluate_run({"q1": RANKED}, {"q1": QRELS}, ndcg_k=2, recall_k=2)
        assert m.ndcg_at_10 == pytest.approx(0.5212960, abs=1e-6)
        assert m.recall_at_50 == pytest.approx(0.5)

    def test_min_grade_selects_queries(self) -> None:
        qrels = {"q1": QRELS, "q2": {"x": 1}}
        m = evaluate_run({"q1": RANKED, "q2": ["x"]}, qrels, min_grade=2)
        assert m.queries == 1
        assert m.recall_at_50 == pytest.approx(1.0)
        assert m.mrr == pytest.approx(1 / 2)

    def test_nothing_judged(self) -> None:
        assert evaluate_run({"q": ["a"]}, {"q": {"a": 0}}) == Metrics(0.0, 0.0, 0.0, 0)

    def test_metrics_frozen(self) -> None:
        m = Metrics(1.0, 1.0, 1.0, 1)
        with pytest.raises(AttributeError):
            m.mrr = 0.0  # type: ignore[misc]


class TestLoadQrels:
    def write(self, tmp_path: Path, text: str) -> Path:
        path = tmp_path / "qrels.csv"
        path.write_text(text, encoding="utf-8")
        return path

    def test_reads_grades(self, tmp_path: Path) -> None:
        path = self.write(tmp_path, "scenario_id,company_id,grade\nq1,a,2\nq1,b,0\nq2,a,1\n")
        assert load_qrels_csv(path) == {"q1": {"a": 2, "b": 0}, "q2": {"a": 1}}

    def test_optional_note_column_and_blank_lines(self, tmp_path: Path) -> None:
        path = self.write(
            tmp_path,
            'scenario_id,company_id,grade,note\nq1,a,2,"same L2, checked"\n\nq1,b,1\n',
        )
        assert load_qrels_csv(path) == {"q1": {"a": 2, "b": 1}}

    def test_bom_is_accepted(self, tmp_path: Path) -> None:
        path = self.write(tmp_path, "\ufeffscenario_id,company_id,grade\nq1,a,2\n")
        assert load_qrels_csv(path) == {"q1": {"a": 2}}

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ("q1,a,2\nq1,b,3\n", r"qrels\.csv:3: grade 3 outside 0\.\.2"),
            ("q1,a,-1\n", r"qrels\.csv:2: grade -1 outside 0\.\.2"),
            ("q1,a,high\n", r"qrels\.csv:2: grade 'high' is not an integer"),
            ("q1,a\n", r"qrels\.csv:2: expected 3 fields, got 2"),
            ("q1,a,2,extra\n", r"qrels\.csv:2: expected 3 fields, got 4"),
            ("q1,,2\n", r"qrels\.csv:2: empty scenario_id or company_id"),
            ("q1,a,2\nq1,a,1\n", r"qrels\.csv:3: duplicate judgement for \(q1, a\)"),
        ],
    )
    def test_malformed_rows(self, tmp_path: Path, body: str, message: str) -> None:
        path = self.write(tmp_path, "scenario_id,company_id,grade\n" + body)
        with pytest.raises(ValueError, match=message):
            load_qrels_csv(path)

    @pytest.mark.parametrize("header", ["query,doc,grade", "scenario_id,company_id", ""])
    def test_bad_header(self, tmp_path: Path, header: str) -> None:
        path = self.write(tmp_path, header + "\n" if header else "")
        with pytest.raises(ValueError, match=r"qrels\.csv:1: expected header"):
            load_qrels_csv(path)


class TestLoadRun:
    def write(self, tmp_path: Path, lines: list[str]) -> Path:
        path = tmp_path / "run.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def test_reads_rank_order(self, tmp_path: Path) -> None:
        records = [
            {
                "scenario_id": "q1",
                "matches": [
                    {"company_id": "b", "score": 0.9, "explanation": "x"},
                    {"company_id": "a", "score": 0.95, "explanation": "y"},  # order is kept
                ],
            },
            {"scenario_id": "q2", "matches": []},
            {"scenario_id": 7, "matches": [{"company_id": 600519, "score": 1.0}]},
        ]
        path = self.write(tmp_path, [json.dumps(r) for r in records] + [""])
        assert load_run_jsonl(path) == {"q1": ["b", "a"], "q2": [], "7": ["600519"]}

    @pytest.mark.parametrize(
        ("line", "message"),
        [
            ("{not json", r"run\.jsonl:2: invalid JSON"),
            ('{"matches": []}', r"run\.jsonl:2: missing 'scenario_id'"),
            ('{"scenario_id": "q2"}', r"run\.jsonl:2: 'matches' must be a list"),
            ('{"scenario_id": "q2", "matches": [{"score": 1}]}', r"run\.jsonl:2: every match"),
            ('{"scenario_id": "q1", "matches": []}', r"run\.jsonl:2: duplicate scenario_id"),
        ],
    )
    def test_malformed(self, tmp_path: Path, line: str, message: str) -> None:
        path = self.write(tmp_path, ['{"scenario_id": "q1", "matches": []}', line])
        with pytest.raises(ValueError, match=message):
            load_run_jsonl(path)


class TestRandomRun:
    def test_deterministic_permutation(self) -> None:
        docs = [f"d{i}" for i in range(20)]
        run1 = random_run(["q1", "q2"], docs, seed=3)
        run2 = random_run(["q2", "q1"], docs, seed=3)  # query order does not matter
        assert run1 == run2
        assert sorted(run1["q1"]) == sorted(docs)
        assert run1["q1"] != run1["q2"]
        assert random_run(["q1"], docs, seed=4)["q1"] != run1["q1"]

    def test_does_not_mutate_input(self) -> None:
        docs = ["a", "b", "c"]
        random_run(["q"], docs, seed=0)
        assert docs == ["a", "b", "c"]

    def test_scores_near_chance(self) -> None:
        # 1 relevant item among 100: expected Recall@50 is 0.5 for a random ranking.
        docs = [f"d{i}" for i in range(100)]
        queries = [f"q{i}" for i in range(400)]
        m = evaluate_run(random_run(queries, docs, seed=0), {q: {"d0": 2} for q in queries})
        assert m.recall_at_50 == pytest.approx(0.5, abs=0.08)

"""The fit-threshold calibration's counts, against hand-computed values."""

from bench.quality.calibrate import at


def test_precision_recall_and_suggestions_at_a_threshold():
    scores = {
        ("S1", "a"): 0.5,
        ("S2", "a"): 0.2,
        ("S1", "b"): 0.3,
        ("S2", "b"): 0.1,
        ("S1", "c"): 0.05,
    }
    relevant = {("S1", "a"), ("S2", "b")}
    r = at(scores, relevant, 0.25)
    # kept: (S1,a) relevant, (S1,b) not → precision 1/2; recall 1/2
    assert r["precision"] == 0.5 and r["recall"] == 0.5 and r["f1"] == 0.5
    # firms a and b get one suggestion each, c none
    assert r["median_suggestions_per_firm"] == 1 and r["share_of_firms_with_none"] == 0.3333
    assert at(scores, relevant, 0.6)["precision"] == 1.0  # nothing kept: nothing wrong

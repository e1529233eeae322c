"""Are breaking points ordered by difficulty: ρ, seed resamples, and overlapping brackets."""

from __future__ import annotations

import pandas as pd
import pytest

from results.breaking_points import difficulty_order, lines, section


def frame(brackets: dict[float, tuple[float, float]], boot: dict[float, list[float]]):
    """One curve per data_fraction level: its bracket and bootstrap midpoints."""
    return pd.DataFrame([
        {"model": "m", "task": "t", "difficulty_axis": "data_fraction", "difficulty_level": lv,
         "method": "magnitude", "scope": "global", "options": "{}", "transfer": "sparse",
         "drop": 0.05, "last_passing": lo, "first_failing": hi, "width": hi - lo, "probes": 6,
         "trials": 18, "dense_metric": 0.9, "non_monotone": False, "contradictions": "",
         "midpoint": (lo + hi) / 2, "bootstrap": boot[lv]}
        for lv, (lo, hi) in brackets.items()
    ])  # fmt: skip


def test_harder_levels_breaking_earlier_is_ordered_with_its_share_of_resamples():
    # less data is harder (data_fraction: harder when lower): 0.1 breaks first
    bp = frame({0.1: (0.3, 0.325), 0.5: (0.5, 0.525), 1.0: (0.7, 0.725)},
               {0.1: [0.31, 0.31, 0.8, 0.31], 0.5: [0.51] * 4, 1.0: [0.71] * 4})  # fmt: skip
    (row,) = difficulty_order(bp).to_dict("records")
    assert row["rho"] == pytest.approx(-1.0) and not row["brackets_overlap"]
    assert row["p_harder_breaks_earlier"] == 0.75  # one resample put level 0.1 last
    assert row["verdict"].startswith("harder levels break earlier")
    assert "0.1: [0.3, 0.325]" in row["levels"]
    order = difficulty_order(bp)
    assert any("harder levels break earlier" in x for x in lines(bp, order))
    assert "## Breaking points (adaptive search)" in section(bp, order)


def test_overlapping_brackets_leave_the_order_unresolved():
    bp = frame({0.1: (0.3, 0.4), 1.0: (0.35, 0.375)}, {0.1: [0.35], 1.0: [0.36]})
    (row,) = difficulty_order(bp).to_dict("records")
    assert row["brackets_overlap"] and row["verdict"].startswith("not resolved")


def test_one_level_has_nothing_to_order():
    assert difficulty_order(frame({1.0: (0.3, 0.325)}, {1.0: [0.31]})).empty

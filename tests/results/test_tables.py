import numpy as np
import pytest

from results import tables
from results.analysis import analyze
from results.tables import format_pivot
from tests.results.test_monotonicity import curve, table


def pivot(df):
    """The pivot of a table's analysis."""
    analysis = analyze(df)
    return tables.pivot(analysis.levels, analysis.drops)


def tiny():
    """Two seeds of one task at two levels; sparse at 0.0 and 0.5, dense_freeze at 0.5."""
    rows = curve({0.0: 0.90, 0.5: 0.80}, dense=0.90, seeds=(0, 1), noise=0.02)
    rows += curve({0.5: 0.60}, dense=0.85, seeds=(0, 1), noise=0.02, difficulty_level=0.1)
    rows += [
        r
        for r in curve({0.5: 0.70}, dense=0.0, seeds=(0, 1), transfer="dense_freeze")
        if r["transfer"] != "dense"
    ]
    return table(rows)


def test_pivot_numbers_on_a_tiny_table():
    blocks = pivot(tiny())
    assert list(blocks) == ["dense_freeze", "sparse"]
    sparse = blocks["sparse"]
    full = sparse.loc[("m", "glue/rte", "data_fraction", 1.0, "magnitude", "global")]
    assert full[("dense", "mean")] == pytest.approx(0.91)
    assert full[("dense", "std")] == pytest.approx(np.std([0.90, 0.92], ddof=1))
    assert full[(0.5, "mean")] == pytest.approx(0.81)
    assert full[(0.5, "n")] == 2
    assert full[(0.5, "drop")] == pytest.approx(0.10)
    assert full[(0.0, "drop")] == pytest.approx(0.0)
    low = sparse.loc[("m", "glue/rte", "data_fraction", 0.1, "magnitude", "global")]
    assert low[("dense", "mean")] == pytest.approx(0.86)
    assert low[(0.5, "drop")] == pytest.approx(0.25)
    assert np.isnan(low[(0.0, "mean")])  # never run: missing, not interpolated
    freeze = blocks["dense_freeze"].loc[
        ("m", "glue/rte", "data_fraction", 1.0, "magnitude", "global")
    ]
    assert freeze[(0.5, "drop")] == pytest.approx(0.91 - 0.70)


def test_format_pivot_renders_every_block_and_cell():
    text = format_pivot(pivot(tiny()))
    assert "transfer: sparse" in text and "transfer: dense_freeze" in text
    assert (
        "| fraction of training data 1 | 0.910 ± 0.014 | 0.910 ± 0.014 (+0.000, 100 %) "
        "| 0.810 ± 0.014 (-0.100, 89 %) |" in text
    )
    assert (
        "| fraction of training data 0.1 | 0.860 ± 0.014 | – | 0.610 ± 0.014 (-0.250, 71 %) |"
        in text
    )
    # easiest level first: all the training data (1.0) before a tenth of it
    assert text.index("fraction of training data 1 ") < text.index("fraction of training data 0.1")


def test_dense_only_and_empty_tables():
    df = tiny()
    dense = pivot(df[df["transfer"] == "dense"])
    assert list(dense) == ["dense"] and len(dense["dense"]) == 2
    assert format_pivot(pivot(df[df["status"] == "nothing"])) == "no finished trials"


def test_rows_without_a_difficulty_axis_keep_their_dense_reference():
    rows = curve({0.5: 0.8}, dense=0.9, difficulty_axis=None, difficulty_level=np.nan)
    text = format_pivot(pivot(table(rows)))
    assert "| – | 0.900 ± 0.000 | 0.800 ± 0.000 (-0.100, 89 %) |" in text

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from difficulty.axes import AXES, Axis, register_axis
from results import monotonicity as mono
from results.plots import plot_curves
from results.tables import pivot


def table(records: list[dict]) -> pd.DataFrame:
    """Results rows (schema v1) from dicts of the columns a test cares about; the rest defaulted."""
    defaults = {
        "sweep": "t",
        "model": "m",
        "task": "glue/rte",
        "difficulty_axis": "data_fraction",
        "difficulty_level": 1.0,
        "method": "magnitude",
        "scope": "global",
        "transfer": "sparse",
        "seed": 0,
        "metric_name": "accuracy",
        "status": "ok",
        "error": None,
    }
    rows = [defaults | r for r in records]
    for r in rows:
        if r["transfer"] == "dense":
            r |= {"method": "none", "sparsity": 0.0}
        r["actual_sparsity"] = r["sparsity"]
    df = pd.DataFrame(rows)
    df["trial_key"] = [f"k{i}" for i in range(len(df))]
    text = ["sweep", "model", "task", "difficulty_axis", "method", "scope", "transfer", "error"]
    return df.astype(dict.fromkeys(text, "str"))  # as read from Parquet: nulls stay missing


def curve(metrics: dict[float, float], dense: float, seeds=(0, 1, 2), noise=0.0, **fixed) -> list:
    """Dense row plus one row per sparsity, per seed; seed s shifts every metric by s * noise."""
    rows = []
    for s in seeds:
        rows.append(fixed | {"transfer": "dense", "seed": s, "metric": dense + s * noise})
        rows += [
            fixed | {"sparsity": x, "seed": s, "metric": m + s * noise} for x, m in metrics.items()
        ]
    return rows


SPARSITIES = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9]


def test_drops_are_relative_to_the_dense_row_of_the_same_seed():
    df = table(curve({0.5: 0.8}, dense=0.9, seeds=(0, 1), noise=0.05))
    d = mono.drops(df).sort_values("seed")
    assert d["dense_metric"].tolist() == pytest.approx([0.9, 0.95])
    assert d["drop"].tolist() == pytest.approx([0.1, 0.1])
    assert d["drop_pct"].tolist() == pytest.approx([100 * 0.1 / 0.9, 100 * 0.1 / 0.95])


def test_perfectly_monotone_family_is_monotone():
    metrics = dict(zip(SPARSITIES, [0.90, 0.88, 0.85, 0.80, 0.70, 0.55]))
    m = mono.monotonicity(table(curve(metrics, dense=0.9, noise=0.001)))
    assert len(m) == 1
    row = m.iloc[0]
    assert row["monotone"] and row["largest_violation"] == 0.0
    assert row["spearman_rho"] < -0.9 and row["spearman_p"] < 0.001
    assert row["kendall_tau"] < -0.8
    assert row["isotonic_max_dev"] == pytest.approx(0.0, abs=1e-12)
    assert row["verdict"].startswith("monotone")


def test_injected_violation_is_found_with_its_size():
    metrics = dict(zip(SPARSITIES, [0.90, 0.88, 0.85, 0.80, 0.70, 0.55]))
    metrics[0.7] = 0.86  # rises 0.06 above the running minimum 0.80
    row = mono.monotonicity(table(curve(metrics, dense=0.9, noise=0.001))).iloc[0]
    assert not row["monotone"]
    assert row["largest_violation"] == pytest.approx(0.06)
    assert row["verdict"] == "falls with sparsity, but not monotonically"


def test_correlations_equal_scipy_on_every_seeds_points():
    rng = np.random.default_rng(1)
    metrics = dict(zip(SPARSITIES, 0.9 - 0.1 * rng.random(6)))
    df = table(curve(metrics, dense=0.9, noise=0.01))
    row = mono.monotonicity(df).iloc[0]
    points = df[df["transfer"] == "sparse"]
    rho, p = stats.spearmanr(points["sparsity"], points["metric"])
    tau, tau_p = stats.kendalltau(points["sparsity"], points["metric"])
    assert (row["spearman_rho"], row["spearman_p"]) == pytest.approx((rho, p))
    assert (row["kendall_tau"], row["kendall_p"]) == pytest.approx((tau, tau_p))


def test_flat_family_is_flat_and_constant_curve_does_not_crash():
    metrics = dict.fromkeys(SPARSITIES, 0.9)
    row = mono.monotonicity(table(curve(metrics, dense=0.9))).iloc[0]
    assert row["monotone"] and np.isnan(row["spearman_rho"])
    assert row["verdict"].startswith("flat")


def test_failed_rows_are_ignored():
    rows = curve(dict(zip(SPARSITIES, [0.9, 0.8, 0.7, 0.6, 0.5, 0.4])), dense=0.9)
    rows.append({"sparsity": 0.7, "seed": 0, "metric": 5.0, "status": "failed", "error": "OOM"})
    row = mono.monotonicity(table(rows)).iloc[0]
    assert row["monotone"] and row["n_points"] == 18


def test_bootstrap_ci_shrinks_with_more_seeds_and_is_reproducible():
    widths = []
    for n in (4, 16, 64):
        # evenly spaced normal quantiles: the same spread of drops, more seeds
        metric = 0.8 + 0.02 * stats.norm.ppf((np.arange(n) + 0.5) / n)
        rows = [r for s in range(n) for r in curve({0.5: metric[s]}, dense=0.9, seeds=(s,))]
        ci = mono.drop_ci(table(rows))
        assert ci.equals(mono.drop_ci(table(rows)))
        assert ci["ci_low"].iloc[0] < 0.1 < ci["ci_high"].iloc[0]
        widths.append(float(ci["ci_high"].iloc[0] - ci["ci_low"].iloc[0]))
    assert widths[0] > widths[1] > widths[2] > 0
    assert widths[2] < widths[0] / 2


def test_bootstrap_ci_with_one_seed_is_nan_and_with_equal_values_is_a_point():
    one = mono.drop_ci(table(curve({0.5: 0.8}, dense=0.9, seeds=(0,)))).iloc[0]
    assert one["n"] == 1 and np.isnan(one["ci_low"]) and np.isnan(one["ci_high"])
    equal = mono.drop_ci(table(curve({0.5: 0.8}, dense=0.9))).iloc[0]
    assert equal["ci_low"] == pytest.approx(0.1) and equal["ci_high"] == pytest.approx(0.1)


def levels(drop_by_level: dict[float, list[float]], axis="data_fraction", task="glue/rte"):
    """Rows of several difficulty levels; level -> drop at each sparsity in SPARSITIES[1:]."""
    return [
        r
        for level, drop in drop_by_level.items()
        for r in curve(
            dict(zip(SPARSITIES[1:], [0.9 - x for x in drop])),
            dense=0.9,
            difficulty_axis=axis,
            difficulty_level=level,
            task=task,
        )
    ]


HARD_LOSES_MORE = {  # data_fraction: less data is harder and loses more
    0.1: [0.02, 0.05, 0.10, 0.20, 0.40],
    0.5: [0.01, 0.03, 0.06, 0.12, 0.25],
    1.0: [0.00, 0.01, 0.02, 0.05, 0.10],
}


def test_difficulty_order_respects_axis_direction():
    order = mono.difficulty_order(table(levels(HARD_LOSES_MORE)))
    assert (
        order["spearman_rho"].tolist() == pytest.approx([1.0] * 5)
        and (order["order"] == "harder loses more").all()
    )
    summary = mono.difficulty_summary(order).iloc[0]
    assert summary["verdict"] == "harder levels lose more at 5/5 sparsities"


def test_reversed_difficulty_order_is_detected():
    # label_noise: more noise is harder, so the same drops are now ordered the wrong way round
    order = mono.difficulty_order(table(levels(HARD_LOSES_MORE, axis="label_noise")))
    assert order["spearman_rho"].tolist() == pytest.approx([-1.0] * 5)
    summary = mono.difficulty_summary(order).iloc[0]
    assert summary["verdict"] == "reversed: easier levels lose more at 5/5 sparsities"


def test_cross_task_axis_compares_levels_across_tasks():
    rows = levels({3.0: HARD_LOSES_MORE[0.1]}, axis="human_gap", task="a")
    rows += levels({1.0: HARD_LOSES_MORE[1.0]}, axis="human_gap", task="b")
    order = mono.difficulty_order(table(rows))
    assert (order["group"] == "*").all() and (order["n_levels"] == 2).all()
    assert (order["order"] == "harder loses more").all()


@pytest.fixture
def toy_axis():
    """A toy axis registered from the test (harder when lower, compared across tasks)."""
    axis = register_axis(
        Axis(
            name="toy",
            allowed="any number",
            valid=lambda v: True,
            harder_when="lower",
            label="toy knob",
            cross_task=True,
        )
    )
    yield axis
    del AXES["toy"]


def test_the_analysis_reads_a_registered_axis_record(toy_axis):
    # lower toy levels are harder: 0.1 losing most is "harder loses more"; cross_task: one group
    rows = levels({0.1: HARD_LOSES_MORE[0.1]}, axis="toy", task="a")
    rows += levels({1.0: HARD_LOSES_MORE[1.0]}, axis="toy", task="b")
    order = mono.difficulty_order(table(rows))
    assert (order["group"] == "*").all() and (order["order"] == "harder loses more").all()


def test_an_unregistered_axis_is_an_error_not_a_default_direction():
    with pytest.raises(ValueError, match="difficulty axis 'nope' is not registered"):
        mono.difficulty_order(table(levels(HARD_LOSES_MORE, axis="nope")))


def test_drops_tables_and_plots_share_one_dense_reference(tmp_path, monkeypatch):
    df = table(
        levels(HARD_LOSES_MORE)
        + curve({0.5: 0.5}, dense=0.7, noise=0.01, difficulty_axis="label_noise",
                difficulty_level=1.0)
    )  # fmt: skip
    reference = mono.dense_reference(df)
    # one dense metric per model, task, axis, level and seed: the two axes at level 1.0 differ
    assert len(reference) == len(reference[mono.REFERENCE].drop_duplicates()) == 4 * 3
    per_level = reference.groupby(mono.REFERENCE[:4])["dense_metric"].mean()
    d = mono.drops(df).merge(reference, on=mono.REFERENCE, suffixes=("", "_reference"))
    assert d["dense_metric"].equals(d["dense_metric_reference"])
    table_dense = pivot(df)["sparse"][("dense", "mean")].droplevel("method")
    assert table_dense.sort_index().tolist() == pytest.approx(per_level.sort_index().tolist())
    drawn = []
    monkeypatch.setattr("results.plots._draw", lambda curves, *a: drawn.append(curves))
    plot_curves(df, tmp_path)
    lines = pd.concat(drawn).groupby(mono.REFERENCE[:4])["dense_metric"].first()
    assert lines.sort_index().tolist() == pytest.approx(per_level.sort_index().tolist())


def test_threshold_sparsity_is_first_observed_sparsity_past_each_threshold():
    t = mono.threshold_sparsity(table(levels(HARD_LOSES_MORE)), thresholds=(1, 5, 50))
    t = t.set_index("difficulty_level")
    # level 1.0 drops 0, 0.01, 0.02, 0.05, 0.10 of 0.9: 1.1 %, 2.2 %, 5.6 %, 11 %
    assert t.loc[1.0, "sparsity_at_1pct"] == 0.3
    assert t.loc[1.0, "sparsity_at_5pct"] == 0.7
    assert np.isnan(t.loc[1.0, "sparsity_at_50pct"])
    assert t.loc[0.1, "sparsity_at_1pct"] == 0.1


def test_irreversibility_gives_recovered_fraction():
    rows = []
    for transfer, metric in [("sparse", 0.6), ("dense_freeze", 0.7), ("sparse_to_dense", 0.75)]:
        rows += [r for r in curve({0.5: metric}, dense=0.9, transfer=transfer) if "sparsity" in r]
    rows += [r for r in curve({}, dense=0.9)]
    irr = mono.irreversibility(table(rows)).set_index("lossy")
    assert irr.loc["sparse", "loss"] == pytest.approx(0.3)
    assert irr.loc["sparse", "fraction_recovered"] == pytest.approx(0.5)
    assert irr.loc["dense_freeze", "fraction_recovered"] == pytest.approx(0.25)


def test_missing_trials_lists_expected_combinations_without_ok_row():
    rows = curve({0.5: 0.8}, dense=0.9, seeds=(0, 1))
    rows[-1]["status"] = "failed"  # sparse 0.5 seed 1
    df = table(rows)
    expected = df[mono.GRID].copy()
    expected.loc[len(expected)] = [
        "m",
        "glue/rte",
        "data_fraction",
        1.0,
        "magnitude",
        "sparse",
        0.9,
        0,
    ]
    missing = mono.missing_trials(df, expected)
    assert sorted(zip(missing["sparsity"], missing["seed"])) == [(0.5, 1), (0.9, 0)]

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from difficulty.axes import AXES, Axis, register_axis
from results import monotonicity as mono
from results import reference as ref
from results.analysis import analyze
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
    d = analyze(df).drops.sort_values("seed")
    assert d["dense_metric"].tolist() == pytest.approx([0.9, 0.95])
    assert d["drop"].tolist() == pytest.approx([0.1, 0.1])
    assert d["drop_pct"].tolist() == pytest.approx([100 * 0.1 / 0.9, 100 * 0.1 / 0.95])


def test_perfectly_monotone_family_is_monotone():
    metrics = dict(zip(SPARSITIES, [0.90, 0.88, 0.85, 0.80, 0.70, 0.55]))
    m = analyze(table(curve(metrics, dense=0.9, noise=0.001))).families
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
    row = analyze(table(curve(metrics, dense=0.9, noise=0.001))).families.iloc[0]
    assert not row["monotone"]
    assert row["largest_violation"] == pytest.approx(0.06)
    assert row["verdict"] == "falls with sparsity, but not monotonically"


def test_correlations_equal_scipy_on_every_seeds_points():
    rng = np.random.default_rng(1)
    metrics = dict(zip(SPARSITIES, 0.9 - 0.1 * rng.random(6)))
    df = table(curve(metrics, dense=0.9, noise=0.01))
    row = analyze(df).families.iloc[0]
    points = df[df["transfer"] == "sparse"]
    rho, p = stats.spearmanr(points["sparsity"], points["metric"])
    tau, tau_p = stats.kendalltau(points["sparsity"], points["metric"])
    assert (row["spearman_rho"], row["spearman_p"]) == pytest.approx((rho, p))
    assert (row["kendall_tau"], row["kendall_p"]) == pytest.approx((tau, tau_p))


def test_flat_family_is_flat_and_constant_curve_does_not_crash():
    metrics = dict.fromkeys(SPARSITIES, 0.9)
    row = analyze(table(curve(metrics, dense=0.9))).families.iloc[0]
    assert row["monotone"] and np.isnan(row["spearman_rho"])
    assert row["verdict"].startswith("flat")


def test_failed_rows_are_ignored():
    rows = curve(dict(zip(SPARSITIES, [0.9, 0.8, 0.7, 0.6, 0.5, 0.4])), dense=0.9)
    rows.append({"sparsity": 0.7, "seed": 0, "metric": 5.0, "status": "failed", "error": "OOM"})
    row = analyze(table(rows)).families.iloc[0]
    assert row["monotone"] and row["n_points"] == 18


def test_t_ci_shrinks_with_more_seeds_and_is_reproducible():
    widths = []
    for n in (4, 16, 64):
        # evenly spaced normal quantiles: the same spread of drops, more seeds
        metric = 0.8 + 0.02 * stats.norm.ppf((np.arange(n) + 0.5) / n)
        rows = [r for s in range(n) for r in curve({0.5: metric[s]}, dense=0.9, seeds=(s,))]
        ci = analyze(table(rows)).drop_ci
        assert ci.equals(analyze(table(rows)).drop_ci)
        assert ci["ci_low"].iloc[0] < 0.1 < ci["ci_high"].iloc[0]
        widths.append(float(ci["ci_high"].iloc[0] - ci["ci_low"].iloc[0]))
    assert widths[0] > widths[1] > widths[2] > 0
    assert widths[2] < widths[0] / 2


def test_t_ci_with_one_seed_is_nan_and_with_equal_values_is_a_point():
    one = analyze(table(curve({0.5: 0.8}, dense=0.9, seeds=(0,)))).drop_ci.iloc[0]
    assert one["n"] == 1 and np.isnan(one["ci_low"]) and np.isnan(one["ci_high"])
    equal = analyze(table(curve({0.5: 0.8}, dense=0.9))).drop_ci.iloc[0]
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
    order = analyze(table(levels(HARD_LOSES_MORE))).order
    assert (
        order["spearman_rho"].tolist() == pytest.approx([1.0] * 5)
        and (order["order"] == "harder loses more").all()
    )
    summary = analyze(table(levels(HARD_LOSES_MORE))).summary.iloc[0]
    assert summary["verdict"].startswith("harder levels lose more at 5/5 sparsities")


def test_reversed_difficulty_order_is_detected():
    # label_noise: more noise is harder, so the same drops are now ordered the wrong way round
    order = analyze(table(levels(HARD_LOSES_MORE, axis="label_noise"))).order
    assert order["spearman_rho"].tolist() == pytest.approx([-1.0] * 5)
    summary = analyze(table(levels(HARD_LOSES_MORE, axis="label_noise"))).summary.iloc[0]
    assert summary["verdict"].startswith("reversed: easier levels lose more at 5/5 sparsities")


def test_cross_task_axis_compares_levels_across_tasks():
    rows = levels({3.0: HARD_LOSES_MORE[0.1]}, axis="human_gap", task="a")
    rows += levels({1.0: HARD_LOSES_MORE[1.0]}, axis="human_gap", task="b")
    order = analyze(table(rows)).order
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
    order = analyze(table(rows)).order
    assert (order["group"] == "*").all() and (order["order"] == "harder loses more").all()


def test_an_unregistered_axis_is_an_error_not_a_default_direction():
    with pytest.raises(ValueError, match="difficulty axis 'nope' is not registered"):
        _ = analyze(table(levels(HARD_LOSES_MORE, axis="nope"))).order


def test_drops_tables_and_plots_share_one_dense_reference(tmp_path, monkeypatch):
    df = table(
        levels(HARD_LOSES_MORE)
        + curve({0.5: 0.5}, dense=0.7, noise=0.01, difficulty_axis="label_noise",
                difficulty_level=1.0)
    )  # fmt: skip
    reference = analyze(df).reference
    # one dense metric per model, task, axis, level and seed: the two axes at level 1.0 differ
    assert len(reference) == len(reference[ref.REFERENCE].drop_duplicates()) == 4 * 3
    per_level = reference.groupby(ref.REFERENCE[:4])["dense_metric"].mean()
    d = analyze(df).drops.merge(reference, on=ref.REFERENCE, suffixes=("", "_reference"))
    assert d["dense_metric"].equals(d["dense_metric_reference"])
    table_dense = pivot(analyze(df).levels, analyze(df).drops)["sparse"][
        ("dense", "mean")
    ].droplevel("method")
    assert table_dense.sort_index().tolist() == pytest.approx(per_level.sort_index().tolist())
    drawn = []
    monkeypatch.setattr("results.plots._draw", lambda curves, *a: drawn.append(curves))
    plot_curves(analyze(df), tmp_path)
    lines = pd.concat(drawn).groupby(ref.REFERENCE[:4])["dense_mean"].first()
    assert lines.sort_index().tolist() == pytest.approx(per_level.sort_index().tolist())


def test_threshold_sparsity_is_first_observed_sparsity_past_each_threshold():
    t = mono.threshold_sparsity(analyze(table(levels(HARD_LOSES_MORE))).drops, (1, 5, 50))
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
    irr = analyze(table(rows)).irreversibility.set_index("lossy")
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
    missing = mono.missing_trials(analyze(df).ok, expected)
    assert sorted(zip(missing["sparsity"], missing["seed"])) == [(0.5, 1), (0.9, 0)]


# --- paper-style analysis that does not over-claim ------------------------------------------


def test_t_interval_at_two_seeds_matches_scipy():
    rows = curve({0.5: 0.80}, dense=0.90, seeds=(0, 1), noise=0.013)
    rows[1]["metric"], rows[3]["metric"] = 0.80, 0.83  # seed 0 drops 0.100, seed 1 drops 0.083
    ci = analyze(table(rows)).drop_ci.iloc[0]
    drops_ = np.array([0.90 - 0.80, 0.913 - 0.83])
    low, high = stats.t.interval(0.95, 1, loc=drops_.mean(), scale=stats.sem(drops_))
    assert (
        ci["n"] == 2 and ci["ci_low"] == pytest.approx(low) and ci["ci_high"] == pytest.approx(high)
    )
    assert high - low > 10 * np.ptp(drops_)  # t with 1 df: far wider than a 2-point bootstrap


def test_a_level_at_chance_is_marked_and_left_out_of_the_ordering():
    # three levels; the hardest (0.1) has a dense metric at the majority share 0.5: no verdict
    majority = '{"accuracy": 0.5, "majority": 0.5, "matthews": 0.0}'
    rows = levels(HARD_LOSES_MORE)
    rows += curve(dict(zip(SPARSITIES[1:], [0.52, 0.49, 0.5, 0.48, 0.5])), dense=0.5, noise=0.01,
                  difficulty_level=0.05)  # fmt: skip
    for r in rows:
        r["metrics"] = majority
    df = table(rows)
    dense = analyze(df).levels.set_index("difficulty_level")
    assert dense["chance"].tolist() == [0.5] * 4
    assert dense["at_chance"].to_dict() == {1.0: False, 0.5: False, 0.1: False, 0.05: True}
    assert dense.index.tolist() == [1.0, 0.5, 0.1, 0.05]  # easiest first
    assert (analyze(df).order["n_levels"] == 3).all()  # 0.05 is not among them
    family = analyze(df).families.set_index("difficulty_level").loc[0.05]
    assert family["at_chance"] and family["verdict"] == "dense metric at chance: no verdict"
    summary = analyze(df).summary.iloc[0]
    assert summary["n_levels"] == 3 and summary["verdict"].startswith(
        "harder levels lose more at 5/5 sparsities"
    )


def test_a_collapsed_curve_is_floored_and_judged_only_up_to_its_collapse():
    # level 0.1 hits chance (0.5) at 0.5 and then wobbles: those wobbles are no evidence
    metrics = '{"accuracy": 0.5, "majority": 0.5, "matthews": 0.0}'
    rows = curve(dict(zip(SPARSITIES[1:], [0.88, 0.86, 0.84, 0.80, 0.75])), dense=0.9)
    rows += curve(dict(zip(SPARSITIES[1:], [0.85, 0.70, 0.45, 0.60, 0.30])), dense=0.9,
                  difficulty_level=0.1)  # fmt: skip
    for r in rows:
        r["metrics"] = metrics
    df = table(rows)
    fam = analyze(df).families.set_index("difficulty_level")
    assert fam.loc[0.1, "collapsed_at"] == 0.5 and np.isnan(fam.loc[1.0, "collapsed_at"])
    # judged on 0.1, 0.3, 0.5 only: monotone, the rise to 0.60 at 0.7 is not a violation
    assert fam.loc[0.1, "n_sparsities"] == 3 and fam.loc[0.1, "largest_violation"] == 0
    assert fam.loc[0.1, "verdict"].endswith("; collapsed at 0.5")
    compared = analyze(df).compared
    low = compared[compared["difficulty_level"] == 0.1]
    assert sorted(low["sparsity"].unique()) == [0.1, 0.3, 0.5]
    floored = low.loc[low["sparsity"] == 0.5, "drop_pct"]
    assert floored.tolist() == pytest.approx([100 * (0.9 - 0.5) / 0.9] * 3)  # 0.45 counts as 0.5
    summary = analyze(df).summary.iloc[0]
    assert summary["n_sparsities"] == 3  # no comparison after the collapse


def test_sparsity_zero_is_not_a_comparison():
    # pruned modes at sparsity 0 lose nothing at every level: no order there, not counted
    rows = levels({lv: [0.0, *d[1:]] for lv, d in HARD_LOSES_MORE.items()})
    rows = [r | {"sparsity": 0.0} if r.get("sparsity") == 0.1 else r for r in rows]
    df = table(rows)
    assert 0.0 in set(analyze(df).drops["sparsity"])
    order = analyze(df).order
    assert 0.0 not in set(order["sparsity"]) and len(order) == 4
    assert (
        analyze(df)
        .summary.iloc[0]["verdict"]
        .startswith("harder levels lose more at 4/4 sparsities")
    )


def test_verdict_states_seeds_interval_and_says_one_seed_is_too_few():
    noisy = table(levels(HARD_LOSES_MORE))
    summary = analyze(noisy).summary.iloc[0]
    assert summary["n_seeds"] == 3 and summary["rho_ci_low"] == pytest.approx(1.0)
    one = table([r for r in levels(HARD_LOSES_MORE) if r["seed"] == 0])
    verdict = analyze(one).summary.iloc[0]["verdict"]
    assert verdict.endswith(
        "(mean ρ 1.00; one seed: no interval, too few to conclude; up to 3 levels per comparison)"
    )


def test_legend_and_table_show_the_computed_gaps_easiest_first(tmp_path, monkeypatch):
    # both tasks have human 1.0 (as the built-in ones): the gap comes from each dense metric
    rows = levels({1.0: HARD_LOSES_MORE[1.0]}, axis="human_gap", task="easy")
    rows += [r | {"metric": r["metric"] - 0.2} for r in
             levels({1.0: HARD_LOSES_MORE[0.1]}, axis="human_gap", task="hard")]  # fmt: skip
    df = table(rows)
    drawn = []
    monkeypatch.setattr("results.plots._draw", lambda curves, *a: drawn.append(curves))
    plot_curves(analyze(df), tmp_path)
    from results.plots import _label

    curves = drawn[0].sort_values(["hardness", "task"])
    labels = [_label(line, True) for _, line in curves.groupby("task", sort=False)]
    assert labels == ["easy (gap 0.100, human 1)", "hard (gap 0.300, human 1)"]
    from results.tables import format_pivot

    text = format_pivot(pivot(analyze(df).levels, analyze(df).drops))
    assert text.index("gap 0.100, human 1") < text.index("gap 0.300, human 1")
    assert "human_gap 1" not in text


def test_two_scopes_of_one_method_are_two_families():
    # global and per-layer masks (or, recorded in scope, other candidate weights) differ
    rows = curve(dict(zip(SPARSITIES[1:], [0.88, 0.86, 0.84, 0.80, 0.75])), dense=0.9)
    rows += [r | {"scope": "layer", "metric": r["metric"] - 0.1}
             for r in curve(dict(zip(SPARSITIES[1:], [0.88, 0.86, 0.84, 0.80, 0.75])), dense=0.9)
             if r.get("transfer") != "dense"]  # fmt: skip
    stats = analyze(table(rows)).families.set_index("scope")
    assert sorted(stats.index) == ["global", "layer"] and (stats["n_points"] == 15).all()
    ci = analyze(table(rows)).drop_ci.set_index(["scope", "sparsity"])["mean"]
    assert ci[("layer", 0.5)] == pytest.approx(ci[("global", 0.5)] + 0.1)


def test_lm_eval_rows_take_their_chance_from_the_options_lm_eval_scored():
    # an lm-eval multiple-choice row records acc, acc_norm, their stderrs and `chance`, 1/options
    mc = '{"acc": 0.3, "acc_stderr": 0.05, "acc_norm": 0.26, "acc_norm_stderr": 0.05, "chance": 0.25}'
    assert ref.chance_level(
        pd.DataFrame({"metric_name": ["acc_norm", "acc"], "metrics": [mc, mc]})
    ).tolist() == [0.25, 0.25]
    # an exact-match task's chance is 0; a metric junkdna does not know has no chance level
    gen = '{"exact_match,strict-match": 0.1, "exact_match,strict-match_stderr": 0.01}'
    em = '{"exact_match": 0.1, "exact_match_stderr": 0.01}'
    levels = ref.chance_level(
        pd.DataFrame(
            {"metric_name": ["exact_match", "exact_match,strict-match"], "metrics": [em, gen]}
        )
    )
    assert levels[0] == 0.0 and np.isnan(levels[1])


def test_an_lm_eval_level_at_chance_is_marked():
    rows = levels(HARD_LOSES_MORE)
    for r in rows:
        r["metric_name"] = "acc_norm"
        r["metrics"] = '{"acc": 0.5, "acc_norm": 0.5, "acc_norm_stderr": 0.1, "chance": 0.5}'
    dense = analyze(table(rows)).levels.set_index("difficulty_level")
    assert dense["chance"].tolist() == [0.5] * 3
    assert dense["at_chance"].to_dict() == {1.0: False, 0.5: False, 0.1: False}
    for r in rows:  # the same dense metric (0.9) against a chance above it: every level at chance
        r["metrics"] = r["metrics"].replace('"chance": 0.5', '"chance": 0.95')
    assert analyze(table(rows)).levels["at_chance"].all()

"""Monotonicity statistics of the Junk DNA hypothesis over a table of results rows (schema v1).

Questions answered, each by one function returning a DataFrame:

- how much does pruning cost, relative to the dense model of the same seed?   `drops`, `drop_ci`
- does a family's metric fall monotonically as sparsity grows?               `monotonicity`
- do harder difficulty levels lose more at the same sparsity?                `difficulty_order`
- at which sparsity does each level first lose more than x % of its metric?  `threshold_sparsity`
- does giving the pruned weights back recover the loss?                      `irreversibility`
- which expected trials have no result (never interpolated)?                 `missing_trials`
- how far is each task's dense model from people (the human_gap axis)?        `task_gaps`

The reference of every pruned trial is `dense_reference`: the `dense` row (method "none",
sparsity 0.0) of the same model, task, difficulty axis, level and seed; a pruned mode at
sparsity 0.0 is a trial like others. What each axis means (which end is hard, whether its levels
are compared across tasks) is read from its record in difficulty.axes.
"""

import warnings

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.isotonic import isotonic_regression

from difficulty.axes import AXES
from difficulty.human_gap import normalized_gap

REFERENCE = ["model", "task", "difficulty_axis", "difficulty_level", "seed"]
FAMILY = ["model", "task", "difficulty_axis", "difficulty_level", "method", "transfer"]
# A set of difficulty levels compared with each other: `group` is the task, or "*" across tasks.
LEVELS = ["model", "difficulty_axis", "group", "method", "transfer"]
GRID = FAMILY[:4] + ["method", "transfer", "sparsity", "seed"]
MONOTONICITY_STATS = [
    "n_sparsities",
    "n_points",
    "spearman_rho",
    "spearman_p",
    "kendall_tau",
    "kendall_p",
    "isotonic_max_dev",
    "largest_violation",
    "noise",
    "monotone",
    "verdict",
]


def ok_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The finished trials (status "ok"); failed rows take no part in any statistic."""
    return df[df["status"] == "ok"]


def _axis_fact(axis: pd.Series, fact: str) -> pd.Series:
    """A field of each row's Axis record (NaN for no axis); an unknown axis is an error."""
    unknown = sorted(set(axis.dropna()) - set(AXES))
    if unknown:
        raise ValueError(
            f"difficulty axis {unknown[0]!r} is not registered; registered: {', '.join(AXES)}"
        )
    return axis.map({name: getattr(record, fact) for name, record in AXES.items()})


def hardness(axis: pd.Series, level: pd.Series, dense: pd.Series | None = None) -> pd.Series:
    """The difficulty level signed so that a larger value is always harder (Axis.harder_when).

    Given the dense metric, a human_gap level (the task's human baseline, recorded at trial time)
    becomes the normalized human-model gap (human - dense) / human.
    """
    lower = _axis_fact(axis, "harder_when").eq("lower")
    signed = level.where(~lower, -level)
    if dense is None:
        return signed
    return signed.where(axis.ne("human_gap"), normalized_gap(level, dense))


def level_group(df: pd.DataFrame) -> pd.Series:
    """The task for axes varied within a task, "*" for axes compared across tasks."""
    cross_task = _axis_fact(df["difficulty_axis"], "cross_task").eq(True)
    return df["task"].where(~cross_task, "*")


def dense_reference(df: pd.DataFrame) -> pd.DataFrame:
    """The dense metric of each model, task, axis, level and seed: REFERENCE + `dense_metric`.

    The mean of the ok `dense` rows of that key (one per key in a deduplicated table); every
    comparison with dense in the analysis, the tables and the plots starts here.
    """
    ok = ok_rows(df)
    dense = ok.loc[ok["transfer"] == "dense", REFERENCE + ["metric"]]
    dense = dense.groupby(REFERENCE, dropna=False, as_index=False)["metric"].mean()
    return dense.rename(columns={"metric": "dense_metric"})


def drops(df: pd.DataFrame) -> pd.DataFrame:
    """Pruned ok rows with `dense_metric`, `drop` (dense − metric) and `drop_pct` (% of dense)."""
    ok = ok_rows(df)
    out = ok[ok["transfer"] != "dense"].merge(dense_reference(df), on=REFERENCE, how="left")
    out["drop"] = out["dense_metric"] - out["metric"]
    # A percentage of a zero or negative metric (e.g. MCC) means nothing: left NaN.
    out["drop_pct"] = 100 * out["drop"] / out["dense_metric"].where(out["dense_metric"] > 0)
    return out


def _stacked(
    data: pd.DataFrame, keys: list[str], columns: list[str]
) -> tuple[pd.DataFrame, list[tuple[np.ndarray, list[np.ndarray]]]]:
    """Groups of `keys` (sorted), and per group size: the group numbers and each column's values
    as a (groups × size) matrix, so that scipy can treat all groups of one size in one call."""
    grouped = data.groupby(keys, dropna=False, sort=True)
    sizes = grouped.size()
    order = np.argsort(grouped.ngroup().to_numpy(), kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes.to_numpy())[:-1]])
    blocks = []
    for n in np.unique(sizes):
        groups = np.flatnonzero(sizes.to_numpy() == n)
        take = order[starts[groups, None] + np.arange(n)]
        blocks.append((groups, [data[c].to_numpy()[take] for c in columns]))
    return sizes.rename("n").reset_index(), blocks


def seed_ci(
    df: pd.DataFrame,
    value: str,
    keys: list[str],
    confidence: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean, std and n of `value` per group of `keys`, with a percentile bootstrap CI over rows."""
    data = df.dropna(subset=[value])
    out, blocks = _stacked(data, keys, [value])
    low, high = np.full(len(out), np.nan), np.full(len(out), np.nan)
    mean, std = np.empty(len(out)), np.full(len(out), np.nan)
    rng = np.random.default_rng(seed)
    for groups, (sample,) in blocks:
        mean[groups] = sample.mean(axis=1)
        if sample.shape[1] < 2:
            continue  # one row has no spread: its std and CI stay NaN
        std[groups] = sample.std(axis=1, ddof=1)
        ci = stats.bootstrap(
            (sample,),
            np.mean,
            axis=-1,
            vectorized=True,
            n_resamples=n_resamples,
            batch=max(1, 4_000_000 // sample.size),  # bounds memory, not the result
            confidence_level=confidence,
            method="percentile",  # defined for tiny and degenerate samples, unlike BCa
            rng=rng,
        ).confidence_interval
        low[groups], high[groups] = ci.low, ci.high
    return out.assign(mean=mean, std=std, ci_low=low, ci_high=high)


def drop_ci(df: pd.DataFrame, confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Per family and sparsity: mean drop from dense over seeds, its bootstrap CI, and drop_pct."""
    d = drops(df)
    out = seed_ci(d, "drop", FAMILY + ["sparsity"], confidence=confidence, seed=seed)
    pct = d.groupby(FAMILY + ["sparsity"], dropna=False)["drop_pct"].mean()
    return out.merge(pct.reset_index(), on=FAMILY + ["sparsity"], how="left")


def largest_violation(curve: np.ndarray) -> float:
    """The largest rise of a curve above its earlier minimum (0 for a non-increasing curve)."""
    return float(max(0.0, np.max(curve - np.minimum.accumulate(curve))))


def _spearman(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spearman ρ and p-value of each row of two (groups × points) arrays; NaN where constant."""
    if x.shape[1] < 2:
        return np.full(len(x), np.nan), np.full(len(x), np.nan)
    with warnings.catch_warnings():  # a constant row has no rank correlation: NaN is the answer
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        # Spearman's ρ is Pearson's r of the ranks, and pearsonr takes a whole batch at once.
        result = stats.pearsonr(stats.rankdata(x, axis=1), stats.rankdata(y, axis=1), axis=1)
    return result.statistic, result.pvalue


def _kendall(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Kendall's τ-b and its p-value; NaN for a constant input."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        result = stats.kendalltau(x, y)
    return result.statistic, result.pvalue


def _curve_stats(mean: np.ndarray, sem: np.ndarray, size: np.ndarray) -> tuple[float, float, float]:
    """Largest deviation from the decreasing isotonic fit, largest violation, noise of a curve."""
    # The function behind sklearn's IsotonicRegression; the points are already sorted by sparsity.
    fit = isotonic_regression(mean, sample_weight=size, increasing=False)
    # Noise: the 95 % half-width of a difference of two means with the curve's typical sem.
    noise = 1.96 * np.sqrt(2) * np.nanmean(sem) if np.isfinite(sem).any() else 0.0
    return float(np.max(np.abs(mean - fit))), largest_violation(mean), float(noise)


def _verdict(n_sparsities: int, monotone: bool, rho: float, p: float, alpha: float) -> str:
    """A few words on a family's trend with sparsity."""
    falls, rises = rho < 0 and p < alpha, rho > 0 and p < alpha
    if n_sparsities < 2:
        return "too few sparsities"
    if monotone and falls:
        return "monotone: metric falls with sparsity"
    if monotone and not rises:
        return "flat: no significant change with sparsity"
    if falls:
        return "falls with sparsity, but not monotonically"
    return "rises with sparsity" if rises else "no monotone trend"


def monotonicity(df: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Per pruned family: Spearman/Kendall of metric vs sparsity, isotonic fit, violation, verdict.

    The rank correlations (and their p-values) use every seed's (sparsity, metric) point; the
    isotonic (decreasing) fit and the largest violation use the curve of means over seeds, and a
    violation within the 95 % half-width of a difference of two of those means is noise.
    """
    ok = ok_rows(df)
    points = ok.loc[ok["transfer"] != "dense", FAMILY + ["sparsity", "metric"]]
    points = points.dropna(subset=["sparsity", "metric"])
    if points.empty:
        return pd.DataFrame(columns=FAMILY + MONOTONICITY_STATS)
    out, blocks = _stacked(points, FAMILY, ["sparsity", "metric"])
    out = out.rename(columns={"n": "n_points"})
    rho, rho_p = np.full(len(out), np.nan), np.full(len(out), np.nan)
    tau, tau_p = np.full(len(out), np.nan), np.full(len(out), np.nan)
    for groups, (x, y) in blocks:
        rho[groups], rho_p[groups] = _spearman(x, y)
        for g, xg, yg in zip(groups, x, y):
            tau[g], tau_p[g] = _kendall(xg, yg)
    curves = points.groupby(FAMILY + ["sparsity"], dropna=False, sort=True)["metric"]
    curves = curves.agg(["mean", "sem", "size"]).reset_index()
    family = curves.groupby(FAMILY, dropna=False, sort=True).ngroup().to_numpy()
    bounds = np.flatnonzero(np.diff(family)) + 1  # families are contiguous, in the order of `out`
    columns = [curves[c].to_numpy() for c in ("mean", "sem", "size")]
    per_family = [np.split(c, bounds) for c in columns]
    fit = [_curve_stats(*arrays) for arrays in zip(*per_family)]
    out["n_sparsities"] = [len(x) for x in per_family[0]]
    out["spearman_rho"], out["spearman_p"] = rho, rho_p
    out["kendall_tau"], out["kendall_p"] = tau, tau_p
    out["isotonic_max_dev"] = [f[0] for f in fit]
    out["largest_violation"] = [f[1] for f in fit]
    out["noise"] = [f[2] for f in fit]
    out["monotone"] = out["largest_violation"] <= out["noise"]
    out["verdict"] = [
        _verdict(*args, alpha) for args in zip(out["n_sparsities"], out["monotone"], rho, rho_p)
    ]
    return out[FAMILY + MONOTONICITY_STATS]


def difficulty_order(df: pd.DataFrame) -> pd.DataFrame:
    """Per sparsity and level set: Spearman ρ of hardness vs drop_pct (> 0: harder loses more)."""
    d = drops(df).assign(group=lambda f: level_group(f))
    means = d.groupby(LEVELS + ["sparsity", "task", "difficulty_level"], dropna=False)
    means = means[["drop_pct", "dense_metric"]].mean().reset_index().dropna(subset=["drop_pct"])
    means["hardness"] = hardness(
        means["difficulty_axis"], means["difficulty_level"], means["dense_metric"]
    )
    out, blocks = _stacked(means, LEVELS + ["sparsity"], ["hardness", "drop_pct"])
    out = out.rename(columns={"n": "n_levels"})
    out["spearman_rho"], out["spearman_p"] = np.nan, np.nan
    for groups, (x, y) in blocks:
        out.loc[groups, "spearman_rho"], out.loc[groups, "spearman_p"] = _spearman(x, y)
    rho = out["spearman_rho"]
    out["order"] = np.select(
        [rho > 0, rho < 0], ["harder loses more", "easier loses more"], "no order"
    )
    return out[out["n_levels"] > 1].reset_index(drop=True)  # one level has nothing to order


def _order_verdict(harder: int, easier: int, n: int) -> str:
    """One sentence on how often harder levels lose more than easier ones."""
    if harder > easier:
        return f"harder levels lose more at {harder}/{n} sparsities"
    if easier > harder:
        return f"reversed: easier levels lose more at {easier}/{n} sparsities"
    return f"no consistent order across {n} sparsities"


def difficulty_summary(order: pd.DataFrame) -> pd.DataFrame:
    """Per set of levels: at how many sparsities harder (easier) levels lose more, and a verdict."""
    counts = order.assign(
        harder=order["order"] == "harder loses more", easier=order["order"] == "easier loses more"
    )
    out = counts.groupby(LEVELS, dropna=False, sort=True).agg(
        n_sparsities=("order", "size"),
        n_harder_loses_more=("harder", "sum"),
        n_easier_loses_more=("easier", "sum"),
    )
    out = out.reset_index()
    out["verdict"] = [
        _order_verdict(h, e, n)
        for h, e, n in zip(
            out["n_harder_loses_more"], out["n_easier_loses_more"], out["n_sparsities"]
        )
    ]
    return out


def threshold_sparsity(df: pd.DataFrame, thresholds: tuple[float, ...] = (1, 5)) -> pd.DataFrame:
    """Per family: the lowest sparsity whose mean drop exceeds x % of dense, per x (NaN if none)."""
    curve = drops(df).groupby(FAMILY + ["sparsity"], dropna=False, sort=True)["drop_pct"].mean()
    curve = curve.reset_index()
    out = curve[FAMILY].drop_duplicates().reset_index(drop=True)
    for x in thresholds:
        first = curve[curve["drop_pct"] > x].groupby(FAMILY, dropna=False)["sparsity"].min()
        out = out.merge(first.rename(f"sparsity_at_{x:g}pct").reset_index(), on=FAMILY, how="left")
    return out


def irreversibility(df: pd.DataFrame) -> pd.DataFrame:
    """At equal sparsity: how much of the loss of sparse / dense_freeze sparse_to_dense recovers.

    loss = dense - lossy, recovered = sparse_to_dense - lossy, fraction = recovered / loss, all
    on means over seeds; the fraction is NaN where there is no loss to recover.
    """
    keys = FAMILY[:4] + ["method", "sparsity"]
    d = drops(df)
    means = d.groupby(keys + ["transfer"], dropna=False)["metric"].mean().unstack("transfer")
    dense = d.groupby(keys, dropna=False)["dense_metric"].mean()
    blocks = []
    for lossy in ("sparse", "dense_freeze"):
        if lossy not in means or "sparse_to_dense" not in means:
            continue
        block = pd.DataFrame(
            {
                "lossy": lossy,
                "lossy_metric": means[lossy],
                "sparse_to_dense": means["sparse_to_dense"],
                "dense": dense,
            }
        ).dropna(subset=["lossy_metric", "sparse_to_dense"])
        block["loss"] = block["dense"] - block["lossy_metric"]
        block["recovered"] = block["sparse_to_dense"] - block["lossy_metric"]
        block["fraction_recovered"] = block["recovered"] / block["loss"].where(block["loss"] > 0)
        blocks.append(block.reset_index())
    if not blocks:
        return pd.DataFrame(columns=keys + ["lossy", "lossy_metric", "sparse_to_dense", "dense"])
    return pd.concat(blocks, ignore_index=True)


def missing_trials(df: pd.DataFrame, expected: pd.DataFrame) -> pd.DataFrame:
    """The rows of the expected grid (GRID columns) that have no ok result row."""
    done = ok_rows(df)[GRID].drop_duplicates()
    merged = expected[GRID].merge(done, on=GRID, how="left", indicator=True)
    return merged.loc[merged["_merge"] == "left_only", GRID].reset_index(drop=True)


def task_gaps(df: pd.DataFrame) -> pd.DataFrame:
    """Per model and task of the human_gap axis: human baseline, dense metric (mean over seeds)
    and their normalized gap; hardest first."""
    dense = dense_reference(df)
    dense = dense[dense["difficulty_axis"] == "human_gap"]
    out = dense.groupby(["model", "task"], as_index=False).agg(
        human=("difficulty_level", "first"), dense=("dense_metric", "mean")
    )
    out["gap"] = normalized_gap(out["human"], out["dense"])
    return out.sort_values(["model", "gap"], ascending=[True, False], ignore_index=True)

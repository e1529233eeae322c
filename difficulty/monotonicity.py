"""Monotonicity statistics of the Junk DNA hypothesis over a table of results rows (schema v1).

Questions answered, each by one function returning a DataFrame:

- how much does pruning cost, relative to the dense model of the same seed?   `drops`, `drop_ci`
- does a family's metric fall monotonically as sparsity grows?               `monotonicity`
- do harder difficulty levels lose more at the same sparsity?                `difficulty_order`
- at which sparsity does each level first lose more than x % of its metric?  `threshold_sparsity`
- does giving the pruned weights back recover the loss?                      `irreversibility`
- which expected trials have no result (never interpolated)?                 `missing_trials`

The reference of every pruned trial is the `dense` row (method "none", sparsity 0.0) of the same
model, task, difficulty axis, level and seed; a pruned mode at sparsity 0.0 is a trial like others.
"""

import warnings

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.isotonic import IsotonicRegression

# Which end of each difficulty axis is the hard one; unknown axes count as harder when higher.
HARDER_WHEN = {
    "data_fraction": "lower",
    "label_noise": "higher",
    "max_length": "lower",
    "human_gap": "higher",
    "context": "lower",
    "shots": "lower",
    "num_options": "higher",
}
# Axes whose levels are properties of different tasks: they are compared across tasks of a model.
CROSS_TASK_AXES = {"human_gap"}

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


def hardness(axis: pd.Series, level: pd.Series) -> pd.Series:
    """The difficulty level signed so that a larger value is always harder (see HARDER_WHEN)."""
    lower = axis.map(HARDER_WHEN).fillna("higher").eq("lower")
    return level.where(~lower, -level)


def level_group(df: pd.DataFrame) -> pd.Series:
    """The task for axes varied within a task, "*" for axes compared across tasks."""
    return df["task"].where(~df["difficulty_axis"].isin(CROSS_TASK_AXES), "*")


def drops(df: pd.DataFrame) -> pd.DataFrame:
    """Pruned ok rows with `dense_metric`, `drop` (dense − metric) and `drop_pct` (% of dense)."""
    ok = ok_rows(df)
    dense = ok.loc[ok["transfer"] == "dense", REFERENCE + ["metric"]]
    dense = dense.groupby(REFERENCE, dropna=False, as_index=False)["metric"].mean()
    out = ok[ok["transfer"] != "dense"].merge(
        dense.rename(columns={"metric": "dense_metric"}), on=REFERENCE, how="left"
    )
    out["drop"] = out["dense_metric"] - out["metric"]
    # A percentage of a zero or negative metric (e.g. MCC) means nothing: left NaN.
    out["drop_pct"] = 100 * out["drop"] / out["dense_metric"].where(out["dense_metric"] > 0)
    return out


def seed_ci(
    df: pd.DataFrame,
    value: str,
    keys: list[str],
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean, std and n of `value` per group of `keys`, with a percentile bootstrap CI over rows."""
    data = df.dropna(subset=[value])
    grouped = data.groupby(keys, dropna=False, sort=True)[value]
    out = grouped.agg(mean="mean", std="std", n="size").reset_index()
    out["ci_low"] = np.nan
    out["ci_high"] = np.nan
    # Lay the values out group after group so that groups of equal size stack into one matrix,
    # and scipy bootstraps all of them in one vectorized call per group size.
    order = np.argsort(grouped.ngroup().to_numpy(), kind="stable")
    values = data[value].to_numpy()[order]
    sizes = out["n"].to_numpy()
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rng = np.random.default_rng(seed)
    for n in np.unique(sizes[sizes > 1]):  # one row has no spread: its CI stays NaN
        groups = np.flatnonzero(sizes == n)
        sample = values[starts[groups, None] + np.arange(n)]
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
        out.loc[groups, "ci_low"] = ci.low
        out.loc[groups, "ci_high"] = ci.high
    return out


def drop_ci(df: pd.DataFrame, confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Per family and sparsity: mean drop from dense over seeds, its bootstrap CI, and drop_pct."""
    d = drops(df)
    out = seed_ci(d, "drop", FAMILY + ["sparsity"], confidence=confidence, seed=seed)
    pct = d.groupby(FAMILY + ["sparsity"], dropna=False)["drop_pct"].mean()
    return out.merge(pct.reset_index(), on=FAMILY + ["sparsity"], how="left")


def largest_violation(curve: np.ndarray) -> float:
    """The largest rise of a curve above its earlier minimum (0 for a non-increasing curve)."""
    return float(max(0.0, np.max(curve - np.minimum.accumulate(curve))))


def _family_stats(points: pd.DataFrame, alpha: float) -> dict:
    """Trend and monotonicity of one family's (sparsity, metric) points."""
    curve = points.groupby("sparsity")["metric"].agg(["mean", "sem", "size"])
    x, y = points["sparsity"].to_numpy(), points["metric"].to_numpy()
    with warnings.catch_warnings():  # a constant curve has no rank correlation: NaN is the answer
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        rho, rho_p = stats.spearmanr(x, y) if len(curve) > 1 else (np.nan, np.nan)
        tau, tau_p = stats.kendalltau(x, y) if len(curve) > 1 else (np.nan, np.nan)
    means = curve["mean"].to_numpy()
    fit = IsotonicRegression(increasing=False).fit_transform(
        curve.index.to_numpy(), means, sample_weight=curve["size"].to_numpy()
    )
    violation = largest_violation(means)
    noise = float(curve["sem"].mean()) if curve["sem"].notna().any() else 0.0
    monotone = violation <= noise  # a rise within the typical standard error of a mean is noise
    falls, rises = rho < 0 and rho_p < alpha, rho > 0 and rho_p < alpha
    if len(curve) < 2:
        verdict = "too few sparsities"
    elif monotone and falls:
        verdict = "monotone: metric falls with sparsity"
    elif monotone and not rises:
        verdict = "flat: no significant change with sparsity"
    elif falls:
        verdict = "falls with sparsity, but not monotonically"
    elif rises:
        verdict = "rises with sparsity"
    else:
        verdict = "no monotone trend"
    return {
        "n_sparsities": len(curve),
        "n_points": len(points),
        "spearman_rho": rho,
        "spearman_p": rho_p,
        "kendall_tau": tau,
        "kendall_p": tau_p,
        "isotonic_max_dev": float(np.max(np.abs(means - fit))),
        "largest_violation": violation,
        "noise": noise,
        "monotone": monotone,
        "verdict": verdict,
    }


def monotonicity(df: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Per pruned family: Spearman/Kendall of metric vs sparsity, isotonic fit, violation, verdict.

    The rank correlations (and their p-values) use every seed's (sparsity, metric) point; the
    isotonic (decreasing) fit and the largest violation use the curve of means over seeds.
    """
    ok = ok_rows(df)
    ok = ok.loc[ok["transfer"] != "dense", FAMILY + ["sparsity", "metric"]]
    ok = ok.dropna(subset=["sparsity", "metric"])
    rows = [
        dict(zip(FAMILY, key)) | _family_stats(points, alpha)
        for key, points in ok.groupby(FAMILY, dropna=False, sort=True)
    ]
    return pd.DataFrame(rows, columns=FAMILY + MONOTONICITY_STATS)


def difficulty_order(df: pd.DataFrame) -> pd.DataFrame:
    """Per sparsity and level set: Spearman ρ of hardness vs drop_pct (> 0: harder loses more)."""
    d = drops(df).assign(group=lambda f: level_group(f))
    means = d.groupby(LEVELS + ["sparsity", "task", "difficulty_level"], dropna=False)
    means = means["drop_pct"].mean().reset_index().dropna(subset=["drop_pct"])
    means["hardness"] = hardness(means["difficulty_axis"], means["difficulty_level"])
    rows = []
    for key, points in means.groupby(LEVELS + ["sparsity"], dropna=False, sort=True):
        if len(points) < 2:
            continue  # a single level has nothing to be ordered against
        rho, p = np.nan, np.nan
        if points["hardness"].nunique() > 1 and points["drop_pct"].nunique() > 1:
            rho, p = stats.spearmanr(points["hardness"], points["drop_pct"])
        order = "harder loses more" if rho > 0 else "easier loses more" if rho < 0 else "no order"
        rows.append(
            dict(zip(LEVELS + ["sparsity"], key))
            | {"n_levels": len(points), "spearman_rho": rho, "spearman_p": p, "order": order}
        )
    columns = LEVELS + ["sparsity", "n_levels", "spearman_rho", "spearman_p", "order"]
    return pd.DataFrame(rows, columns=columns)


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
    if "sparse_to_dense" not in means:
        return pd.DataFrame(columns=keys + ["lossy", "lossy_metric", "sparse_to_dense", "dense"])
    blocks = []
    for lossy in ("sparse", "dense_freeze"):
        if lossy not in means:
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
    return pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame(columns=keys)


def missing_trials(df: pd.DataFrame, expected: pd.DataFrame) -> pd.DataFrame:
    """The rows of the expected grid (GRID columns) that have no ok result row."""
    done = ok_rows(df)[GRID].drop_duplicates()
    merged = expected[GRID].merge(done, on=GRID, how="left", indicator=True)
    return merged.loc[merged["_merge"] == "left_only", GRID].reset_index(drop=True)

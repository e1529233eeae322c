"""Monotonicity statistics of the Junk DNA hypothesis, built from a table's drops and levels.

Questions answered, each by one function returning a DataFrame from what results.reference
built (results.analysis.Analysis calls each once per table and holds the answers):

- does a family's metric fall monotonically as sparsity grows?               `monotonicity`
- do harder difficulty levels lose more at the same sparsity?                `difficulty_order`,
                                                                             `difficulty_summary`
- at which sparsity does each level first lose more than x % of its metric?  `threshold_sparsity`
- does giving the pruned weights back recover the loss?                      `irreversibility`
- which expected trials have no result (never interpolated)?                 `missing_trials`
- how far is each task's dense model from people (the human_gap axis)?        `task_gaps`

A level whose dense interval reaches its chance level is "at chance" and takes no part in an
ordering verdict; a curve that reaches chance at sparsity s is "collapsed at s", and its points
beyond s are no evidence. Sparsity 0 is no comparison of levels.
"""

import itertools
import warnings

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.isotonic import isotonic_regression

from results.reference import FAMILY, LEVELS, REFERENCE, _stacked, seed_ci, spearman
from results.transfer_modes import TRANSFER_MODES

# lossy modes leave a pruned weight out for good (a mask kept through fine-tuning of the whole
# model); the modes that give it back train it again from 0
LOSSY = [m.name for m in TRANSFER_MODES.values() if m.keeps_mask and m.same_as_dense_at_zero]
GIVES_BACK = [m.name for m in TRANSFER_MODES.values() if m.prunes and m.trains and not m.keeps_mask]
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
    "at_chance",
    "collapsed_at",
    "verdict",
]


def largest_violation(curve: np.ndarray) -> float:
    """The largest rise of a curve above its earlier minimum (0 for a non-increasing curve)."""
    return float(max(0.0, np.max(curve - np.minimum.accumulate(curve))))


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


FALLS = "monotone: metric falls with sparsity"
"""The verdict of a family that falls monotonically ("; collapsed at s" may follow it)."""


def _verdict(n_sparsities: int, monotone: bool, rho: float, p: float, alpha: float) -> str:
    """A few words on a family's trend with sparsity."""
    falls, rises = rho < 0 and p < alpha, rho > 0 and p < alpha
    if n_sparsities < 2:
        return "too few sparsities"
    if monotone and falls:
        return FALLS
    if monotone and not rises:
        return "flat: no significant change with sparsity"
    if falls:
        return "falls with sparsity, but not monotonically"
    return "rises with sparsity" if rises else "no monotone trend"


def monotonicity(
    drops: pd.DataFrame, collapsed: pd.DataFrame, levels: pd.DataFrame, alpha: float = 0.05
) -> pd.DataFrame:
    """Per pruned family: Spearman/Kendall of metric vs sparsity, isotonic fit, violation, verdict.

    The rank correlations (and their p-values) use every seed's (sparsity, metric) point; the
    isotonic (decreasing) fit and the largest violation use the curve of means over seeds, and a
    violation within the 95 % half-width of a difference of two of those means is noise. A curve
    that collapsed (reached chance) at s is judged up to s; a level at chance gets no verdict.
    """
    points = drops[FAMILY + ["sparsity", "metric"]].dropna(subset=["sparsity", "metric"])
    points = points.merge(collapsed, on=FAMILY)
    points = points[~(points["sparsity"] > points["collapsed_at"])]
    if points.empty:
        return pd.DataFrame(columns=FAMILY + MONOTONICITY_STATS)
    out, blocks = _stacked(points, FAMILY, ["sparsity", "metric"])
    out = out.rename(columns={"n": "n_points"})
    rho, rho_p = np.full(len(out), np.nan), np.full(len(out), np.nan)
    tau, tau_p = np.full(len(out), np.nan), np.full(len(out), np.nan)
    for groups, (x, y) in blocks:
        rho[groups], rho_p[groups] = spearman(x, y)
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
    out = out.merge(collapsed, on=FAMILY, how="left")
    at_chance = levels[REFERENCE[:4] + ["at_chance"]]
    out = out.merge(at_chance, on=REFERENCE[:4], how="left")
    out["at_chance"] = out["at_chance"].eq(True)
    collapsed = out["verdict"] + out["collapsed_at"].map("; collapsed at {:g}".format)
    out["verdict"] = out["verdict"].where(out["collapsed_at"].isna(), collapsed)
    out.loc[out["at_chance"], "verdict"] = "dense metric at chance: no verdict"
    return out[FAMILY + MONOTONICITY_STATS]


def compared_drops(
    drops: pd.DataFrame, levels: pd.DataFrame, collapsed: pd.DataFrame
) -> pd.DataFrame:
    """The pruned rows an ordering of levels rests on, with `hardness` and `group`.

    Left out: sparsity 0 (no pruning, nothing to compare), levels whose dense metric is at chance,
    and the points of a curve beyond its collapse; a metric below chance counts as chance.
    """
    levels = levels[REFERENCE[:4] + ["at_chance", "hardness"]]
    d = drops.merge(levels, on=REFERENCE[:4], how="left").merge(collapsed, on=FAMILY, how="left")
    d = d[(d["sparsity"] > 0) & ~d["at_chance"].eq(True) & ~(d["sparsity"] > d["collapsed_at"])]
    # a metric past chance counts as chance: the drop is capped at the drop to chance
    to_chance = d["better"] * (d["dense_metric"] - d["chance"])
    floored = d["drop"].where(~(d["drop"] > to_chance), to_chance)
    positive = d["dense_metric"].where(d["dense_metric"] > 0)
    return d.assign(drop_pct=100 * floored / positive)


def _rank_order(d: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per group of `keys`: the number of levels and Spearman ρ of hardness vs drop_pct."""
    d = d.dropna(subset=["drop_pct"])
    if d.empty:
        return pd.DataFrame(columns=keys + ["n_levels", "spearman_rho", "spearman_p"])
    out, blocks = _stacked(d, keys, ["hardness", "drop_pct"])
    out = out.rename(columns={"n": "n_levels"})
    out["spearman_rho"], out["spearman_p"] = np.nan, np.nan
    for groups, (x, y) in blocks:
        out.loc[groups, "spearman_rho"], out.loc[groups, "spearman_p"] = spearman(x, y)
    return out[out["n_levels"] > 1].reset_index(drop=True)  # one level has nothing to order


def difficulty_order(compared: pd.DataFrame) -> pd.DataFrame:
    """Per sparsity > 0 and level set: Spearman ρ of hardness vs mean drop_pct over seeds
    (> 0: harder loses more), over the levels `compared_drops` keeps."""
    d = compared
    means = d.groupby(LEVELS + ["sparsity", "task", "difficulty_level"], dropna=False)
    means = means[["drop_pct", "hardness"]].mean().reset_index()
    out = _rank_order(means, LEVELS + ["sparsity"])
    rho = out["spearman_rho"]
    out["order"] = np.select(
        [rho > 0, rho < 0], ["harder loses more", "easier loses more"], "no order"
    )
    return out


def _order_verdict(
    harder: int, easier: int, n: int, levels: int, rho: float, low: float, high: float, seeds: int
) -> str:
    """One sentence on how often harder levels lose more, with its uncertainty over seeds and the
    most levels a comparison had."""
    if harder > easier:
        words = f"harder levels lose more at {harder}/{n} sparsities"
    elif easier > harder:
        words = f"reversed: easier levels lose more at {easier}/{n} sparsities"
    else:
        words = f"no consistent order across {n} sparsities"
    if pd.isna(rho):
        text = "ρ undefined: the drops do not vary"
    elif seeds < 2:
        text = f"mean ρ {rho:.2f}; one seed: no interval, too few to conclude"
    else:
        text = f"mean ρ {rho:.2f}, 95 % t-interval over {seeds} seeds [{low:.2f}, {high:.2f}]"
        text += ": includes 0, not conclusive" if low <= 0 <= high else ""
    return f"{words} ({text}; up to {levels} levels per comparison)"


def difficulty_summary(
    compared: pd.DataFrame, order: pd.DataFrame, confidence: float = 0.95
) -> pd.DataFrame:
    """Per set of levels: the comparisons (sparsities > 0 with two or more levels above chance:
    `order`, from `compared`), at how many harder (easier) levels lose more, and Spearman ρ per
    seed — averaged over the comparisons, then over seeds with a t interval — in one verdict."""
    counts = order.assign(
        harder=order["order"] == "harder loses more", easier=order["order"] == "easier loses more"
    )
    out = counts.groupby(LEVELS, dropna=False, sort=True).agg(
        n_sparsities=("order", "size"),
        n_levels=("n_levels", "max"),
        n_harder_loses_more=("harder", "sum"),
        n_easier_loses_more=("easier", "sum"),
    )
    out = out.reset_index()
    per_seed = _rank_order(compared, LEVELS + ["sparsity", "seed"])
    per_seed = per_seed.groupby(LEVELS + ["seed"], dropna=False)["spearman_rho"].mean()
    rho = seed_ci(per_seed.reset_index(), "spearman_rho", LEVELS, confidence)
    rho = rho.rename(columns={"n": "n_seeds", "mean": "rho", "std": "rho_std"})
    rho = rho.rename(columns={"ci_low": "rho_ci_low", "ci_high": "rho_ci_high"})
    out = out.merge(rho, on=LEVELS, how="left")
    out["n_seeds"] = out["n_seeds"].fillna(0).astype(int)
    out["verdict"] = [
        _order_verdict(*args)
        for args in zip(
            out["n_harder_loses_more"],
            out["n_easier_loses_more"],
            out["n_sparsities"],
            out["n_levels"],
            out["rho"],
            out["rho_ci_low"],
            out["rho_ci_high"],
            out["n_seeds"],
        )
    ]
    return out


def threshold_sparsity(drops: pd.DataFrame, thresholds=(1, 5)) -> pd.DataFrame:
    """Per family: the lowest sparsity whose mean drop exceeds x % of dense, per x (NaN if none)."""
    curve = drops.groupby(FAMILY + ["sparsity"], dropna=False, sort=True)["drop_pct"].mean()
    curve = curve.reset_index()
    out = curve[FAMILY].drop_duplicates().reset_index(drop=True)
    for x in thresholds:
        first = curve[curve["drop_pct"] > x].groupby(FAMILY, dropna=False)["sparsity"].min()
        out = out.merge(first.rename(f"sparsity_at_{x:g}pct").reset_index(), on=FAMILY, how="left")
    return out


def irreversibility(drops: pd.DataFrame) -> pd.DataFrame:
    """At equal sparsity: how much of the loss of each lossy mode (its pruned weights stay out:
    sparse, dense_freeze) a mode that trains them again (sparse_to_dense) recovers.

    loss = dense - lossy, recovered = sparse_to_dense - lossy, fraction = recovered / loss, all
    on means over seeds; the fraction is NaN where there is no loss to recover.
    """
    keys = FAMILY[:4] + ["method", "scope", "sparsity"]
    d = drops
    means = d.groupby(keys + ["transfer"], dropna=False)["metric"].mean().unstack("transfer")
    dense = d.groupby(keys, dropna=False)["dense_metric"].mean()
    blocks = []
    for lossy, back in itertools.product(LOSSY, GIVES_BACK):
        if lossy not in means or back not in means:
            continue
        block = pd.DataFrame(
            {
                "lossy": lossy,
                "lossy_metric": means[lossy],
                "sparse_to_dense": means[back],
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


def missing_trials(ok: pd.DataFrame, expected: pd.DataFrame) -> pd.DataFrame:
    """The rows of the expected grid (GRID columns) that have no ok result row."""
    done = ok[GRID].drop_duplicates()
    merged = expected[GRID].merge(done, on=GRID, how="left", indicator=True)
    return merged.loc[merged["_merge"] == "left_only", GRID].reset_index(drop=True)


def task_gaps(levels: pd.DataFrame) -> pd.DataFrame:
    """Per model and task of the human_gap axis: human baseline, dense metric (mean over seeds)
    and their normalized gap; hardest first."""
    gaps = levels[levels["difficulty_axis"] == "human_gap"]
    gaps = gaps.rename(columns={"difficulty_level": "human", "mean": "dense", "difficulty": "gap"})
    gaps = gaps[["model", "task", "human", "dense", "gap"]]
    return gaps.sort_values(["model", "gap"], ascending=[True, False], ignore_index=True)

"""What every comparison in the analysis stands on: the dense reference, chance, hardness.

- the `dense` row of the same model, task, axis, level and seed each pruned trial is compared
  with (`dense_reference`), and the drops from it (`drops`, `drop_ci`, `relative_ci`);
- each level's dense metric over seeds, its chance level, whether it is at chance, its computed
  difficulty and hardness (`dense_levels`); where a curve reaches chance (`collapse`);
- Student-t intervals over seeds (`t_interval`, `seed_ci`): valid at the 2-5 seeds sweeps use,
  NaN for one seed.

What each axis means (which end is hard, whether its levels are compared across tasks) is read
from its record in difficulty.axes; chance levels from difficulty.metrics.
"""

import json

import numpy as np
import pandas as pd
from scipy import stats

from difficulty.axes import AXES
from difficulty.human_gap import normalized_gap
from difficulty.metrics import METRICS, zero_chance

REFERENCE = ["model", "task", "difficulty_axis", "difficulty_level", "seed"]
# `scope` is part of a family: global and per-layer masks of one method are different curves.
FAMILY = ["model", "task", "difficulty_axis", "difficulty_level", "method", "scope", "transfer"]
# A set of difficulty levels compared with each other: `group` is the task, or "*" across tasks.
LEVELS = ["model", "difficulty_axis", "group", "method", "scope", "transfer"]


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


def _chance(metric_name: str, metrics: object) -> float:
    """The value of a row's metric for a guess, from the metric registry and the row's metrics.

    0 for metrics whose chance is 0 or undefined (MCC, correlations, exact match, BLEU, above-
    chance accuracies); for multiple choice (junkdna's or lm-eval's acc, acc_norm) the recorded
    `chance` (mean 1/options); for a
    classifier's accuracy the recorded `majority` share of the evaluation labels; NaN otherwise
    (the chance level is unknown, e.g. rows without `metrics`, and nothing is marked at chance).
    """
    values = json.loads(metrics) if isinstance(metrics, str) else {}
    # lm-eval's standard errors (`acc_stderr`) come with its metrics and say nothing of chance
    names = {n for n in values if not n.endswith("_stderr")} | {metric_name}
    outputs = [o for o, registered in METRICS.items() if names <= set(registered)]
    if len(outputs) != 1:
        return np.nan
    output = outputs[0]
    if METRICS[output][metric_name].chance in (None, zero_chance):
        return 0.0
    recorded = {"choose": "chance", "lm_eval": "chance", "classify": "majority"}.get(output)
    if metric_name.startswith("acc") and recorded in values:
        return float(values[recorded])
    return np.nan


def chance_level(df: pd.DataFrame) -> pd.Series:
    """Per row: the chance level of its metric (see `_chance`), NaN where unknown."""
    metrics = df["metrics"] if "metrics" in df else pd.Series(None, index=df.index)
    return pd.Series(
        [_chance(n, m) for n, m in zip(df["metric_name"], metrics)], index=df.index, dtype=float
    )


def difficulty_value(axis: pd.Series, level: pd.Series, dense: pd.Series) -> pd.Series:
    """The level as the analysis shows it; for human_gap the gap (human - dense) / human."""
    return level.where(axis.ne("human_gap"), normalized_gap(level, dense))


def dense_levels(df: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per model, task, axis and level: the dense metric over seeds (mean, n, t CI), its chance
    level, `at_chance`, the computed `difficulty` value and `hardness` (larger is harder).

    At chance: the dense CI reaches the chance level (with one seed, no CI: mean <= chance).
    Levels come sorted easiest first within each model and axis.
    """
    level = REFERENCE[:4]
    ok = ok_rows(df)
    dense = ok[ok["transfer"] == "dense"]
    if dense.empty:
        columns = ["n", "mean", "std", "ci_low", "ci_high", "chance", "difficulty", "hardness"]
        return df.iloc[:0][level].assign(**dict.fromkeys(columns, np.nan), at_chance=False)
    out = seed_ci(dense_reference(df), "dense_metric", level, confidence)
    chance = dense.assign(chance=chance_level(dense)).groupby(level, dropna=False)["chance"]
    out = out.merge(chance.mean().reset_index(), on=level, how="left")
    reaches = out["ci_low"].where(out["n"] > 1, out["mean"]) <= out["chance"]
    out["at_chance"] = reaches & out["chance"].notna()
    out["difficulty"] = difficulty_value(
        out["difficulty_axis"], out["difficulty_level"], out["mean"]
    )
    out["hardness"] = hardness(out["difficulty_axis"], out["difficulty_level"], out["mean"])
    return out.sort_values(["model", "difficulty_axis", "hardness", "task"], ignore_index=True)


def collapse(df: pd.DataFrame) -> pd.DataFrame:
    """Per pruned family: `collapsed_at`, the lowest sparsity whose mean metric over seeds is at
    or below the chance level (NaN if the curve never reaches it or chance is unknown)."""
    d = drops(df)
    d = d.assign(chance=chance_level(d))
    curve = d.groupby(FAMILY + ["sparsity"], dropna=False)[["metric", "chance"]].mean()
    curve = curve.reset_index()
    hit = curve[curve["metric"] <= curve["chance"]]
    first = hit.groupby(FAMILY, dropna=False)["sparsity"].min().rename("collapsed_at")
    out = curve[FAMILY].drop_duplicates().merge(first.reset_index(), on=FAMILY, how="left")
    return out.reset_index(drop=True)


def drops(df: pd.DataFrame) -> pd.DataFrame:
    """Pruned ok rows with `dense_metric`, `drop` (dense − metric), `drop_pct`, `pct_of_dense`."""
    ok = ok_rows(df)
    out = ok[ok["transfer"] != "dense"].merge(dense_reference(df), on=REFERENCE, how="left")
    out["drop"] = out["dense_metric"] - out["metric"]
    # A percentage of a zero or negative metric (e.g. MCC) means nothing: left NaN.
    positive = out["dense_metric"].where(out["dense_metric"] > 0)
    out["drop_pct"] = 100 * out["drop"] / positive
    out["pct_of_dense"] = 100 * out["metric"] / positive
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


def t_interval(
    mean: np.ndarray, std: np.ndarray, n: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Student-t interval of a mean of n values with sample std; NaN where n < 2."""
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf((1 + confidence) / 2, np.where(n > 1, n - 1, np.nan)) * std / np.sqrt(n)
    return mean - half, mean + half


def seed_ci(
    df: pd.DataFrame, value: str, keys: list[str], confidence: float = 0.95
) -> pd.DataFrame:
    """Mean, std and n of `value` per group of `keys`, with a Student-t CI of the mean over rows."""
    data = df.dropna(subset=[value])
    grouped = data.groupby(keys, dropna=False, sort=True)[value]
    out = grouped.agg(mean="mean", std="std", n="size").reset_index()
    out["ci_low"], out["ci_high"] = t_interval(out["mean"], out["std"], out["n"], confidence)
    return out[keys + ["n", "mean", "std", "ci_low", "ci_high"]]


def drop_ci(df: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per family and sparsity: mean drop from dense over seeds, its t CI, and drop_pct."""
    d = drops(df)
    out = seed_ci(d, "drop", FAMILY + ["sparsity"], confidence=confidence)
    pct = d.groupby(FAMILY + ["sparsity"], dropna=False)["drop_pct"].mean()
    return out.merge(pct.reset_index(), on=FAMILY + ["sparsity"], how="left")


def relative_ci(df: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per family and sparsity: the metric as % of the same seed's dense metric, mean and t CI."""
    return seed_ci(drops(df), "pct_of_dense", FAMILY + ["sparsity"], confidence=confidence)

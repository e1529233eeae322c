"""What every comparison in the analysis stands on: the dense reference, chance, hardness.

Builders that results.analysis.Analysis calls once per table, each from what the one before
gave (nothing here reads a table twice):

- the dense rows (`is_dense`: TransferMode.prunes), each level and seed's dense metric
  (`dense_reference`), and per level its mean over seeds with a t interval, chance level,
  at-chance flag, computed difficulty and hardness (`dense_levels`);
- each pruned row's drop from the dense row of its model, task, axis, level and seed, with its
  chance level and level group (`drops`), and where a curve reaches chance (`collapse`);
- Student-t intervals over seeds (`t_interval`, `seed_ci`: valid at the 2-5 seeds sweeps use,
  NaN for one seed), and the one Spearman ρ of the analysis (`spearman`).

What each axis means (which end is hard, whether its levels are compared across tasks, a
difficulty computed from the dense metric) is read from its record in difficulty.axes; chance
levels and which way a metric is better from difficulty.metrics; which rows are the unpruned
reference from results.transfer_modes.
"""

import json
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from difficulty.axes import AXES
from difficulty.metrics import METRICS, zero_chance
from results.transfer_modes import TRANSFER_MODES

REFERENCE = ["model", "task", "difficulty_axis", "difficulty_level", "seed"]
# `scope` is part of a family: global and per-layer masks of one method are different curves.
FAMILY = ["model", "task", "difficulty_axis", "difficulty_level", "method", "scope", "transfer"]
# A set of difficulty levels compared with each other: `group` is the task, or "*" across tasks.
LEVELS = ["model", "difficulty_axis", "group", "method", "scope", "transfer"]


def ok_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The finished trials (status "ok"); failed rows take no part in any statistic."""
    return df[df["status"] == "ok"]


def _fact(names: pd.Series, registry: dict, what: str, fact: str) -> pd.Series:
    """A field of each row's registered record (NaN for none); an unknown name is an error."""
    unknown = sorted(set(names.dropna()) - set(registry))
    if unknown:
        raise ValueError(
            f"{what} {unknown[0]!r} is not registered; registered: {', '.join(registry)}"
        )
    return names.map({name: getattr(record, fact) for name, record in registry.items()})


def is_dense(rows: pd.DataFrame) -> pd.Series:
    """Which rows are the unpruned reference: their transfer mode prunes nothing."""
    return _fact(rows["transfer"], TRANSFER_MODES, "transfer mode", "prunes").eq(False)


def difficulty_value(axis: pd.Series, level: pd.Series, dense: pd.Series) -> pd.Series:
    """The level as the analysis orders and shows it: Axis.measured's value from the level and
    its dense metric where the axis has one (human_gap: the gap (human - dense) / human)."""
    value = level
    for name, record in AXES.items():
        if record.measured is not None and axis.eq(name).any():
            value = value.where(axis.ne(name), record.measured.value(level, dense))
    return value


def hardness(axis: pd.Series, level: pd.Series, dense: pd.Series | None = None) -> pd.Series:
    """The difficulty signed so that a larger value is always harder (Axis.harder_when); given
    the dense metric, of the difficulty the axis computes from it (Axis.measured)."""
    lower = _fact(axis, AXES, "difficulty axis", "harder_when").eq("lower")
    value = level if dense is None else difficulty_value(axis, level, dense)
    return value.where(~lower, -value)


def level_group(df: pd.DataFrame) -> pd.Series:
    """The task for axes varied within a task, "*" for axes compared across tasks."""
    cross_task = _fact(df["difficulty_axis"], AXES, "difficulty axis", "cross_task").eq(True)
    return df["task"].where(~cross_task, "*")


def dense_reference(ok: pd.DataFrame) -> pd.DataFrame:
    """The dense metric of each model, task, axis, level and seed: REFERENCE + `dense_metric`.

    The mean of the ok dense rows of that key (one per key in a deduplicated table); every
    comparison with dense in the analysis, the tables and the plots starts here.
    """
    dense = ok.loc[is_dense(ok), REFERENCE + ["metric"]]
    dense = dense.groupby(REFERENCE, dropna=False, as_index=False)["metric"].mean()
    return dense.rename(columns={"metric": "dense_metric"})


def _metric(metric_name: str, values: dict):
    """The registered Metric a row reports, found by the names it records; None if not one."""
    # lm-eval's standard errors (`acc_stderr`) come with its metrics and name no metric
    names = {n for n in values if not n.endswith("_stderr")} | {metric_name}
    outputs = [o for o, registered in METRICS.items() if names <= set(registered)]
    return METRICS[outputs[0]][metric_name] if len(outputs) == 1 else None


def _chance(metric_name: str, metrics: object) -> float:
    """The value of a row's metric for a guess, from its Metric record and the row's metrics.

    0 for metrics whose chance is 0 or undefined (MCC, correlations, exact match, BLEU, above-
    chance accuracies); the recorded chance level where the record names one
    (`Metric.recorded_chance`: the `majority` share for a classifier's accuracy, the mean
    1/options for multiple choice); NaN otherwise (unknown, e.g. rows without `metrics`, and
    nothing is marked at chance).
    """
    values = json.loads(metrics) if isinstance(metrics, str) else {}
    metric = _metric(metric_name, values)
    if metric is None:
        return np.nan
    if metric.chance in (None, zero_chance):
        return 0.0
    if metric.recorded_chance in values:
        return float(values[metric.recorded_chance])
    return np.nan


def _higher_is_better(metric_name: str, metrics: object) -> bool:
    """Metric.higher_is_better of a row's metric (True where the metric is not registered)."""
    values = json.loads(metrics) if isinstance(metrics, str) else {}
    metric = _metric(metric_name, values)
    return True if metric is None else metric.higher_is_better


def _per_row(df: pd.DataFrame, fact) -> list:
    """A fact of each row's metric, computed once per distinct (metric_name, metrics)."""
    metrics = df["metrics"] if "metrics" in df else pd.Series(None, index=df.index)
    pairs = list(zip(df["metric_name"], metrics))
    known = {pair: fact(*pair) for pair in set(pairs)}
    return [known[pair] for pair in pairs]


def chance_level(df: pd.DataFrame) -> pd.Series:
    """Per row: the chance level of its metric (see `_chance`), NaN where unknown."""
    return pd.Series(_per_row(df, _chance), index=df.index, dtype=float)


def better(df: pd.DataFrame) -> pd.Series:
    """Per row: +1 where a larger metric is better, -1 where a smaller one is."""
    return pd.Series(np.where(_per_row(df, _higher_is_better), 1.0, -1.0), index=df.index)


def bounds(metric_name: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Per row: the lowest and highest value its metric can take (Metric.bounds; the widest of
    the metrics of that name; unbounded for a name no metric has)."""
    registered = [m for by_name in METRICS.values() for m in by_name.values()]
    low = {m.name: min(r.bounds[0] for r in registered if r.name == m.name) for m in registered}
    high = {m.name: max(r.bounds[1] for r in registered if r.name == m.name) for m in registered}
    low, high = metric_name.map(low).astype(float), metric_name.map(high).astype(float)
    return low.fillna(-np.inf), high.fillna(np.inf)


def dense_levels(ok: pd.DataFrame, reference: pd.DataFrame, confidence=0.95) -> pd.DataFrame:
    """Per model, task, axis and level: the dense metric over seeds (mean, n, t CI), its chance
    level, `at_chance`, the computed `difficulty` value and `hardness` (larger is harder).

    At chance: the dense CI reaches the chance level (with one seed, no CI: mean <= chance; for
    a metric where smaller is better, the CI's upper end >= chance). Levels come sorted easiest
    first within each model and axis.
    """
    level = REFERENCE[:4]
    dense = ok[is_dense(ok)]
    if dense.empty:
        columns = ["n", "mean", "std", "ci_low", "ci_high", "chance", "difficulty", "hardness"]
        return ok.iloc[:0][level].assign(**dict.fromkeys(columns, np.nan), at_chance=False)
    out = seed_ci(reference, "dense_metric", level, confidence)
    facts = dense.assign(chance=chance_level(dense), better=better(dense))
    facts = facts.groupby(level, dropna=False)[["chance", "better"]].mean().reset_index()
    out = out.merge(facts, on=level, how="left")
    sign = out.pop("better")
    worst = out["ci_low"].where(sign > 0, out["ci_high"]).where(out["n"] > 1, out["mean"])
    out["at_chance"] = (sign * worst <= sign * out["chance"]) & out["chance"].notna()
    level_value = out["difficulty_level"]
    out["difficulty"] = difficulty_value(out["difficulty_axis"], level_value, out["mean"])
    out["hardness"] = hardness(out["difficulty_axis"], level_value, out["mean"])
    return out.sort_values(["model", "difficulty_axis", "hardness", "task"], ignore_index=True)


def drops(ok: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Pruned ok rows with `dense_metric`, `drop` (dense − metric; metric − dense where smaller
    is better: `better` = −1), `drop_pct`, `pct_of_dense`, their metric's `chance` level and
    their `group`."""
    out = ok[~is_dense(ok)].merge(reference, on=REFERENCE, how="left")
    out["better"] = better(out)
    out["drop"] = out["better"] * (out["dense_metric"] - out["metric"])
    # A percentage of a zero or negative metric (e.g. MCC) means nothing: left NaN.
    positive = out["dense_metric"].where(out["dense_metric"] > 0)
    out["drop_pct"] = 100 * out["drop"] / positive
    out["pct_of_dense"] = 100 * out["metric"] / positive
    return out.assign(chance=chance_level(out), group=level_group(out))


def collapse(drops: pd.DataFrame) -> pd.DataFrame:
    """Per pruned family: `collapsed_at`, the lowest sparsity whose mean metric over seeds is at
    or past the chance level (NaN if the curve never reaches it or chance is unknown)."""
    d = drops
    curve = d.groupby(FAMILY + ["sparsity"], dropna=False)[["metric", "chance", "better"]].mean()
    curve = curve.reset_index()
    hit = curve[curve["better"] * curve["metric"] <= curve["better"] * curve["chance"]]
    first = hit.groupby(FAMILY, dropna=False)["sparsity"].min().rename("collapsed_at")
    out = curve[FAMILY].drop_duplicates().merge(first.reset_index(), on=FAMILY, how="left")
    return out.reset_index(drop=True)


def spearman(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spearman ρ and p-value of each row of two (groups × points) arrays; NaN where constant."""
    if x.shape[1] < 2:
        return np.full(len(x), np.nan), np.full(len(x), np.nan)
    with warnings.catch_warnings():  # a constant row has no rank correlation: NaN is the answer
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        # Spearman's ρ is Pearson's r of the ranks, and pearsonr takes a whole batch at once.
        result = stats.pearsonr(stats.rankdata(x, axis=1), stats.rankdata(y, axis=1), axis=1)
    return result.statistic, result.pvalue


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


def drop_ci(drops: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per family and sparsity: mean drop from dense over seeds, its t CI, and drop_pct."""
    out = seed_ci(drops, "drop", FAMILY + ["sparsity"], confidence=confidence)
    pct = drops.groupby(FAMILY + ["sparsity"], dropna=False)["drop_pct"].mean()
    return out.merge(pct.reset_index(), on=FAMILY + ["sparsity"], how="left")


def relative_ci(drops: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per family and sparsity: the metric as % of the same seed's dense metric, mean and t CI."""
    return seed_ci(drops, "pct_of_dense", FAMILY + ["sparsity"], confidence=confidence)

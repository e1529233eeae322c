"""Pruning beside quantization, and the points a sweep computes once for several modes.

Two steps of reading a sweep's rows for the analysis (orchestrator.cli calls them where it
loads rows for tables and reports):

- `with_equivalents`: a trial the grid runs as another (at sparsity 0, sparse, dense_freeze and
  sparse_to_dense are the dense trial: orchestrator.spec.grid) gets its row back, a copy of the
  other's under its own identity, so tables and plots show every mode's point at sparsity 0.
- `split`: quantization rows (non-null `bits`) apart from pruning rows, each with the dense rows,
  so that nothing grouped by sparsity mixes a quantized model (recorded at sparsity 0) into a
  pruning curve.

`compare` then asks, on the tasks and levels both compressions ran, whether harder difficulty
levels lose more under pruning (per sparsity > 0) and under quantization (per bit width, fewer
bits = more compression), with the statistics of results.monotonicity.
"""

from __future__ import annotations

import pandas as pd

from results import monotonicity as mono
from results import reference as ref
from results.analysis import analyze
from results.tables import markdown, number

EQUIVALENT = ["trial_key", "method", "scope", "transfer", "sparsity"]
"""What differs between a trial and the one run for it: its identity in the grid."""
POINT = ref.REFERENCE[:4]  # model, task, axis, level
SUMMARY = ref.LEVELS + ["compression", "at"]
NO_COMPARISON = (
    "no verdict: no two levels above chance that both pruning and quantization ran "
    "(a level at chance is left out of every ordering)"
)


def with_equivalents(rows: pd.DataFrame, equivalents: pd.DataFrame) -> pd.DataFrame:
    """The rows, plus a row for each trial run as another: that one's row, under the trial's
    EQUIVALENT columns. `equivalents`: EQUIVALENT + `same_as` (the key of the trial run). A
    trial that has a row of its own (run before the grid merged it) keeps that row."""
    if equivalents.empty:
        return rows
    wanted = equivalents[~equivalents["trial_key"].isin(rows["trial_key"])]
    source = rows.drop(columns=EQUIVALENT[1:]).rename(columns={"trial_key": "same_as"})
    copies = wanted[EQUIVALENT + ["same_as"]].merge(source, on="same_as")
    return pd.concat([rows, copies[rows.columns]], ignore_index=True)


def quantized(rows: pd.DataFrame) -> pd.Series:
    """Which rows are quantization trials (bits recorded); none in a table without `bits`."""
    return rows["bits"].notna() if "bits" in rows else pd.Series(False, index=rows.index)


def split(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(pruning rows, quantization rows), the dense rows in both (every drop is from dense)."""
    q, dense = quantized(rows), ref.is_dense(rows)
    return rows[~q], rows[q | dense]


def _on_common_points(pruning: pd.DataFrame, quantization: pd.DataFrame):
    """Both tables on the (model, task, axis, level) points that both compressed."""
    compressed = [set(map(tuple, t.loc[~ref.is_dense(t), POINT].to_numpy()))
                  for t in (pruning, quantization)]  # fmt: skip
    common = compressed[0] & compressed[1]

    def keep(t: pd.DataFrame) -> pd.DataFrame:
        return t[[p in common for p in map(tuple, t[POINT].to_numpy())]]

    return keep(pruning), keep(quantization)


def _summary(rows: pd.DataFrame, compression: str, at: str) -> pd.DataFrame:
    """Per set of levels compared: the difficulty summary of the rows' Analysis (order counts, ρ
    over seeds, verdict) and how many of its curves fall monotonically with compression."""
    a = analyze(rows)
    summary = a.summary
    if summary.empty:
        return pd.DataFrame(columns=SUMMARY)
    curves = a.families
    falls = curves["verdict"].str.startswith(mono.FALLS)
    falling = curves.assign(falls=falls)
    falling = falling.assign(group=ref.level_group(falling)).groupby(ref.LEVELS, dropna=False)
    falling = falling.agg(n_curves=("falls", "size"), n_falling=("falls", "sum")).reset_index()
    summary = summary.merge(falling, on=ref.LEVELS, how="left")
    return summary.assign(compression=compression, at=at)


def compare(rows: pd.DataFrame) -> pd.DataFrame:
    """Per model, axis, set of levels, method and transfer, pruning and quantization: at how many
    compression levels harder levels lose more (or fewer), mean Spearman ρ of hardness vs drop,
    and how many curves fall monotonically; only on points both compressions ran."""
    pruning, quantization = _on_common_points(*split(ref.ok_rows(rows)))
    if quantization.empty:
        return pd.DataFrame(columns=SUMMARY)
    # a bit width takes the place of sparsity in the statistics as the share of a 32-bit
    # weight's bits it removes (8 bits: 0.75, 2 bits: 0.9375): only its order counts, fewer
    # bits = more compression; sparsity 0 compares nothing and is left out of both
    widths = sorted(quantization["bits"].dropna().astype(int).unique(), reverse=True)
    sparsities = sorted(pruning.loc[~ref.is_dense(pruning), "sparsity"].unique())
    sparsities = [s for s in sparsities if s > 0]
    removed = 1 - quantization["bits"] / 32
    quantization = quantization.assign(sparsity=removed.where(quantization["bits"].notna(), 0.0))
    return pd.concat(
        [_summary(pruning, "pruning", "sparsity " + ", ".join(f"{s:g}" for s in sparsities)),
         _summary(quantization, "quantization", "bits " + ", ".join(map(str, widths)))],
        ignore_index=True,
    )  # fmt: skip


def _verdict(r: pd.Series) -> str:
    order = r["verdict"]
    if r["compression"] == "quantization":
        order = order.replace(" sparsities", " bit widths")
    return f"{order}; {r['n_falling']:.0f}/{r['n_curves']:.0f} curves fall monotonically"


def verdict_lines(comparison: pd.DataFrame) -> list[str]:
    """One line per compression and set of levels: how monotone the difficulty effect is."""
    lines = []
    for _, r in comparison.iterrows():
        named = [r[k] for k in ("model", "difficulty_axis", "group", "method", "transfer")]
        where = " · ".join(str(v) for v in named if pd.notna(v) and v != "*")
        lines.append(f"- {r['compression']} ({where}; {r['at']}): {_verdict(r)}")
    return lines


def quantization_table(rows: pd.DataFrame) -> str:
    """Mean metric (and measured levels per group) by point × bit width, over seeds."""
    q = ref.ok_rows(rows)
    q = q[quantized(q)]
    if q.empty:
        return "No quantization rows."
    cells = q.groupby([*POINT, "method", "transfer", "bits"], dropna=False).agg(
        metric=("metric", "mean"), levels=("actual_levels", "mean"), n=("metric", "size")
    )
    cells["cell"] = [f"{number(m)} ({number(v, 1)} levels, n={n})"
                     for m, v, n in zip(cells["metric"], cells["levels"], cells["n"])]  # fmt: skip
    wide = cells["cell"].unstack("bits").sort_index(axis=1, ascending=False)
    wide.columns = [f"{int(b)} bits" for b in wide.columns]
    return markdown(wide)


def section(rows: pd.DataFrame, comparison: pd.DataFrame | None = None) -> str:
    """The report's Markdown section: verdicts of both compressions (`comparison`: `compare(rows)`,
    when the caller has it already), and the quantization table."""
    lines = verdict_lines(compare(rows) if comparison is None else comparison)
    return "\n\n".join(
        [
            "## Pruning vs quantization: is the difficulty effect as monotone?",
            "On the tasks and levels both ran: at each sparsity > 0 (pruning) and each bit width "
            "(quantization, fewer bits = more compression), Spearman ρ between hardness and "
            "mean drop (% of dense) over the levels; curves: metric vs compression per level.",
            "\n".join(lines) or NO_COMPARISON[0].upper() + NO_COMPARISON[1:] + ".",
            "Metric by level × bit width (mean over seeds; measured distinct values per group):",
            quantization_table(rows),
        ]
    )

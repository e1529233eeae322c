"""The Markdown monotonicity report of a results table, with its PNG plots next to it."""

from pathlib import Path

import pandas as pd

from difficulty.axes import AXES
from results import monotonicity as mono
from results.plots import plot_curves
from results.tables import format_pivot, markdown, number, pivot

MISSING_SHOWN = 100


def _name(row: pd.Series, keys: list[str]) -> str:
    """The key columns of a row as 'm · glue/rte · data_fraction 0.1 · …', leaving out gaps.

    An axis without its level is named by its label (Axis.label), as the plots name it.
    """
    parts = []
    for k in keys:
        value = row[k]
        if k == "difficulty_axis" and "difficulty_level" in keys:
            continue  # named together with its level
        if k == "difficulty_axis" and pd.notna(value):
            parts.append(AXES[value].label)
        elif k == "difficulty_level" and pd.notna(value):
            parts.append(f"{row['difficulty_axis']} {value:g}")
        elif k != "difficulty_level" and pd.notna(value) and value != "*":
            parts.append(str(value))
    return " · ".join(parts)


def _p(p: float) -> str:
    """A p-value as 'p=0.002', 'p<0.001' or 'p=–'."""
    return "p=–" if pd.isna(p) else "p<0.001" if p < 0.001 else f"p={p:.2g}"


def _family_lines(stats: pd.DataFrame) -> list[str]:
    """One verdict sentence per family."""
    return [
        f"- **{_name(r, mono.FAMILY)}**: {r['verdict']} "
        f"(Spearman ρ={number(r['spearman_rho'], 2)}, {_p(r['spearman_p'])}); "
        f"largest violation {r['largest_violation']:.3g}"
        for _, r in stats.iterrows()
    ]


def _order_lines(order: pd.DataFrame) -> list[str]:
    """One verdict sentence per set of difficulty levels compared."""
    return [f"- **{_name(r, mono.LEVELS)}**: {r['verdict']}" for _, r in order.iterrows()]


def verdicts(df: pd.DataFrame) -> list[str]:
    """The report's verdict sentences: monotonicity per family, then harder vs easier levels."""
    order = mono.difficulty_summary(mono.difficulty_order(df))
    return _family_lines(mono.monotonicity(df)) + _order_lines(order)


def _drop_table(ci: pd.DataFrame) -> str:
    """Mean drop from dense per family × sparsity, with its bootstrap CI."""
    ci = ci.assign(
        cell=[
            f"{number(m)} [{number(lo)}, {number(hi)}]"
            for m, lo, hi in zip(ci["mean"], ci["ci_low"], ci["ci_high"])
        ]
    )
    wide = ci.set_index(mono.FAMILY + ["sparsity"])["cell"].unstack("sparsity")
    wide.columns = [f"{x:g}" for x in wide.columns]
    return markdown(wide)


def _irreversibility_table(irr: pd.DataFrame) -> str:
    """Loss of the lossy modes and what sparse_to_dense recovers of it."""
    if irr.empty:
        return "No sparse_to_dense rows next to sparse or dense_freeze ones at equal sparsity."
    shown = irr[mono.FAMILY[:4] + ["method", "sparsity", "lossy"]].copy()
    for column in ("dense", "lossy_metric", "sparse_to_dense", "loss", "recovered"):
        shown[column] = irr[column].map(number)
    shown["fraction_recovered"] = irr["fraction_recovered"].map(
        lambda f: "–" if pd.isna(f) else f"{100 * f:.0f} %"
    )
    return markdown(shown)


def write_report(
    df: pd.DataFrame,
    out_dir: Path,
    expected: pd.DataFrame | None = None,
    max_plots: int | None = None,
) -> Path:
    """Write out_dir/report.md (verdicts, tables, irreversibility, missing trials) and its PNGs."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ok = mono.ok_rows(df)
    stats = mono.monotonicity(df)
    falling = int((stats["verdict"] == "monotone: metric falls with sparsity").sum())
    order = mono.difficulty_summary(mono.difficulty_order(df))
    thresholds = mono.threshold_sparsity(df)
    plots = plot_curves(df, out_dir, max_plots) if max_plots != 0 else []

    text = [
        f"# junkdna analysis: {', '.join(sorted(df['sweep'].dropna().unique()))}",
        (
            f"{len(ok)} finished trials, {len(df) - len(ok)} failed (left out of every statistic). "
            "Every drop is relative to the dense row of the same model, task, level and seed."
        ),
        "## Monotonicity per family",
        (
            f"{falling} of {len(stats)} families fall monotonically with sparsity. Spearman and "
            "Kendall use every seed's (sparsity, metric) point; the largest violation is the "
            "largest rise of the mean curve above its earlier minimum; a rise within the 95 % "
            "half-width of a difference of two means (1.96·√2·mean standard error) is noise."
        ),
        "\n".join(_family_lines(stats)) or "No pruned families.",
        "## Harder vs easier difficulty levels",
        "At each sparsity, Spearman ρ between hardness and mean drop (% of dense) over the levels.",
        "\n".join(_order_lines(order)) or "No set of two or more difficulty levels to compare.",
        "Sparsity at which each level first loses more than 1 % / 5 % of its dense metric:",
        markdown(thresholds),
        "## Drop from dense (mean over seeds [95 % bootstrap CI])",
        _drop_table(mono.drop_ci(df)),
        "## Metric by difficulty level × sparsity (mean ± std over seeds (change from dense))",
        format_pivot(pivot(df)),
        "## Irreversibility: does giving the weights back recover the loss?",
        "loss = dense − lossy mode; recovered = sparse_to_dense − lossy mode (means over seeds).",
        _irreversibility_table(mono.irreversibility(df)),
        "## Missing trials",
    ]
    if expected is None:
        text.append("No expected grid given.")
    else:
        missing = mono.missing_trials(df, expected)
        text.append(f"{len(missing)} of {len(expected)} expected trials have no ok row.")
        if len(missing):
            text.append(markdown(missing.head(MISSING_SHOWN)))
        if len(missing) > MISSING_SHOWN:
            text.append(f"… and {len(missing) - MISSING_SHOWN} more.")
    text.append("## Plots")
    text += [f"![{p.stem}]({p.name})" for p in plots] or ["No plots drawn."]
    path = out_dir / "report.md"
    path.write_text("\n\n".join(text) + "\n")
    return path

"""The Markdown monotonicity report of a results table, with its PNG plots next to it."""

from pathlib import Path

import pandas as pd

from difficulty.axes import AXES
from results import monotonicity as mono
from results import reference as ref
from results.analysis import Analysis, with_difficulty
from results.plots import plot_curves
from results.tables import format_pivot, level_text, markdown, number, pivot

MISSING_SHOWN = 100


def _name(row: pd.Series, keys: list[str]) -> str:
    """The key columns of a row as 'm · glue/rte · data_fraction 0.1 · …', leaving out gaps.

    An axis without its level is named by its label (Axis.label), as the plots name it; a level
    by its computed difficulty value where the row has one (human_gap: the gap).
    """
    parts = []
    for k in keys:
        value = row[k]
        if k == "difficulty_axis" and "difficulty_level" in keys:
            continue  # named together with its level
        if k == "difficulty_axis" and pd.notna(value):
            parts.append(AXES[value].label)
        elif k == "difficulty_level" and pd.notna(value):
            parts.append(level_text(row["difficulty_axis"], value, row.get("difficulty", value)))
        elif k != "difficulty_level" and pd.notna(value) and value != "*":
            parts.append(str(value))
    return " · ".join(parts)


def _p(p: float) -> str:
    """A p-value as 'p=0.002', 'p<0.001' or 'p=–'."""
    return "p=–" if pd.isna(p) else "p<0.001" if p < 0.001 else f"p={p:.2g}"


def _family_lines(stats: pd.DataFrame) -> list[str]:
    """One verdict sentence per family."""
    return [
        f"- **{_name(r, ref.FAMILY)}**: {r['verdict']} "
        f"(Spearman ρ={number(r['spearman_rho'], 2)}, {_p(r['spearman_p'])}); "
        f"largest violation {r['largest_violation']:.3g}"
        for _, r in stats.iterrows()
    ]


def _order_lines(order: pd.DataFrame) -> list[str]:
    """One verdict sentence per set of difficulty levels compared."""
    return [f"- **{_name(r, ref.LEVELS)}**: {r['verdict']}" for _, r in order.iterrows()]


def verdicts(a: Analysis) -> list[str]:
    """The report's verdict sentences: monotonicity per family, then harder vs easier levels."""
    return _family_lines(a.families) + _order_lines(a.summary)


def _levels_table(levels: pd.DataFrame) -> str:
    """Each level's computed difficulty, dense metric [t CI], chance level; easiest first."""
    shown = levels[ref.REFERENCE[:4]].copy()
    axis, level = levels["difficulty_axis"], levels["difficulty_level"]
    shown["difficulty"] = [level_text(*v) for v in zip(axis, level, levels["difficulty"])]
    shown["seeds"] = levels["n"]
    shown["dense"] = [
        f"{number(m)} [{number(lo)}, {number(hi)}]"
        for m, lo, hi in zip(levels["mean"], levels["ci_low"], levels["ci_high"])
    ]
    shown["chance"] = levels["chance"].map(lambda c: "unknown" if pd.isna(c) else number(c))
    shown["at chance"] = levels["at_chance"].map({True: "at chance", False: ""})
    return markdown(shown)


def _at_chance_text(levels: pd.DataFrame) -> str:
    """The levels left out of every ordering verdict, named."""
    out = levels[levels["at_chance"]]
    if out.empty:
        return "Every level's dense metric is clearly above its chance level."
    names = ", ".join(_name(r, ref.REFERENCE[:4]) for _, r in out.iterrows())
    return (
        f"At chance (dense interval reaches the chance level), left out of every ordering "
        f"verdict: {names}."
    )


def _no_order_text(levels: pd.DataFrame) -> str:
    """Why there is no ordering verdict."""
    if levels["at_chance"].any():
        return (
            "No ordering verdict: no sparsity > 0 has two or more levels above chance "
            "(the levels at chance are named above)."
        )
    return "No set of two or more difficulty levels to compare."


def _ci_table(ci: pd.DataFrame, levels: pd.DataFrame, digits: int = 3) -> str:
    """Mean per family × sparsity with its t CI over seeds; families easiest level first."""
    ci = ci.assign(
        cell=[
            f"{number(m, digits)} [{number(lo, digits)}, {number(hi, digits)}]"
            for m, lo, hi in zip(ci["mean"], ci["ci_low"], ci["ci_high"])
        ]
    )
    wide = ci.set_index(ref.FAMILY + ["sparsity"])["cell"].unstack("sparsity")
    wide.columns = [f"{x:g}" for x in wide.columns]
    wide = with_difficulty(wide.reset_index(), levels)
    shown = [
        level_text(*v)
        for v in zip(wide["difficulty_axis"], wide["difficulty_level"], wide["difficulty"])
    ]
    wide = wide.drop(columns=["difficulty_level", "hardness", "difficulty"])
    wide.insert(ref.FAMILY.index("difficulty_level"), "difficulty", shown)
    return markdown(wide)


def _irreversibility_table(irr: pd.DataFrame) -> str:
    """Loss of the lossy modes and what sparse_to_dense recovers of it."""
    if irr.empty:
        return "No sparse_to_dense rows next to sparse or dense_freeze ones at equal sparsity."
    shown = irr[ref.FAMILY[:4] + ["method", "scope", "sparsity", "lossy"]].copy()
    for column in ("dense", "lossy_metric", "sparse_to_dense", "loss", "recovered"):
        shown[column] = irr[column].map(number)
    shown["fraction_recovered"] = irr["fraction_recovered"].map(
        lambda f: "–" if pd.isna(f) else f"{100 * f:.0f} %"
    )
    return markdown(shown)


def write_report(
    a: Analysis,
    out_dir: Path,
    expected: pd.DataFrame | None = None,
    max_plots: int | None = None,
) -> Path:
    """Write out_dir/report.md (verdicts, tables, irreversibility, missing trials) and its PNGs."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    df, ok, levels = a.rows, a.ok, a.levels
    stats = a.families
    falling = int(stats["verdict"].str.startswith(mono.FALLS).sum())
    plots = plot_curves(a, out_dir, max_plots) if max_plots != 0 else []

    text = [
        f"# junkdna analysis: {', '.join(sorted(df['sweep'].dropna().unique()))}",
        (
            f"{len(ok)} finished trials, {len(df) - len(ok)} failed (left out of every statistic). "
            "Every drop is relative to the dense row of the same model, task, level and seed; "
            "intervals are 95 % Student-t intervals of the mean over seeds (none for one seed)."
        ),
        "## Difficulty levels (easiest first)",
        _levels_table(levels),
        _at_chance_text(levels),
        "## Monotonicity per family",
        (
            f"{falling} of {len(stats)} families fall monotonically with sparsity. Spearman and "
            "Kendall use every seed's (sparsity, metric) point; the largest violation is the "
            "largest rise of the mean curve above its earlier minimum; a rise within the 95 % "
            "half-width of a difference of two means (1.96·√2·mean standard error) is noise. "
            "A curve that reaches its chance level at sparsity s is judged up to s and said to "
            "have collapsed at s; further drops are no evidence."
        ),
        "\n".join(_family_lines(stats)) or "No pruned families.",
        "## Harder vs easier difficulty levels",
        (
            "A comparison is one sparsity > 0 (at sparsity 0 nothing is pruned) with two or more "
            "levels above chance: Spearman ρ between hardness and mean drop (% of dense, a metric "
            "below chance counted as chance), a collapsed level compared up to its collapse. The "
            "interval is over seeds, of each seed's ρ averaged over the comparisons."
        ),
        "\n".join(_order_lines(a.summary)) or _no_order_text(levels),
        "Sparsity at which each level first loses more than 1 % / 5 % of its dense metric:",
        markdown(a.thresholds),
        "## Metric as % of dense (mean over seeds [95 % t CI])",
        _ci_table(a.relative_ci, levels, digits=1),
        "## Drop from dense, raw (mean over seeds [95 % t CI])",
        _ci_table(a.drop_ci, levels),
        "## Metric by difficulty level × sparsity (mean ± std over seeds (change from dense))",
        format_pivot(pivot(levels, a.drops)),
        "## Irreversibility: does giving the weights back recover the loss?",
        "loss = dense − lossy mode; recovered = sparse_to_dense − lossy mode (means over seeds).",
        _irreversibility_table(a.irreversibility),
        "## Missing trials",
    ]
    if expected is None:
        text.append("No expected grid given.")
    else:
        missing = mono.missing_trials(ok, expected)
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

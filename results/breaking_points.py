"""Breaking points of an adaptive search: brackets per curve, and are they ordered by difficulty?

Input: one row per curve and drop (orchestrator.search_driver.breaking_points): the curve's
columns, `drop`, `last_passing`, `first_failing` (None: not reached), `width`, `probes`,
`trials`, `non_monotone`, `contradictions`, `dense_metric`, `midpoint` and `bootstrap` (bracket
midpoints of seed resamples). A harder level is expected to break at a lower sparsity.
"""

import numpy as np
import pandas as pd

from results.reference import hardness, level_group, spearman
from results.tables import markdown

ORDERED = ["model", "group", "method", "scope", "transfer", "drop"]


def _overlap(levels: pd.DataFrame) -> bool:
    """Whether two levels' brackets share more than an end point (or either is open)."""
    low = levels["last_passing"].fillna(-np.inf).to_numpy(dtype=float)
    high = levels["first_failing"].fillna(np.inf).to_numpy(dtype=float)
    return any(
        min(high[i], high[j]) > max(low[i], low[j])
        for i in range(len(levels))
        for j in range(i + 1, len(levels))
    )


def difficulty_order(bp: pd.DataFrame) -> pd.DataFrame:
    """Per set of levels and drop: Spearman ρ of hardness vs breaking point (< 0: harder breaks
    earlier), the fraction of seed resamples with ρ < 0, whether brackets overlap, a verdict."""
    bp = bp.assign(group=level_group(bp))
    bp["hardness"] = hardness(bp["difficulty_axis"], bp["difficulty_level"], bp["dense_metric"])
    out = []
    for key, levels in bp.groupby(ORDERED, dropna=False, sort=True):
        if len(levels) < 2:
            continue
        levels = levels.sort_values("hardness")
        x = levels["hardness"].to_numpy(dtype=float)[None]
        rho = float(spearman(x, levels["midpoint"].to_numpy(dtype=float)[None])[0][0])
        draws = np.array(levels["bootstrap"].tolist(), dtype=float).T  # resamples × levels
        rhos = spearman(np.repeat(x, len(draws), axis=0), draws)[0] if draws.size else []
        p_ordered = float(np.mean(rhos < 0)) if len(rhos) else float("nan")
        overlap = _overlap(levels)
        out.append({
            **dict(zip(ORDERED, key)), "n_levels": len(levels), "rho": rho,
            "p_harder_breaks_earlier": p_ordered, "brackets_overlap": overlap,
            "verdict": _verdict(rho, p_ordered, overlap),
            "levels": ", ".join(f"{lv:g}: {_bracket(lo, hi)}" for lv, lo, hi in zip(
                levels["difficulty_level"], levels["last_passing"], levels["first_failing"])),
        })  # fmt: skip
    return pd.DataFrame(out)


def _verdict(rho: float, p: float, overlap: bool) -> str:
    seeds = "" if np.isnan(p) else f" in {p:.0%} of seed resamples"
    if overlap:
        return f"not resolved: brackets overlap (ρ={rho:.2f}; harder breaks earlier{seeds})"
    if rho < 0:
        return f"harder levels break earlier (ρ={rho:.2f}; so{seeds})"
    if rho > 0:
        return f"reversed: easier levels break earlier (ρ={rho:.2f}; harder earlier{seeds})"
    return "no order: the breaking points are tied"


def _bracket(lo: float | None, hi: float | None) -> str:
    low = "–" if lo is None or pd.isna(lo) else f"{lo:g}"
    high = "not reached" if hi is None or pd.isna(hi) else f"{hi:g}"
    return f"[{low}, {high}]"


def _name(row: pd.Series) -> str:
    return " · ".join(
        [
            row["model"],
            row["task"],
            f"{row['difficulty_axis']} {row['difficulty_level']:g}",
            f"{row['method']}/{row['scope']}",
            row["transfer"],
        ]  # fmt: skip
    )


def lines(bp: pd.DataFrame, order: pd.DataFrame) -> list[str]:
    """One line per curve and drop (bracket, width, probes, non-monotone), then the orders
    (`order`: `difficulty_order(bp)`, an Analysis' bracket_order)."""
    out = [
        f"- {_name(r)}: {r['drop']:.0%} drop in {_bracket(r['last_passing'], r['first_failing'])}"
        f" (width {r['width']:g}, {r['probes']} probes, {r['trials']} trials)"
        + (f"; NON-MONOTONE: {r['contradictions']}" if r["non_monotone"] else "")
        for _, r in bp.iterrows()
    ]
    out += [
        f"- {r['model']} · {r['group']} · {r['method']}/{r['scope']} · {r['transfer']} · "
        f"{r['drop']:.0%} drop: {r['verdict']} — {r['levels']}"
        for _, r in order.iterrows()
    ]
    return out


def section(bp: pd.DataFrame, order: pd.DataFrame) -> str:
    """The report's Markdown section on the search's breaking points (`order`: as for lines)."""
    if bp.empty:
        return "## Breaking points (adaptive search)\n\nNo curve has its dense reference yet.\n"
    shown = bp.assign(
        curve=[_name(r) for _, r in bp.iterrows()],
        bracket=[_bracket(lo, hi) for lo, hi in zip(bp["last_passing"], bp["first_failing"])],
    )[["curve", "drop", "bracket", "width", "probes", "trials", "non_monotone", "contradictions"]]
    text = [
        "## Breaking points (adaptive search)",
        "Per curve and drop x: [last passing, first failing] sparsity, where a sparsity passes "
        "when the mean metric over its seeds is at least (1 − x) · the dense mean; a "
        "non-monotone curve passed somewhere above a sparsity that failed (the lowest failing "
        "bracket is kept).",
        markdown(shown.set_index("curve")),
        "### Ordered by difficulty?",
        "ρ: Spearman of hardness vs bracket midpoint (< 0: harder levels break earlier); the "
        "fraction is over resamples of the seeds (brackets re-read from the probed points).",
        "\n".join(
            f"- {r['group']} · {r['transfer']} · {r['drop']:.0%}: {r['verdict']} — {r['levels']}"
            for _, r in order.iterrows()
        )  # fmt: skip
        or "No set of two or more difficulty levels to compare.",
    ]
    return "\n\n".join(text) + "\n"

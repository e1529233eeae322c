"""Golden reports: every text the analysis writes, over the analysis tests' tables and a demo run.

`render()` gives, per case, the report (Markdown), the terminal verdicts, the results table and,
where a case has them, the pruning-vs-quantization and breaking-points sections. The files under
tests/results/golden/ were written by this module before the analysis was refactored into one
pass (issue 24); tests/results/test_golden.py checks that it still writes exactly them.

    .venv/bin/python -m tests.results.golden     # rewrite the golden files (on purpose only)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from results import breaking_points as bp
from results import compression
from results.analysis import analyze
from results.monotonicity import GRID
from results.report import verdicts, write_report
from results.tables import format_pivot, pivot
from tests.results.test_breaking_points import frame
from tests.results.test_compression import _row
from tests.results.test_monotonicity import HARD_LOSES_MORE, SPARSITIES, curve, levels, table

GOLDEN = Path(__file__).parent / "golden"
DEMO_ROWS = GOLDEN / "demo.parquet"
"""The rows `junkdna analyze` read from a `junkdna demo` run (issue 24's recipe, 3 seeds). Their
golden texts were written by the analysis as it was before issue 24 (commit 7835a47): a real
table on which the one-pass analysis must say exactly what the old one said."""
DRAWN = {"report", "human-gap", "demo"}
"""The cases whose report draws its plots (the others say "No plots drawn.")."""
MAJORITY = '{"accuracy": 0.5, "majority": 0.5, "matthews": 0.0}'


def _report_table() -> pd.DataFrame:
    """tests/results/test_report.py's table: three levels, three transfers, one failed row."""
    rows = levels(HARD_LOSES_MORE)
    for transfer, metrics in [("sparse_to_dense", {0.5: 0.89}), ("dense_freeze", {0.5: 0.87})]:
        rows += [r for r in curve(metrics, dense=0, transfer=transfer) if "sparsity" in r]
    rows.append({"sparsity": 0.9, "seed": 3, "metric": np.nan, "status": "failed", "error": "OOM"})
    return table(rows)


def _at_chance() -> pd.DataFrame:
    rows = levels(HARD_LOSES_MORE)
    rows += curve(dict(zip(SPARSITIES[1:], [0.52, 0.49, 0.5, 0.48, 0.5])), dense=0.5, noise=0.01,
                  difficulty_level=0.05)  # fmt: skip
    return table([r | {"metrics": MAJORITY} for r in rows])


def _collapsed() -> pd.DataFrame:
    rows = curve(dict(zip(SPARSITIES[1:], [0.88, 0.86, 0.84, 0.80, 0.75])), dense=0.9)
    rows += curve(dict(zip(SPARSITIES[1:], [0.85, 0.70, 0.45, 0.60, 0.30])), dense=0.9,
                  difficulty_level=0.1)  # fmt: skip
    return table([r | {"metrics": MAJORITY} for r in rows])


def _human_gap() -> pd.DataFrame:
    rows = levels({1.0: HARD_LOSES_MORE[1.0]}, axis="human_gap", task="easy")
    rows += [r | {"metric": r["metric"] - 0.2} for r in
             levels({1.0: HARD_LOSES_MORE[0.1]}, axis="human_gap", task="hard")]  # fmt: skip
    return table(rows)


def _hard_at_chance() -> pd.DataFrame:
    majority = '{"accuracy": 0, "majority": 0.5}'
    rows = levels({1.0: HARD_LOSES_MORE[1.0]}, axis="human_gap", task="easy")
    rows += [r | {"metric": r["metric"] - 0.4 + 0.01 * r["seed"]}
             for r in levels({1.0: HARD_LOSES_MORE[1.0]}, axis="human_gap", task="hard")]  # fmt: skip
    return table([r | {"metrics": majority} for r in rows])


def _scopes_and_irreversibility() -> pd.DataFrame:
    rows = curve(dict(zip(SPARSITIES[1:], [0.88, 0.86, 0.84, 0.80, 0.75])), dense=0.9, noise=0.01)
    rows += [r | {"scope": "layer", "metric": r["metric"] - 0.1}
             for r in curve(dict(zip(SPARSITIES[1:], [0.88, 0.86, 0.84, 0.80, 0.75])), dense=0.9)
             if r.get("transfer") != "dense"]  # fmt: skip
    for transfer, metric in [("dense_freeze", 0.7), ("sparse_to_dense", 0.75)]:
        rows += [r for r in curve({0.5: metric}, dense=0.9, transfer=transfer) if "sparsity" in r]
    return table(rows)


def _mixed_axes_and_no_axis() -> pd.DataFrame:
    rows = levels(HARD_LOSES_MORE, axis="label_noise")
    rows += curve({0.5: 0.5, 0.9: 0.3}, dense=0.7, noise=0.01, difficulty_axis="max_length",
                  difficulty_level=64.0, task="glue/sst2")  # fmt: skip
    rows += curve({0.1: 0.9, 0.5: 0.8}, dense=0.9, difficulty_axis=None, difficulty_level=np.nan,
                  task="glue/cola", metric_name="matthews")  # fmt: skip
    return table(rows)


def _quantized() -> pd.DataFrame:
    rows = [_row("d1", "dense", 0.0, 0.9, "none"), _row("d2", "dense", 0.0, 0.9, "none")]
    rows[1]["difficulty_level"] = 0.5
    for level, loss in ((1.0, 0.01), (0.5, 0.05)):
        for s, k in ((0.5, 1), (0.9, 3)):
            rows.append(
                {**_row(f"p{level}{s}", "sparse", s, 0.9 - k * loss), "difficulty_level": level}
            )
        for b, k in ((8, 0), (4, 1), (2, 2)):
            rows.append({**_row(f"q{level}{b}", "none", 0.0, 0.9 - k * (0.06 - loss), "rtn"),
                         "difficulty_level": level, "bits": b, "actual_levels": 2.0**b})  # fmt: skip
    return pd.DataFrame(rows).assign(sweep="t", actual_sparsity=0.0)


def tables() -> dict[str, pd.DataFrame]:
    """The cases, by name: results rows as the analysis reads them."""
    cases = {
        "report": _report_table(),
        "hard-loses-more": table(levels(HARD_LOSES_MORE)),
        "one-seed": table([r for r in levels(HARD_LOSES_MORE) if r["seed"] == 0]),
        "reversed": table(levels(HARD_LOSES_MORE, axis="label_noise")),
        "at-chance": _at_chance(),
        "collapsed": _collapsed(),
        "human-gap": _human_gap(),
        "hard-at-chance": _hard_at_chance(),
        "scopes-irreversibility": _scopes_and_irreversibility(),
        "mixed-axes": _mixed_axes_and_no_axis(),
        "quantized": _quantized(),
    }
    if DEMO_ROWS.exists():
        cases["demo"] = pd.read_parquet(DEMO_ROWS)
    return cases


def _breaking_points() -> dict[str, pd.DataFrame]:
    return {
        "ordered": frame({0.1: (0.3, 0.325), 0.5: (0.5, 0.525), 1.0: (0.7, 0.725)},
                         {0.1: [0.31, 0.31, 0.8, 0.31], 0.5: [0.51] * 4, 1.0: [0.71] * 4}),
        "overlap": frame({0.1: (0.3, 0.4), 1.0: (0.35, 0.375)}, {0.1: [0.35], 1.0: [0.36]}),
    }  # fmt: skip


def render() -> dict[str, str]:
    """Every golden text, by file name."""
    out = {}
    for name, rows in tables().items():
        pruning = compression.split(rows)[0]
        with tempfile.TemporaryDirectory() as tmp:
            ok = pruning[pruning["status"] == "ok"]
            expected = ok[GRID] if name == "report" else None
            plots = None if name in DRAWN else 0  # plots take seconds; their names are text
            analysis = analyze(pruning)
            report = write_report(analysis, Path(tmp), expected=expected, max_plots=plots)
            out[f"{name}.report.md"] = report.read_text()
        out[f"{name}.verdicts.txt"] = "\n".join(verdicts(analysis)) + "\n"
        out[f"{name}.table.txt"] = format_pivot(pivot(analysis.levels, analysis.drops)) + "\n"
        if compression.quantized(rows).any():
            out[f"{name}.compression.md"] = compression.section(rows) + "\n"
    for name, points in _breaking_points().items():
        order = analyze(pd.DataFrame(), brackets=points).bracket_order
        out[f"bp-{name}.section.md"] = bp.section(points, order)
        out[f"bp-{name}.lines.txt"] = "\n".join(bp.lines(points, order)) + "\n"
    return out


if __name__ == "__main__":
    GOLDEN.mkdir(exist_ok=True)
    for file, text in render().items():
        (GOLDEN / file).write_text(text)
    print(f"{len(render())} golden files in {GOLDEN}")

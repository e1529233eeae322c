import itertools
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from results.analysis import analyze
from results.monotonicity import GRID
from results.plots import MAX_FIGURES, plot_curves
from results.report import write_report
from tests.results.test_monotonicity import HARD_LOSES_MORE, curve, levels, table


def small():
    """Three data_fraction levels under sparse, plus sparse_to_dense and dense_freeze at level 1."""
    rows = levels(HARD_LOSES_MORE)
    for transfer, metrics in [("sparse_to_dense", {0.5: 0.89}), ("dense_freeze", {0.5: 0.87})]:
        rows += [r for r in curve(metrics, dense=0, transfer=transfer) if "sparsity" in r]
    rows.append({"sparsity": 0.9, "seed": 3, "metric": np.nan, "status": "failed", "error": "OOM"})
    return table(rows)


def test_report_and_plots_are_written(tmp_path):
    df = small()
    expected = df.loc[df["status"] == "ok", GRID]
    expected.loc[len(df)] = ["m", "glue/rte", "data_fraction", 1.0, "magnitude", "sparse", 0.9, 3]
    path = write_report(analyze(df), tmp_path, expected=expected)
    text = path.read_text()
    assert path == tmp_path / "report.md"
    assert "60 finished trials, 1 failed" in text
    assert (
        "fraction of training data 0.1 · magnitude · global · sparse**: monotone: metric falls with sparsity"
        in text
    )
    assert (
        "fraction of training data · glue/rte · magnitude · global · sparse**: harder levels lose more at 5/5"
        in text
    )
    assert "| dense_freeze | 0.900 | 0.870 | 0.890 | 0.030 | 0.020 | 67 % |" in text
    assert "1 of 61 expected trials have no ok row." in text
    assert "transfer: sparse (columns: sparsity)" in text
    pngs = sorted(tmp_path.glob("*.png"))
    assert len(pngs) == 3  # sparse, sparse_to_dense, dense_freeze of the one task
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
        assert f"]({png.name})" in text


def test_plots_can_be_limited_or_left_out(tmp_path):
    assert len(plot_curves(analyze(small()), tmp_path / "two", max_plots=2)) == 2
    write_report(analyze(small()), tmp_path / "none", max_plots=0)
    assert not list((tmp_path / "none").glob("*.png"))
    assert "No plots drawn." in (tmp_path / "none" / "report.md").read_text()


def test_report_without_difficulty_axis(tmp_path):
    rows = curve({0.1: 0.9, 0.5: 0.8}, dense=0.9, difficulty_axis=None, difficulty_level=np.nan)
    text = write_report(analyze(table(rows)), tmp_path).read_text()
    assert "**m · glue/rte · magnitude · global · sparse**: monotone" in text
    assert len(list(tmp_path.glob("*.png"))) == 1


def test_report_of_only_failed_trials(tmp_path):
    df = small().assign(status="failed")
    text = write_report(analyze(df), tmp_path).read_text()
    assert "0 finished trials, 61 failed" in text and "No plots drawn." in text


def test_verdicts_say_monotone_and_harder_loses_more_or_the_reverse():
    from results.report import verdicts

    lines = verdicts(analyze(table(levels(HARD_LOSES_MORE))))
    assert sum("monotone: metric falls with sparsity" in line for line in lines) == 3
    assert (
        "harder levels lose more at 5/5 sparsities (mean ρ 1.00, 95 % t-interval over 3 seeds"
        in lines[-1]
    )
    reversed_levels = dict(zip(HARD_LOSES_MORE, reversed(list(HARD_LOSES_MORE.values()))))
    assert "easier levels lose more" in verdicts(analyze(table(levels(reversed_levels))))[-1]


def test_no_ordering_verdict_when_a_level_is_at_chance_says_why(tmp_path):
    majority = '{"accuracy": 0, "majority": 0.5}'
    rows = levels({1.0: HARD_LOSES_MORE[1.0]}, axis="human_gap", task="easy")
    rows += [r | {"metric": r["metric"] - 0.4 + 0.01 * r["seed"]}
             for r in levels({1.0: HARD_LOSES_MORE[1.0]}, axis="human_gap", task="hard")]  # fmt: skip
    text = write_report(
        analyze(table([r | {"metrics": majority} for r in rows])), tmp_path, max_plots=0
    )
    text = text.read_text()
    assert "left out of every ordering verdict: m · hard · gap 0.490, human 1." in text
    assert "No ordering verdict: no sparsity > 0 has two or more levels above chance" in text
    assert "harder levels lose more" not in text and "easier levels lose more" not in text


def test_many_families_are_grouped_one_figure_per_model_and_method(tmp_path, monkeypatch):
    families = list(itertools.product(("m1", "m2"), ("glue/rte", "glue/mrpc"), (0.1, 1.0),
                                      ("magnitude", "random"), ("sparse", "dense_freeze")))  # fmt: skip
    rows = []
    for model, task, level, method, transfer in families:
        fixed = dict(model=model, task=task, difficulty_level=level, method=method)
        rows += [r for r in curve({0.5: 0.8, 0.9: 0.6}, 0.9, transfer=transfer, **fixed)
                 if "sparsity" in r or transfer == "sparse"]  # fmt: skip
    drawn = {}
    savefig = Figure.savefig

    def record(fig, path, *args, **kwargs):
        legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in fig.axes[1::2]]
        drawn[Path(path).name] = list(zip((ax.get_title() for ax in fig.axes[::2]), legends))
        savefig(fig, path, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    # 2 models × 2 tasks × 2 methods × 2 transfers = 16 figures > MAX_FIGURES: 2 × 2 instead
    paths = plot_curves(analyze(table(rows)), tmp_path)
    assert len(families) // 2 > MAX_FIGURES
    assert (
        sorted(p.name for p in tmp_path.glob("*.png"))
        == sorted(drawn)
        == sorted(p.name for p in paths)
    )
    assert len(paths) == 4
    for model, task, level, method, transfer in families:
        assert any(
            f"{model} · {method} · global · {transfer} · relative" in title
            and f"{task} (fraction of training data {level:g})" in legend
            for panels in drawn.values()
            for title, legend in panels
        ), (model, task, level, method, transfer)
    assert len(plot_curves(analyze(table(rows)), tmp_path / "three", max_plots=3)) == 3

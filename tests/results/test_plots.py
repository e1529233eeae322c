"""Plot bands stay inside the metric's range; with fewer than 3 seeds the seeds are the band."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from results.analysis import analyze
from results.plots import T_SEEDS, plot_curves
from tests.results.test_monotonicity import curve, table


def _curves(df: pd.DataFrame, tmp_path, monkeypatch) -> pd.DataFrame:
    drawn = []
    monkeypatch.setattr("results.plots._draw", lambda curves, *a: drawn.append(curves))
    plot_curves(analyze(df), tmp_path)
    return pd.concat(drawn)


def _noisy(seeds: tuple[int, ...], metric: str = "accuracy") -> pd.DataFrame:
    """Dense near the top of the range and a pruned point whose seeds spread widely."""
    rows = curve({0.5: 0.6, 0.9: 0.1}, dense=0.8, seeds=seeds, noise=0.19, metric_name=metric)
    return table(rows)


def test_t_bands_never_leave_the_metric_range(tmp_path, monkeypatch):
    curves = _curves(_noisy((0, 1, 2)), tmp_path, monkeypatch)
    raw = curves[curves["value"] == "metric"]
    assert (raw["ci_high"] > 1).any() and (raw["ci_low"] < 0).any()  # t would leave [0, 1]
    assert raw["band_low"].min() >= 0 and raw["band_high"].max() <= 1
    pct = curves[curves["value"] == "pct_of_dense"]
    assert (pct["band_high"] <= 100 / pct["dense_mean"] + 1e-9).all()  # 1.0 as % of dense


def test_a_correlation_keeps_its_own_range(tmp_path, monkeypatch):
    curves = _curves(_noisy((0, 1, 2), metric="matthews"), tmp_path, monkeypatch)
    raw = curves[curves["value"] == "metric"]
    assert raw["band_low"].min() < 0 and raw["band_low"].min() >= -1  # MCC goes below 0


@pytest.mark.parametrize("seeds", [(0,), (0, 1)])
def test_fewer_than_three_seeds_show_each_seed_and_their_range(tmp_path, monkeypatch, seeds):
    assert len(seeds) < T_SEEDS
    df = _noisy(seeds)
    curves = _curves(df, tmp_path, monkeypatch)
    raw = curves[curves["value"] == "metric"].set_index("sparsity")
    pruned = df[df["transfer"] == "sparse"].groupby("sparsity")["metric"]
    assert raw["band_low"].to_dict() == pruned.min().to_dict()
    assert raw["band_high"].to_dict() == pruned.max().to_dict()
    assert [sorted(p) for p in raw["points"]] == [sorted(v) for _, v in pruned]

    panels = []
    savefig = Figure.savefig

    def record(fig, path, *args, **kwargs):
        raw_panel = fig.axes[1]
        dots = [line for line in raw_panel.get_lines() if line.get_marker() == "."]
        panels.append((raw_panel.get_title(), dots, raw_panel.get_ylim()))
        savefig(fig, path, *args, **kwargs)

    monkeypatch.undo()
    monkeypatch.setattr(Figure, "savefig", record)
    plot_curves(analyze(df), tmp_path / "drawn")
    (title, dots, ylim) = panels[0]
    assert "dots: each seed" in title
    assert sorted(np.concatenate([d.get_ydata() for d in dots])) == sorted(
        df.loc[df["transfer"] == "sparse", "metric"]
    )
    assert ylim[0] > -0.1 and ylim[1] < 1.1  # the axis follows the points, not a t band

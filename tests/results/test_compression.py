"""Quantization as a sweep end to end (validate → expand → trial → row → analyze) on a tiny BERT,
and the points a sweep computes once for several transfer modes."""

from __future__ import annotations

import pandas as pd
import pytest

from orchestrator.cli import main
from orchestrator.spec import validate_spec
from results.compression import (
    EQUIVALENT,
    NO_COMPARISON,
    compare,
    split,
    verdict_lines,
    with_equivalents,
)
from results.store import read_sweep


@pytest.fixture(scope="module")
def quantized_sweep(tiny_bert, tmp_path_factory):
    """Magnitude pruning and RTN on the easy built-in task with less and more data, every trial
    run by run_trial. The random tiny BERT stays at chance: the verdicts themselves are tested on
    rows made for them below (and the example sweep on MiniLM)."""
    from orchestrator.driver import save_spec
    from workers.trial import run_trial

    spec = validate_spec({
        "name": "q", "storage": str(tmp_path_factory.mktemp("sweeps")), "models": [tiny_bert],
        "tasks": ["builtin/polarity-easy"], "difficulty": {"data_fraction": [0.25, 1.0]},
        "pruning": [{"method": "magnitude"}], "sparsities": [0.0, 0.5, 0.9],
        "quantization": [{"method": "rtn", "bits": [8, 4, 2], "group_size": 16, "transfer": ["none", "lora"]}],
        "transfer": ["dense", "sparse"], "seeds": [1],
        "train": {"epochs": 1, "lr": 1e-3, "batch_size": 16, "max_length": 16, "n_train": 64, "n_eval": 64},
    })  # fmt: skip
    save_spec(spec)
    for trial in spec.expand():
        assert run_trial(trial.to_dict())["status"] == "ok"
    return spec


def test_a_quantization_sweep_records_bits_and_levels_on_the_grid(quantized_sweep):
    spec = quantized_sweep
    assert len(spec.expand()) == 2 * (
        1 + 2 + 3 * 2
    )  # tasks × (dense, sparse > 0, rtn bits × modes)
    rows = read_sweep(f"{spec.sweep_dir}/results").table.to_pandas()
    q = rows[rows["bits"].notna()]
    assert set(zip(q["transfer"], q["bits"])) == {
        (t, b) for t in ("none", "lora") for b in (8, 4, 2)
    }
    assert set(q["method"]) == {"rtn"} and set(q["sparsity"]) == {0.0}
    # after lora fine-tuning too, every group of 16 weights holds at most 2^bits values: the frozen
    # base stayed on its grid; 2 bits uses nearly all 4 levels, 8 bits nearly 16 distinct weights
    assert (q["actual_levels"] <= 2 ** q["bits"]).all()
    assert q.groupby("bits")["actual_levels"].mean().is_monotonic_increasing
    assert rows.loc[rows["bits"].isna(), "actual_levels"].isna().all()
    assert (q.loc[q["bits"] == 2, "actual_sparsity"] > 0.05).all()  # 2-bit RTN rounds many to 0


def test_analyze_reports_pruning_and_quantization_apart_and_compares_them(quantized_sweep, capsys):
    sweep = quantized_sweep.sweep_dir
    assert main(["analyze", sweep, "--max-plots", "0"]) == 0
    out = capsys.readouterr().out
    assert "pruning vs quantization (how monotone the difficulty effect is):" in out
    assert NO_COMPARISON in out  # the tiny BERT's dense metric is at chance: nothing to order
    text = open(f"{sweep}/analysis/report.md").read()
    pruning, comparison = text.split("## Pruning vs quantization")
    assert "| 8 bits | 4 bits | 2 bits |" in comparison and "levels, n=1)" in comparison
    assert " rtn " not in pruning and "| rtn |" not in pruning  # no rtn family or missing trial
    assert "0 of 6 expected trials have no ok row" in pruning  # dense, sparse at 0.5, 0.9


def test_the_table_shows_sparse_at_sparsity_0_from_the_dense_row(quantized_sweep, capsys):
    assert main(["results", "table", quantized_sweep.sweep_dir]) == 0
    out = capsys.readouterr().out
    sparse = out.split("transfer: sparse")[1]
    assert "| dense | 0 | 0.5 | 0.9 |" in sparse  # sparse at 0 was run once, as the dense trial
    assert "rtn" not in out and "transfer: lora" not in out


def _row(key: str, transfer: str, sparsity: float, metric: float, method: str = "magnitude"):
    return {"trial_key": key, "model": "m", "task": "t", "difficulty_axis": "data_fraction",
            "difficulty_level": 1.0, "method": method, "scope": "global", "sparsity": sparsity,
            "transfer": transfer, "seed": 1, "metric": metric, "status": "ok", "bits": None,
            "metric_name": "accuracy", "metrics": None}  # fmt: skip


def test_equivalent_trials_get_the_dense_row_under_their_own_name_unless_they_have_one():
    rows = pd.DataFrame([_row("d", "dense", 0.0, 0.9, "none"), _row("s5", "sparse", 0.5, 0.7),
                         _row("f0", "dense_freeze", 0.0, 0.88)])  # fmt: skip
    equivalents = pd.DataFrame(
        [["s0", "magnitude", "global", "sparse", 0.0, "d"],
         ["f0", "magnitude", "global", "dense_freeze", 0.0, "d"]], columns=EQUIVALENT + ["same_as"]
    )  # fmt: skip
    got = with_equivalents(rows, equivalents).set_index("trial_key")
    assert (
        len(got) == 4 and got.loc["s0", "metric"] == 0.9 and got.loc["s0", "transfer"] == "sparse"
    )
    assert got.loc["s0", "method"] == "magnitude" and got.loc["s0", "sparsity"] == 0.0
    assert got.loc["f0", "metric"] == 0.88  # ran before the grid merged it: its own row stays
    pruning, quantization = split(got.reset_index())
    assert len(pruning) == 4 and list(quantization["trial_key"]) == ["d"]


def test_compare_orders_bit_widths_fewer_bits_as_more_compression():
    rows = [_row("d1", "dense", 0.0, 0.9, "none"), _row("d2", "dense", 0.0, 0.9, "none")]
    rows[1]["difficulty_level"] = 0.5
    for level, loss in ((1.0, 0.01), (0.5, 0.05)):  # the harder (less data) level loses more
        for s, k in ((0.5, 1), (0.9, 3)):
            rows.append(
                {**_row(f"p{level}{s}", "sparse", s, 0.9 - k * loss), "difficulty_level": level}
            )
        for b, k in ((8, 0), (4, 1), (2, 2)):  # quantization: the easier level loses more
            rows.append({**_row(f"q{level}{b}", "none", 0.0, 0.9 - k * (0.06 - loss), "rtn"),
                         "difficulty_level": level, "bits": b})  # fmt: skip
    lines = verdict_lines(compare(pd.DataFrame(rows)))
    assert lines[0].startswith(
        "- pruning (m · data_fraction · t · magnitude · sparse; sparsity 0.5, 0.9)"
    )
    assert "harder levels lose more at 2/2 sparsities" in lines[0]
    assert lines[1].startswith("- quantization (m · data_fraction · t · rtn · none; bits 8, 4, 2)")
    assert "reversed: easier levels lose more at 2/3 bit widths" in lines[1]  # 8 bits: no loss

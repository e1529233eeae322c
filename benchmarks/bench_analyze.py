"""Time `write_report` on a synthetic ~100,000-row results table.

usage: PYTHONPATH=. python benchmarks/bench_analyze.py [--max-plots N] [--out DIR]
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from results.report import write_report

LEVELS = [0.1, 0.25, 0.5, 0.75, 1.0]
SPARSITIES = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
TRANSFERS = ["sparse", "dense_freeze", "sparse_to_dense", "lora"]


def synthesize(models: int = 4, tasks: int = 16, seeds: int = 4, seed: int = 0) -> pd.DataFrame:
    """A schema-v1 results table in which less data (a lower data_fraction) loses more."""
    rng = np.random.default_rng(seed)
    grid = pd.MultiIndex.from_product(
        [
            [f"model-{i}" for i in range(models)],
            [f"task-{i}" for i in range(tasks)],
            LEVELS,
            ["magnitude", "wanda"],
            SPARSITIES,
            TRANSFERS,
            range(seeds),
        ],
        names=["model", "task", "difficulty_level", "method", "sparsity", "transfer", "seed"],
    ).to_frame(index=False)
    dense = grid[(grid["sparsity"] == 0.0) & (grid["transfer"] == "sparse")]
    dense = dense[dense["method"] == "magnitude"].assign(method="none", transfer="dense")
    df = pd.concat([dense, grid], ignore_index=True)
    base = 0.95 - 0.15 * (1 - df["difficulty_level"])
    loss = 0.4 * df["sparsity"] ** 3 * (1.5 - df["difficulty_level"])
    df["metric"] = base - loss + rng.normal(0, 0.005, len(df))
    df["status"] = np.where(rng.random(len(df)) < 0.01, "failed", "ok")
    n = len(df)
    return df.assign(
        trial_key=[f"{i:016x}" for i in range(n)],
        sweep="bench",
        difficulty_axis="data_fraction",
        scope="global",
        actual_sparsity=df["sparsity"],
        metric_name="accuracy",
        n_train=1000,
        n_eval=500,
        prune_s=0.1,
        train_s=10.0,
        eval_s=1.0,
        error=np.where(df["status"] == "failed", "CUDA out of memory", None),
        node="node-0",
        device="cuda:0",
    )


def main() -> None:
    """Synthesize the table, time write_report on it and print the time."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-plots", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    df = synthesize()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_analyze_"))
    start = time.perf_counter()
    path = write_report(df, out, max_plots=args.max_plots)
    seconds = time.perf_counter() - start
    plots = len(list(out.glob("*.png")))
    print(f"write_report: {len(df)} rows, {plots} plots, {seconds:.1f} s -> {path}")


if __name__ == "__main__":
    main()

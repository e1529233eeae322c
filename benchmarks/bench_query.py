"""Time a group-by through `results.query.query` on 1,000,000 rows in 2,000 fragments, before and
after `compact`, against a naive baseline measured in the same run (pq.read_table per file).

usage: PYTHONPATH=. python benchmarks/bench_query.py [--rows N] [--fragments N] [--dir DIR]
"""

import argparse
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from results.query import query
from results.store import SCHEMA, compact, dedup

SQL = """select task, difficulty_level, sparsity, transfer, avg(metric) as metric, count(*) as n
         from trials where status = 'ok' group by all order by all"""


def synthesize(rows: int, seed: int = 0) -> pa.Table:
    """Schema-v1 rows: 16 tasks × 5 levels × 10 sparsities × 4 transfers, 1% failed."""
    rng = np.random.default_rng(seed)
    pick = lambda values: pa.array(np.asarray(values)[rng.integers(0, len(values), rows)])  # noqa: E731
    start = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()
    finished = pa.array((start + np.arange(rows)) * 1e6, pa.int64()).cast(pa.timestamp("us", "UTC"))
    status = np.where(rng.random(rows) < 0.01, "failed", "ok")
    columns = {
        "trial_key": pa.array([f"{i:024x}" for i in range(rows)]),
        "sweep": pa.array(["bench"] * rows),
        "model": pick([f"model-{i}" for i in range(4)]),
        "task": pick([f"task-{i}" for i in range(16)]),
        "difficulty_axis": pa.array(["data_fraction"] * rows),
        "difficulty_level": pick([0.1, 0.25, 0.5, 0.75, 1.0]),
        "method": pick(["magnitude", "wanda"]),
        "scope": pa.array(["global"] * rows),
        "sparsity": pick(np.round(np.arange(10) / 10, 1)),
        "actual_sparsity": pa.array(rng.random(rows)),
        "transfer": pick(["sparse", "dense_freeze", "sparse_to_dense", "lora"]),
        "seed": pick(np.arange(4)),
        "metric_name": pa.array(["accuracy"] * rows),
        "metric": pa.array(rng.random(rows)),
        "n_train": pa.array(np.full(rows, 1000)),
        "n_eval": pa.array(np.full(rows, 500)),
        "prune_s": pa.array(rng.random(rows)),
        "train_s": pa.array(rng.random(rows) * 100),
        "eval_s": pa.array(rng.random(rows)),
        "status": pa.array(status),
        "error": pa.array(np.where(status == "failed", "CUDA out of memory", None)),
        "node": pick([f"node-{i}" for i in range(8)]),
        "device": pa.array(["cuda:0"] * rows),
        "started_at": finished,
        "finished_at": finished,
        "versions": pa.array(
            [{"torch": "2.13.0", "transformers": "4.60", "junkdna": "0.1.0"}] * rows
        ),
    }
    return pa.table(columns).cast(SCHEMA)


def write_fragments(table: pa.Table, parts: int, results_dir: str) -> None:
    """`parts` Parquet files of equal size, as many trials' fragments would be."""
    Path(results_dir).mkdir(parents=True, exist_ok=True)
    size = -(-table.num_rows // parts)
    for i in range(0, table.num_rows, size):
        pq.write_table(table.slice(i, size), f"{results_dir}/{i:09d}.parquet")


def same(a: pa.Table, b: pa.Table) -> bool:
    """Equal groups and counts; averages equal up to summation order."""
    floats = {"metric"}
    rest = [c for c in a.column_names if c not in floats]
    return a.select(rest).equals(b.select(rest)) and np.allclose(a["metric"], b["metric"])


def naive(results_dir: str) -> pa.Table:
    """The baseline: every file with pq.read_table, one after another, then DuckDB."""
    paths = sorted(Path(results_dir).glob("*.parquet"))
    table = dedup(pa.concat_tables(pq.read_table(path) for path in paths))
    con = duckdb.connect()
    con.register("trials", table)
    return con.sql(SQL).to_arrow_table()


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def main() -> None:
    """Write the fragments, then time the baseline, the query before and after compaction."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--fragments", type=int, default=2_000)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    results_dir = f"{args.dir or tempfile.mkdtemp(prefix='bench_query_')}/results"
    table = synthesize(args.rows)
    _, write_s = timed(write_fragments, table, args.fragments, results_dir)
    print(f"{args.rows} rows in {args.fragments} fragments written in {write_s:.1f} s")
    expected, naive_s = timed(naive, results_dir)
    before, before_s = timed(query, results_dir, SQL)
    done, compact_s = timed(compact, results_dir)
    after = [timed(query, results_dir, SQL) for _ in range(3)]
    after_s = sorted(s for _, s in after)
    assert all(same(t, expected) for t in [before, *(t for t, _ in after)])
    print(f"naive baseline (pq.read_table per file):     {naive_s:6.2f} s")
    print(f"query before compaction ({args.fragments} fragments): {before_s:6.2f} s"
          f"  ({naive_s / before_s:.1f}x faster than the baseline)")  # fmt: skip
    print(f"compact ({done.merged} files -> 1, {done.rows} rows):   {compact_s:6.2f} s")
    print(f"query after compaction (best / median of 3):  {after_s[0]:6.2f} s / {after_s[1]:.2f} s"
          f"  ({naive_s / after_s[1]:.1f}x faster than the baseline)")  # fmt: skip


if __name__ == "__main__":
    main()

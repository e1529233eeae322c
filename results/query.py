"""SQL over a sweep's rows: DuckDB with the deduplicated table as the view `trials`."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from results.store import read_sweep


def query(results_dir: str, sql: str) -> pa.Table:
    """Run `sql` against the view `trials` (one row per trial) and return an Arrow table."""
    trials = read_sweep(results_dir).table  # noqa: F841  (DuckDB finds it by name)
    con = duckdb.connect()
    con.register("trials", trials)
    relation = con.sql(sql)
    return relation.to_arrow_table() if relation is not None else pa.table({})

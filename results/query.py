"""SQL over a sweep's rows: DuckDB with the deduplicated rows as the view `trials`."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from results.store import Fragments, scan


def _run(fragments: Fragments, sql: str) -> pa.Table:
    con = duckdb.connect()
    # DuckDB scans the Parquet files itself, reading only the columns the query needs
    con.register("fragments", fragments.dataset)
    con.execute(f"create view trials as {fragments.trials_sql}")
    relation = con.sql(sql)
    return relation.to_arrow_table() if relation is not None else pa.table({})


def query(results_dir: str, sql: str) -> pa.Table:
    """Run `sql` against the view `trials` (one row per trial) and return an Arrow table."""
    fragments = scan(results_dir)
    try:
        return _run(fragments, sql)
    except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException):
        raise  # the SQL itself is wrong
    except duckdb.Error:
        # a file with a sound footer but undecodable data: drop it and ask again
        if not fragments.drop_undecodable():
            raise
        return _run(fragments, sql)

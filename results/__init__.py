"""Results: the Parquet store (one row per trial), queries, tables and plots."""

from results.store import SCHEMA, SCHEMA_VERSION, read_sweep, write_trial

__all__ = ["SCHEMA", "SCHEMA_VERSION", "read_sweep", "write_trial"]

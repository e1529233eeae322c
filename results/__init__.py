"""Results: the Parquet store (one row per trial), queries, tables and plots."""

from pathlib import Path

import pandas as pd

from results.schema import SCHEMA, SCHEMA_VERSION
from results.storage import is_uri
from results.store import compact, read_sweep, write_trial

__all__ = ["SCHEMA", "SCHEMA_VERSION", "compact", "load", "read_sweep", "write_trial"]


def load(sweep: str, storage: str = "./sweeps") -> pd.DataFrame:
    """A sweep's rows (one per trial, Arrow-backed), by its directory or its name under storage."""
    where = sweep if is_uri(sweep) or Path(sweep).is_dir() else f"{storage}/{sweep}"
    return read_sweep(f"{where.rstrip('/')}/results").table.to_pandas(types_mapper=pd.ArrowDtype)

"""The Parquet store: one fragment per finished trial, written atomically, read back deduplicated.

Layout: <sweep_dir>/results/<trial_key>.parquet. A trial that runs again replaces its own
fragment, so a key never has two files; readers still deduplicate by `trial_key` (latest
`finished_at` wins) so that merged or copied fragments cannot double-count a trial.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

SCHEMA_VERSION = "1"
SCHEMA = pa.schema(
    [
        ("trial_key", pa.string()),
        ("sweep", pa.string()),
        ("model", pa.string()),
        ("task", pa.string()),
        ("difficulty_axis", pa.string()),
        ("difficulty_level", pa.float64()),
        ("method", pa.string()),
        ("scope", pa.string()),
        ("sparsity", pa.float64()),
        ("actual_sparsity", pa.float64()),
        ("transfer", pa.string()),
        ("seed", pa.int64()),
        ("metric_name", pa.string()),
        ("metric", pa.float64()),
        ("n_train", pa.int64()),
        ("n_eval", pa.int64()),
        ("prune_s", pa.float64()),
        ("train_s", pa.float64()),
        ("eval_s", pa.float64()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("node", pa.string()),
        ("device", pa.string()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("finished_at", pa.timestamp("us", tz="UTC")),
        (
            "versions",
            pa.struct(
                [("torch", pa.string()), ("transformers", pa.string()), ("junkdna", pa.string())]
            ),
        ),
        ("metrics", pa.string()),  # JSON object of every metric of the task; added within v1
    ],
    metadata={"junkdna.schema_version": SCHEMA_VERSION},
)


class StoreError(RuntimeError):
    """A store that cannot be read as junkdna results (e.g. a newer schema version)."""


def _filesystem(location: str) -> tuple[pafs.FileSystem, str]:
    if "://" in location:
        return pafs.FileSystem.from_uri(location)
    return pafs.LocalFileSystem(), str(Path(location).resolve())


def fragment_path(results_dir: str, trial_key: str) -> str:
    """Where the row of one trial lives."""
    return f"{results_dir.rstrip('/')}/{trial_key}.parquet"


def write_trial(results_dir: str, row: dict[str, Any]) -> str:
    """Write one trial's row as its own Parquet fragment, atomically; returns its path."""
    table = pa.Table.from_pylist([row], schema=SCHEMA)
    fs, root = _filesystem(results_dir)
    final = fragment_path(root, row["trial_key"])
    fs.create_dir(root, recursive=True)
    if isinstance(fs, pafs.LocalFileSystem):
        # temporary name in the same directory, then rename: readers never see half a file
        tmp = f"{root}/.{row['trial_key']}.{uuid.uuid4().hex}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, final)
    else:
        pq.write_table(table, final, filesystem=fs)  # an object PUT is atomic
    return final


def has_row(results_dir: str, trial_key: str, status: str = "ok") -> bool:
    """Whether a trial already has a readable row with this status."""
    fs, root = _filesystem(results_dir)
    path = fragment_path(root, trial_key)
    if fs.get_file_info(path).type != pafs.FileType.File:
        return False
    try:
        return pq.read_table(path, filesystem=fs, columns=["status"])["status"][0].as_py() == status
    except (OSError, pa.ArrowException):
        return False


@dataclass
class Sweep:
    """All rows of a sweep, deduplicated, and the fragments that could not be read."""

    table: pa.Table
    corrupt: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def _check_version(path: str, schema: pa.Schema) -> None:
    version = (schema.metadata or {}).get(b"junkdna.schema_version", b"?").decode()
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"{path}: results schema version {version}; this junkdna reads version "
            f"{SCHEMA_VERSION} (upgrade junkdna to read newer results)"
        )


def read_sweep(results_dir: str) -> Sweep:
    """Read every fragment (skipping and reporting corrupt ones), one row per trial_key."""
    fs, root = _filesystem(results_dir)
    selector = pafs.FileSelector(root, allow_not_found=True)
    paths = sorted(
        info.path
        for info in fs.get_file_info(selector)
        if info.type == pafs.FileType.File and info.base_name.endswith(".parquet")
    )
    tables, corrupt = [], []
    for path in paths:
        try:
            table = pq.read_table(path, filesystem=fs)
        except (OSError, pa.ArrowException) as e:
            corrupt.append((path, str(e).splitlines()[0]))
            continue
        _check_version(path, table.schema)
        for name in SCHEMA.names:  # a column added within v1 is null in older fragments
            if name not in table.schema.names:
                table = table.append_column(name, pa.nulls(table.num_rows, SCHEMA.field(name).type))
        tables.append(table.select(SCHEMA.names).cast(SCHEMA))
    table = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    return Sweep(dedup(table), corrupt)


def dedup(table: pa.Table) -> pa.Table:
    """One row per trial_key: a finished `ok` row beats a failure, then the latest wins."""
    if table.num_rows == 0:
        return table
    ok = pc.equal(table["status"], "ok").cast(pa.int8())
    order = table.append_column("_ok", ok).append_column(
        "_i", pa.array(range(table.num_rows), pa.int64())
    )
    order = order.sort_by([("trial_key", "ascending"), ("_ok", "descending"),
                           ("finished_at", "descending")])  # fmt: skip
    keys = order["trial_key"].to_numpy(zero_copy_only=False)
    first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return table.take(order["_i"].take(first)).sort_by("trial_key")

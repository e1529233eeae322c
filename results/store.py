"""The Parquet store: one fragment per finished trial, written atomically, read back deduplicated.

Layout: <sweep_dir>/results/<trial_key>.parquet, one per trial, and compacted-<uuid>.parquet,
many trials each, written by `compact`. A trial that runs again replaces its own fragment;
readers deduplicate by `trial_key` (an `ok` row beats a failure, then the latest `finished_at`
wins), so a trial held both by a fragment and by a compacted file is still one row.
Locations are local paths or URIs that pyarrow.fs understands (`s3://bucket/prefix`; an
S3-compatible server is reached through AWS_ENDPOINT_URL).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
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

# One row per trial_key over the view `fragments`: the dedup rule, in one place.
DEDUP_SQL = """
    select * from fragments
    qualify row_number() over (
        partition by trial_key order by status = 'ok' desc, finished_at desc nulls last) = 1
"""
COMPACTED = "compacted-"
_READ_ERRORS = (OSError, pa.ArrowException)


class StoreError(RuntimeError):
    """A store that cannot be read as junkdna results (e.g. a newer schema version)."""


def _filesystem(location: str) -> tuple[pafs.FileSystem, str]:
    if "://" in location:
        return pafs.FileSystem.from_uri(location)
    return pafs.LocalFileSystem(), str(Path(location).resolve())


def fragment_path(results_dir: str, trial_key: str) -> str:
    """Where the row of one trial lives."""
    return f"{results_dir.rstrip('/')}/{trial_key}.parquet"


def _write_atomic(fs: pafs.FileSystem, final: str, write: Callable[[str], None]) -> None:
    """Call `write(path)` so that readers of `final` never see half a file."""
    if isinstance(fs, pafs.LocalFileSystem):
        # temporary name in the same directory, then rename
        directory, name = final.rsplit("/", 1)
        tmp = f"{directory}/.{name}.{uuid.uuid4().hex}.tmp"
        write(tmp)
        os.replace(tmp, final)
    else:
        write(final)  # an object PUT is atomic


def write_bytes(location: str, data: bytes) -> None:
    """Write a small file of the sweep (its spec.yaml) atomically, locally or on object storage."""
    fs, final = _filesystem(location)
    fs.create_dir(final.rsplit("/", 1)[0], recursive=True)

    def write(path: str) -> None:
        with fs.open_output_stream(path) as f:
            f.write(data)

    _write_atomic(fs, final, write)


def read_bytes(location: str) -> bytes:
    """Read a small file of the sweep, locally or from object storage."""
    fs, path = _filesystem(location)
    with fs.open_input_stream(path) as f:
        return f.read()


def write_trial(results_dir: str, row: dict[str, Any]) -> str:
    """Write one trial's row as its own Parquet fragment, atomically; returns its path."""
    table = pa.Table.from_pylist([row], schema=SCHEMA)
    fs, root = _filesystem(results_dir)
    final = fragment_path(root, row["trial_key"])
    fs.create_dir(root, recursive=True)
    _write_atomic(fs, final, lambda path: pq.write_table(table, path, filesystem=fs))
    return final


def _list(fs: pafs.FileSystem, root: str) -> list[pafs.FileInfo]:
    infos = fs.get_file_info(pafs.FileSelector(root, allow_not_found=True))
    return sorted(
        (
            info
            for info in infos
            if info.type == pafs.FileType.File
            and info.base_name.endswith(".parquet")
            and not info.base_name.startswith(".")
        ),
        key=lambda info: info.path,
    )


def _compacted(info: pafs.FileInfo) -> bool:
    return info.base_name.startswith(COMPACTED)


def _check_version(path: str, schema: pa.Schema) -> None:
    version = (schema.metadata or {}).get(b"junkdna.schema_version", b"?").decode()
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"{path}: results schema version {version}; this junkdna reads version "
            f"{SCHEMA_VERSION} (upgrade junkdna to read newer results)"
        )


def _reason(error: Exception) -> str:
    return str(error).splitlines()[0]


@dataclass
class Fragments:
    """The readable Parquet files of a results directory (all rows, duplicates included)."""

    fs: pafs.FileSystem
    files: list[pafs.FileInfo]
    fragments: list[ds.ParquetFileFragment]
    corrupt: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    @property
    def unique(self) -> bool:
        """Whether keys cannot repeat: one compacted file (deduplicated when it was written)."""
        return len(self.files) == 1 and _compacted(self.files[0])

    @property
    def trials_sql(self) -> str:
        """SQL for one row per trial over the view `fragments`."""
        return "select * from fragments" if self.unique else DEDUP_SQL

    @property
    def dataset(self) -> ds.Dataset:
        """The files as one dataset of SCHEMA; a column a file lacks reads as null."""
        return ds.FileSystemDataset(self.fragments, SCHEMA, ds.ParquetFileFormat(), self.fs)

    def read(self) -> pa.Table:
        """Every row of every file; a file whose data cannot be decoded moves to `corrupt`."""
        try:
            return self.dataset.to_table()
        except _READ_ERRORS:
            self.drop_undecodable()
            return self.dataset.to_table()

    def drop_undecodable(self) -> bool:
        """Decode every file on its own, drop those that fail; whether any was dropped."""
        keep = []
        for info, fragment in zip(self.files, self.fragments):
            try:
                fragment.to_table(schema=SCHEMA)
                keep.append((info, fragment))
            except _READ_ERRORS as e:
                self.corrupt.append((info.path, _reason(e)))
        dropped = len(keep) < len(self.files)
        self.files = [info for info, _ in keep]
        self.fragments = [fragment for _, fragment in keep]
        return dropped


def scan(results_dir: str) -> Fragments:
    """Open every Parquet file's footer (in parallel); unreadable ones are listed, not used."""
    fs, root = _filesystem(results_dir)
    infos = _list(fs, root)
    parquet = ds.ParquetFileFormat()

    def footer(info: pafs.FileInfo) -> ds.ParquetFileFragment | str:
        fragment = parquet.make_fragment(info.path, fs)
        try:
            fragment.ensure_complete_metadata()
        except _READ_ERRORS as e:
            return _reason(e)
        return fragment

    with ThreadPoolExecutor(max_workers=16) as pool:
        opened = list(pool.map(footer, infos))
    result = Fragments(fs, [], [])
    for info, fragment in zip(infos, opened):
        if isinstance(fragment, str):
            result.corrupt.append((info.path, fragment))
            continue
        _check_version(info.path, fragment.physical_schema)
        result.files.append(info)
        result.fragments.append(fragment)
    return result


@dataclass
class Sweep:
    """All rows of a sweep, deduplicated, and the fragments that could not be read."""

    table: pa.Table
    corrupt: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def read_sweep(results_dir: str) -> Sweep:
    """Read every fragment (skipping and reporting corrupt ones), one row per trial_key."""
    fragments = scan(results_dir)
    rows = fragments.read()
    return Sweep(rows if fragments.unique else dedup(rows), fragments.corrupt)


def dedup(table: pa.Table) -> pa.Table:
    """One row per trial_key: a finished `ok` row beats a failure, then the latest wins."""
    con = duckdb.connect()
    con.register("fragments", table)
    rows = con.sql(f"{DEDUP_SQL} order by trial_key").to_arrow_table()
    return rows.cast(table.schema)


def has_row(results_dir: str, trial_key: str, status: str = "ok") -> bool:
    """Whether a trial's row (its fragment's, or a compacted file's) has this status."""
    fs, root = _filesystem(results_dir)
    fragment = fragment_path(root, trial_key)
    paths = [i.path for i in _list(fs, root) if i.path == fragment or _compacted(i)]
    rows = []
    for path in paths:
        try:
            table = pq.read_table(path, filesystem=fs, filters=[("trial_key", "=", trial_key)],
                                  columns=["trial_key", "status", "finished_at"])  # fmt: skip
        except _READ_ERRORS:
            continue
        rows.append(table)
    if not rows:
        return False
    winner = dedup(pa.concat_tables(rows))
    return winner.num_rows == 1 and winner["status"][0].as_py() == status


@dataclass
class Compaction:
    """What `compact` did."""

    merged: int  # files read and merged
    rows: int  # rows (trials) in the compacted file
    path: str | None  # the compacted file; None when there was nothing to do
    removed: int  # merged files deleted afterwards
    kept: list[str] = field(default_factory=list)  # changed while compacting; merged next time
    corrupt: list[tuple[str, str]] = field(default_factory=list)  # left in place, not merged


def compact(results_dir: str, row_group_size: int = 65_536) -> Compaction:
    """Merge all readable files into one deduplicated compacted file, then delete them.

    The new file is complete (atomic) before any input is deleted, so a crash at any point
    leaves every row readable at least once, and readers' dedup makes it count once.
    An input whose mtime or size changed after it was listed (a trial re-ran meanwhile) is
    kept; a rewrite landing between that check and the delete would be lost, so compact a
    sweep that is not running when it matters (S3 mtimes are whole seconds).
    """
    fragments = scan(results_dir)
    table = fragments.read()
    files = fragments.files
    if len(files) <= 1 and all(_compacted(info) for info in files):
        return Compaction(len(files), table.num_rows, None, 0, corrupt=fragments.corrupt)
    rows = dedup(table)
    fs, root = _filesystem(results_dir)
    path = f"{root}/{COMPACTED}{uuid.uuid4().hex}.parquet"
    _write_atomic(
        fs, path, lambda to: pq.write_table(rows, to, filesystem=fs, row_group_size=row_group_size)
    )
    kept = []
    removed = 0
    for before, now in zip(files, fs.get_file_info([info.path for info in files])):
        if now.type == pafs.FileType.NotFound:
            continue  # a concurrent compaction merged and removed it
        if (now.mtime, now.size) != (before.mtime, before.size):
            kept.append(before.path)
            continue
        try:
            fs.delete_file(before.path)
            removed += 1
        except FileNotFoundError:
            pass  # as above, a moment later
    return Compaction(len(files), rows.num_rows, path, removed, kept, fragments.corrupt)

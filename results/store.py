"""The Parquet store: one fragment per finished trial, written atomically, read back deduplicated.

Layout: <sweep_dir>/results/<trial_key>.parquet, one per trial, and compacted-<uuid>.parquet,
many trials each, written by `compact`. A trial that runs again replaces its own fragment;
readers deduplicate by `trial_key` (an `ok` row beats a failure, then the latest `finished_at`
wins), so a trial held both by a fragment and by a compacted file is still one row.
Locations are local paths or object storage URIs (results.storage); the row is results.schema.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from results.schema import SCHEMA, migrate, version_problem
from results.storage import (
    delete_many,
    filesystem,
    list_files,
    read_file,
    read_if_exists,
    remove_stale_temporaries,
    write_atomic,
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


def fragment_path(results_dir: str, trial_key: str) -> str:
    """Where the row of one trial lives."""
    return f"{results_dir.rstrip('/')}/{trial_key}.parquet"


def write_trial(results_dir: str, row: dict[str, Any]) -> str:
    """Write one trial's row as its own Parquet fragment, atomically; returns its path."""
    table = pa.Table.from_pylist([row], schema=SCHEMA)
    location = fragment_path(results_dir, row["trial_key"])
    return write_atomic(location, lambda sink: pq.write_table(table, sink))


def _compacted(info: pafs.FileInfo) -> bool:
    return info.base_name.startswith(COMPACTED)


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
                migrate(fragment.to_table())
                keep.append((info, fragment))
            except _READ_ERRORS as e:
                self.corrupt.append((info.path, _reason(e)))
        dropped = len(keep) < len(self.files)
        self.files = [info for info, _ in keep]
        self.fragments = [fragment for _, fragment in keep]
        return dropped


def scan(results_dir: str) -> Fragments:
    """Open every Parquet file's footer (in parallel); unreadable ones are listed, not used."""
    fs, _ = filesystem(results_dir)
    infos = list_files(results_dir, ".parquet")
    parquet = ds.ParquetFileFormat()

    def footer(info: pafs.FileInfo) -> ds.ParquetFileFragment | str:
        fragment = parquet.make_fragment(info.path, fs, file_size=info.size)  # no HEAD
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
        if problem := version_problem(fragment.physical_schema):
            raise StoreError(f"{info.path}: {problem}")
        result.files.append(info)
        result.fragments.append(fragment)
    return result


@dataclass
class Whole:
    """Every readable file of a results directory, read whole: its rows, all of them."""

    fs: pafs.FileSystem
    files: list[pafs.FileInfo]
    table: pa.Table
    corrupt: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def read_whole(results_dir: str) -> Whole:
    """Each file read once (one GET, in parallel), its footer and rows from the same bytes: what
    compaction needs, where `scan` + `Fragments.read` would fetch each footer and then the file."""
    fs, _ = filesystem(results_dir)
    infos = list_files(results_dir, ".parquet")

    def load(info: pafs.FileInfo) -> pa.Table | str:
        try:
            file = pq.ParquetFile(pa.BufferReader(read_file(info.path, fs)))
            if problem := version_problem(file.schema_arrow):
                raise StoreError(f"{info.path}: {problem}")
            return migrate(file.read())
        except _READ_ERRORS as e:
            return _reason(e)

    with ThreadPoolExecutor(max_workers=16) as pool:
        loaded = list(pool.map(load, infos))
    whole = Whole(fs, [], SCHEMA.empty_table())
    tables = []
    for info, table in zip(infos, loaded):
        if isinstance(table, str):
            whole.corrupt.append((info.path, table))
        else:
            whole.files.append(info)
            tables.append(table)
    if tables:
        whole.table = pa.concat_tables(tables)
    return whole


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


def has_row(results_dir: str, trial_key: str, status: str = "ok", compacted: bool = True) -> bool:
    """Whether a trial's row (its fragment's, or a compacted file's) has this status.

    The trial's own fragment costs one request (HEAD, + GET if it exists); the compacted files
    cost a listing, so a trial that runs passes `compacted=False`: the driver left out the
    trials whose rows were already stored before any ran, and rows written since are fragments.
    """
    fs, root = filesystem(results_dir)
    rows = []
    data = read_if_exists(fragment_path(results_dir, trial_key))
    if data is not None:
        try:
            rows.append(pq.read_table(pa.BufferReader(data), columns=_HAS_ROW))
        except _READ_ERRORS:
            pass
    ok = any(table["status"].to_pylist() == ["ok"] for table in rows)
    if compacted and not (ok and status == "ok"):  # a fragment's `ok` wins over any other row
        for info in list_files(results_dir, ".parquet"):
            if not _compacted(info):
                continue
            try:
                rows.append(pq.read_table(info.path, filesystem=fs, columns=_HAS_ROW,
                                          filters=[("trial_key", "=", trial_key)]))  # fmt: skip
            except _READ_ERRORS:
                continue
    if not rows:
        return False
    winner = dedup(pa.concat_tables(rows))
    return winner.num_rows == 1 and winner["status"][0].as_py() == status


_HAS_ROW = ["trial_key", "status", "finished_at"]


@dataclass
class Compaction:
    """What `compact` did."""

    merged: int  # files read and merged
    rows: int  # rows (trials) in the compacted file
    path: str | None  # the compacted file; None when there was nothing to do
    removed: int  # merged files deleted afterwards
    kept: list[str] = field(default_factory=list)  # changed while compacting; merged next time
    corrupt: list[tuple[str, str]] = field(default_factory=list)  # left in place, not merged
    stale: list[str] = field(default_factory=list)  # temporaries of writes that died, deleted


def compact(results_dir: str, row_group_size: int = 65_536) -> Compaction:
    """Merge all readable files into one deduplicated compacted file, then delete them.

    Temporary files that writers killed over an hour ago left behind are deleted first.

    The new file is complete (atomic) before any input is deleted, so a crash at any point
    leaves every row readable at least once, and readers' dedup makes it count once.
    An input whose mtime or size changed after it was listed (a trial re-ran meanwhile) is
    kept; a rewrite landing between that check and the delete would be lost, so compact a
    sweep that is not running when it matters (S3 mtimes are whole seconds).
    """
    stale = remove_stale_temporaries(results_dir)
    fragments = read_whole(results_dir)
    table, files = fragments.table, fragments.files
    if len(files) <= 1 and all(_compacted(info) for info in files):
        return Compaction(len(files), table.num_rows, None, 0, [], fragments.corrupt, stale)
    rows = dedup(table)
    path = write_atomic(
        f"{results_dir.rstrip('/')}/{COMPACTED}{uuid.uuid4().hex}.parquet",
        lambda sink: pq.write_table(rows, sink, row_group_size=row_group_size),
    )
    # one listing, not a request per file, tells which inputs changed meanwhile; a file gone
    # from it was merged and removed by a concurrent compaction
    now = {info.path: (info.mtime, info.size) for info in list_files(results_dir, ".parquet")}
    unchanged = [info.path for info in files if now.get(info.path) == (info.mtime, info.size)]
    kept = [i.path for i in files if i.path in now and now[i.path] != (i.mtime, i.size)]
    removed = delete_many(unchanged, fragments.fs)
    return Compaction(len(files), rows.num_rows, path, removed, kept, fragments.corrupt, stale)

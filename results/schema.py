"""The results row, in one place: its columns and their Arrow types, its version, its defaults.

A column is only ever added, nullable: give it `since=<the next version>` below and the schema
version follows. Readers accept fragments of this version or older (a column an older file lacks
reads as null; `migrate` does that for one table) and refuse newer ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

VERSION_KEY = b"junkdna.schema_version"
VERSIONS = ("torch", "transformers", "junkdna")  # the packages a row records the versions of
_FILLED_BY_WRITER = object()


@dataclass(frozen=True)
class Column:
    """One column of the row."""

    name: str
    type: pa.DataType
    default: Any = _FILLED_BY_WRITER  # what a trial that measured nothing records
    since: int = 1  # the schema version that added it


COLUMNS = (
    Column("trial_key", pa.string()),
    Column("sweep", pa.string()),
    Column("model", pa.string()),
    Column("task", pa.string()),
    Column("difficulty_axis", pa.string()),
    Column("difficulty_level", pa.float64()),
    Column("method", pa.string()),
    Column("scope", pa.string()),
    Column("sparsity", pa.float64()),  # requested
    Column("actual_sparsity", pa.float64(), float("nan")),  # measured on the pruned tensors
    Column("transfer", pa.string()),
    Column("seed", pa.int64()),
    Column("metric_name", pa.string(), ""),
    Column("metric", pa.float64(), float("nan")),
    Column("n_train", pa.int64(), 0),
    Column("n_eval", pa.int64(), 0),
    Column("prune_s", pa.float64(), 0.0),
    Column("train_s", pa.float64(), 0.0),
    Column("eval_s", pa.float64(), 0.0),
    Column("status", pa.string(), "ok"),
    Column("error", pa.string(), None),
    Column("node", pa.string()),
    Column("device", pa.string(), "cpu"),
    Column("started_at", pa.timestamp("us", tz="UTC")),
    Column("finished_at", pa.timestamp("us", tz="UTC")),
    Column("versions", pa.struct([(name, pa.string()) for name in VERSIONS])),
    # JSON object of every metric the task computes; added within v1 (older files read null)
    Column("metrics", pa.string(), None),
    # quantization trials (v2): the bit width (null for pruning and dense rows), and the mean
    # number of distinct values per quantization group measured on the quantized tensors
    # (<= 2^bits: the weights are on the grid; null for pruning and dense rows)
    Column("bits", pa.int64(), since=2),
    Column("actual_levels", pa.float64(), None, since=2),
    # v3: the template a trial that generates answers was asked in (difficulty.prompts.TEMPLATES:
    # paper, lm-eval); null for every other trial and for rows before v3
    Column("prompt", pa.string(), since=3),
)

SCHEMA_VERSION = str(max(column.since for column in COLUMNS))
SCHEMA = pa.schema(
    [(column.name, column.type) for column in COLUMNS],
    metadata={VERSION_KEY: SCHEMA_VERSION},
)
# the measured part of the row of a trial that measured nothing (a failure, a no-op)
NOTHING_MEASURED = {c.name: c.default for c in COLUMNS if c.default is not _FILLED_BY_WRITER}


def version_problem(schema: pa.Schema) -> str | None:
    """Why a fragment of this schema cannot be read here (a newer version), in one line; or None."""
    version = (schema.metadata or {}).get(VERSION_KEY, b"?").decode()
    if version.isdigit() and int(version) <= int(SCHEMA_VERSION):
        return None
    return (
        f"results schema version {version}; this junkdna reads version {SCHEMA_VERSION} "
        "or older (upgrade junkdna to read newer results)"
    )


def migrate(table: pa.Table) -> pa.Table:
    """An older fragment's rows in the current schema: a column the table lacks reads as null."""
    columns = [
        table[field.name] if field.name in table.column_names else pa.nulls(len(table), field.type)
        for field in SCHEMA
    ]
    return pa.Table.from_arrays(columns, names=SCHEMA.names).cast(SCHEMA)

"""The row's schema: older fragments migrate to it, newer ones are refused in one line."""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from results import schema, store
from tests.results.test_store import row


def test_an_old_fragment_without_metrics_migrates_to_the_current_schema(tmp_path):
    old = pa.Table.from_pylist([row("old")], schema=schema.SCHEMA).drop_columns(["metrics"])
    old = old.select(list(reversed(old.column_names))).replace_schema_metadata(
        {schema.VERSION_KEY: b"1"}
    )
    pq.write_table(old, tmp_path / "old.parquet")
    migrated = schema.migrate(pq.read_table(tmp_path / "old.parquet"))
    assert migrated.schema == schema.SCHEMA
    assert migrated.schema.metadata == schema.SCHEMA.metadata
    assert migrated["metrics"].to_pylist() == [None]
    assert migrated.to_pylist()[0] == {
        **row("old"), "metrics": None, "bits": None, "actual_levels": None, "prompt": None
    }  # fmt: skip


def _v1_fragment(path, key: str) -> None:
    """A fragment as junkdna wrote it before quantization (schema v1: no bits, actual_levels)."""
    v1 = [c.name for c in schema.COLUMNS if c.since == 1]
    table = pa.Table.from_pylist([row(key)], schema=schema.SCHEMA).select(v1)
    pq.write_table(table.replace_schema_metadata({schema.VERSION_KEY: b"1"}), path)


def test_v1_fragments_read_beside_newer_ones_and_compact_migrates_them_to_the_current_schema(
    tmp_path,
):
    _v1_fragment(tmp_path / "old.parquet", "old")
    store.write_trial(str(tmp_path), {**row("new"), "bits": 4, "actual_levels": 15.5})
    table = store.read_sweep(str(tmp_path)).table
    got = {r["trial_key"]: (r["bits"], r["actual_levels"]) for r in table.to_pylist()}
    assert got == {"old": (None, None), "new": (4, 15.5)}
    done = store.compact(str(tmp_path))
    assert done.rows == 2 and done.removed == 2
    compacted = pq.read_table(done.path)
    assert compacted.schema.metadata[schema.VERSION_KEY] == b"3"
    assert compacted.schema.remove_metadata() == schema.SCHEMA.remove_metadata()
    assert sorted(compacted["bits"].to_pylist(), key=str) == [4, None]


@pytest.mark.parametrize("version", ["1", schema.SCHEMA_VERSION])
def test_this_version_and_older_ones_are_read(version):
    metadata = {schema.VERSION_KEY: version.encode()}
    assert schema.version_problem(schema.SCHEMA.with_metadata(metadata)) is None


def test_a_newer_version_or_none_is_refused_in_one_line(tmp_path):
    newer = str(int(schema.SCHEMA_VERSION) + 1)
    problem = schema.version_problem(schema.SCHEMA.with_metadata({schema.VERSION_KEY: newer}))
    assert problem == (
        f"results schema version {newer}; this junkdna reads version {schema.SCHEMA_VERSION} "
        "or older (upgrade junkdna to read newer results)"
    )
    assert "version ?" in schema.version_problem(schema.SCHEMA.remove_metadata())
    table = pa.Table.from_pylist([row("a")], schema=schema.SCHEMA)
    pq.write_table(
        table.replace_schema_metadata({schema.VERSION_KEY: newer}), tmp_path / "a.parquet"
    )
    with pytest.raises(store.StoreError, match=f"a.parquet: results schema version {newer};"):
        store.read_sweep(str(tmp_path))


def test_the_version_is_the_newest_column_s_and_the_names_stay_importable():
    import results

    assert schema.SCHEMA_VERSION == str(max(column.since for column in schema.COLUMNS)) == "3"
    assert results.SCHEMA is schema.SCHEMA is store.SCHEMA
    assert results.SCHEMA_VERSION == schema.SCHEMA_VERSION


def test_a_trial_that_measured_nothing_still_makes_a_valid_row():
    identity = {k: v for k, v in row("a").items() if k not in schema.NOTHING_MEASURED}
    written = pa.Table.from_pylist([{**identity, **schema.NOTHING_MEASURED}], schema=schema.SCHEMA)
    got = written.to_pylist()[0]
    assert math.isnan(got["metric"]) and got["status"] == "ok" and got["error"] is None
    assert set(schema.NOTHING_MEASURED) | set(identity) == set(schema.SCHEMA.names)

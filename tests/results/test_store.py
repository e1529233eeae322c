"""The Parquet store: schema v1, atomic fragments, exactly one row per trial_key."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from results import store
from results.query import query


def row(key: str, metric: float = 0.9, status: str = "ok", minutes: int = 0) -> dict:
    t = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=minutes)
    return {"trial_key": key, "sweep": "s", "model": "m", "task": "t", "difficulty_axis": "data_fraction",
            "difficulty_level": 1.0, "method": "magnitude", "scope": "global", "sparsity": 0.5,
            "actual_sparsity": 0.5, "transfer": "sparse", "seed": 1, "metric_name": "accuracy",
            "metric": metric, "n_train": 10, "n_eval": 10, "prune_s": 0.1, "train_s": 1.0, "eval_s": 0.1,
            "status": status, "error": None if status == "ok" else "boom", "node": "n", "device": "cpu",
            "started_at": t, "finished_at": t,
            "versions": {"torch": "x", "transformers": "y", "junkdna": "z"}}  # fmt: skip


def test_round_trip_keeps_schema_v1_and_its_version(tmp_path):
    path = store.write_trial(str(tmp_path), row("a"))
    schema = pq.read_schema(path)
    assert schema.metadata[b"junkdna.schema_version"] == b"1"
    table = store.read_sweep(str(tmp_path)).table
    assert table.schema.names == store.SCHEMA.names
    assert table.to_pylist()[0]["metric"] == 0.9


def test_same_trial_written_twice_is_one_row_and_one_file(tmp_path):
    store.write_trial(str(tmp_path), row("a", 0.5, minutes=0))
    store.write_trial(str(tmp_path), row("a", 0.7, minutes=1))
    assert len(list(tmp_path.glob("*.parquet"))) == 1
    assert store.read_sweep(str(tmp_path)).table["metric"].to_pylist() == [0.7]


def test_dedup_prefers_a_finished_row_then_the_latest():
    rows = [row("a", 0.5, minutes=0), row("a", 0.6, "failed", minutes=5), row("b", 0.1, minutes=0),
            row("b", 0.2, minutes=3), row("c", 0.0, "failed")]  # fmt: skip
    table = store.dedup(pa.Table.from_pylist(rows, schema=store.SCHEMA))
    got = {r["trial_key"]: (r["metric"], r["status"]) for r in table.to_pylist()}
    assert got == {"a": (0.5, "ok"), "b": (0.2, "ok"), "c": (0.0, "failed")}


def test_concurrent_writers_of_different_trials_leave_one_row_each(tmp_path):
    keys = [f"k{i}" for i in range(40)]
    threads = [
        threading.Thread(target=store.write_trial, args=(str(tmp_path), row(k))) for k in keys
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    table = store.read_sweep(str(tmp_path)).table
    assert sorted(table["trial_key"].to_pylist()) == sorted(keys)


def test_a_write_that_dies_midway_leaves_no_fragment(tmp_path, monkeypatch):
    def die(table, where, **kwargs):
        with open(where, "wb") as f:
            f.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(store.pq, "write_table", die)
    with pytest.raises(OSError):
        store.write_trial(str(tmp_path), row("a"))
    monkeypatch.undo()
    assert list(tmp_path.glob("*.parquet")) == []
    assert store.read_sweep(str(tmp_path)).table.num_rows == 0
    assert not store.has_row(str(tmp_path), "a")


def test_corrupt_fragment_is_reported_and_skipped_by_queries(tmp_path):
    store.write_trial(str(tmp_path), row("a"))
    (tmp_path / "b.parquet").write_bytes(b"PAR1 truncated")
    sweep = store.read_sweep(str(tmp_path))
    assert sweep.table["trial_key"].to_pylist() == ["a"]
    assert [p.rsplit("/", 1)[1] for p, _ in sweep.corrupt] == ["b.parquet"]
    assert query(str(tmp_path), "select count(*) as n from trials")["n"].to_pylist() == [1]


def test_a_newer_schema_version_is_refused_with_a_clear_message(tmp_path):
    table = pa.Table.from_pylist([row("a")], schema=store.SCHEMA)
    pq.write_table(
        table.replace_schema_metadata({"junkdna.schema_version": "2"}), tmp_path / "a.parquet"
    )
    with pytest.raises(store.StoreError, match="schema version 2; this junkdna reads version 1"):
        store.read_sweep(str(tmp_path))


def test_has_row_only_for_finished_rows(tmp_path):
    store.write_trial(str(tmp_path), row("a", status="failed"))
    assert not store.has_row(str(tmp_path), "a")
    store.write_trial(str(tmp_path), row("a"))
    assert store.has_row(str(tmp_path), "a")


def test_fragments_written_before_the_metrics_column_read_with_null_metrics(tmp_path):
    old = pa.Table.from_pylist([row("old")], schema=store.SCHEMA).drop_columns(["metrics"])
    pq.write_table(old.replace_schema_metadata(store.SCHEMA.metadata), tmp_path / "old.parquet")
    store.write_trial(str(tmp_path), {**row("new"), "metrics": '{"accuracy": 0.9}'})
    table = store.read_sweep(str(tmp_path)).table
    assert table.schema == store.SCHEMA
    assert table["metrics"].to_pylist() == ['{"accuracy": 0.9}', None]

"""The Parquet store: schema v1, atomic fragments, exactly one row per trial_key."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import results
from results import store
from results.query import query


def row(key: str, metric: float = 0.9, status: str = "ok", minutes: int = 0) -> dict:
    t = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=minutes)
    return {"trial_key": key, "sweep": "s", "model": "m", "task": "t", "difficulty_axis": "data_fraction",
            "difficulty_level": 1.0, "method": "magnitude", "scope": "global", "sparsity": 0.5, "bits": None, "prompt": None,
            "actual_sparsity": 0.5, "transfer": "sparse", "seed": 1, "metric_name": "accuracy",
            "metric": metric, "n_train": 10, "n_eval": 10, "prune_s": 0.1, "train_s": 1.0, "eval_s": 0.1,
            "status": status, "error": None if status == "ok" else "boom", "node": "n", "device": "cpu",
            "started_at": t, "finished_at": t,
            "versions": {"torch": "x", "transformers": "y", "junkdna": "z"}}  # fmt: skip


def test_round_trip_keeps_the_schema_and_its_version(tmp_path):
    path = store.write_trial(str(tmp_path), row("a"))
    schema = pq.read_schema(path)
    assert schema.metadata[b"junkdna.schema_version"] == b"3"
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


def test_concurrent_writer_processes_of_different_trials_leave_one_row_each(tmp_path):
    keys = [f"p{i}" for i in range(30)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.starmap(store.write_trial, [(str(tmp_path), row(k)) for k in keys])
    table = store.read_sweep(str(tmp_path)).table
    assert sorted(table["trial_key"].to_pylist()) == sorted(keys)


def test_a_write_that_dies_midway_leaves_no_fragment(tmp_path, monkeypatch):
    def die(table, where, **kwargs):
        where.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(store.pq, "write_table", die)
    with pytest.raises(OSError):
        store.write_trial(str(tmp_path), row("a"))
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []  # neither a fragment nor its temporary file
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
        table.replace_schema_metadata({"junkdna.schema_version": "4"}), tmp_path / "a.parquet"
    )
    with pytest.raises(
        store.StoreError, match="schema version 4; this junkdna reads version 3 or older"
    ):
        store.read_sweep(str(tmp_path))


def test_has_row_only_for_finished_rows(tmp_path):
    store.write_trial(str(tmp_path), row("a", status="failed"))
    assert not store.has_row(str(tmp_path), "a")
    store.write_trial(str(tmp_path), row("a"))
    assert store.has_row(str(tmp_path), "a")


def test_corrupt_data_behind_a_sound_footer_is_reported_and_skipped(tmp_path):
    store.write_trial(str(tmp_path), row("a"))
    path = store.write_trial(str(tmp_path), row("b"))
    start = pq.ParquetFile(path).metadata.row_group(0).column(0).data_page_offset
    data = bytearray(open(path, "rb").read())
    data[start : start + 30] = b"\xff" * 30  # the first page of trial_key, footer untouched
    open(path, "wb").write(data)
    assert store.scan(str(tmp_path)).corrupt == []  # the footer alone looks fine
    sweep = store.read_sweep(str(tmp_path))
    assert sweep.table["trial_key"].to_pylist() == ["a"]
    assert [p for p, _ in sweep.corrupt] == [path]
    assert query(str(tmp_path), "select count(*) as n from trials")["n"].to_pylist() == [1]


def _everything(results_dir: str) -> list[dict]:
    return query(results_dir, "select * from trials order by trial_key").to_pylist()


def _sweep(tmp_path) -> str:
    """Six files: a, b, c ok; d ok and a copy of d failed later; e failed; and a corrupt one."""
    for i, key in enumerate("abc"):
        store.write_trial(str(tmp_path), row(key, metric=i / 10))
    store.write_trial(str(tmp_path), row("e", status="failed"))
    pq.write_table(pa.Table.from_pylist([row("d", 0.3, "failed", minutes=9)], schema=store.SCHEMA),
                   tmp_path / "d-copy.parquet")  # fmt: skip
    store.write_trial(str(tmp_path), row("d", 0.4, minutes=1))
    (tmp_path / "z.parquet").write_bytes(b"PAR1 truncated")
    return str(tmp_path)


def test_compaction_merges_files_without_changing_what_queries_return(tmp_path):
    results_dir = _sweep(tmp_path)
    before = _everything(results_dir)
    assert [r["trial_key"] for r in before] == ["a", "b", "c", "d", "e"]
    summary = results.compact(results_dir)
    assert (summary.merged, summary.rows, summary.removed) == (6, 5, 6)
    assert [p.rsplit("/", 1)[1] for p, _ in summary.corrupt] == ["z.parquet"]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names[0].startswith("compacted-") and names[1:] == [
        "z.parquet"
    ]  # corrupt left, reported
    assert _everything(results_dir) == before
    assert store.read_sweep(results_dir).table.equals(
        store.dedup(pa.Table.from_pylist(before, schema=store.SCHEMA))
    )
    assert store.has_row(results_dir, "d") and not store.has_row(results_dir, "e")
    assert store.compact(results_dir).path is None  # one compacted file: nothing to do


def test_compaction_reads_each_file_once(tmp_path, monkeypatch):
    results_dir = _sweep(tmp_path)
    opened = []
    read = store.read_file
    monkeypatch.setattr(store, "read_file", lambda path, fs: opened.append(path) or read(path, fs))
    monkeypatch.setattr(store, "scan", lambda d: pytest.fail("compaction read the footers first"))
    summary = store.compact(results_dir)
    assert len(opened) == len(set(opened)) == summary.merged + len(summary.corrupt) == 7


def test_a_crash_between_writing_the_compacted_file_and_deleting_fragments_counts_once(tmp_path):
    results_dir = _sweep(tmp_path)
    before = _everything(results_dir)
    saved = tmp_path.parent / "saved"
    shutil.copytree(tmp_path, saved)
    store.compact(results_dir)
    shutil.copytree(saved, tmp_path, dirs_exist_ok=True)  # as if it died before deleting anything
    assert len(list(tmp_path.glob("compacted-*"))) == 1 and (tmp_path / "a.parquet").exists()
    assert _everything(results_dir) == before
    store.compact(results_dir)  # the next compaction finishes the job
    assert sorted(p.name.split("-")[0] for p in tmp_path.iterdir()) == ["compacted", "z.parquet"]
    assert _everything(results_dir) == before


def test_a_crash_while_writing_the_compacted_file_changes_nothing(tmp_path, monkeypatch):
    results_dir = _sweep(tmp_path)
    before = _everything(results_dir)
    files = sorted(tmp_path.glob("*.parquet"))

    def die(table, where, **kwargs):
        where.write(b"PAR1 half a file")
        raise OSError("killed")

    monkeypatch.setattr(store.pq, "write_table", die)
    with pytest.raises(OSError, match="killed"):
        store.compact(results_dir)
    monkeypatch.undo()
    assert sorted(tmp_path.iterdir()) == files  # no temporary file either
    assert _everything(results_dir) == before


def test_compact_deletes_temporaries_of_writes_that_died_over_an_hour_ago(tmp_path):
    results_dir = _sweep(tmp_path)
    before = _everything(results_dir)
    dead, running = (tmp_path / f".{k}.parquet.{uuid.uuid4().hex}.tmp" for k in "xy")
    other = tmp_path / ".not-ours.tmp"
    for path in (dead, running, other):
        path.write_bytes(b"PAR1 half a file")
    two_hours_ago = time.time() - 7200
    for path in (dead, other):
        os.utime(path, (two_hours_ago, two_hours_ago))
    summary = store.compact(results_dir)
    assert summary.stale == [str(dead)]
    assert not dead.exists() and running.exists() and other.exists()
    assert _everything(results_dir) == before
    assert store.compact(results_dir).stale == []


def test_two_compactions_at_once_both_finish_and_change_no_answer(tmp_path):
    results_dir = _sweep(tmp_path)
    before = _everything(results_dir)
    with ThreadPoolExecutor(2) as pool:
        for compaction in [pool.submit(store.compact, results_dir) for _ in range(2)]:
            compaction.result()  # re-raises what the thread raised
    assert _everything(results_dir) == before
    assert all(p.name.startswith("compacted-") or p.name == "z.parquet" for p in tmp_path.iterdir())


def test_a_trial_that_reruns_after_compaction_wins(tmp_path):
    results_dir = _sweep(tmp_path)
    store.compact(results_dir)
    assert store.has_row(results_dir, "e", status="failed")
    store.write_trial(results_dir, row("e", 0.77, minutes=30))  # the failed trial, resumed
    store.write_trial(results_dir, row("a", 0.55, minutes=30))  # a finished trial run again
    got = {r["trial_key"]: (r["status"], r["metric"]) for r in _everything(results_dir)}
    assert got["e"] == ("ok", 0.77) and got["a"] == ("ok", 0.55)
    assert store.has_row(results_dir, "e")
    store.compact(results_dir)
    assert {r["trial_key"]: (r["status"], r["metric"]) for r in _everything(results_dir)} == got


def test_a_fragment_rewritten_during_compaction_is_kept(tmp_path, monkeypatch):
    results_dir = _sweep(tmp_path)
    read = store.read_whole
    time.sleep(0.05)  # so the rewrite's mtime differs

    def read_while_a_trial_reruns(results_dir):
        whole = read(results_dir)
        store.write_trial(results_dir, row("e", 0.9, minutes=40))
        return whole

    monkeypatch.setattr(store, "read_whole", read_while_a_trial_reruns)
    summary = store.compact(results_dir)
    assert [p.rsplit("/", 1)[1] for p in summary.kept] == ["e.parquet"]
    assert (tmp_path / "e.parquet").exists()
    assert query(results_dir, "select status, metric from trials where trial_key = 'e'").to_pylist() == [
        {"status": "ok", "metric": 0.9}]  # fmt: skip


def test_load_gives_an_arrow_backed_frame_by_directory_or_by_name(tmp_path):
    store.write_trial(str(tmp_path / "sweeps" / "s1" / "results"), row("a"))
    store.write_trial(str(tmp_path / "sweeps" / "s1" / "results"), row("b", 0.1))
    by_dir = results.load(str(tmp_path / "sweeps" / "s1"))
    by_name = results.load("s1", storage=str(tmp_path / "sweeps"))
    assert by_dir.equals(by_name)
    assert list(by_dir.columns) == store.SCHEMA.names
    assert by_dir["trial_key"].tolist() == ["a", "b"]
    assert isinstance(by_dir["metric"].dtype, pd.ArrowDtype)


def test_fragments_written_before_the_metrics_column_read_with_null_metrics(tmp_path):
    old = pa.Table.from_pylist([row("old")], schema=store.SCHEMA).drop_columns(["metrics"])
    pq.write_table(old.replace_schema_metadata(store.SCHEMA.metadata), tmp_path / "old.parquet")
    store.write_trial(str(tmp_path), {**row("new"), "metrics": '{"accuracy": 0.9}'})
    table = store.read_sweep(str(tmp_path)).table
    assert table.schema == store.SCHEMA
    assert table["metrics"].to_pylist() == ['{"accuracy": 0.9}', None]

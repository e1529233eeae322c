"""The store on object storage: every read and write path against a real S3 server (moto) on localhost."""

from __future__ import annotations

import pyarrow.fs as pafs

import results
from orchestrator.cli import main
from orchestrator.driver import save_spec
from orchestrator.spec import validate_spec
from orchestrator.sweeps import stored_spec, sweep_status
from results import store
from results.query import query
from tests import s3_server
from tests.results.test_store import row

bucket = s3_server.bucket


def test_rows_are_written_read_deduplicated_queried_and_compacted_on_s3(bucket):
    results_dir = f"{bucket}/rows/results"
    store.write_trial(results_dir, row("a", 0.5))
    store.write_trial(results_dir, row("a", 0.7, minutes=1))  # the same trial twice: one row
    store.write_trial(results_dir, row("b", status="failed"))
    assert store.has_row(results_dir, "a") and not store.has_row(results_dir, "b")
    assert not store.has_row(results_dir, "never-ran")
    fs, root = pafs.FileSystem.from_uri(results_dir)
    with fs.open_output_stream(f"{root}/c.parquet") as f:
        f.write(b"PAR1 truncated")
    sweep = store.read_sweep(results_dir)
    assert sweep.table["trial_key"].to_pylist() == ["a", "b"]
    assert sweep.table["metric"].to_pylist()[0] == 0.7
    assert [p.rsplit("/", 1)[1] for p, _ in sweep.corrupt] == ["c.parquet"]
    sql = "select trial_key, status, metric from trials order by trial_key"
    before = query(results_dir, sql).to_pylist()
    summary = store.compact(results_dir)
    assert (summary.merged, summary.rows, summary.removed) == (2, 2, 2)
    names = sorted(
        info.base_name.split("-")[0] for info in fs.get_file_info(pafs.FileSelector(root))
    )
    assert names == ["c.parquet", "compacted"]  # the corrupt file is left where status sees it
    assert query(results_dir, sql).to_pylist() == before
    assert store.has_row(results_dir, "a") and store.has_row(results_dir, "b", status="failed")
    store.write_trial(results_dir, row("b", 0.8, minutes=5))  # b re-runs after compaction and wins
    assert query(results_dir, "select status, metric from trials where trial_key = 'b'").to_pylist() == [
        {"status": "ok", "metric": 0.8}]  # fmt: skip
    assert store.has_row(results_dir, "b")


def test_spec_status_query_and_load_of_a_sweep_on_s3(bucket, capsys, tmp_path, monkeypatch):
    spec = validate_spec({"name": "sweep", "storage": f"{bucket}/sweeps", "models": ["minilm"],
                          "tasks": ["builtin/polarity-easy"], "sparsities": [0.5],
                          "transfer": ["dense", "sparse"], "seeds": [1, 2], "train": {"epochs": 1},
                          "noop": True})  # fmt: skip
    save_spec(spec)
    assert stored_spec(spec.sweep_dir) == spec
    trials = spec.expand()
    store.write_trial(trials[0].results_dir, row(trials[0].trial_key))
    store.write_trial(trials[0].results_dir, row(trials[1].trial_key, status="failed"))
    fs, root = pafs.FileSystem.from_uri(trials[0].results_dir)
    with fs.open_output_stream(f"{root}/{trials[2].trial_key}.parquet") as f:
        f.write(b"PAR1 cut short by a dying node")
    status = sweep_status(spec.sweep_dir)
    assert (status.total, status.done, len(status.failed), status.pending) == (4, 1, 1, 2)
    assert main(["status", spec.sweep_dir]) == 1
    out = capsys.readouterr().out
    assert "4 trials: 1 done, 1 failed, 2 pending" in out
    assert f"unreadable fragment (skipped by queries) {root}/{trials[2].trial_key}.parquet" in out
    out = tmp_path / "ok.csv"
    sql = "select count(*) as n from trials where status = 'ok'"
    assert (
        main(["results", "query", spec.sweep_dir, sql, "--format", "csv", "--out", str(out)]) == 0
    )
    assert out.read_text() == "n\n1\n"
    assert main(["results", "compact", spec.sweep_dir]) == 0
    assert sweep_status(spec.sweep_dir).done == 1
    assert results.load(spec.sweep_dir)["trial_key"].tolist() == sorted(
        t.trial_key for t in trials[:2]
    )
    monkeypatch.chdir(tmp_path)
    assert main(["analyze", spec.sweep_dir]) == 0
    assert (tmp_path / "sweep-analysis" / "report.md").is_file()  # not ./s3:/junk/...
    assert not (tmp_path / "s3:").exists()


s3 = s3_server.s3


def test_a_trial_costs_two_requests_and_no_listing_and_compact_deletes_in_batches(s3):
    results_dir = "s3://junk/counted/results"
    s3.requests.clear()
    for i in range(30):  # what a trial does with the store: is my row there? then write it
        assert not store.has_row(results_dir, f"k{i}", compacted=False)
        store.write_trial(results_dir, row(f"k{i}"))
    assert dict(s3.requests) == {"HEAD": 30, "PUT": 30}  # one HEAD (404), one PUT per trial
    s3.requests.clear()
    assert store.has_row(results_dir, "k3", compacted=False)
    assert dict(s3.requests) == {"HEAD": 1, "GET": 1}
    s3.requests.clear()
    summary = store.compact(results_dir)
    assert (summary.merged, summary.removed) == (30, 30)
    # the 30 deletes are one DeleteObjects (POST); each file is read once, without a HEAD
    assert s3.requests["POST"] == 1 and s3.requests["DELETE"] == 0 and s3.requests["GET"] == 30
    assert s3.requests["HEAD"] <= 2 and s3.requests["LIST"] <= 3 and s3.requests["PUT"] == 1
    assert store.read_sweep(results_dir).table.num_rows == 30

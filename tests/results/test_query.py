"""`junkdna results query` and `results compact`: DuckDB over the view `trials`, in every format."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from orchestrator.cli import main
from results import store
from tests.results.test_store import row

SQL = "select trial_key, status, metric from trials order by trial_key"


@pytest.fixture
def sweep(tmp_path) -> str:
    """A sweep directory: spec.yaml (as `locate` wants) and three trials, one written twice."""
    (tmp_path / "spec.yaml").write_text("name: s\n")
    for key, metric in (("a", 0.5), ("b", 0.25), ("c", 0.125)):
        store.write_trial(f"{tmp_path}/results", row(key, metric))
    store.write_trial(f"{tmp_path}/results", row("c", 0.75, minutes=1))
    return str(tmp_path)


EXPECTED = [
    {"trial_key": "a", "status": "ok", "metric": 0.5},
    {"trial_key": "b", "status": "ok", "metric": 0.25},
    {"trial_key": "c", "status": "ok", "metric": 0.75},
]


def test_query_prints_a_table_csv_and_json(sweep, capsys):
    assert main(["results", "query", sweep, SQL]) == 0
    assert capsys.readouterr().out.split("\n")[:2] == [
        "trial_key status  metric",
        "        a     ok    0.50",
    ]
    assert main(["results", "query", sweep, SQL, "--format", "csv"]) == 0
    assert capsys.readouterr().out == "trial_key,status,metric\na,ok,0.5\nb,ok,0.25\nc,ok,0.75\n"
    assert main(["results", "query", sweep, SQL, "--format", "json"]) == 0
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == EXPECTED


def test_query_writes_parquet_or_text_to_a_file(sweep, tmp_path, capsys):
    out = tmp_path / "answer.parquet"
    assert main(["results", "query", sweep, SQL, "--format", "parquet", "--out", str(out)]) == 0
    assert pq.read_table(out).to_pylist() == EXPECTED
    out = tmp_path / "answer.json"
    assert main(["results", "query", sweep, SQL, "--format", "json", "--out", str(out)]) == 0
    assert [json.loads(line) for line in out.read_text().splitlines()] == EXPECTED
    assert capsys.readouterr().out == ""


def test_bad_input_is_one_line_and_writes_nothing(sweep, tmp_path, capsys):
    out = tmp_path / "never.parquet"
    assert main(["results", "query", sweep, SQL, "--format", "parquet"]) == 2
    assert main(["results", "query", sweep, "select nope from trials", "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "junkdna: results query: --format parquet needs --out FILE"
    assert err[1].startswith("junkdna: query: Binder Error") and len(err) == 2
    assert not out.exists()


def test_compact_verb_keeps_every_answer(sweep, capsys):
    by_task = "select task, count(*) as n, sum(metric) as total from trials group by task"
    before = [main(["results", "query", sweep, q, "--format", "json"]) for q in (SQL, by_task)]
    answers = capsys.readouterr().out
    assert main(["results", "compact", sweep]) == 0
    assert "merged 3 files into" in capsys.readouterr().out  # c's second write replaced its first
    assert [p.name.split("-")[0] for p in (Path(sweep) / "results").iterdir()] == ["compacted"]
    after = [main(["results", "query", sweep, q, "--format", "json"]) for q in (SQL, by_task)]
    assert before == after == [0, 0] and capsys.readouterr().out == answers
    assert main(["results", "compact", sweep]) == 0
    assert "nothing to compact" in capsys.readouterr().out

"""Experiment trackers: one run per trial, with its config and metric, through the real driver."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.spec import validate_spec
from orchestrator.trackers import TRACKERS, Tracker
from results.store import read_sweep
from tests.orchestrator.test_driver import ray_local  # noqa: F401  (one local Ray per module)

CONFIG = ("model", "task", "difficulty_axis", "difficulty_level", "method", "scope", "sparsity",
          "transfer", "seed", "trial_key")  # fmt: skip
SPEC = {"name": "tracked", "models": ["minilm"], "tasks": ["builtin/polarity-easy"],
        "sparsities": [0.5], "transfer": ["dense", "sparse"], "seeds": [1, 2], "noop": True,
        "retries": 0}  # fmt: skip


def sweep(tmp_path, trackers: list[str]) -> list[dict]:
    """Run the no-op sweep (4 trials: dense and sparse, 2 seeds) with `trackers`; its rows."""
    spec = tmp_path / "tracked.yaml"
    spec.write_text(json.dumps({**SPEC, "storage": str(tmp_path / "sweeps"), "trackers": trackers}))
    assert main(["submit", str(spec)]) == 0
    rows = read_sweep(f"{tmp_path}/sweeps/tracked/results").table.to_pylist()
    assert len(rows) == 4 and {r["status"] for r in rows} == {"ok"}
    return rows


def expected(rows: list[dict]) -> dict[str, dict]:
    """trial_key -> the config a tracker run should hold, as strings (how trackers keep params)."""
    return {r["trial_key"]: {k: str(r[k]) for k in CONFIG} for r in rows}


@pytest.mark.usefixtures("ray_local")
def test_mlflow_one_run_per_trial_with_its_config_and_metric(tmp_path, monkeypatch):
    mlflow = pytest.importorskip(
        "mlflow", reason="mlflow not installed (pip install 'junkdna[trackers]')"
    )
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # mlflow 3.x: else only database stores
    rows = sweep(tmp_path, ["mlflow"])
    runs = mlflow.search_runs(experiment_names=["tracked"], output_format="list")
    assert len(runs) == len(rows)
    got = {run.data.params["trial_key"]: run for run in runs}
    for key, config in expected(rows).items():
        run = got[key]
        assert {k: run.data.params[k] for k in CONFIG} == config
        assert run.data.params["metric_name"] == "noop"
        assert run.data.metrics["metric"] == 0.0
        assert run.info.status == "FINISHED"


@pytest.mark.usefixtures("ray_local")
def test_wandb_offline_one_run_per_trial_with_its_config_and_metric(tmp_path, monkeypatch):
    pytest.importorskip("wandb", reason="wandb not installed (pip install 'junkdna[trackers]')")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    rows = sweep(tmp_path, ["wandb"])
    runs = [_wandb_run(path) for path in tmp_path.glob("wandb/offline-run-*/run-*.wandb")]
    assert len(runs) == len(rows)
    got = {config.get("trial_key"): (config, history) for config, history in runs}
    for key, want in expected(rows).items():
        config, history = got[key]
        assert {k: str(config[k]) for k in CONFIG} == want
        assert config["metric_name"] == "noop" and history["metric"] == 0.0


def _wandb_run(path: Path) -> tuple[dict, dict]:
    """An offline W&B run file's config and logged values: protobuf records in LevelDB's log
    format (32 KiB blocks of checksum, length, type, data) after a 7-byte header."""
    from wandb.proto import wandb_internal_pb2

    data, pos, block, parts = path.read_bytes(), 7, 32768, []
    config, history = {}, {}
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # a block's tail too short for a record header: padding
            pos += block - pos % block
            continue
        length, kind = int.from_bytes(data[pos + 4 : pos + 6], "little"), data[pos + 6]
        parts.append(data[pos + 7 : pos + 7 + length])
        pos += 7 + length
        if kind not in (1, 4):  # a record's first or middle fragment
            continue
        record = wandb_internal_pb2.Record.FromString(b"".join(parts))
        parts = []
        items = {"run": record.run.config.update, "config": record.config.update,
                 "history": record.history.item}.get(record.WhichOneof("record_type"), [])  # fmt: skip
        target = history if record.HasField("history") else config
        for item in items:
            target[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
    return config, history


@pytest.mark.usefixtures("ray_local")
def test_tensorboard_event_files_per_trial_in_the_sweep(tmp_path):
    pytest.importorskip(
        "tensorboardX", reason="tensorboardX not installed (pip install 'junkdna[trackers]')"
    )
    rows = sweep(tmp_path, ["tensorboard"])
    tune = tmp_path / "sweeps" / "tracked" / "tune"
    for key in expected(rows):
        (run,) = tune.glob(f"run-*/{key}")
        assert list(run.glob("events.out.tfevents.*")), f"no event file in {run}"


@pytest.mark.usefixtures("ray_local")
def test_a_tracker_that_cannot_log_costs_a_line_not_the_sweep(tmp_path, capsys, monkeypatch):
    from ray.tune.logger import LoggerCallback

    class Unreachable(LoggerCallback):
        def log_trial_result(self, iteration, trial, result):
            raise ConnectionError("tracking server unreachable")

    monkeypatch.setitem(
        TRACKERS, "tensorboard", Tracker("tensorboardX", lambda sweep: Unreachable(), "")
    )
    sweep(tmp_path, ["tensorboard"])  # every trial still has its row
    err = capsys.readouterr().err
    assert err.count("Unreachable did not log trial") == 4 and "tracking server unreachable" in err


def test_trackers_are_validated_off_by_default_and_not_in_trial_keys():
    base = {k: v for k, v in SPEC.items() if k != "noop"}
    assert validate_spec(base).trackers == []
    tracked = validate_spec({**base, "trackers": ["tensorboard"]})
    assert [t.trial_key for t in tracked.expand()] == [
        t.trial_key for t in validate_spec(base).expand()
    ]


def test_tracker_without_its_package_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "wandb" else find_spec(name, *a),
    )
    spec = tmp_path / "tracked.yaml"
    spec.write_text(
        json.dumps(
            {**SPEC, "storage": str(tmp_path / "sweeps"), "trackers": ["tensorboard", "wandb"]}
        )
    )
    assert main(["validate", str(spec)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"junkdna: {spec}: trackers[1] = 'wandb': needs the wandb package (pip install 'junkdna[trackers]')"
    )


class Refused(Exception):
    pass


def _broken(sweep):
    from ray.tune.logger import LoggerCallback

    class Broken(LoggerCallback):
        def setup(self, *args, **kwargs):
            raise Refused("API key not found\nsecond line of detail")

    return Broken()


def test_a_tracker_that_cannot_start_is_one_line_exit_2_and_nothing_is_written(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(TRACKERS, "wandb", Tracker("wandb", _broken, "run `wandb login`"))
    spec = tmp_path / "tracked.yaml"
    spec.write_text(
        json.dumps({**SPEC, "storage": str(tmp_path / "sweeps"), "trackers": ["wandb"]})
    )
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: object())  # "installed"
    assert main(["submit", str(spec)]) == 2
    assert capsys.readouterr().err.strip() == (
        "junkdna: tracker wandb cannot start: API key not found; run `wandb login` "
        "(or run without it: --skip-broken-trackers)"
    )
    assert not (tmp_path / "sweeps").exists()  # no spec saved, no Ray started, no trial run


@pytest.mark.usefixtures("ray_local")
def test_skip_broken_trackers_runs_without_it_and_says_so(tmp_path, capsys, monkeypatch):
    pytest.importorskip("tensorboardX", reason="tensorboardX not installed")
    monkeypatch.setitem(TRACKERS, "wandb", Tracker("wandb", _broken, "run `wandb login`"))
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: object())
    spec = tmp_path / "tracked.yaml"
    spec.write_text(json.dumps({**SPEC, "storage": str(tmp_path / "sweeps"),
                                "trackers": ["wandb", "tensorboard"]}))  # fmt: skip
    assert main(["submit", str(spec), "--skip-broken-trackers"]) == 0
    assert capsys.readouterr().err.splitlines()[0] == (
        "junkdna: warning: tracker wandb cannot start: API key not found; run `wandb login`; "
        "this sweep runs without wandb"
    )
    rows = read_sweep(f"{tmp_path}/sweeps/tracked/results").table.to_pylist()
    for key in expected(rows):  # the tracker that started logged every trial
        (run,) = (tmp_path / "sweeps" / "tracked" / "tune").glob(f"run-*/{key}")
        assert list(run.glob("events.out.tfevents.*"))


def test_mlflow_with_a_store_it_refuses_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    pytest.importorskip("mlflow", reason="mlflow not installed (pip install 'junkdna[trackers]')")
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (blocker / "mlruns").as_uri())
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    spec = tmp_path / "tracked.yaml"
    spec.write_text(
        json.dumps({**SPEC, "storage": str(tmp_path / "sweeps"), "trackers": ["mlflow"]})
    )
    assert main(["submit", str(spec)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("junkdna: tracker mlflow cannot start: ") and err.count("\n") == 0, err
    assert "check MLFLOW_TRACKING_URI" in err and err.endswith("--skip-broken-trackers)")
    assert not (tmp_path / "sweeps").exists()


def died_worker_sweep(tmp_path, monkeypatch, trackers: list[str]) -> dict[str, dict]:
    """The no-op sweep with the worker of its sparse bundle dying after its first trial, no
    retries: rows by trial key (2 dense ok, 1 sparse ok, 1 sparse failed: worker lost)."""
    from orchestrator import driver
    from tests.orchestrator.test_driver import dying_bundle

    monkeypatch.setattr(driver, "_run_bundle", dying_bundle(1, 1, tmp_path / "died"))
    spec = tmp_path / "tracked.yaml"
    spec.write_text(json.dumps({**SPEC, "storage": str(tmp_path / "sweeps"), "trackers": trackers}))
    assert main(["submit", str(spec)]) == 1
    rows = read_sweep(f"{tmp_path}/sweeps/tracked/results").table.to_pylist()
    lost = [r for r in rows if r["status"] == "failed"]
    assert len(rows) == 4 and len(lost) == 1 and lost[0]["error"].startswith("worker lost: ")
    return {r["trial_key"]: r for r in rows}


@pytest.mark.usefixtures("ray_local")
def test_a_trial_whose_worker_died_gets_a_failed_tensorboard_run(tmp_path, monkeypatch):
    pytest.importorskip("tensorboardX", reason="tensorboardX not installed")
    rows = died_worker_sweep(tmp_path, monkeypatch, ["tensorboard"])
    tune = tmp_path / "sweeps" / "tracked" / "tune"
    for key, row in rows.items():  # every trial has its run, the lost one included
        (run,) = tune.glob(f"run-*/{key}")
        logged = tags(run)
        assert "_hparams_/session_start_info" in logged  # the trial's parameters
        if row["status"] == "ok":
            assert "ray/tune/metric" in logged and "ray/tune/failed" not in logged
        else:
            assert "ray/tune/failed" in logged and "ray/tune/metric" not in logged


def tags(run: Path) -> set[str]:
    """The summary tags (scalars, hparams) in a run's TensorBoard event files: TFRecords (length, its CRC, an
    `Event` protobuf, its CRC), read with tensorboardX's own protobuf classes."""
    from tensorboardX.proto.event_pb2 import Event

    tags = set()
    for path in run.glob("events.out.tfevents.*"):
        data, pos = path.read_bytes(), 0
        while pos + 12 <= len(data):
            length = int.from_bytes(data[pos : pos + 8], "little")
            event = Event.FromString(data[pos + 12 : pos + 12 + length])
            tags |= {value.tag for value in event.summary.value}
            pos += 12 + length + 4
    return tags


@pytest.mark.usefixtures("ray_local")
def test_a_trial_whose_worker_died_gets_a_failed_mlflow_run(tmp_path, monkeypatch):
    mlflow = pytest.importorskip(
        "mlflow", reason="mlflow not installed (pip install 'junkdna[trackers]')"
    )
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    rows = died_worker_sweep(tmp_path, monkeypatch, ["mlflow"])
    runs = mlflow.search_runs(experiment_names=["tracked"], output_format="list")
    got = {run.data.params["trial_key"]: run for run in runs}
    assert got.keys() == rows.keys()  # every trial has its run, the lost one included
    for key, row in rows.items():
        status = got[key].info.status
        assert status == ("FINISHED" if row["status"] == "ok" else "FAILED"), (key, status)
        logged = got[key].data.metrics
        assert ("metric" in logged, "failed" in logged) == (
            row["status"] == "ok",
            row["status"] != "ok",
        )

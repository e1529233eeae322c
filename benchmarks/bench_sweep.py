"""Driver overhead per trial: junkdna no-op sweeps vs plain Ray Tune, measured in the same run.

    python benchmarks/bench_sweep.py            # 200 / 2,000 baselines, junkdna at 500 and 2,000
    python benchmarks/bench_sweep.py --scale    # also junkdna at 10,000 in a fresh driver: peak RSS

No-op trials (`noop: true`) skip all model work but go through everything else: grid expansion,
the results store lookup, Ray Tune scheduling, one Parquet row written per trial, progress.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time


def plain_tune(n: int, fast: bool) -> float:
    """Seconds per trial of plain Ray Tune on `n` trials that only report."""
    from ray import tune

    os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "1" if fast else "0"

    def noop(config):
        tune.report({"x": config["i"]})

    with tempfile.TemporaryDirectory() as storage:
        start = time.perf_counter()
        tune.Tuner(
            tune.with_resources(noop, {"cpu": 1}),
            param_space={"i": tune.grid_search(list(range(n)))},
            tune_config=tune.TuneConfig(reuse_actors=fast),
            run_config=tune.RunConfig(storage_path=storage, verbose=0),
        ).fit()
        return (time.perf_counter() - start) / n


def junkdna(n: int) -> float:
    """Seconds per trial of `run_sweep` on a fresh no-op sweep of `n` trials."""
    from orchestrator.driver import run_sweep
    from orchestrator.spec import validate_spec

    with tempfile.TemporaryDirectory() as storage:
        spec = validate_spec({"name": "noop", "storage": storage, "models": ["minilm"],
                              "tasks": ["builtin/polarity-easy"], "transfer": ["dense"],
                              "seeds": list(range(n)), "noop": True})  # fmt: skip
        start = time.perf_counter()
        outcome = run_sweep(spec, quiet=True)
        elapsed = time.perf_counter() - start
        assert outcome.ran == n and not outcome.failed, outcome
        return elapsed / n


def scale(n: int) -> None:
    """In this (fresh) process: a no-op sweep of `n` trials; print ms/trial and peak RSS."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per_trial = junkdna(n)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"junkdna, {n} no-op trials: {per_trial * 1e3:.1f} ms/trial; driver peak RSS "
          f"{peak:.0f} MiB ({peak - before:+.0f} MiB over the driver after ray.init)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", action="store_true", help="also 10,000 trials, fresh driver")
    parser.add_argument("--scale-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scale_only:
        return scale(args.scale_only)

    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    default = plain_tune(200, fast=False)
    print(f"plain Ray Tune, default settings, 200 trials:          {default * 1e3:7.1f} ms/trial")
    fast = plain_tune(2000, fast=True)
    print(f"plain Ray Tune, reuse_actors + no loggers, 2000 trials: {fast * 1e3:7.1f} ms/trial")
    for n in (500, 2000):
        ours = junkdna(n)
        ratios = f"x{default / ours:.0f} vs default Tune, x{fast / ours:.1f} vs tuned Tune"
        print(f"junkdna, {n:5d} no-op trials (rows written):        {ours * 1e3:7.1f} ms/trial  "
              f"({ratios})")  # fmt: skip
    ray.shutdown()
    if args.scale:
        subprocess.run([sys.executable, __file__, "--scale-only", "10000"], check=True)


if __name__ == "__main__":
    main()

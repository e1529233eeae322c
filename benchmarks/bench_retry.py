"""A bundle whose worker dies after a compaction, retried by Tune: trials run twice, S3 requests.

    python benchmarks/bench_retry.py               # a bundle of 10 no-op trials, 5 before the death
    python benchmarks/bench_retry.py --trials 40 --reported 20

One bundle (one Tune trial slot) runs `--trials` no-op trials on a local S3 server (moto,
tests/s3_server.py, which counts every request by kind). Its worker reports `--reported` of
them, the results are compacted (as the driver does every 1,000 rows, or a user's `results
compact`), and the worker dies; Tune runs the bundle again. Printed: the trials run, how many
of them twice, and the requests of the whole `run_sweep` (Tune's own state on S3 included).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.s3_server import S3Server  # noqa: E402

BUCKET = "bench"
KINDS = ("PUT", "GET", "HEAD", "LIST", "POST", "DELETE")


def dying(reported: int, marker: str):
    """driver._run_bundle whose worker dies once, after `reported` trials and a compaction."""
    from orchestrator.driver import _run_bundle
    from results.store import compact

    def run(config, bundles, retries):
        if not os.path.exists(marker):
            Path(marker).touch()
            _run_bundle(config, [b[:reported] for b in bundles], retries)
            compact(bundles[config["bundle"]][0]["results_dir"])
            os._exit(1)
        _run_bundle(config, bundles, retries)

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--reported", type=int, default=5)
    args = parser.parse_args()
    server = S3Server()
    os.environ.update(server.env())
    os.environ["TUNE_MAX_PENDING_TRIALS_PG"] = "1"  # one slot: the sweep is one bundle
    server.create_bucket(BUCKET)

    import ray

    from orchestrator import driver
    from orchestrator.spec import validate_spec

    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR",
             log_to_driver=False, runtime_env={"env_vars": driver.WORKER_ENV})  # fmt: skip
    seeds = list(range(args.trials))
    spec = validate_spec({"name": "retried", "storage": f"s3://{BUCKET}/sweeps",
                          "models": ["minilm"], "tasks": ["builtin/polarity-easy"],
                          "sparsities": [0.5], "transfer": ["sparse"], "seeds": seeds,
                          "noop": True, "retries": 1})  # fmt: skip
    marker = os.path.join(tempfile.mkdtemp(), "died")
    driver._run_bundle = dying(args.reported, marker)
    server.requests.clear()
    outcome = driver.run_sweep(spec, quiet=True)
    requests: Counter = server.requests
    assert os.path.exists(marker), "the worker did not die"
    print(f"{outcome.total} trials, {outcome.ran} runs: {outcome.ran - outcome.total} trials ran "
          f"twice, {len(outcome.failed)} failed")  # fmt: skip
    print(f"S3 requests: {sum(requests.values())} "
          f"({', '.join(f'{requests[k]} {k}' for k in KINDS if requests[k])})")  # fmt: skip
    ray.shutdown()
    server.stop()


if __name__ == "__main__":
    main()

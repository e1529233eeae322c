"""Run the trials of a sweep that have no row yet, with Ray Tune; resuming is the same call.

Tune sees *bundles*: consecutive trials of the grid (same model and task, mostly) that one
worker runs in turn. A bundle is one Tune trial, so Tune's per-trial cost is paid once per
bundle, a worker keeps its cached model across the bundle, and the driver's state stays small
at 10,000+ trials. The trial configs travel once through Ray's object store
(`tune.with_parameters`); Tune's own configs hold only a bundle index. The results store, not
Tune's experiment state, is the record of what is done.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pyarrow.compute as pc
import yaml

from orchestrator.spec import SweepSpec
from results.storage import write_bytes
from results.store import read_sweep
from workers.config import TrialConfig

# Set before Ray starts: quiet workers, no per-trial CSV/JSON/TensorBoard files (the results
# store is junkdna's record), no tokenizer thread pools fighting the trial's torch threads.
WORKER_ENV = {
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",
    "RAY_DEDUP_LOGS": "0",
    "RAY_AIR_NEW_OUTPUT": "0",  # verbose=0 then means silent: junkdna prints its own progress
}
# From the driver's environment to every worker through the runtime env, in memory, never a file:
# the Hugging Face token for gated models and data sets (LLaMA, FLORES).
FORWARDED_ENV = ("HF_TOKEN",)
PACKAGES = ("orchestrator", "workers", "pruning", "difficulty", "results")
MAX_BUNDLES = 2000  # Tune trials per sweep; more trials make bigger bundles
NOOP_BUNDLES = 256  # no-op trials take milliseconds: bundle them harder


@dataclass
class Outcome:
    """What one driver run did."""

    total: int
    already_done: int
    ran: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # trial_key -> error
    ready_s: list[float] = field(default_factory=list)  # model+data set-up time per trial run
    wall_s: float = 0.0


def save_spec(spec: SweepSpec) -> None:
    """Keep the spec beside its results, so `resume` and `status` need only the sweep's dir."""
    text = yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False).encode()
    write_bytes(f"{spec.sweep_dir}/spec.yaml", text)


def done_keys(spec: SweepSpec) -> set[str]:
    """Keys of the trials that have a finished `ok` row."""
    table = read_sweep(f"{spec.sweep_dir}/results").table
    return set(table.filter(pc.equal(table["status"], "ok"))["trial_key"].to_pylist())


def bundles(todo: list[TrialConfig], noop: bool = False) -> list[list[dict[str, Any]]]:
    """Consecutive trials of the grid in bundles; one trial each unless the sweep is large."""
    size = max(1, math.ceil(len(todo) / (NOOP_BUNDLES if noop else MAX_BUNDLES)))
    dicts = [t.to_dict() for t in todo]
    return [dicts[i : i + size] for i in range(0, len(dicts), size)]


def _run_bundle(config: dict[str, Any], bundles: list, retries: int) -> None:
    """The Tune trainable: run one bundle's trials in turn, one Tune report per trial."""
    from ray import tune

    from workers.trial import run_with_retries

    for trial in bundles[config["bundle"]]:
        out = run_with_retries(trial, retries)
        tune.report({k: out.get(k) for k in ("trial_key", "status", "error", "skipped", "ready_s")})


def _connect(address: str | None) -> None:
    import ray

    os.environ.update(WORKER_ENV)
    # junkdna reports failures itself (summary, `status`); Tune's per-failure ERROR lines are noise
    for name in ("ray.tune.execution.tune_controller", "ray.tune.tune"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    if ray.is_initialized():
        return
    runtime_env: dict[str, Any] = {"env_vars": {**WORKER_ENV, **_forwarded_env()}}
    if address and not address.startswith(("local", "127.", "localhost")):
        # ship the five packages to every node: no junkdna install is needed there
        import importlib

        runtime_env["py_modules"] = [importlib.import_module(p) for p in PACKAGES]
    ray.init(address=address, runtime_env=runtime_env, include_dashboard=False,
             log_to_driver=False, logging_level="ERROR", configure_logging=True)  # fmt: skip


def _forwarded_env() -> dict[str, str]:
    """FORWARDED_ENV variables set here, less those a Ray job's runtime env already gives every
    worker (`ray job submit --runtime-env-json`; Ray refuses the same variable twice)."""
    job = json.loads(os.environ.get("RAY_JOB_CONFIG_JSON_ENV_VAR") or "{}").get("runtime_env")
    given = (job or {}).get("env_vars") or {}
    return {k: os.environ[k] for k in FORWARDED_ENV if os.environ.get(k) and k not in given}


def _cluster_gpus() -> float:
    import ray

    return float(ray.cluster_resources().get("GPU", 0))


def unused_gpus_warning(spec: SweepSpec, cluster_gpus: float) -> str | None:
    """One line when the cluster has GPUs the sweep will not use (resources.gpu is 0)."""
    if cluster_gpus <= 0 or spec.resources.gpu > 0 or spec.noop:
        return None
    return (
        f"warning: the cluster has {cluster_gpus:g} GPUs but resources.gpu is 0, so every trial "
        "runs on a CPU; set resources.gpu in the spec (e.g. 1, or 0.25 for four trials a GPU)"
    )


def run_sweep(
    spec: SweepSpec,
    address: str | None = None,
    quiet: bool = False,
    trials: list[TrialConfig] | None = None,
) -> Outcome:
    """Run every trial of `spec` (or of `trials`: a search round) without an `ok` row."""
    start = time.perf_counter()
    trials = spec.expand() if trials is None else trials
    done = done_keys(spec)
    todo = [t for t in trials if t.trial_key not in done]
    outcome = Outcome(total=len(trials), already_done=len(trials) - len(todo))
    save_spec(spec)
    if not todo:
        return outcome

    from ray import tune

    from orchestrator.callbacks import Progress

    _connect(address)
    warning = unused_gpus_warning(spec, _cluster_gpus())
    if warning:
        print(warning, file=sys.stderr)
    work = bundles(todo, noop=spec.noop)
    progress = Progress(len(trials), outcome.already_done, work, quiet=quiet)
    resources = {"cpu": spec.resources.cpu, "gpu": spec.resources.gpu}
    if spec.resources.memory:
        resources["memory"] = _bytes(spec.resources.memory)
    trainable = tune.with_parameters(_run_bundle, bundles=work, retries=spec.retries)
    tuner = tune.Tuner(
        tune.with_resources(trainable, resources),
        param_space={"bundle": tune.grid_search(list(range(len(work))))},
        tune_config=tune.TuneConfig(reuse_actors=True),
        run_config=tune.RunConfig(
            name=datetime.now(timezone.utc).strftime("run-%Y%m%d-%H%M%S-%f"),
            storage_path=f"{spec.sweep_dir}/tune",
            # a bundle whose worker dies (node lost, OOM kill) runs again elsewhere; its
            # trials that already wrote a row are skipped there
            failure_config=tune.FailureConfig(max_failures=spec.retries),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
            verbose=0,
            callbacks=[progress],
        ),
    )
    tuner.fit()
    progress.close()
    outcome.ran, outcome.failed, outcome.ready_s = progress.ran, progress.errors, progress.ready_s
    outcome.wall_s = time.perf_counter() - start
    return outcome


def _bytes(size: str) -> int:
    units = {"KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
    for unit, factor in units.items():
        if size.upper().endswith(unit):
            return int(float(size[: -len(unit)]) * factor)
    return int(size)

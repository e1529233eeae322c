"""Run the trials of a sweep that have no row yet, with Ray Tune; resuming is the same call.

Tune sees *bundles*: trials that one worker runs in turn, ordered by model, then mask set
(method, options, sparsity), then task, level, seed and transfer, and cut at mask-set borders,
so that a mask set is computed (or loaded) once and then reused from the worker's memory by
every trial that shares it. A bundle is one Tune trial, so Tune's per-trial cost is paid once
per bundle, a worker keeps its cached model across the bundle, and the driver's state stays
small at 10,000+ trials. The trial configs travel once through Ray's object store
(`tune.with_parameters`); Tune's own configs hold only a bundle index. The results store, not
Tune's experiment state, is the record of what is done.

An adaptive search (`run_searcher`) has no list of trials up front: a Tune `Searcher` asks its
feed (orchestrator.search_driver.ProbeFeed) for a bundle whenever Tune has room for one and
tells it each trial's result, so a curve's next probe starts as soon as its last one finished.
Its bundles travel in their Tune configs; they are few (a search runs a fraction of a grid).

Over 300 lines on purpose: everything between the spec and Ray Tune (bundling, pending
limit, compaction during a run, the GPU warning) in one place, the only module that runs Tune.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import yaml

from orchestrator.spec import SweepSpec
from orchestrator.spec.grid import options_key
from pruning.methods import METHODS
from results.storage import write_bytes
from results.store import compact, read_sweep
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
COMPACT_AT = 1000  # new rows after which the driver merges the fragments (results.store.compact)
# written by `ray up` on the head node: the autoscaler's node types and their max_workers
CLUSTER_CONFIG = "~/ray_bootstrap_config.yaml"


@dataclass
class Outcome:
    """What one driver run did."""

    total: int
    already_done: int
    ran: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # trial_key -> error
    ready_s: list[float] = field(default_factory=list)  # model+data set-up time per trial run
    wall_s: float = 0.0


class Compactor:
    """Merges a running sweep's new fragments every COMPACT_AT rows, in a background thread.

    `status` and queries then read one compacted file and at most ~COMPACT_AT fragments, at
    any size of sweep, instead of one request per row. Small sweeps keep a fragment per trial.
    """

    def __init__(self, results_dir: str) -> None:
        self.results_dir = results_dir
        self.since = 0  # rows written since the last compaction started
        self.started = 0  # compactions started
        self.thread: threading.Thread | None = None

    def row_written(self) -> None:
        self.since += 1
        if self.since >= COMPACT_AT and not (self.thread and self.thread.is_alive()):
            self.since = 0
            self.started += 1
            self.thread = threading.Thread(target=self._compact, daemon=True)
            self.thread.start()

    def finish(self) -> None:
        """Wait for a running compaction; merge what came after it, if there was one."""
        if self.thread:
            self.thread.join()
        if self.started and self.since:
            self._compact()

    def _compact(self) -> None:
        try:
            compact(self.results_dir)
        except Exception as e:  # noqa: BLE001  (a sweep never fails for its compaction)
            print(f"[junkdna] compacting {self.results_dir} failed: {e}", file=sys.stderr)


def save_spec(spec: SweepSpec) -> None:
    """Keep the spec beside its results, so `resume` and `status` need only the sweep's dir."""
    text = yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False).encode()
    write_bytes(f"{spec.sweep_dir}/spec.yaml", text)


def done_keys(spec: SweepSpec) -> set[str]:
    """Keys of the trials that have a finished `ok` row."""
    table = read_sweep(f"{spec.sweep_dir}/results").table
    return set(table.filter(pc.equal(table["status"], "ok"))["trial_key"].to_pylist())


def mask_set(trial: TrialConfig) -> tuple:
    """What decides a trial's masks besides the model (the random control draws one per seed)."""
    method = METHODS.get(trial.method)  # None for the dense trial, which has no masks
    seed = trial.seed if method is not None and method.seeded else None
    return (trial.model, trial.method, trial.scope, options_key(trial), trial.sparsity, seed)


def reuse_order(trial: TrialConfig) -> tuple:
    """Sort key: model, mask set, then task, level, seed, transfer (what a worker can reuse)."""
    task = json.dumps(trial.task, sort_keys=True)
    return (*map(str, mask_set(trial)), task, trial.difficulty_level, trial.seed, trial.transfer)


def bundles(
    todo: list[TrialConfig], noop: bool = False, slots: int = 1
) -> list[list[dict[str, Any]]]:
    """The trials in reuse order, in bundles of whole mask sets where that keeps `slots` busy.

    A bundle holds at least ceil(n / MAX_BUNDLES) trials (Tune's cost is per bundle); small
    mask sets share a bundle, and a mask set is split only so that there are enough bundles
    for the `slots` trials the cluster runs at once.
    """
    size = max(1, math.ceil(len(todo) / (NOOP_BUNDLES if noop else MAX_BUNDLES)))
    ordered = sorted(todo, key=reuse_order)
    groups = [list(group) for _, group in itertools.groupby(ordered, key=mask_set)]
    split = math.ceil(slots / len(groups)) if groups else 1
    out: list[list[dict[str, Any]]] = []
    for group in groups:
        pieces = max(1, min(split, len(group) // size))
        for i in range(pieces):
            chunk = [
                t.to_dict()
                for t in group[i * len(group) // pieces : (i + 1) * len(group) // pieces]
            ]
            if out and len(out[-1]) + len(chunk) <= size:
                out[-1].extend(chunk)
            else:
                out.append(chunk)
    return out


def trials_per_node(node: dict[str, float], per_trial: dict[str, float]) -> int:
    """How many trials needing `per_trial` (e.g. {"CPU": 1, "GPU": 0.25}) fit on a node."""
    needed = {kind: amount for kind, amount in per_trial.items() if amount > 0}
    if not needed:
        return 0
    return min(int(node.get(kind, 0) // amount) for kind, amount in needed.items())


def pending_limit(
    per_trial: dict[str, float], live_nodes: list[dict[str, float]], cluster: dict | None = None
) -> int:
    """Trials the cluster can run at once when scaled up: Tune's pending-trial limit.

    `cluster` is a Ray cluster-launcher config (cluster.yaml): each worker node type counts
    max_workers × the trials that fit on it (its declared `resources`, else the largest live
    node's), capped by the top-level max_workers; never fewer than the live nodes hold now.
    """
    live = sum(trials_per_node(node, per_trial) for node in live_nodes)
    largest = max((trials_per_node(node, per_trial) for node in live_nodes), default=0)
    reachable = []  # trials per node, one entry per worker node the autoscaler may start
    for node_type in ((cluster or {}).get("available_node_types") or {}).values():
        declared = node_type.get("resources") or {}
        fit = trials_per_node(declared, per_trial) if declared else largest
        reachable += [fit] * int(node_type.get("max_workers", 0))
    reachable.sort(reverse=True)
    if cluster and cluster.get("max_workers") is not None:
        reachable = reachable[: int(cluster["max_workers"])]
    return max(live, sum(reachable), 1)


def _live_nodes() -> list[dict[str, float]]:
    """The resources of each live node of the connected cluster."""
    import ray

    return [node["Resources"] for node in ray.nodes() if node.get("Alive")]


def _pending_limit(spec: SweepSpec, nodes: list[dict[str, float]]) -> int:
    per_trial = {"CPU": spec.resources.cpu, "GPU": spec.resources.gpu}
    path = Path(os.environ.get("JUNKDNA_CLUSTER_CONFIG", CLUSTER_CONFIG)).expanduser()
    cluster = yaml.safe_load(path.read_text()) if path.is_file() else None
    return pending_limit(per_trial, nodes, cluster)


# a Tune report per trial: its status for Progress, its metric for the trackers (TrialRuns)
REPORTED = ("trial_key", "status", "error", "skipped", "ready_s", "metric_name", "metric")


def _run_bundle(config: dict[str, Any], bundles: list, retries: int) -> None:
    """The Tune trainable: run one bundle's trials in turn, one Tune report per trial.

    A bundle that Tune runs again after its worker died starts at `config["start"]`, after the
    trials it reported (callbacks.BundleRetry): their rows need no request, compacted or not.
    """
    from ray import tune

    from orchestrator.callbacks import bundle_trials
    from workers.trial import run_with_retries

    trials = bundle_trials(config, bundles)
    for position in range(config.get("start", 0), len(trials)):
        out = run_with_retries(trials[position], retries)
        tune.report({**{k: out.get(k) for k in REPORTED}, "position": position})


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


def unused_gpus_warning(spec: SweepSpec, cluster_gpus: float) -> str | None:
    """One line when the cluster has GPUs the sweep will not use (resources.gpu is 0)."""
    if cluster_gpus <= 0 or spec.resources.gpu > 0 or spec.noop:
        return None
    return (
        f"warning: the cluster has {cluster_gpus:g} GPUs but resources.gpu is 0, so every trial "
        "runs on a CPU; set resources.gpu in the spec (e.g. 1, or 0.25 for four trials a GPU)"
    )


def run_sweep(
    spec: SweepSpec, address: str | None = None, quiet: bool = False, loggers: list | None = None
) -> Outcome:
    """Run every trial of `spec` without an `ok` row.

    `loggers`: the spec's trackers as `orchestrator.trackers.start_trackers` set them up (None:
    set up here; one that cannot start stops the sweep before anything is written).
    """
    from orchestrator.trackers import start_trackers

    start = time.perf_counter()
    trials, done = spec.expand(), done_keys(spec)
    todo = [t for t in trials if t.trial_key not in done]
    outcome = Outcome(total=len(trials), already_done=len(trials) - len(todo))
    loggers = start_trackers(spec.trackers, spec.name) if loggers is None else loggers
    save_spec(spec)
    if not todo:
        return outcome

    from ray import tune

    pending = _start(spec, address)
    work = bundles(todo, noop=spec.noop, slots=pending)
    compactor = Compactor(f"{spec.sweep_dir}/results")
    progress, runs = _progress(len(trials), outcome.already_done, work, quiet, compactor, loggers)
    space = {"bundle": tune.grid_search(list(range(len(work))))}
    _fit(spec, work, progress, runs, pending, tune.TuneConfig(reuse_actors=True), space)
    compactor.finish()
    return _tally(outcome, progress, start)


def run_searcher(spec: SweepSpec, feed: Any, address: str | None, quiet: bool,
                 compactor: Compactor, loggers: list) -> Outcome:  # fmt: skip
    """Run the trials an adaptive search hands out as it decides them (search_driver.ProbeFeed:
    `slots`, `next_bundle`, `result`, `bundle_done`, `finished`), through a Tune `Searcher`."""
    from ray import tune

    start = time.perf_counter()
    outcome = Outcome(total=0, already_done=0)
    feed.slots = _start(spec, address)
    progress, runs = _progress(lambda: len(feed.issued), 0, [], quiet, compactor, loggers)
    config = tune.TuneConfig(search_alg=_searcher(feed), num_samples=-1, reuse_actors=True)
    _fit(spec, [], progress, runs, feed.slots, config, {})
    return _tally(outcome, progress, start)


def _searcher(feed: Any):
    """The Tune `Searcher` over a feed: a bundle per suggestion, each trial's result back."""
    from ray.tune.search import Searcher

    class ProbeSearcher(Searcher):
        def suggest(self, trial_id: str) -> dict | str | None:
            bundle = feed.next_bundle(trial_id)
            if bundle:
                return {"trials": [t.to_dict() for t in bundle]}
            return Searcher.FINISHED if feed.finished else None

        def on_trial_result(self, trial_id: str, result: dict) -> None:
            feed.result(result["trial_key"], result["status"], result["metric"])

        def on_trial_complete(self, trial_id: str, result=None, error: bool = False) -> None:
            feed.bundle_done(trial_id)

        def save(self, checkpoint_path: str) -> None:
            """Nothing to save: the results store is the search's record (resume replays it)."""

        def restore(self, checkpoint_path: str) -> None:
            """Nothing to restore (see save)."""

    return ProbeSearcher()


def _start(spec: SweepSpec, address: str | None) -> int:
    """Connect to Ray, warn about unused GPUs; the pending-trial limit (trials run at once)."""
    _connect(address)
    nodes = _live_nodes()
    warning = unused_gpus_warning(spec, sum(node.get("GPU", 0) for node in nodes))
    if warning:
        print(warning, file=sys.stderr)
    # Tune starts at most this many trials waiting for resources; an autoscaler sees only the
    # waiting ones, so too low a limit grows the cluster a few nodes per boot cycle.
    # TUNE_MAX_PENDING_TRIALS_PG set by the user wins.
    return int(os.environ.get("TUNE_MAX_PENDING_TRIALS_PG") or _pending_limit(spec, nodes))


def _progress(total, already_done: int, work: list, quiet: bool, compactor: Compactor,
              loggers: list) -> tuple:  # fmt: skip
    """The progress callback and the trackers' callbacks (a lost worker's trials become failed
    runs, as their rows do)."""
    from orchestrator.callbacks import Progress
    from orchestrator.trackers import tracker_callbacks

    runs = tracker_callbacks(loggers, work)
    on_lost = runs[0].log if runs else None
    return Progress(total, already_done, work, quiet, compactor.row_written, on_lost), runs


def _fit(spec: SweepSpec, work: list, progress, runs: list, pending: int, tune_config,
         param_space) -> None:  # fmt: skip
    """One Tuner.fit() over `work` (bundles by index) or a searcher's bundles, `pending` at most."""
    from ray import tune

    from orchestrator.callbacks import BundleRetry

    resources = {"cpu": spec.resources.cpu, "gpu": spec.resources.gpu}
    if spec.resources.memory:
        resources["memory"] = int(spec.resources.memory)
    trainable = tune.with_parameters(_run_bundle, bundles=work, retries=spec.retries)
    tuner = tune.Tuner(
        tune.with_resources(trainable, resources),
        param_space=param_space,
        tune_config=tune_config,
        run_config=tune.RunConfig(
            name=datetime.now(timezone.utc).strftime("run-%Y%m%d-%H%M%S-%f"),
            storage_path=f"{spec.sweep_dir}/tune",
            # a bundle whose worker dies (node lost, OOM kill) runs again elsewhere, from the
            # first trial it did not report (BundleRetry)
            failure_config=tune.FailureConfig(max_failures=spec.retries),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
            verbose=0,
            callbacks=[progress, BundleRetry(), *runs],
        ),
    )
    saved = os.environ.get("TUNE_MAX_PENDING_TRIALS_PG")
    os.environ["TUNE_MAX_PENDING_TRIALS_PG"] = str(pending)  # read by Tune when fit() starts
    try:
        tuner.fit()
    finally:
        if saved is None:
            os.environ.pop("TUNE_MAX_PENDING_TRIALS_PG")
        else:
            os.environ["TUNE_MAX_PENDING_TRIALS_PG"] = saved
    progress.close()


def _tally(outcome: Outcome, progress, start: float) -> Outcome:
    outcome.ran, outcome.failed, outcome.ready_s = progress.ran, progress.errors, progress.ready_s
    outcome.wall_s = time.perf_counter() - start
    return outcome

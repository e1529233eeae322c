"""Run a sweep's adaptive sparsity search (orchestrator.search) through the driver, event by event.

There are no rounds: `ProbeFeed` is the search as Ray Tune's searcher sees it (driver.run_searcher
asks it for a bundle whenever a slot frees up and tells it each trial's result). Each result goes
to every curve it belongs to; `search.Scheduler` then issues that curve's next probe at once, and
gives free slots to extra points of the widest brackets (k-section). A probe is an ordinary
trial: the grid's trial at that sparsity and seed, with its key, row, caches and retries. A trial
that already has a row is never issued again (the dense trial serves every curve of its model,
task, level and seed), so resuming a killed search is the same call: it replays the `ok` rows,
retries the failed trials first, and goes on. Afterwards `breaking_points` replays the rows once
more for `junkdna analyze`.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestrator.driver import Compactor, Outcome, mask_set, run_searcher, save_spec
from orchestrator.search import NOISE_MULTIPLE, CurveSearch, Scheduler, SearchSpace
from orchestrator.spec import SweepSpec
from orchestrator.spec.grid import CURVE, Curve
from orchestrator.trackers import start_trackers
from results.store import read_sweep
from workers.config import TrialConfig

BOOTSTRAP = 200  # seed resamples per curve for the uncertainty of a breaking point


@dataclass
class SearchOutcome(Outcome):
    """What one search run did: the driver's tally, and the probes so far."""

    curves: int = 0
    probes: int = 0  # distinct sparsities probed, over all curves, this run and earlier ones


Index = dict[str, list[tuple[tuple, float, int]]]
"""trial_key -> the (curve key, sparsity, seed) places it fills; a dense trial fills many."""


def index(curves: list[Curve]) -> Index:
    """Where each trial of the curves sits."""
    places: Index = defaultdict(list)
    for curve in curves:
        for (sparsity, seed), trial in curve.trials.items():
            places[trial.trial_key].append((curve.key, sparsity, seed))
    return places


def curve_rows(places: Index, rows: Iterable[dict]) -> dict[tuple, list[dict]]:
    """Result rows (trial_key, metric, status) as each curve sees them: sparsity, seed, metric."""
    by_curve: dict[tuple, list[dict]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r["status"] == "ok"):  # an ok row outranks a failed one
        for key, sparsity, seed in places.get(row["trial_key"], ()):
            by_curve[key].append({"sparsity": sparsity, "seed": seed, "metric": row["metric"],
                                  "status": row["status"]})  # fmt: skip
    return by_curve


def replay(
    space: SearchSpace, seeds: list[int], curves: list[Curve], places: Index, rows: Iterable[dict]
) -> dict[tuple, CurveSearch]:
    """Every curve's search state rebuilt from result rows (trial_key, metric, status)."""
    by_curve = curve_rows(places, rows)
    return {c.key: CurveSearch.replay(space, seeds, by_curve[c.key]) for c in curves}


def _rows(spec: SweepSpec) -> list[dict]:
    table = read_sweep(f"{spec.sweep_dir}/results").table
    return table.select(["trial_key", "metric", "status"]).to_pylist()


def _unique(trials: Iterable[TrialConfig]) -> list[TrialConfig]:
    return list({t.trial_key: t for t in trials}.values())


def planned(spec: SweepSpec, stored: set[str]) -> list[TrialConfig]:
    """The trials of a sweep so far: its grid, or in search mode the fixed trials and the probes
    that have a row (`stored`: their keys)."""
    if spec.search is None:
        return spec.expand()
    probed = (t for c in spec.curves() for t in c.trials.values() if t.trial_key in stored)
    return _unique([*spec.expand(), *probed])


class ProbeFeed:
    """The event-driven search as a stream of trial bundles: what the driver's searcher hands
    to Ray Tune, and where each trial's result comes back.

    In flight at most `slots` bundles (the driver's pending-trial limit: what the cluster runs at
    once). A bundle holds trials of one mask set, preferably the set of the bundle that just
    finished (Tune reuses that worker for the next trial it starts, and the worker keeps the
    masks in memory); it holds more than one trial only when more are waiting than slots free.
    """

    def __init__(self, spec: SweepSpec, rows: list[dict]) -> None:
        self.spec = spec
        curves = spec.curves()
        self.places, self.curves = index(curves), {c.key: c for c in curves}
        self.done = {r["trial_key"] for r in rows if r["status"] == "ok"}
        failed = {r["trial_key"] for r in rows if r["status"] != "ok"} - self.done
        ok = [r for r in rows if r["status"] == "ok"]  # failed trials run again: not replayed
        searches = replay(spec.search.space(), spec.seeds, curves, self.places, ok)
        self.scheduler = Scheduler(searches, k_section=spec.search.k_section)
        # first the trials known before the search, and those that failed in an earlier run
        retry = [t for c in curves for t in c.trials.values() if t.trial_key in failed]
        fixed = _unique([*spec.expand(), *retry])
        self.queue = [t for t in fixed if t.trial_key not in self.done]
        self.issued = {t.trial_key for t in self.queue}  # queued or handed out in this run
        self.reported: set[str] = set()  # trials whose result came back in this run
        self.running: dict[str, list[TrialConfig]] = {}  # bundle id -> its trials
        self.slots = 1
        self.last_mask: tuple | None = None

    @property
    def in_flight(self) -> int:
        """Bundles handed out and not finished: the slots they hold (a bundle runs in turn)."""
        return len(self.running)

    def next_bundle(self, bundle_id: str) -> list[TrialConfig] | None:
        """The trials to start now as one bundle; None while the slots are full or the search
        waits for results (see `finished`)."""
        free = self.slots - self.in_flight
        if free <= 0:
            return None
        if not self.queue:
            self._plan(free)
        if not self.queue:
            return None
        size = math.ceil(len(self.queue) / free)
        sets = {mask_set(t) for t in self.queue}
        group = self.last_mask if self.last_mask in sets else mask_set(self.queue[0])
        bundle = [t for t in self.queue if mask_set(t) == group][:size]
        taken = {t.trial_key for t in bundle}
        self.queue = [t for t in self.queue if t.trial_key not in taken]
        self.running[bundle_id] = bundle
        return bundle

    @property
    def finished(self) -> bool:
        """Nothing runs, nothing waits and the search issues nothing more (after next_bundle)."""
        if self.queue or self.running:
            return False
        if not self.scheduler.done:
            waiting = sum(not s.done for s in self.scheduler.searches.values())
            raise RuntimeError(f"search made no progress: {waiting} curves wait for results "
                               "that never came")  # fmt: skip
        return True

    def result(self, trial_key: str, status: str | None, metric: float | None) -> None:
        """One trial's result (status None: it was skipped, its row read from the store)."""
        if status is None:
            row = next((r for r in _rows(self.spec) if r["trial_key"] == trial_key), None)
            status, metric = (row["status"], row["metric"]) if row else ("failed", None)
        self.reported.add(trial_key)
        if status == "ok":
            self.done.add(trial_key)
        value = metric if status == "ok" and metric is not None and not math.isnan(metric) else None
        for curve, sparsity, seed in self.places.get(trial_key, ()):
            self.scheduler.observe(curve, sparsity, {seed: value})

    def bundle_done(self, bundle_id: str) -> None:
        """A bundle ended; its trials that never reported count as failed (their worker died)."""
        bundle = self.running.pop(bundle_id, [])
        for trial in bundle:
            if trial.trial_key not in self.reported:
                self.result(trial.trial_key, "failed", None)
        if bundle:
            self.last_mask = mask_set(bundle[-1])

    def _plan(self, free: int) -> None:
        for key, probe in self.scheduler.next(free):
            for seed in probe.seeds:
                trial = self.curves[key].trials[(probe.sparsity, seed)]
                if trial.trial_key in self.reported or trial.trial_key in self.done:
                    raise RuntimeError(f"search made no progress: it asked again for trial "
                                       f"{trial.trial_key}, which has a result")  # fmt: skip
                if trial.trial_key not in self.issued:  # a dense trial shared by curves: once
                    self.issued.add(trial.trial_key)
                    self.queue.append(trial)


def run_search(
    spec: SweepSpec, address: str | None = None, quiet: bool = False, loggers: list | None = None
) -> SearchOutcome:
    """Run the search of `spec` to the end, or on from where a killed run left its rows
    (`loggers`: as driver.run_sweep takes them, set up once for the whole search)."""
    start = time.perf_counter()
    loggers = start_trackers(spec.trackers, spec.name) if loggers is None else loggers
    save_spec(spec)
    rows = _rows(spec)
    ok_before = {r["trial_key"] for r in rows if r["status"] == "ok"}
    feed = ProbeFeed(spec, rows)
    compactor = Compactor(f"{spec.sweep_dir}/results")
    ran = run_searcher(spec, feed, address, quiet, compactor, loggers)
    compactor.finish()
    outcome = SearchOutcome(total=0, already_done=0, curves=len(feed.curves), ran=ran.ran,
                            failed=ran.failed, ready_s=ran.ready_s)  # fmt: skip
    outcome.probes = sum(s.n_probes for s in feed.scheduler.searches.values())
    # planned(): the fixed trials and the probes that have a row
    keys = {t.trial_key for t in spec.expand()} | (feed.places.keys() & (ok_before | feed.issued))
    outcome.total = len(keys)
    outcome.already_done = len(keys & ok_before)
    outcome.wall_s = time.perf_counter() - start
    return outcome


def breaking_points(spec: SweepSpec, rows: list[dict], seed: int = 0) -> pd.DataFrame:
    """Per curve and drop: the bracket [last passing, first failing], its width, probes spent,
    contradictions, the dense mean and BOOTSTRAP bracket midpoints over resampled seeds."""
    space, curves = spec.search.space(), spec.curves()
    by_curve = curve_rows(index(curves), rows)
    rng = np.random.default_rng(seed)
    out = []
    for curve in curves:
        search = CurveSearch.replay(space, spec.seeds, by_curve[curve.key])
        boot = _bootstrap(space, spec.seeds, by_curve[curve.key], rng)
        sizes = search.contradiction_sizes()
        for drop, (lo, hi) in search.brackets().items():
            contradictions = {(p, f): z for (d, p, f), z in sizes.items() if d == drop}
            out.append({
                **dict(zip(CURVE, curve.key)), "drop": drop, "last_passing": lo,
                "first_failing": hi, "width": _width(space, lo, hi), "probes": search.n_probes,
                "trials": search.n_trials, "dense_metric": search.dense_metric,
                "non_monotone": any(not z <= NOISE_MULTIPLE for z in contradictions.values()),
                "contradictions": "; ".join(f"passes {p:g} > fails {f:g} ({_size(z)})"
                                            for (p, f), z in contradictions.items()),
                "midpoint": _midpoint(space, lo, hi), "bootstrap": [b.get(drop) for b in boot],
            })  # fmt: skip
    return pd.DataFrame(out)


def _size(z: float) -> str:
    """A contradiction's size in standard errors, as the report prints it."""
    return "one seed: noise not measured" if math.isnan(z) else f"{z:.1f} SE"


def _width(space: SearchSpace, lo: float | None, hi: float | None) -> float:
    """The bracket's width; an open end counts from the range's end (beyond it: not measured)."""
    low, high = space.range
    return (high if hi is None else hi) - (low if lo is None else lo)


def _midpoint(space: SearchSpace, lo: float | None, hi: float | None) -> float:
    """The breaking point's estimate: the bracket's middle, an open end at the range's end."""
    low, high = space.range
    return ((low if lo is None else lo) + (high if hi is None else hi)) / 2


def _bootstrap(space: SearchSpace, seeds: list[int], rows: list[dict], rng) -> list[dict]:
    """Bracket midpoints per drop of one curve's rows with its seeds drawn with replacement.

    Only probed sparsities have rows, so a resample's bracket can be wider than the search's;
    confirmation seeds are left out of the resamples.
    """
    by_seed: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_seed[row["seed"]].append(row)
    draws = []
    for _ in range(BOOTSTRAP if len(seeds) > 1 else 0):
        drawn = rng.choice(seeds, size=len(seeds))
        resampled = [{**r, "seed": i} for i, x in enumerate(drawn) for r in by_seed[int(x)]]
        search = CurveSearch.replay(space, range(len(seeds)), resampled)
        draws.append({d: _midpoint(space, lo, hi) for d, (lo, hi) in search.brackets().items()})
    return draws

"""Run a sweep's adaptive sparsity search (orchestrator.search) through the driver, in rounds.

A round replays every curve from the rows in the store (`CurveSearch.replay`), asks `plan_round`
for the next probes of all curves at once, and runs them with `driver.run_sweep` as ordinary
trials: the grid's trial at that sparsity and seed, with its key, row, caches and retries. A
trial that already has a row is never planned again (the dense trial serves every curve of its
model, task, level and seed), so resuming a killed search is the same call: it replays the rows
and goes on. Afterwards `breaking_points` replays the rows once more for `junkdna analyze`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestrator.driver import Compactor, Outcome, run_sweep, save_spec
from orchestrator.search import CurveSearch, SearchSpace, plan_round
from orchestrator.spec import SweepSpec
from orchestrator.spec.grid import CURVE, Curve
from orchestrator.trackers import start_trackers
from results.store import read_sweep
from workers.config import TrialConfig

BOOTSTRAP = 200  # seed resamples per curve for the uncertainty of a breaking point


@dataclass
class SearchOutcome(Outcome):
    """What one search run did: the driver's tally over its rounds, and the probes so far."""

    rounds: int = 0
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


def run_search(
    spec: SweepSpec, address: str | None = None, quiet: bool = False, loggers: list | None = None
) -> SearchOutcome:
    """Run the search of `spec` to the end, or on from where a killed run left its rows
    (`loggers`: as driver.run_sweep takes them, set up once for every round)."""
    start = time.perf_counter()
    space, curves = spec.search.space(), spec.curves()
    places, by_key = index(curves), {c.key: c for c in curves}
    loggers = start_trackers(spec.trackers, spec.name) if loggers is None else loggers
    save_spec(spec)
    rows = _rows(spec)
    failed_before = {r["trial_key"] for r in rows if r["status"] != "ok"}
    ok_before = {r["trial_key"] for r in rows if r["status"] == "ok"}
    # like a grid's resume: trials that failed in an earlier run get another chance first
    retry = [t for c in curves for t in c.trials.values() if t.trial_key in failed_before]
    fixed = spec.expand()
    trials = _unique([*fixed, *retry])
    outcome = SearchOutcome(total=0, already_done=0, curves=len(curves))
    compactor = Compactor(f"{spec.sweep_dir}/results")  # one over all rounds
    while trials:
        keys = {t.trial_key for t in trials}
        done = {r["trial_key"] for r in rows if r["status"] == "ok"}
        ran = run_sweep(spec, address, quiet, trials, done, compactor, warn=outcome.rounds == 0,
                        loggers=loggers)  # fmt: skip
        outcome.rounds += 1
        outcome.ran += ran.ran
        outcome.failed.update(ran.failed)
        outcome.ready_s += ran.ready_s
        rows = _rows(spec)
        searches = replay(space, spec.seeds, curves, places, rows)
        plan = plan_round(searches)
        trials = _unique(by_key[key].trials[(p.sparsity, x)] for key, p in plan for x in p.seeds)
        if keys == {t.trial_key for t in trials}:
            raise RuntimeError("search made no progress: its planned trials wrote no rows")
    compactor.finish()
    outcome.probes = sum(s.n_probes for s in searches.values())
    # planned(): the fixed trials and the probes that have a row
    keys = {t.trial_key for t in fixed} | (places.keys() & {r["trial_key"] for r in rows})
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
        for drop, (lo, hi) in search.brackets().items():
            contradictions = [(p, f) for d, p, f in search.contradictions() if d == drop]
            out.append({
                **dict(zip(CURVE, curve.key)), "drop": drop, "last_passing": lo,
                "first_failing": hi, "width": _width(space, lo, hi), "probes": search.n_probes,
                "trials": search.n_trials, "dense_metric": search.dense_metric,
                "non_monotone": bool(contradictions),
                "contradictions": "; ".join(f"passes {p:g} > fails {f:g}"
                                            for p, f in contradictions),
                "midpoint": _midpoint(space, lo, hi), "bootstrap": [b.get(drop) for b in boot],
            })  # fmt: skip
    return pd.DataFrame(out)


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

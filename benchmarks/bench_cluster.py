"""Simulate a cluster running the breaking-point search: rounds, event-driven bisection and
event-driven k-section, each against the grid on the same slots.

S slots run the trials of C curves (benchmarks/bench_search.py's logistic curves, each trial its
curve's value plus Gaussian seed noise). A trial's duration is log-normal with mean 1 and
coefficient of variation 0.3. The probes are decided by orchestrator.search, the code the
driver runs: `plan_round` for rounds (today's driver before issue 23: every round waits for its
slowest trial), `Scheduler` for the event-driven search (a curve's next probe starts the moment
the results it depends on arrive), with k-section off or on. The grid runs every point of every
curve, in list order, on the same slots. Per case:

- utilization: busy slot-time / (S × makespan);
- makespan relative to the grid's on the same S;
- trials relative to the grid's (dense included in both).

usage: PYTHONPATH=. python benchmarks/bench_cluster.py [--quick] [--seed N]

3 seeds, noise 0.01; each cell: utilization, makespan / grid's, trials / grid's (seed 0, 84 s):

| S | C | grid util | rounds | event-driven | k-section |
|---|---|---|---|---|---|
| 8 | 10 | 0.99 | 0.85, 0.25, 0.22 | 0.99, 0.22, 0.23 | 0.97, 0.22, 0.22 |
| 8 | 100 | 1.00 | 0.99, 0.23, 0.23 | 1.00, 0.23, 0.23 | 1.00, 0.22, 0.22 |
| 8 | 1000 | 1.00 | 1.00, 0.23, 0.23 | 1.00, 0.23, 0.23 | 1.00, 0.23, 0.23 |
| 64 | 10 | 0.96 | 0.33, 0.67, 0.24 | 0.44, 0.49, 0.23 | 0.87, 0.33, 0.30 |
| 64 | 100 | 0.99 | 0.85, 0.27, 0.23 | 0.97, 0.23, 0.23 | 0.98, 0.23, 0.23 |
| 64 | 1000 | 1.00 | 0.98, 0.23, 0.23 | 1.00, 0.23, 0.23 | 1.00, 0.23, 0.23 |
| 512 | 10 | 0.62 | 0.04, 3.88, 0.23 | 0.06, 2.61, 0.24 | 0.60, 0.93, 0.89 |
| 512 | 100 | 0.95 | 0.34, 0.63, 0.23 | 0.45, 0.48, 0.23 | 0.82, 0.33, 0.28 |
| 512 | 1000 | 0.99 | 0.83, 0.27, 0.23 | 0.98, 0.23, 0.23 | 0.98, 0.23, 0.22 |

k-section leaves a slot idle only when every unprobed point inside every open bracket is already
running: at (64, 10) and (512, 100) the last brackets run out of points before the cluster does,
and at (512, 10) even the grid fills 0.62 of the slots (1,170 trials on 512 slots: 2.3 waves).
"""

from __future__ import annotations

import argparse
import heapq
import math
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from benchmarks.bench_search import random_curves, value
from orchestrator.search import DENSE, CurveSearch, Scheduler, SearchSpace, plan_round

SEEDS = 3
NOISE = 0.01
CV = 0.3  # trial durations: log-normal, mean 1
SIGMA = math.sqrt(math.log(1 + CV**2))
SLOTS = (8, 64, 512)
CURVES = (10, 100, 1000)
MODES = ("rounds", "event-driven", "k-section")


@dataclass
class Run:
    """What one simulated run did: its makespan, busy slot-time and trials."""

    makespan: float
    busy: float
    trials: int
    slots: int

    @property
    def utilization(self) -> float:
        return self.busy / (self.slots * self.makespan)


class Trials:
    """Durations and metrics drawn in bulk (a Python call per draw would dominate the run)."""

    def __init__(self, curves: list, space: SearchSpace, rng: np.random.Generator) -> None:
        self.rng = rng
        self.points = {s: i for i, s in enumerate(dict.fromkeys((DENSE, *space.grid)))}
        self.values = [[value(c, s) for s in self.points] for c in curves]
        self._durations: list[float] = []
        self._noise: list[float] = []

    def duration(self) -> float:
        if not self._durations:
            draws = self.rng.lognormal(-(SIGMA**2) / 2, SIGMA, 65536)
            self._durations = draws.tolist()
        return self._durations.pop()

    def metric(self, curve: int, sparsity: float) -> float:
        if not self._noise:
            self._noise = self.rng.normal(0.0, NOISE, 65536).tolist()
        return self.values[curve][self.points[sparsity]] + self._noise.pop()


def grid(trials: Trials, n: int, slots: int) -> Run:
    """Every point of every curve at every seed, started in list order as slots free up."""
    return _list_schedule([trials.duration() for _ in range(n)], slots, 0.0)


def _list_schedule(durations: list[float], slots: int, start: float) -> Run:
    free_at = [start] * min(slots, len(durations))
    end = start
    for d in durations:
        t = free_at[0] + d
        heapq.heapreplace(free_at, t)
        end = max(end, t)
    return Run(end - start, sum(durations), len(durations), slots)


def rounds(trials: Trials, searches: dict, slots: int) -> Run:
    """Today's driver: each round plans every curve's next probes and waits for all of them."""
    now, busy, n = 0.0, 0.0, 0
    while plan := plan_round(searches):
        todo = [(key, p.sparsity, x) for key, p in plan for x in p.seeds]
        run = _list_schedule([trials.duration() for _ in todo], slots, now)
        now, busy, n = now + run.makespan, busy + run.busy, n + run.trials
        for key, s, x in todo:
            searches[key].observe(s, {x: trials.metric(key, s)})
    return Run(now, busy, n, slots)


def event_driven(trials: Trials, searches: dict, slots: int, k_section: bool) -> Run:
    """The driver's event loop: observe each finished trial, ask the Scheduler, fill the slots."""
    scheduler = Scheduler(searches, k_section=k_section)
    queue: deque = deque()  # trials issued and waiting for a slot (Tune's pending trials)
    running: list = []  # (end, tie-break, curve, sparsity, seed)
    now, busy, n = 0.0, 0.0, 0
    while True:
        free = slots - len(running) - len(queue)
        for key, p in scheduler.next(max(free, 0)):
            queue.extend((key, p.sparsity, x) for x in p.seeds)
        while queue and len(running) < slots:
            key, s, x = queue.popleft()
            d = trials.duration()
            heapq.heappush(running, (now + d, n, key, s, x))
            busy, n = busy + d, n + 1
        if not running:
            return Run(now, busy, n, slots)
        now, _, key, s, x = heapq.heappop(running)
        scheduler.observe(key, s, {x: trials.metric(key, s)})


def simulate(slots: int, n_curves: int, seed: int) -> dict[str, Run]:
    """The grid and each search mode on the same curves and slots."""
    space = SearchSpace(drops=(0.01, 0.05), resolution=0.025, range=(0.0, 0.95))
    rng = np.random.default_rng([seed, slots, n_curves])
    curves = random_curves(n_curves, rng)
    trials = Trials(curves, space, rng)
    out = {"grid": grid(trials, n_curves * len(trials.points) * SEEDS, slots)}
    for mode in MODES:
        searches = {i: CurveSearch(space, range(SEEDS)) for i in range(n_curves)}
        if mode == "rounds":
            out[mode] = rounds(trials, searches, slots)
        else:
            out[mode] = event_driven(trials, searches, slots, k_section=mode == "k-section")
    return out


def table(cases: list[tuple[int, int]], seed: int) -> list[str]:
    head = " | ".join(f"{m}: util, span/grid, trials/grid" for m in MODES)
    lines = [f"| S | C | grid util | {head} |", "|---|---|---|" + "---|" * len(MODES)]
    for slots, n_curves in cases:
        runs = simulate(slots, n_curves, seed)
        g = runs["grid"]
        cells = [
            f"{r.utilization:.2f}, {r.makespan / g.makespan:.2f}, {r.trials / g.trials:.2f}"
            for r in (runs[m] for m in MODES)
        ]
        lines.append(f"| {slots} | {n_curves} | {g.utilization:.2f} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="S, C in {8, 64} × {10, 100}")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    slots, curves = ((8, 64), (10, 100)) if args.quick else (SLOTS, CURVES)
    start = time.perf_counter()
    print(f"{SEEDS} seeds, noise {NOISE}, durations log-normal (mean 1, CV {CV})")
    print("\n".join(table([(s, c) for s in slots for c in curves], args.seed)))
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()

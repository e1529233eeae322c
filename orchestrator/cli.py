"""The `junkdna` command: validate, submit, resume, status, results, analyze, demo.

Exit codes: 0 success, 1 some trials failed, 2 bad input (one line, nothing written).

Over 300 lines on purpose: one short function per verb of the contract, plus argparse;
the work happens in the modules they call.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from importlib.resources import files
from pathlib import Path

from pydantic import ByteSize

from orchestrator.spec import SpecError, SweepSpec, load_spec, validate_spec
from orchestrator.sweeps import locate, stored_spec, sweep_status
from orchestrator.trackers import TrackerError
from results.storage import is_uri
from results.store import StoreError


def _summary(spec: SweepSpec) -> str:
    trials = spec.expand()
    axis, levels = next(iter(spec.difficulty.items()))
    by_transfer = Counter(t.transfer for t in trials)
    gpu = spec.resources.gpu
    lines = [
        f"sweep {spec.name}: {len(trials)} trials -> {spec.sweep_dir}",
        f"  models      {', '.join(spec.models)}",
        f"  tasks       {', '.join(t if isinstance(t, str) else t.name for t in spec.tasks)}",
        f"  difficulty  {axis}: {', '.join(f'{x:g}' for x in levels) or _own_levels(trials)}",
        f"  pruning     {', '.join(f'{p.method}/{p.scope}' for p in spec.pruning)}"
        + (_search_line(spec) if spec.search else f" at {', '.join(map(_g, spec.sparsities))}"),
        *[
            f"  quantize    {q.method}/{q.scope}{f' of {q.group_size}' if q.group_size else ''}"
            f" at {', '.join(map(str, q.bits))} bits under {', '.join(q.transfers(spec.transfer))}"
            for q in spec.quantization
        ],
        f"  transfer    {', '.join(f'{k} ({v})' for k, v in by_transfer.items())}",
        f"  seeds       {', '.join(map(str, spec.seeds))}",
        f"  per trial   {spec.resources.cpu:g} CPU, {gpu:g} GPU"
        + (f", {_size(spec.resources.memory)} memory" if spec.resources.memory else "")
        + (f" -> {len(trials) * gpu:g} GPU-trials in all" if gpu else ""),
        *(_search_counts(spec, len(trials)) if spec.search else []),
        f"{len(trials)} trials",  # in search mode: those known before it (the last line: a count)
    ]
    merged = len(spec.equivalents())
    if merged:
        lines.insert(-1, f"  run once    at sparsity 0, the dense trial stands for {merged} more")
    return "\n".join(lines)


def _size(n: ByteSize) -> str:
    """Bytes in the unit family they were likely written in: 64GB, 8GiB, 1.5GB."""
    return n.human_readable(decimal=n % 1000 == 0).replace(".0", "")


def _g(x: float) -> str:
    return f"{x:g}"


def _search_line(spec: SweepSpec) -> str:
    s = spec.search
    return (f", searched: drops {', '.join(f'{d:g}' for d in s.drops)} over "
            f"[{s.range[0]:g}, {s.range[1]:g}] by {s.resolution:g}, min_seeds {s.min_seeds}, "
            f"confirm_seeds {s.confirm_seeds}, k_section {str(s.k_section).lower()}")  # fmt: skip


def _search_counts(spec: SweepSpec, fixed: int) -> list[str]:
    """The search's worst-case and expected trials next to the equivalent grid's.

    Both hold the trials known before the search (dense references, N:M points) once; the
    grid runs every curve at every non-zero grid sparsity and seed.
    """
    from orchestrator.search import DENSE, trial_counts

    space, curves, seeds = spec.search.space(), len(spec.curves()), len(spec.seeds)
    counts = trial_counts(space, curves, seeds)
    grid = fixed + curves * seeds * sum(s != DENSE for s in space.grid)
    worst = fixed + counts.search_worst - curves * seeds  # trial_counts holds a dense per curve
    expected = fixed + counts.search_expected - curves * seeds
    gpu = spec.resources.gpu
    unit, scale = ("GPU-trials", gpu) if gpu else ("trials", 1)
    ahead = "; free slots probe ahead (k_section), up to the grid" if spec.search.k_section else ""
    return [
        f"search: {curves} curves, probes chosen as it runs; in all (the {fixed} trials below "
        f"included) {unit}: grid {grid * scale:g}, search worst "
        f"{worst * scale:g} ({worst / grid:.2f}x), expected {expected * scale:.0f} "
        f"({expected / grid:.2f}x, monotone curves){ahead}"
    ]


def _own_levels(trials: list) -> str:
    """Levels that each task sets itself (human_gap: its human baseline), in task order."""
    own = {t.task_name: t.difficulty_level for t in trials}
    return "per task: " + ", ".join(f"{task} {level:g}" for task, level in own.items())


def cmd_validate(args: argparse.Namespace) -> int:
    print(_summary(load_spec(args.spec)))
    return 0


def _run(spec: SweepSpec, address: str | None, skip_broken_trackers: bool = False) -> int:
    from orchestrator.driver import run_sweep
    from orchestrator.search_driver import run_search
    from orchestrator.trackers import start_trackers

    # set up before anything is written: a tracker that cannot start stops here, in one line
    loggers = start_trackers(spec.trackers, spec.name, skip_broken_trackers)
    run = run_search if spec.search else run_sweep
    outcome = run(spec, address=address, loggers=loggers)
    print(
        f"{spec.name}: {outcome.total} trials, {outcome.already_done} already done, "
        f"{outcome.ran} ran, {len(outcome.failed)} failed ({outcome.wall_s:.1f} s)"
    )
    if spec.search:
        print(f"  search: {outcome.curves} curves, {outcome.probes} sparsities probed in all")
    if outcome.ready_s:
        ready = sorted(outcome.ready_s)
        print(
            f"  model + data set-up per trial: {ready[-1]:.2f} s at most (a worker's first), "
            f"{ready[len(ready) // 2]:.2f} s median (cached in the worker)"
        )
    for key, error in outcome.failed.items():
        print(f"  failed {key}: {error}")
    if outcome.failed:
        print(f"re-run the failed trials with: junkdna resume {spec.sweep_dir}")
    return 1 if outcome.failed else 0


def _address(args: argparse.Namespace) -> str | None:
    """--address (or RAY_ADDRESS) as Ray takes it; Ray Client (ray://) refused in one line."""
    address = args.address or os.environ.get("RAY_ADDRESS")
    if not (address or "").startswith("ray://"):
        return args.address
    # Tune's driver, its callbacks and the store reads live in this process: over Ray Client
    # every result would cross the client's proxy, and a dropped connection ends the sweep
    host = address.removeprefix("ray://").rsplit(":", 1)[0] or "HEAD"
    given = "--address" if args.address else "RAY_ADDRESS"
    target = args.spec if args.command == "submit" else args.sweep
    raise SpecError(
        f"{given} {address}: Ray Client (ray://) cannot drive a sweep; use --address "
        f"{host}:6379 from a machine that reaches the head node, or run it there: ray job submit "
        f"--address http://{host}:8265 --working-dir . -- python -m orchestrator.cli "
        f"{args.command} {target}"
    )


def cmd_submit(args: argparse.Namespace) -> int:
    address = _address(args)
    return _run(load_spec(args.spec), address, args.skip_broken_trackers)


def cmd_resume(args: argparse.Namespace) -> int:
    address = _address(args)
    # checked as at submit: running trials needs the task files (and models) on this machine
    return _run(load_spec(f"{locate(args.sweep)}/spec.yaml"), address, args.skip_broken_trackers)


def cmd_status(args: argparse.Namespace) -> int:
    sweep_dir = locate(args.sweep)
    status = sweep_status(sweep_dir)
    print(
        f"{sweep_dir}: {status.total} trials: {status.done} done, {len(status.failed)} failed, "
        f"{status.pending} pending"
    )
    for key, error in status.failed.items():
        print(f"  failed {key}: {error}")
    for path, reason in status.corrupt:
        print(f"  unreadable fragment (skipped by queries) {path}: {reason}")
    if status.outside_grid:
        print(f"  {status.outside_grid} rows belong to trials no longer in the spec's grid")
    return 1 if status.failed else 0


def cmd_query(args: argparse.Namespace) -> int:
    import duckdb

    from results.query import query

    if args.format == "parquet" and not args.out:
        raise SpecError("results query: --format parquet needs --out FILE")
    try:
        table = query(f"{locate(args.sweep)}/results", args.sql)
    except duckdb.Error as e:
        raise SpecError(f"query: {str(e).splitlines()[0]}") from None
    if args.format == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, args.out)
        print(f"{table.num_rows} rows -> {args.out}", file=sys.stderr)
        return 0
    frame = table.to_pandas()
    if args.format == "csv":
        text = frame.to_csv(index=False)
    elif args.format == "json":
        text = frame.to_json(orient="records", lines=True, date_format="iso")
    else:
        text = (frame.to_string(index=False) if len(frame) else "(no rows)") + "\n"
    if args.out:
        Path(args.out).write_text(text)
        print(f"{table.num_rows} rows -> {args.out}", file=sys.stderr)
    else:
        print(text, end="")
    return 0


def cmd_compact(args: argparse.Namespace) -> int:
    from results.store import compact

    results_dir = f"{locate(args.sweep)}/results"
    done = compact(results_dir)
    if done.path is None:
        print(f"{results_dir}: nothing to compact ({done.merged} files, {done.rows} rows)")
    else:
        print(f"{results_dir}: merged {done.merged} files into {done.path} ({done.rows} rows), "
              f"removed {done.removed}")  # fmt: skip
    for path in done.kept:
        print(f"  kept {path}: it changed while compacting (merged next time)")
    for path in done.stale:
        print(f"  deleted {path}: left by a write that died")
    for path, reason in done.corrupt:
        print(f"  unreadable fragment left in place (skipped by queries) {path}: {reason}")
    return 0


def _rows(sweep_dir: str, spec: SweepSpec | None = None):
    """The sweep's rows as the analysis reads them: also a row for each trial the grid ran as
    another (sparse at sparsity 0 as dense: its point, from the dense row), and quantization
    rows beside pruning ones. The one place tables and reports load rows (`spec`: the stored
    one, when the caller has it already)."""
    import pandas as pd

    from results.compression import EQUIVALENT, with_equivalents
    from results.store import read_sweep

    rows = read_sweep(f"{sweep_dir}/results").table.to_pandas()
    equivalents = pd.DataFrame(
        [[getattr(t, c) for c in EQUIVALENT] + [same.trial_key]
         for t, same in (spec or stored_spec(sweep_dir)).equivalents()],
        columns=EQUIVALENT + ["same_as"],
    )  # fmt: skip
    return with_equivalents(rows, equivalents)


def _frame(sweep_dir: str):
    """The pruning rows (dense included) of `_rows`: what tables and the pruning report read."""
    from results.compression import split

    return split(_rows(sweep_dir))[0]


def cmd_table(args: argparse.Namespace) -> int:
    from results.analysis import analyze
    from results.tables import format_pivot, pivot

    analysis = analyze(_frame(locate(args.sweep)))
    print(format_pivot(pivot(analysis.levels, analysis.drops)))
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    import pandas as pd

    from orchestrator.search_driver import breaking_points, planned
    from results import breaking_points as bp
    from results.analysis import analyze
    from results.compression import NO_COMPARISON, compare, quantized, section, split, verdict_lines
    from results.report import verdicts, write_report

    sweep_dir = locate(args.sweep)
    spec = stored_spec(sweep_dir)
    rows = _rows(sweep_dir, spec)
    frame = split(rows)[0]
    expected = pd.DataFrame(
        [
            {
                "model": t.model,
                "task": t.task_name,
                "difficulty_axis": t.difficulty_axis,
                "difficulty_level": t.difficulty_level,
                "method": t.method,
                "transfer": t.transfer,
                "sparsity": t.sparsity,
                "seed": t.seed,
            }  # fmt: skip
            for t in planned(spec, set(rows["trial_key"]))
            if t.bits is None  # the pruning report's grid; quantization: results.compression
        ]
    )
    # a sweep on object storage gets its report in ./<name>-analysis (plots are local files)
    default = f"{sweep_dir.rstrip('/').rsplit('/', 1)[-1]}-analysis" if is_uri(sweep_dir) else None
    out = Path(args.out or default or f"{sweep_dir}/analysis")
    points = None
    if spec.search:
        points = breaking_points(spec, frame[["trial_key", "metric", "status"]].to_dict("records"))
    analysis = analyze(frame, brackets=points)
    report = write_report(analysis, out, expected=expected, max_plots=args.max_plots)
    print("\n".join(line.replace("**", "") for line in verdicts(analysis)))
    if spec.search:
        with report.open("a") as f:
            f.write("\n" + bp.section(points, analysis.bracket_order))
        lines = bp.lines(points, analysis.bracket_order)
        print("breaking points (adaptive search):\n" + "\n".join(lines))
    if quantized(rows).any():  # pruning vs quantization, appended to the report
        comparison = compare(rows)
        with report.open("a") as f:
            f.write("\n" + section(rows, comparison) + "\n")
        print("pruning vs quantization (how monotone the difficulty effect is):")
        print("\n".join(verdict_lines(comparison)) or f"  {NO_COMPARISON}")
    plots = sorted(out.glob("*.png"))
    print(f"report: {report}\nplots:  {len(plots)} PNG files in {out}")
    return 0


def demo_spec(llm: bool) -> dict:
    """The embedded demo's spec as data: MiniLM fine-tuned on two polarity tasks, or (`llm`)
    SmolLM2 evaluated closed and open book, calibrated on the text junkdna ships."""
    import yaml

    data = yaml.safe_load(
        files("orchestrator").joinpath("demo-llm.yaml" if llm else "demo.yaml").read_text()
    )
    calibration = str(files("difficulty").joinpath("data/calibration.txt"))
    for pruning in data["pruning"]:
        if "calibration" in pruning:
            pruning["calibration"]["file"] = calibration
    return data


def cmd_demo(args: argparse.Namespace) -> int:
    data = demo_spec(args.llm)
    out = Path(args.out or ("./junkdna-demo-llm" if args.llm else "./junkdna-demo")).resolve()
    data.update(name=out.name, storage=str(out.parent))
    spec = validate_spec(data, "demo --llm" if args.llm else "demo")
    print(_summary(spec))
    code = _run(spec, address=None)
    sweep = spec.sweep_dir
    measured = "match (lenient), by level" if args.llm else "accuracy, by task"
    print(f"\n{measured} × sparsity (mean ± std over seeds, change from dense):\n")
    cmd_table(argparse.Namespace(sweep=sweep))
    print()
    cmd_analyze(argparse.Namespace(sweep=sweep, out=None, max_plots=None))
    print(
        f"\nresults: {sweep}/results (one Parquet file per trial; compacted past 1,000 rows)\n"
        f'  junkdna results query {sweep} "select task, sparsity, avg(metric) from trials '
        f'group by all order by 1,2"\n'
        f"  junkdna results table {sweep}\n"
        f"  junkdna analyze {sweep}\n"
        f"  junkdna status {sweep}\n"
        f"  junkdna resume {sweep}     # runs only trials without a row (none, if all finished)"
    )
    return code


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="junkdna", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("demo", help="run the embedded offline demo sweep (local Ray, MiniLM)")
    s.add_argument(
        "--llm",
        action="store_true",
        help="the LLM demo: SmolLM2, closed vs open book QA, magnitude/Wanda/SparseGPT",
    )
    s.add_argument("--out", help="sweep directory (default ./junkdna-demo, ./junkdna-demo-llm)")
    s.set_defaults(func=cmd_demo)
    s = sub.add_parser("validate", help="check a spec; print its trial count and grid")
    s.add_argument("spec")
    s.set_defaults(func=cmd_validate)
    s = sub.add_parser("submit", help="run a sweep (local Ray unless --address or RAY_ADDRESS)")
    s.add_argument("spec")
    s.set_defaults(func=cmd_submit)
    s = sub.add_parser("resume", help="run only the trials of a sweep that have no result row")
    s.add_argument("sweep", metavar="NAME|DIR")
    s.set_defaults(func=cmd_resume)
    for verb in (sub.choices["submit"], s):
        verb.add_argument(
            "--address",
            help="Ray cluster address, e.g. head:6379 or auto (not Ray Client's ray://: "
            "run the sweep on the cluster with ray job submit)",
        )
        verb.add_argument(
            "--skip-broken-trackers",
            action="store_true",
            help="run without a tracker that cannot start (with a warning) instead of stopping",
        )
    s = sub.add_parser("status", help="done / failed / pending counts and failures")
    s.add_argument("sweep", metavar="NAME|DIR")
    s.set_defaults(func=cmd_status)
    results = sub.add_parser("results", help="query a sweep's results").add_subparsers(
        dest="results_command", required=True
    )
    s = results.add_parser("query", help='SQL over the view `trials`, e.g. "select * from trials"')
    s.add_argument("sweep", metavar="NAME|DIR")
    s.add_argument("sql")
    s.add_argument("--format", choices=("table", "csv", "json", "parquet"), default="table")
    s.add_argument("--out", metavar="FILE", help="write the result there instead of stdout")
    s.set_defaults(func=cmd_query)
    s = results.add_parser("compact", help="merge the per-trial fragments into larger files")
    s.add_argument("sweep", metavar="NAME|DIR")
    s.set_defaults(func=cmd_compact)
    s = results.add_parser("table", help="metric by task/level × sparsity, one block per transfer")
    s.add_argument("sweep", metavar="NAME|DIR")
    s.set_defaults(func=cmd_table)
    s = sub.add_parser("analyze", help="monotonicity report (Markdown) and plots (PNG)")
    s.add_argument("sweep", metavar="NAME|DIR")
    s.add_argument(
        "--out", help="output directory (default: <sweep>/analysis; ./<name>-analysis for s3://)"
    )
    s.add_argument("--max-plots", type=int, default=None, help="draw at most N figures")
    s.set_defaults(func=cmd_analyze)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (SpecError, StoreError, TrackerError) as e:
        print(f"junkdna: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

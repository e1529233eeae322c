"""The spec reference's tables, written from the registries: `python -m orchestrator.docs`.

docs/spec.md is prose, plus one table per registry between `<!-- generated: NAME -->` and
`<!-- end: NAME -->`: pruning methods, difficulty axes, transfer modes, metrics, tasks, packaged
models and row columns, each read from its records (pruning.methods, difficulty.axes,
results.transfer_modes, difficulty.metrics, difficulty's task registry, orchestrator.spec.checks,
results.schema). Run it again after adding a record, or after merging a branch that did;
`python -m orchestrator.docs --check` (and tests/orchestrator/test_docs.py) fails while the file
and the registries disagree.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

SPEC = Path(__file__).resolve().parents[1] / "docs" / "spec.md"
COMMAND = "python -m orchestrator.docs"


def _table(header: list[str], rows: list[list[object]]) -> str:
    """A Markdown table; cells as given, `|` escaped."""
    cells = [[str(c).replace("|", "\\|") for c in row] for row in rows]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


def _yes(flag: object) -> str:
    return "yes" if flag else ""


def methods() -> str:
    from pruning.methods import METHODS, REQUIRED

    def options(method) -> str:
        shown = []
        for name, option in method.options.items():
            default = "required" if option.default is REQUIRED else f"default {option.default}"
            shown.append(f"`{name}` ({option.kind.__name__} ≥ {option.low:g}, {default})")
        return ", ".join(shown)

    rows = [
        [f"`{m.name}`", ", ".join(m.scopes), options(m), _yes(m.needs_calibration),
         _yes(m.cacheable), _yes(m.seeded), _yes(m.sets_sparsity), ", ".join(m.targets),
         m.revision]
        for m in METHODS.values()
    ]  # fmt: skip
    header = ["method", "scopes (default first)", "options", "needs calibration",
              "masks cached", "seeded", "sets its own sparsity", "targets", "revision"]  # fmt: skip
    return _table(header, rows)


def axes() -> str:
    from difficulty.axes import AXES

    rows = [
        [f"`{a.name}`", a.allowed, a.harder_when, a.label, _yes(a.cross_task),
         ", ".join(a.kinds), "the gap (human − dense) / human" if a.measured else ""]
        for a in AXES.values()
    ]  # fmt: skip
    header = ["axis", "levels", "harder when", "label", "compared across tasks", "task kinds",
              "difficulty computed from dense"]  # fmt: skip
    return _table(header, rows)


def transfer_modes() -> str:
    from results.transfer_modes import TRANSFER_MODES

    rows = [
        [f"`{m.name}`", _yes(m.trains), _yes(m.prunes), _yes(m.keeps_mask),
         _yes(m.same_as_dense_at_zero), _yes(m.evaluation_only), _yes(m.adapters),
         _yes(m.keeps_quantization)]
        for m in TRANSFER_MODES.values()
    ]  # fmt: skip
    header = ["transfer", "fine-tunes", "prunes", "mask holds after training",
              "= dense at sparsity 0", "evaluation-only tasks", "LoRA adapters",
              "quantized models"]  # fmt: skip
    return _table(header, rows)


def _chance(chance: Callable | None) -> str:
    from difficulty.metrics import zero_chance

    if chance is None:
        return "undefined (the analysis takes 0)"
    if chance is zero_chance:
        return "0"
    return (chance.__doc__ or chance.__name__).strip().splitlines()[0].rstrip(".")


def metrics() -> str:
    from difficulty.metrics import METRICS

    rows = [
        [output, f"`{m.name}`", "higher" if m.higher_is_better else "lower", _chance(m.chance),
         f"`{m.recorded_chance}`" if m.recorded_chance else "",
         f"[{m.bounds[0]:g}, {m.bounds[1]:g}]", _yes(m.primary)]
        for output, by_name in METRICS.items()
        for m in by_name.values()
    ]  # fmt: skip
    header = ["output", "metric", "better", "chance (a guess scores)", "chance recorded as",
              "range", "primary"]  # fmt: skip
    return _table(header, rows)


def tasks() -> str:
    from difficulty import TASKS

    def extra(t) -> str:
        parts = [f"{t.n_options} options" if t.n_options else "",
                 "→".join(t.languages) if t.languages else "",
                 f"resource {t.resource:g}" if t.resource is not None else ""]  # fmt: skip
        return ", ".join(p for p in parts if p)

    rows = [
        [f"`{t.name}`", t.kind, ", ".join(t.text), t.num_labels if t.kind == "classification"
         else "", t.metric, t.n_train or "", "" if t.human_baseline is None else t.human_baseline,
         extra(t)]
        for t in sorted(TASKS.values(), key=lambda t: t.name)
    ]  # fmt: skip
    header = ["task", "kind", "text", "labels", "metric", "training examples",
              "human baseline", ""]  # fmt: skip
    return _table(header, rows)


def models() -> str:
    from workers.packaged import PACKAGED

    rows = [[f"`{m.name}`", m.about, f"`{m.install}`"] for m in PACKAGED.values()]
    return _table(["name", "model", "installed by"], rows)


def columns() -> str:
    from results.schema import COLUMNS, NOTHING_MEASURED

    def default(name: str) -> str:
        if name not in NOTHING_MEASURED:
            return "set by the writer"
        value = NOTHING_MEASURED[name]
        return "null" if value is None else "NaN" if value != value else f"`{value!r}`"

    rows = [[f"`{c.name}`", str(c.type), default(c.name), c.since] for c in COLUMNS]
    return _table(["column", "Arrow type", "a trial that measured nothing", "since schema"], rows)


SECTIONS: dict[str, Callable[[], str]] = {
    "methods": methods,
    "axes": axes,
    "transfer": transfer_modes,
    "metrics": metrics,
    "tasks": tasks,
    "models": models,
    "columns": columns,
}
BLOCK = re.compile(r"(<!-- generated: (\w+) -->\n)(?:.*?\n)?(<!-- end: \2 -->)", re.S)


def render(text: str) -> str:
    """The text with every generated block written again from its registry."""
    found = {m.group(2) for m in BLOCK.finditer(text)}
    if found != set(SECTIONS):
        raise ValueError(f"{SPEC.name}: generated blocks {sorted(found)}; want {sorted(SECTIONS)}")
    return BLOCK.sub(lambda m: m.group(1) + SECTIONS[m.group(2)]() + "\n" + m.group(3), text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = SPEC.read_text()
    fresh = render(text)
    if args.check:
        if fresh != text:
            print(f"{SPEC}: its tables disagree with the registries; run `{COMMAND}`")
            return 1
        return 0
    SPEC.write_text(fresh)
    print(f"wrote {SPEC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The README and docs/ say what the code does: generated tables match the registries, and every
command they show is either run here or named as needing what a test machine lacks."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orchestrator import docs

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["README.md", "docs/spec.md", "docs/analysis.md", "docs/clusters.md"]
PROGRAMS = (
    "junkdna",
    "python",
    "python3",
    ".venv/bin/",
    "ray",
    "aws",
    "docker",
    "sbatch",
    "export",
)
SWEEP = "polarity"  # the README's sweep, which the docs' examples read too
CHEAP = [
    r"junkdna validate (examples/\S+|sweep\.yaml)$",
    r"python -m orchestrator\.docs( --check)?$",
]
SWEEP_LIFE = [rf"junkdna (submit sweep\.yaml|status {SWEEP}|resume {SWEEP}|analyze {SWEEP})$",
              rf"junkdna results (table|compact|query) {SWEEP}( .*)?$"]  # fmt: skip
# what a test machine lacks: CI installs and runs these itself, or they need a cluster, a cloud
# account, a network or a sweep that downloads hub data
ELSEWHERE = {
    "the set-up commands (CI runs them: .ci/run)": r"(python3 -m venv|\.venv/bin/pip install)",
    "a Ray or SLURM cluster, or AWS": r"(ray|aws|docker|sbatch|export RAY_AUTH_MODE)\b",
    "a sweep directory named by placeholder or on S3": r"junkdna .*(<[^>]+>|s3://)",
}


def commands(page: str) -> list[str]:
    """The command lines of a page's code blocks (4-space indented, or fenced shell), without
    trailing comments."""
    out, fence, block, blank = [], None, False, True
    for line in (ROOT / page).read_text().splitlines():
        if line.lstrip().startswith("```"):
            fence = None if fence is not None else line.strip()[3:]
            continue
        code = (fence in ("", "bash", "sh")) or (
            fence is None and re.match(r" {4,}\S", line) and (blank or block)
        )
        block = bool(code) if line.strip() else block
        blank = not line.strip()
        text = re.sub(r"\s{2,}#.*$", "", line.strip())
        if code and text.startswith(PROGRAMS):
            out.append(text)
    return out


ALL = [(page, c) for page in PAGES for c in commands(page)]


def _kind(command: str) -> str:
    if any(re.match(p, command) for p in CHEAP):
        return "cheap"
    if any(re.match(p, command) for p in SWEEP_LIFE):
        return "sweep"
    return next((why for why, p in ELSEWHERE.items() if re.match(p, command)), "")


def test_the_spec_reference_tables_match_the_registries():
    text = docs.SPEC.read_text()
    assert docs.render(text) == text, f"docs/spec.md is stale: run `{docs.COMMAND}`"


def test_the_readme_is_a_front_door():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 160


@pytest.mark.parametrize(("page", "command"), ALL)
def test_every_command_is_run_here_or_says_what_it_needs(page, command):
    assert _kind(command), f"{page}: `{command}`: run it in tests/test_docs.py or say what it needs"


def _readme_spec(where: Path) -> Path:
    """The README's sweep as sweep.yaml, storage under `where`."""
    text = (ROOT / "README.md").read_text()
    spec = yaml.safe_load(re.search(r"```yaml\n(.*?)```", text, re.S).group(1))
    path = where / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    argv = shlex.split(command)
    if argv[0] == "junkdna":
        argv = [sys.executable, "-m", "orchestrator.cli", *argv[1:]]
    elif argv[0] == "python":
        argv[0] = sys.executable
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(
    "command", sorted({c for _, c in ALL if _kind(c) == "cheap"}), ids=lambda c: c[:40]
)
def test_cheap_commands_run_as_written(command, tmp_path):
    _readme_spec(tmp_path)
    for example in (ROOT / "examples").iterdir():
        (tmp_path / "examples").mkdir(exist_ok=True)
        (tmp_path / "examples" / example.name).write_text(example.read_text())
    cwd = ROOT if "orchestrator.docs" in command else tmp_path
    done = _run(command, cwd)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_a_sweeps_life_runs_as_written(tmp_path):
    """The README's sweep, its five commands and the docs' queries of it, in order; the spec
    gets `noop: true` (each trial records a row without loading a model) to stay quick."""
    spec = _readme_spec(tmp_path)
    spec.write_text(spec.read_text() + "noop: true\n")
    order = ["validate", "submit", "status", "resume", "results", "analyze"]
    sweep = sorted({c for _, c in ALL if _kind(c) == "sweep"}, key=lambda c: order.index(
        c.split()[1]) if c.split()[1] in order else len(order))  # fmt: skip
    for command in ["junkdna validate sweep.yaml", *sweep]:
        done = _run(command, tmp_path)
        assert done.returncode == 0, f"{command}:\n{done.stdout}{done.stderr}"
    assert (tmp_path / "sweeps" / SWEEP / "analysis" / "report.md").is_file()

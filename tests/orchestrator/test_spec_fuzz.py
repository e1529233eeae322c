"""Every example spec, mutated by hypothesis: `validate` accepts the result or refuses it in one
line (exit 2), never a traceback; `submit` of an accepted one gets to its first trial.

Mutations: a value replaced (wrong types, negative, huge, NaN, inf, unicode, deep nesting), a key
removed or added, one value shared under an anchor and an alias (a bomb of them, too), a key
given twice, raw bytes spliced into the file or the file cut short. `submit` runs the real CLI
and driver (trackers, the saved spec, the trials' configs, bundles, Tune's resources) with Ray
replaced by a stand-in whose Tuner stops where the first trial would start: that is all that
can fail before it, in milliseconds instead of a Ray start per example. Its sweeps are written
under a temporary directory (a mutated `storage` is validated, not written to).
"""

from __future__ import annotations

import contextlib
import copy
import io
import pickle
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator import cli, driver
from workers.config import TrialConfig

ROOT = Path(__file__).parents[2]
EXAMPLES = {p.name: p for p in [*ROOT.glob("examples/*.yaml"), ROOT / "orchestrator" / "demo.yaml"]}
SPECS = {name: yaml.safe_load(path.read_text()) for name, path in EXAMPLES.items()}
KEYS = ["name", "storage", "models", "tasks", "difficulty", "pruning", "quantization",
        "sparsities", "transfer", "seeds", "train", "resources", "retries", "noop", "search",
        "trackers", "memory", "gpu", "cpu", "method", "scope", "bits", "epochs", "lr"]  # fmt: skip
EXAMPLES_TRIED = []  # one entry per example hypothesis ran: the count the closing note gives


def paths(data, prefix: tuple = (), seen: set | None = None) -> list[tuple]:
    """Every place in the spec's data a value sits: (key or index, ...); a list or mapping that
    an alias shares is entered once (a bomb's paths would be as many as its values)."""
    seen = set() if seen is None else seen
    found = [prefix] if prefix else []
    if id(data) in seen:
        return found
    seen.add(id(data))
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else []
    )
    for key, value in items:
        found += paths(value, (*prefix, key), seen)
    return found


def get(data, path: tuple):
    for part in path:
        data = data[part]
    return data


def nested(depth: int, leaf):
    for _ in range(depth):
        leaf = [leaf]
    return leaf


def bomb(levels: int, width: int) -> list:
    """A list that is `width` references to a list that is ... (yaml.dump writes anchors)."""
    value: object = "lol"
    for _ in range(levels):
        value = [value] * width
    return value


TEXT = st.text(
    st.characters(exclude_categories=("Cs",)), max_size=12
)  # any character YAML can hold
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),  # NaN, inf, -inf, subnormal, huge, negative
    st.sampled_from([-1, 0, 0.0, -0.0, 1e-9, 1e308, 2**63, float("nan"), float("inf"), "8GiB", ""]),
    TEXT,
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=4),
    st.dictionaries(st.one_of(st.sampled_from(KEYS), TEXT), SCALARS, max_size=3),
    st.builds(nested, st.integers(1, 200), SCALARS),
)


def like(value, data) -> st.SearchStrategy:
    """Values of `value`'s type, near what specs hold (another of the spec's strings, say)."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(0, 8)
    if isinstance(value, float):
        return st.floats(0, 1, exclude_max=True)
    if isinstance(value, str):
        strings = [get(data, p) for p in paths(data) if isinstance(get(data, p), str)]
        return st.sampled_from(strings)
    if isinstance(value, list):
        return st.just(value[:-1] or value)
    return st.just(value)


@st.composite
def mutated(draw) -> tuple[str, bytes]:
    """An example spec's file after one to three mutations."""
    name = draw(st.sampled_from(sorted(SPECS)))
    data = copy.deepcopy(SPECS[name])
    for _ in range(draw(st.integers(1, 3))):
        places = paths(data)
        kind = draw(st.sampled_from(["tweak", "tweak", "set", "remove", "add", "alias", "bomb"]))
        path = draw(st.sampled_from(places)) if places else ()
        parent = get(data, path[:-1]) if path else None
        if kind == "tweak" and path:  # a value of the same type: many such specs are accepted
            parent[path[-1]] = draw(like(get(data, path), data))
        elif kind == "set" and path:
            parent[path[-1]] = draw(VALUES)
        elif kind == "remove" and path:
            del parent[path[-1]]
        elif kind == "add":
            target = get(data, path) if path else data
            if isinstance(target, dict):
                target[draw(st.one_of(st.sampled_from(KEYS), TEXT))] = draw(VALUES)
            elif isinstance(target, list):
                target.append(draw(VALUES))
        elif kind == "alias" and path:  # the same object twice: an anchor and an alias
            parent[path[-1]] = get(data, draw(st.sampled_from(places)))
        elif kind == "bomb" and path:
            parent[path[-1]] = bomb(draw(st.integers(2, 9)), draw(st.integers(2, 10)))
    try:
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode()
    except (yaml.YAMLError, RecursionError):  # a structure PyYAML cannot write
        text = EXAMPLES[name].read_bytes()
    edit = draw(st.sampled_from(["none", "none", "duplicate", "bytes", "cut"]))
    lines = text.splitlines(keepends=True)
    if edit == "duplicate" and lines:  # a key given twice: a top-level line repeated at the end
        text += draw(st.sampled_from([line for line in lines if line[:1].isalpha()] or lines))
    elif edit == "bytes":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.binary(min_size=1, max_size=8)) + text[at:]
    elif edit == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    return name, text


class FirstTrial(Exception):
    """Raised by the stand-in Tuner where Tune would start the sweep's first trial."""


class StandInTuner:
    """Checks what Tune would be handed, then stops where the first trial would start."""

    def __init__(self, trainable, param_space, tune_config, run_config) -> None:
        import ray

        self.run_config = run_config
        resources = trainable.resources  # as the driver gave them to tune.with_resources
        # the options Ray checks when it starts a trial's actor, checked the same way here
        ray.remote(num_cpus=resources["cpu"], num_gpus=resources["gpu"],
                   memory=resources.get("memory"))(lambda: None)  # fmt: skip
        self.bundles = trainable.kwargs["bundles"]
        self.searcher = tune_config.search_alg  # an adaptive search hands out its bundles
        if self.searcher is None:
            assert len(param_space["bundle"]["grid_search"]) == len(self.bundles)

    def fit(self) -> None:
        if self.searcher is None:
            pickle.dumps(self.bundles)  # they travel to the workers through Ray's object store
            first = self.bundles[0][0]
        else:
            config = self.searcher.suggest("first")  # the first bundle the search starts
            pickle.dumps(config)  # it travels to the worker as the trial's config
            first = config["trials"][0]
        assert TrialConfig.from_dict(first).trial_key  # what the worker computes first
        raise FirstTrial


SWEEPS = {"storage": ""}  # where the example being tried keeps its sweep


@pytest.fixture(scope="module")
def stand_in_ray():
    """Ray replaced for the driver: no cluster, a Tuner that stops at the first trial; sweeps
    written under SWEEPS["storage"] (a mutated `storage` is validated, never written to)."""
    from ray import tune

    with pytest.MonkeyPatch.context() as patch:
        load = cli.load_spec
        patch.setattr(cli, "load_spec",
                      lambda path: load(path).model_copy(update={"storage": SWEEPS["storage"]}))  # fmt: skip
        patch.setattr(driver, "_connect", lambda address: None)
        patch.setattr(driver, "_live_nodes", lambda: [{"CPU": 2.0, "memory": 8e9}])
        patch.setattr(tune, "with_parameters",
                      lambda trainable, **kwargs: SimpleNamespace(kwargs=kwargs))  # fmt: skip
        patch.setattr(tune, "with_resources",
                      lambda trainable, resources: SimpleNamespace(**vars(trainable),
                                                                   resources=resources))  # fmt: skip
        patch.setattr(tune, "Tuner", StandInTuner)
        yield


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.usefixtures("stand_in_ray")
@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(mutated())
def test_every_mutated_example_is_accepted_or_refused_in_one_line(tmp_path_factory, example):
    name, text = example
    EXAMPLES_TRIED.append(name)
    where = tmp_path_factory.mktemp("fuzz")
    path = where / name
    path.write_bytes(text)
    code, out, err = run(["validate", str(path)])
    if code != 0:
        assert code == 2, err
        assert err.count("\n") == 1 and err.startswith(f"junkdna: {path}: "), err
        return
    assert out.strip().splitlines()[-1].endswith("trials")
    SWEEPS["storage"] = str(where / "sweeps")
    with pytest.raises(FirstTrial):
        code, out, err = run(["submit", str(path)])
        pytest.fail(f"submit ended before its first trial: exit {code}: {err}")
    assert list((where / "sweeps").glob("*/spec.yaml"))


def test_the_fuzz_test_covers_every_example():
    assert {"demo.yaml", "minilm-cpu.yaml", "triviaqa-open-closed-book.yaml"} <= set(SPECS)
    assert len(SPECS) == len(EXAMPLES) >= 8
    print(f"{len(EXAMPLES_TRIED)} mutated specs tried", file=sys.stderr)

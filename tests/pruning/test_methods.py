import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pruning import METHODS, PruningError, compute_masks
from pruning.methods import Method, Option, get_method, register_method
from tests.models import tiny_model


def test_each_method_is_one_record_of_its_facts():
    assert {m: r.scopes for m, r in METHODS.items()} == {
        "magnitude": ("global", "layer"),
        "random": ("global", "layer"),
        "nm": ("row",),
        "wanda": ("row",),
        "sparsegpt": ("layer",),
    }
    assert [m for m, r in METHODS.items() if r.needs_calibration] == ["wanda", "sparsegpt"]
    assert [m for m, r in METHODS.items() if not r.cacheable] == ["sparsegpt"]
    assert [m for m, r in METHODS.items() if r.seeded] == ["random"]
    assert [m for m, r in METHODS.items() if r.sets_sparsity] == ["nm"]
    assert METHODS["sparsegpt"].resolve_options({}) == {
        "include": None, "exclude": None, "targets": "blocks", "blocksize": 128, "percdamp": 0.01
    }  # fmt: skip
    assert METHODS["nm"].sparsities([0.1, 0.9], {"keep": 2, "of": 8}) == [0.75]


def test_every_compute_function_resolves():
    for method in METHODS.values():
        assert callable(method.function()), method.name


@pytest.mark.parametrize(
    "method, options, named",
    [
        ("nm", {"of": 4}, "nm needs whole numbers keep < of"),
        ("nm", {"keep": 2.5, "of": 4}, "nm option keep = 2.5 must be an integer"),
        ("sparsegpt", {"percdamp": -1}, "sparsegpt option percdamp = -1 must be a number >= 0"),
        ("magnitude", {"keep": 2}, "option 'keep' is unknown for method magnitude"),
        ("wanda", {"include": "*.query.*"}, "include = '\\*.query.\\*' must be a list"),
    ],
)
def test_options_are_checked_by_the_record(method, options, named):
    with pytest.raises(PruningError, match=named):
        get_method(method).resolve_options(options)


def test_a_method_registered_from_outside_is_dispatched_without_touching_compute_masks():
    seen = {}

    def first_half(params, sparsity, width):
        seen.update(sparsity=sparsity, width=width)
        return {
            n: torch.arange(p.numel()).reshape(p.shape) < p.numel() // 2 for n, p in params.items()
        }

    register_method(Method("toy", ("row",), first_half, options={"width": Option(int, 1, 3)}))
    try:
        masks = compute_masks(tiny_model("bert"), "toy", 0.5, "row")
        assert seen == {"sparsity": 0.5, "width": 3}
        assert all(m.float().mean() == 0.5 for m in masks.values())
        with pytest.raises(PruningError, match="scope = 'global' is not allowed for toy"):
            compute_masks(tiny_model("bert"), "toy", 0.5, "global")
    finally:
        del METHODS["toy"]


def test_a_name_registered_twice_is_an_error():
    with pytest.raises(ValueError, match="registered twice"):
        register_method(Method("magnitude", ("global",), "pruning.magnitude:magnitude_masks"))


def test_the_registry_imports_no_torch():
    code = "import sys, pruning.methods; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_targets_all_prunes_embeddings_too_and_only_where_the_method_allows_it():
    from pruning import compute_masks, prunable_parameters
    from pruning.errors import PruningError
    from tests.models import MODELS

    model = MODELS["gpt2-lm"][0]()
    blocks = compute_masks(model, "magnitude", 0.5, "global")
    every = compute_masks(model, "magnitude", 0.5, "global", targets="all")
    assert set(blocks) == set(prunable_parameters(model))
    assert set(every) == set(prunable_parameters(model, targets="all")) > set(blocks)
    assert "transformer.wte.weight" in every
    with pytest.raises(PruningError, match="targets = 'all'; allowed: blocks"):
        compute_masks(model, "nm", None, "row", keep=2, of=4, targets="all")


def test_targets_is_recorded_in_the_rows_scope_and_blocks_keeps_the_key(tmp_path):
    from orchestrator.spec import validate_spec
    from workers.record import identity

    spec = {"name": "t", "storage": str(tmp_path), "models": ["minilm"],
            "tasks": ["builtin/polarity-easy"], "sparsities": [0.5], "transfer": ["sparse"],
            "seeds": [1]}  # fmt: skip
    (plain,) = validate_spec(spec).expand()
    (blocks,) = validate_spec(
        {**spec, "pruning": [{"method": "magnitude", "targets": "blocks"}]}
    ).expand()
    (every,) = validate_spec(
        {**spec, "pruning": [{"method": "magnitude", "targets": "all"}]}
    ).expand()
    assert blocks.trial_key == plain.trial_key != every.trial_key
    assert identity(plain)["scope"] == "global" and identity(every)["scope"] == "global+all"

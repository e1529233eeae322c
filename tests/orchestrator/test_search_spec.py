"""The spec's `search:` block: errors, the trials known up front, the curves and their trials."""

from __future__ import annotations

import pytest
import yaml

from orchestrator.spec import SpecError, validate_spec

SPEC = {
    "name": "s",
    "models": ["minilm"],
    "tasks": ["builtin/polarity-easy", "builtin/polarity-hard"],
    "difficulty": {"data_fraction": [0.5, 1.0]},
    "pruning": [{"method": "magnitude"}, {"method": "nm", "keep": 2, "of": 4}],
    "transfer": ["sparse", "dense_freeze"],
    "seeds": [1, 2],
    "search": {"drops": [0.05], "resolution": 0.25, "range": [0.0, 0.75]},
}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"sparsities": [0.5]}, "x.yaml: search: cannot be given with sparsities"),
        ({"search": {"drops": [1.2]}}, "x.yaml: search.drops[0] = 1.2: Input should be less"),
        ({"search": {"drops": []}}, "x.yaml: search.drops = []"),
        ({"search": {"range": [0.5, 0.4]}}, "x.yaml: search.range = [0.5, 0.4]: the low end"),
        ({"search": {"range": [0.0, 1.0]}}, "x.yaml: search.range[1] = 1.0: 1.0 is outside"),
        ({"search": {"range": [0, 0.5], "resolution": 0.6}}, "x.yaml: search.resolution = 0.6"),
        ({"search": {"min_seeds": 3}}, "x.yaml: search.min_seeds: 3 exceeds the 2 seeds"),
        ({"search": {"confirm_seeds": -1}}, "x.yaml: search.confirm_seeds = -1"),
        ({"search": {"drop": [0.1]}}, "x.yaml: unknown key 'search.drop'; allowed: drops, range"),
    ],
)
def test_bad_search_block_is_one_clear_line(change, message):
    with pytest.raises(SpecError) as e:
        validate_spec({**SPEC, **change}, "x.yaml")
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def test_search_expands_to_the_references_and_fixed_sparsities_before_any_probe():
    spec = validate_spec(SPEC)
    upfront = spec.expand()
    # dense (not listed: the reference) per task × level × seed, and N:M at its own 0.5
    assert sorted({(t.transfer, t.method, t.sparsity) for t in upfront}) == [
        ("dense", "none", 0.0),
        ("dense_freeze", "nm", 0.5),
        ("sparse", "nm", 0.5),
    ]
    assert len(upfront) == 2 * 2 * 2 * (1 + 2)


def test_curves_hold_the_grid_trial_at_each_sparsity_and_share_the_dense_reference():
    spec = validate_spec(SPEC)
    curves = spec.curves()
    assert len(curves) == 2 * 2 * 1 * 2  # tasks × levels × magnitude × pruned transfers
    grid = {p for c in curves for p in c.trials}
    assert grid == {(s, x) for s in (0.0, 0.25, 0.5, 0.75) for x in (1, 2)}
    # a probe is the grid sweep's trial at that sparsity: same key, so same row and resume
    as_grid = validate_spec({**SPEC, "search": None, "sparsities": [0.25, 0.5, 0.75],
                             "transfer": ["dense", *SPEC["transfer"]]})  # fmt: skip
    grid_keys = {t.trial_key for t in as_grid.expand()}
    probe_keys = {t.trial_key for c in curves for (s, _), t in c.trials.items()}
    assert probe_keys <= grid_keys
    assert len(grid_keys - probe_keys) == 2 * 2 * 2 * 2  # N:M: a grid point, not a curve
    dense = {c.trials[(0.0, 1)].trial_key for c in curves}
    assert len(dense) == 2 * 2  # one reference per task × level (seed 1), shared by curves


def test_confirmation_seeds_follow_the_spec_seeds():
    spec = validate_spec({**SPEC, "search": {**SPEC["search"], "confirm_seeds": 2}})
    assert {x for c in spec.curves() for _, x in c.trials} == {1, 2, 3, 4}
    assert {t.seed for t in spec.expand()} == {1, 2}


def test_saved_search_spec_reloads_to_the_same_trials(tmp_path):
    spec = validate_spec(SPEC)
    dumped = spec.model_dump(mode="json")
    assert "sparsities" not in dumped and dumped["search"]["drops"] == [0.05]
    again = validate_spec(yaml.safe_load(yaml.safe_dump(dumped)))
    assert [c.key for c in again.curves()] == [c.key for c in spec.curves()]
    grid = validate_spec({**SPEC, "search": None, "sparsities": [0.5]})
    assert "search" not in grid.model_dump(mode="json")  # grid specs are saved as before

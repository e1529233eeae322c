"""A new pruning method and a new difficulty axis are one record each, registered from here, and
run through everything: validate → expand → trial → row → analysis, with no other edit."""

from __future__ import annotations

import torch

from difficulty.axes import AXES, Axis, register_axis
from orchestrator.spec import validate_spec
from pruning.methods import METHODS, Method, register_method
from results.analysis import analyze
from results.reference import hardness
from results.report import verdicts
from results.store import read_sweep
from workers.trial import run_trial


def every_other(params: dict[str, torch.Tensor], sparsity: float) -> dict[str, torch.Tensor]:
    """A toy method: prune the first `sparsity` of each row's positions."""
    masks = {}
    for name, weight in params.items():
        keep = torch.ones_like(weight, dtype=torch.bool)
        keep[..., : int(weight.shape[-1] * sparsity)] = False
        masks[name] = keep
    return masks


def first_rows(train, level: float, seed: int, label: str):
    """A toy axis: the first `level` of the training rows (fewer rows: harder)."""
    return train.select(range(max(2, int(len(train) * level))))


def test_a_toy_method_and_a_toy_axis_run_end_to_end(tmp_path, tiny_bert, monkeypatch):
    # registered as a user's plug-in would be; monkeypatch takes them out again afterwards
    monkeypatch.setitem(METHODS, "toy", METHODS.get("toy"))
    monkeypatch.setitem(AXES, "toy_rows", AXES.get("toy_rows"))
    del METHODS["toy"], AXES["toy_rows"]
    register_method(Method("toy", ("row",), every_other))
    register_axis(Axis(name="toy_rows", allowed="fractions in (0, 1]", valid=lambda v: 0 < v <= 1,
                       harder_when="lower", label="share of the first training rows",
                       apply=first_rows))  # fmt: skip

    spec = validate_spec({
        "name": "toy", "storage": str(tmp_path), "models": [tiny_bert],
        "tasks": ["builtin/polarity-easy"], "difficulty": {"toy_rows": [0.25, 1.0]},
        "pruning": [{"method": "toy"}], "sparsities": [0.5], "seeds": [1],
        "transfer": ["dense", "sparse"],
        "train": {"max_steps": 4, "n_eval": 16, "max_length": 16, "batch_size": 16},
    })  # fmt: skip
    trials = spec.expand()
    assert {(t.method, t.scope, t.sparsity) for t in trials} == {
        ("none", "none", 0.0), ("toy", "row", 0.5)}  # fmt: skip
    assert {t.difficulty_axis for t in trials} == {"toy_rows"}
    for trial in trials:
        run_trial(trial.to_dict())

    rows = read_sweep(str(tmp_path / "toy" / "results")).table.to_pandas()  # as `analyze` reads
    assert len(rows) == len(trials) and set(rows["status"]) == {"ok"}
    pruned = rows[rows["method"] == "toy"]
    # the toy method's masks were applied and kept through fine-tuning: exactly its sparsity
    for _, row in pruned.iterrows():
        assert abs(row["actual_sparsity"] - row["sparsity"]) < 0.01
    n_train = rows.groupby("difficulty_level")["n_train"].first()
    assert n_train[0.25] == int(n_train[1.0] * 0.25)  # the toy axis cut the training rows

    signed = hardness(rows["difficulty_axis"], rows["difficulty_level"])
    assert signed.tolist() == (-rows["difficulty_level"]).tolist()  # fewer rows: harder
    levels = analyze(rows).levels  # the analysis orders the toy axis's levels easiest first
    assert levels["difficulty_level"].tolist() == [1.0, 0.25]
    assert verdicts(analyze(rows))

"""The sweep's mask store on object storage: a mask set is computed once, for every node."""

from __future__ import annotations

from collections import OrderedDict

import torch

from results import storage
from tests import s3_server
from tests.models import MODELS
from workers import cache
from workers.config import TrialConfig

bucket = s3_server.bucket


def trial(bucket: str, seed: int, transfer: str) -> TrialConfig:
    return TrialConfig(
        sweep="shared", results_dir=f"{bucket}/shared/results", model="tiny-bert",
        task={"name": "builtin/polarity-easy"}, difficulty_axis="data_fraction",
        difficulty_level=1.0, method="magnitude", scope="global", pruning_options={},
        sparsity=0.5, transfer=transfer, seed=seed,
    )  # fmt: skip


def test_two_trials_on_s3_compute_their_mask_set_once(bucket, monkeypatch):
    computed = []

    def compute_masks(*args, **kwargs):
        computed.append(args[1:])
        return real(*args, **kwargs)

    real = cache.compute_masks
    monkeypatch.setattr(cache, "compute_masks", compute_masks)
    found = []
    for config in (trial(bucket, 1, "sparse"), trial(bucket, 2, "dense_freeze")):
        monkeypatch.setattr(cache, "_masks", OrderedDict())  # each trial on a fresh node
        found.append(cache.masks(MODELS["bert"][0](), config))
    assert computed == [("magnitude", 0.5, "global")]
    assert found[0].keys() == found[1].keys()
    assert all(torch.equal(found[0][name], found[1][name]) for name in found[0])
    stored = storage.list_files(f"{bucket}/shared/masks")
    assert [info.path.rsplit("/", 1)[0] for info in stored] == ["junk/shared/masks"]
    assert stored[0].base_name.endswith(".safetensors")
    assert storage.list_files(f"{bucket}/shared/results") == []  # masks are not results

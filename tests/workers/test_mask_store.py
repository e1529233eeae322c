"""The sweep's mask store on object storage: a mask set is computed once, for every node."""

from __future__ import annotations

import itertools
from collections import Counter, OrderedDict
from dataclasses import replace
from types import SimpleNamespace

import torch

from orchestrator.driver import bundles
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


def test_the_body_is_fingerprinted_once_per_loaded_model_not_per_trial(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "_from_pretrained", lambda auto, name, **kw: MODELS["bert"][0]())
    monkeypatch.setattr(cache, "tokenizer", lambda name: SimpleNamespace(pad_token_id=0))
    calls = []
    real = cache.model_fingerprint
    monkeypatch.setattr(cache, "model_fingerprint", lambda body: calls.append(1) or real(body))
    cache._loaded.cache_clear()
    try:
        for seed in (1, 2, 3):
            model = cache.pretrained("tiny-bert", 2, seed)  # a fresh copy per trial
            cache.masks(model, replace(trial(str(tmp_path), seed, "sparse"), sparsity=seed / 10))
        assert len(calls) == 1
        other = MODELS["bert"][0]()  # a model that was not loaded here: fingerprinted on use
        cache.masks(other, trial(str(tmp_path), 1, "sparse"))
        assert len(calls) == 2
    finally:
        cache._loaded.cache_clear()


s3 = s3_server.s3


def grid(root: str) -> list[TrialConfig]:
    """6 sparsities × 2 levels × 2 seeds × 2 transfers: 6 mask sets of 8 trials, in grid order."""
    return [
        replace(trial(root, seed, transfer), difficulty_level=level, sparsity=sparsity)
        for level, seed, transfer in itertools.product((0.5, 1.0), (1, 2), ("sparse", "dense_freeze"))
        for sparsity in (0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
    ]  # fmt: skip


def run(bundled: list[list[dict]], monkeypatch) -> Counter:
    """Each bundle on a fresh worker process (empty in-memory cache), as Tune may place them."""
    monkeypatch.setattr(cache, "MASK_SOURCES", Counter())
    model = MODELS["bert"][0]()
    for bundle in bundled:
        monkeypatch.setattr(cache, "_masks", OrderedDict())
        for config in bundle:
            cache.masks(model, TrialConfig.from_dict(config))
    return cache.MASK_SOURCES


def test_trials_ordered_by_mask_set_compute_each_once_and_reuse_it_from_memory(s3, monkeypatch):
    trials = grid("s3://junk/ordered")
    s3.requests.clear()
    sources = run(bundles(trials, slots=2), monkeypatch)
    sharing = len(trials) // 6
    assert sources == {"computed": 6, "memory": len(trials) - 6}  # hit rate 1 - 1/8 per set
    assert sources["memory"] / len(trials) >= 1 - 1 / sharing
    assert s3.requests["PUT"] == 6 and s3.requests["LIST"] == 0  # one bit-packed file per set
    # the grid's own order cycles through 6 sparsities, more than the 4 sets a worker keeps:
    # on one worker it never hits memory, and every trial reads its set from storage
    sources = run([[t.to_dict() for t in grid("s3://junk/grid-order")]], monkeypatch)
    assert sources == {"computed": 6, "loaded": len(trials) - 6}

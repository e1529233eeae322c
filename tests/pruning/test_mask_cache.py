import pytest
import torch

from pruning import PruningError, compute_masks, mask_cache_key, model_fingerprint
from pruning.mask_cache import masks_from_bytes, masks_to_bytes
from tests.models import tiny_model


def test_round_trip_is_bit_exact_and_bit_packed():
    torch.manual_seed(0)
    masks = {"a.weight": torch.rand(33, 7) > 0.5, "b.weight": torch.rand(5) > 0.2}
    masks |= compute_masks(tiny_model("bert"), "magnitude", 0.7)
    data = masks_to_bytes(masks)
    loaded = masks_from_bytes(data)
    assert loaded.keys() == masks.keys()
    assert all(loaded[n].dtype == torch.bool and torch.equal(loaded[n], masks[n]) for n in masks)
    bits = sum(m.numel() for m in masks.values())
    assert len(data) < bits / 8 + 4096


def test_key_depends_on_every_field_and_not_on_option_order():
    base = ("fp", "magnitude", 0.5, "global", {"a": 1, "b": [2]}, None)
    key = mask_cache_key(*base)
    assert len(key) == 64 and key == mask_cache_key(*base[:4], {"b": [2], "a": 1}, None)
    variants = [
        ("fp2", *base[1:]),
        (base[0], "random", *base[2:]),
        (*base[:2], 0.6, *base[3:]),
        (*base[:3], "layer", *base[4:]),
        (*base[:4], {"a": 2, "b": [2]}, None),
        (*base[:5], "c4-128"),
    ]
    assert len({key} | {mask_cache_key(*v) for v in variants}) == 1 + len(variants)


def test_key_rejects_options_that_are_not_json():
    with pytest.raises(PruningError, match="options"):
        mask_cache_key("fp", "magnitude", 0.5, "global", {"x": object()}, None)


def test_fingerprint_is_stable_and_sees_other_weights_and_dtypes():
    model = tiny_model("bert")
    assert model_fingerprint(model) == model_fingerprint(tiny_model("bert"))
    other = tiny_model("bert")
    with torch.no_grad():
        other.get_parameter("bert.encoder.layer.1.output.dense.weight")[0, 0] += 1
    assert model_fingerprint(other) != model_fingerprint(model)
    assert model_fingerprint(model.to(torch.bfloat16)) != model_fingerprint(tiny_model("bert"))

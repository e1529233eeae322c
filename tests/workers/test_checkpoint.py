"""Per-epoch checkpoints: a trial killed after epoch 1 of 3 resumes at epoch 2 and ends bit for bit
as an uninterrupted run; only what trains is saved; the checkpoint never enters the trial key."""

from __future__ import annotations

import pytest
import torch

from orchestrator.spec import validate_spec
from results.store import has_row
from tests import s3_server
from tests.models import MODELS, batch_data
from tests.workers.test_train import spec
from workers import cache, checkpoint, transfer
from workers.config import TrainConfig
from workers.train import train
from workers.trial import run_trial

bucket = s3_server.bucket  # the S3 server fixture (moto on 127.0.0.1)
CFG = TrainConfig(epochs=3, lr=1e-3, batch_size=8, weight_decay=0.1, checkpoint="epoch")


class Killed(Exception):
    """Stands for the process dying right after a checkpoint was written."""


def saves(monkeypatch, kill_after: int | None = None) -> list[int]:
    """Record the epoch of every checkpoint saved; raise after saving epoch `kill_after`."""
    epochs, save = [], checkpoint.save

    def recorded(where, state):
        save(where, state)
        epochs.append(state["epoch"])
        if state["epoch"] == kill_after:
            raise Killed

    monkeypatch.setattr(checkpoint, "save", recorded)
    return epochs


def model_and_data(lora: bool = False):
    build, lm = MODELS["bert"]
    model = build()  # dropout is on: its RNG state must survive the kill too
    if lora:
        transfer.add_lora(model, CFG)
    return model, batch_data(lm, n=20)


@pytest.mark.parametrize("lora", [False, True], ids=["full", "lora"])
@pytest.mark.parametrize("keep_best", [False, True], ids=["last-epoch", "best-epoch"])
def test_a_run_killed_after_epoch_1_resumes_at_epoch_2_with_identical_weights(
    tmp_path, monkeypatch, lora, keep_best
):
    where = str(tmp_path / "checkpoints" / "k.pt")
    # a constant score keeps epoch 1's weights: the best-epoch copy must survive the kill too
    score = (lambda: 0.0) if keep_best else None
    model, data = model_and_data(lora)
    reference = train(model, data, CFG, seed=5, score=score)

    epochs = saves(monkeypatch, kill_after=1)
    killed, data = model_and_data(lora)
    with pytest.raises(Killed):
        train(killed, data, CFG, seed=5, score=score, checkpoint=where)
    saved = checkpoint.load(where)
    if lora:  # only what trains: the adapters and the head
        assert saved["model"] and all("lora_" in k or "classifier" in k for k in saved["model"])
    else:
        assert set(saved["model"]) == {n for n, _ in killed.named_parameters()}

    resumed, data = model_and_data(lora)  # a new attempt: the model loaded afresh
    stats = train(resumed, data, CFG, seed=5, score=score, checkpoint=where)
    assert epochs == [1, 2, 3]  # epoch 1 was not trained again
    assert stats == reference
    for (name, p), q in zip(model.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(p, q), name


def test_a_killed_trial_resumes_to_the_same_metric_and_deletes_its_checkpoint(
    tmp_path, tiny_bert, monkeypatch
):
    def trial(run: str, **train):
        cache._loaded.cache_clear()  # as on a fresh worker
        (t,) = validate_spec(spec(tmp_path / run, tiny_bert, epochs=3, **train)).expand()
        return t

    reference = run_trial(trial("a").to_dict())

    interrupted = trial("b", checkpoint="epoch")
    assert interrupted.trial_key == trial("a").trial_key  # checkpointing is not part of the key
    epochs = saves(monkeypatch, kill_after=1)
    with pytest.raises(Killed):
        run_trial(interrupted.to_dict())
    assert checkpoint.load(checkpoint.location(interrupted))["epoch"] == 1
    assert not has_row(interrupted.results_dir, interrupted.trial_key)

    resumed = run_trial(interrupted.to_dict())
    assert epochs == [1, 2, 3]
    assert resumed["metric"] == reference["metric"] and resumed["metrics"] == reference["metrics"]
    assert checkpoint.load(checkpoint.location(interrupted)) is None  # deleted after the row


def test_the_checkpoint_lives_beside_the_sweeps_results(tmp_path, tiny_bert):
    (t,) = validate_spec(spec(tmp_path, tiny_bert, checkpoint="epoch")).expand()
    assert checkpoint.location(t) == f"{tmp_path}/t/checkpoints/{t.trial_key}.pt"
    with pytest.raises(Exception, match="checkpoint"):
        validate_spec(spec(tmp_path, tiny_bert, checkpoint="step"))


def test_a_checkpoint_is_saved_loaded_replaced_and_deleted_on_s3(request):
    where = f"{request.getfixturevalue('bucket')}/sweep/checkpoints/k.pt"
    assert checkpoint.load(where) is None
    for epoch in (1, 2):  # only the latest epoch is kept
        checkpoint.save(where, {"epoch": epoch, "model": {"w": torch.full((3,), float(epoch))}})
    saved = checkpoint.load(where)
    assert saved["epoch"] == 2 and torch.equal(saved["model"]["w"], torch.full((3,), 2.0))
    checkpoint.delete(where)
    checkpoint.delete(where)  # deleting what is gone is no error
    assert checkpoint.load(where) is None


def killed_after_epoch_1(where: str, monkeypatch):
    """A run killed after its first checkpoint; (its uninterrupted reference, the saved state)."""
    model, data = model_and_data()
    reference = train(model, data, CFG, seed=5)
    with monkeypatch.context() as patch:
        saves(patch, kill_after=1)
        killed, data = model_and_data()
        with pytest.raises(Killed):
            train(killed, data, CFG, seed=5, checkpoint=where)
    return reference, checkpoint.load(where)


def rewrite(where: str, state: dict, location: str | None = None) -> None:
    """Save `state` again, its tensors tagged with `location` (e.g. cuda:3) as a GPU's would be."""
    import torch.serialization

    with pytest.MonkeyPatch.context() as patch:
        if location:
            patch.setattr(torch.serialization, "location_tag", lambda storage: location)
        checkpoint.save(where, state)


def test_a_checkpoint_from_a_node_with_4_gpus_resumes_on_one_with_none(tmp_path, monkeypatch):
    where = str(tmp_path / "k.pt")
    reference, state = killed_after_epoch_1(where, monkeypatch)
    assert state["rng"]["device"] == "cpu" and state["rng"]["cuda"] is None
    # as written before the device was recorded, on a node showing 4 GPUs: every GPU's RNG
    state["rng"] = {"cpu": state["rng"]["cpu"], "cuda": [torch.zeros(16, dtype=torch.uint8)] * 4}
    rewrite(where, state, location="cuda:3")
    with pytest.raises(RuntimeError, match="CUDA"):  # what torch.load alone does with it here
        torch.load(where, weights_only=True)
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", None)  # never called: not the trial's
    resumed, data = model_and_data()
    assert train(resumed, data, CFG, seed=5, checkpoint=where) == reference


def test_a_checkpoint_keeps_and_restores_only_the_trials_own_gpu_rng(monkeypatch):
    own, other = torch.full((16,), 7, dtype=torch.uint8), torch.zeros(16, dtype=torch.uint8)
    set_on = []
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda s, device: set_on.append((s, device)))
    cuda = torch.device("cuda")  # the trial's GPU, whatever the node's count (Ray: cuda:0)
    cpu = torch.get_rng_state()
    checkpoint.restore_rng({"cpu": cpu, "device": "cuda", "gpus": 4, "cuda": own}, cuda, "k.pt")
    checkpoint.restore_rng({"cpu": cpu, "cuda": [own, other, other]}, cuda, "old.pt")  # before
    assert [(torch.equal(s, own), d) for s, d in set_on] == [(True, cuda), (True, cuda)]


def test_a_checkpoint_saved_training_on_a_gpu_is_refused_on_the_cpu_in_one_line(
    tmp_path, monkeypatch
):
    where = str(tmp_path / "k.pt")
    _, state = killed_after_epoch_1(where, monkeypatch)
    state["rng"] = {
        **state["rng"],
        "device": "cuda",
        "gpus": 4,
        "cuda": torch.zeros(16, dtype=torch.uint8),
    }
    rewrite(where, state, location="cuda:0")
    resumed, data = model_and_data()
    with pytest.raises(checkpoint.CheckpointError) as refused:
        train(resumed, data, CFG, seed=5, checkpoint=where)
    assert str(refused.value) == (
        f"checkpoint {where} was saved training on cuda (4 GPUs visible) and this attempt trains "
        "on cpu: one trial's epochs would come from two kinds of device; give the trial the "
        "resources.gpu it had, or delete the checkpoint to train it from the start"
    )

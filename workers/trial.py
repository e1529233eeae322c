"""One trial, as the paper's method section reads: prune, fine-tune (or not), evaluate, record."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import torch

from difficulty import AXES
from difficulty.tasks import CLASSIFICATION, LM_EVAL
from pruning import measure_sparsity, prunable_parameters, quantize_rtn
from pruning.rtn import levels_per_group
from results.store import has_row, write_trial
from results.transfer_modes import TRANSFER_MODES
from workers import cache, checkpoint, transfer
from workers.config import TrialConfig
from workers.device import trial_device
from workers.evaluate import context_window, evaluate, evaluate_prompts
from workers.harness import evaluate_harness
from workers.record import failed_row, identity, record
from workers.train import train


def run_trial(config: dict[str, Any]) -> dict[str, Any]:
    """Prune, fine-tune (classification) or not (the LLM settings), evaluate and record one trial.

    A no-op if its row exists.
    """
    trial = TrialConfig.from_dict(config)
    if has_row(trial.results_dir, trial.trial_key, compacted=False):
        return {"trial_key": trial.trial_key, "skipped": True}
    row = identity(trial)
    if trial.noop:
        return record(trial, row, metric_name="noop", metric=0.0, actual_sparsity=trial.sparsity)
    torch.set_num_threads(max(1, int(trial.cpus)))
    device = trial_device(trial.gpus)  # fails with one line if a GPU trial sees no GPU
    kind = cache.task_def(trial).kind
    if kind == CLASSIFICATION:
        measured = fine_tune_and_evaluate(trial, device)
    elif kind == LM_EVAL:
        measured = evaluate_with_lm_eval(trial, device)
    else:
        measured = evaluate_pretrained(trial, device)
    result = record(
        trial,
        row,
        device=torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        **measured,
    )
    if trial.train.checkpoint != "none":  # the row is written: the checkpoint served its purpose
        checkpoint.delete(checkpoint.location(trial))
    return result


def prune(model: torch.nn.Module, trial: TrialConfig, device: torch.device):
    """The trial's masks (or, for a quantization trial, its weights rounded to their grid, no
    masks), applied as its transfer mode says; (compressed tensors' names, constraint, s)."""
    clock = time.perf_counter()
    model.to(device)  # calibration (wanda, sparsegpt) runs where the model does
    if trial.bits is not None:
        options = trial.pruning_options
        names = quantize_rtn(model, trial.bits, options.get("group_size"),
                             options.get("include"), options.get("exclude"))  # fmt: skip
        masks = {}
    else:
        masks = cache.masks(model, trial) if TRANSFER_MODES[trial.transfer].prunes else {}
        names = list(masks)
    after_step = transfer.prepare(model, masks, trial.transfer, trial.train)
    return names, after_step, time.perf_counter() - clock


def measure(model: torch.nn.Module, trial: TrialConfig, names: list[str]) -> dict[str, float]:
    """actual_sparsity (and actual_levels, quantization) over the compressed tensors as they are
    now; under lora: the frozen base, not merged with the adapters (a merged weight is dense)."""
    measured = transfer.base_names(model, names) or list(prunable_parameters(model))
    out = {"actual_sparsity": measure_sparsity(model, measured)}
    if trial.bits is not None:
        group_size = trial.pruning_options.get("group_size")
        out["actual_levels"] = levels_per_group(model, measured, group_size)
    return out


def fine_tune_and_evaluate(trial: TrialConfig, device: torch.device) -> dict[str, Any]:
    """Classification: prune a pretrained encoder, fine-tune it (unless `none`), evaluate it."""
    clock = time.perf_counter()
    data = cache.task_data(trial)  # tokenized once per worker process
    model = cache.pretrained(
        trial.model, data.num_labels, trial.seed, device, trial.train.dtype
    )  # loaded once per worker
    ready_s = time.perf_counter() - clock

    names, after_step, prune_s = prune(model, trial, device)

    def score() -> float:  # per-epoch evaluation (train.eval_each_epoch); its time is in train_s
        return evaluate(model, data.eval, data.metric, trial.train.eval_batch_size)[1]

    clock = time.perf_counter()
    if TRANSFER_MODES[trial.transfer].trains:  # `none`: the pruned body, untrained head, as is
        per_epoch = score if trial.train.eval_each_epoch else None
        saved = checkpoint.location(trial) if trial.train.checkpoint == "epoch" else None
        train(model, data.train, trial.train, trial.seed, after_step, per_epoch, saved)
    train_s = time.perf_counter() - clock

    clock = time.perf_counter()
    metric_name, metric, metrics = evaluate(
        model, data.eval, data.metric, trial.train.eval_batch_size
    )
    eval_s = time.perf_counter() - clock

    return dict(
        metric_name=metric_name,
        metric=metric,
        metrics=_json(metrics),
        **measure(model, trial, names),
        n_train=len(data.train["labels"]),
        n_eval=len(data.eval["labels"]),
        prune_s=prune_s,
        train_s=train_s,
        eval_s=eval_s,
        ready_s=ready_s,
    )


def evaluate_pretrained(trial: TrialConfig, device: torch.device) -> dict[str, Any]:
    """QA, multiple choice, translation: prune a pretrained LM and evaluate it, no fine-tuning."""
    clock = time.perf_counter()
    prompts = cache.prompts(trial)  # the evaluation set at the trial's level, as prompts
    # loaded once per worker on its device; its prunable tensors restored to pretrained values
    model = cache.language_model(trial.model, cache.task_def(trial).kind, device, trial.train.dtype)
    ready_s = time.perf_counter() - clock

    # the masks are gone once applied: evaluation gets the accelerator's memory (the cache
    # keeps a CPU copy)
    names, _, prune_s = prune(model, trial, device)

    clock = time.perf_counter()
    tokenizer = cache.tokenizer(trial.model)
    metric_name, metric, metrics = evaluate_prompts(model, tokenizer, prompts, trial.train)
    eval_s = time.perf_counter() - clock
    return dict(
        metric_name=metric_name,
        metric=metric,
        metrics=_json(metrics),
        **measure(model, trial, names),
        n_eval=len(prompts.contexts),
        prune_s=prune_s,
        eval_s=eval_s,
        ready_s=ready_s,
    )


def evaluate_with_lm_eval(trial: TrialConfig, device: torch.device) -> dict[str, Any]:
    """An lm-eval task: prune a pretrained LM and evaluate it through lm-evaluation-harness, in
    memory; the `shots` axis is lm-eval's num_fewshot, `n_eval` a fixed sample of its documents."""
    clock = time.perf_counter()
    model = cache.language_model(trial.model, LM_EVAL, device, trial.train.dtype)
    ready_s = time.perf_counter() - clock

    names, _, prune_s = prune(model, trial, device)

    clock = time.perf_counter()
    cfg = trial.train
    result = evaluate_harness(
        model,
        cache.tokenizer(trial.model),
        trial.task,
        shots=AXES[trial.difficulty_axis].prompt(trial.difficulty_level).shots,
        n_eval=cfg.n_eval,
        seed=trial.seed,
        batch_size=cfg.eval_batch_size,
        max_length=cfg.prompt_length or context_window(model),
    )
    eval_s = time.perf_counter() - clock
    return dict(
        metric_name=result.metric_name,
        metric=result.metric,
        metrics=_json(result.metrics),
        **measure(model, trial, names),
        n_eval=result.n_eval,
        prune_s=prune_s,
        eval_s=eval_s,
        ready_s=ready_s,
    )


def _json(metrics: dict[str, float]) -> str:
    return json.dumps({k: v if math.isfinite(v) else None for k, v in metrics.items()})


def run_with_retries(config: dict[str, Any], retries: int) -> dict[str, Any]:
    """Run a trial, again up to `retries` times if it raises; then record it as failed.

    A trial's failure never stops the trials after it. Failures that kill the process (a lost
    node, an out-of-memory kill) are retried by Tune instead; trials with rows are skipped then.
    """
    for attempt in range(retries + 1):
        try:
            return run_trial(config)
        except Exception as e:  # noqa: BLE001  (any error of a trial is recorded, not raised)
            error = (
                f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
            )
            if attempt == retries:
                row = failed_row(config, f"{error} (after {retries + 1} attempts)")
                write_trial(config["results_dir"], row)
                return {**row, "ready_s": 0.0, "skipped": False}
    raise AssertionError("unreachable")

"""Per-process caches: pretrained weights, tokenized task data and masks are built once per worker.

Ray reuses a worker process for many trials (`reuse_actors`), so the second trial of a model on
a worker gets a copy of weights already in memory instead of reading them from disk again.
"""

from __future__ import annotations

import copy
import json
from collections import Counter, OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import torch
from datasets import Dataset
from transformers import (
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
)

from difficulty import AXES, TaskDef, apply_axis, get_task
from difficulty.prompts import Prompts, build_prompts
from pruning import compute_masks, mask_cache_key, model_fingerprint
from pruning.mask_cache import masks_from_bytes, masks_to_bytes
from pruning.methods import METHODS
from results import storage
from workers.calibration import calibration_batches, calibration_ids, source_id
from workers.config import TrialConfig
from workers.device import model_dtype
from workers.packaged import PackageMissing, resolve_model
from workers.restore import CleanCopy

CPU = torch.device("cpu")
BODY_FINGERPRINT = "junkdna_body_fingerprint"  # attribute of a loaded model and its copies


class ModelLoadError(RuntimeError):
    """A model or tokenizer that cannot be loaded; the message names it."""


def _from_pretrained(auto, model: str, **kwargs):
    try:
        return auto.from_pretrained(resolve_model(model), **kwargs)
    except PackageMissing as e:
        raise ModelLoadError(str(e)) from e
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"cannot load {model!r}: {str(e).splitlines()[0]}") from e


@lru_cache(maxsize=4)
def tokenizer(model: str):
    tok = _from_pretrained(AutoTokenizer, model)
    if tok.pad_token is None:  # decoder-only models (GPT-2, LLaMA) ship without one
        tok.pad_token = tok.eos_token
    return tok


@lru_cache(maxsize=2)
def _loaded(model: str, num_labels: int, dtype: torch.dtype) -> PreTrainedModel:
    loaded = _from_pretrained(
        AutoModelForSequenceClassification, model, num_labels=num_labels, dtype=dtype
    )
    loaded.config.pad_token_id = tokenizer(model).pad_token_id
    return _fingerprinted(loaded.eval())


def _fingerprinted(model: PreTrainedModel) -> PreTrainedModel:
    """The loaded model, its body's fingerprint (the mask cache's key) computed once and kept on
    it: every trial's copy carries it, instead of hashing the weights again per trial."""
    setattr(model, BODY_FINGERPRINT, model_fingerprint(model.base_model))
    return model


def pretrained(
    model: str, num_labels: int, seed: int, device: torch.device = CPU, dtype: str = "auto"
) -> PreTrainedModel:
    """A fresh copy of the pretrained model, its task head initialised from `seed`.

    The whole model is copied: fine-tuning changes every weight (roberta-large: 1.4 GB, small
    beside a 7B model's 14 GB, which `language_model` never copies). The head is re-initialised
    here rather than at load time so that a trial's numbers do not depend on which trial
    happened to load the model first on this worker.
    """
    fresh = copy.deepcopy(_loaded(model, num_labels, model_dtype(dtype, device, False)))
    torch.manual_seed(seed)
    for name, child in fresh.named_children():
        if name != fresh.base_model_prefix:
            child.apply(fresh._init_weights)
    return fresh


@lru_cache(maxsize=1)  # a 7B model is 14 GB in bf16: one per worker, on its device
def _language_model(
    model: str, seq2seq: bool, device: torch.device, dtype: torch.dtype
) -> tuple[PreTrainedModel, CleanCopy]:
    auto = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
    loaded = _fingerprinted(_from_pretrained(auto, model, dtype=dtype).eval().to(device))
    # every parameter: `targets: all` prunes embeddings and the head, `include` may pick norms
    return loaded, CleanCopy(loaded, [name for name, _ in loaded.named_parameters()])


def language_model(
    model: str, kind: str, device: torch.device = CPU, dtype: str = "auto"
) -> PreTrainedModel:
    """The worker's pretrained causal LM (encoder-decoder for translation), loaded once on
    `device`, its weights put back to their pretrained values: no copy of the model per trial."""
    # keyed by the model class, not the kind: QA and lm-eval trials share one causal LM
    seq2seq = kind == "translation"
    loaded, clean = _language_model(model, seq2seq, device, model_dtype(dtype, device, True))
    clean.restore(loaded)
    return loaded


@lru_cache(maxsize=8)
def _task_def(task_json: str) -> TaskDef:
    return get_task(json.loads(task_json))


def task_def(trial: TrialConfig) -> TaskDef:
    """The trial's task, resolved once per worker."""
    return _task_def(json.dumps(trial.task, sort_keys=True))


@lru_cache(maxsize=4)
def _task_splits(task_json: str) -> tuple:
    return _task_def(task_json).load()


def prompts(trial: TrialConfig) -> Prompts:
    """The trial's evaluation prompts: its first n_eval questions at its level, seeded draws."""
    task_json = json.dumps(trial.task, sort_keys=True)
    train, evaluation = _task_splits(task_json)
    if trial.train.n_eval is not None:
        evaluation = evaluation.select(range(min(trial.train.n_eval, len(evaluation))))
    settings = AXES[trial.difficulty_axis].prompt(trial.difficulty_level)
    task = _task_def(task_json)
    return build_prompts(task, train, evaluation, settings, trial.seed, trial.train.prompt)


@dataclass(frozen=True)
class TaskData:
    """Tokenized tensors of one trial's training and evaluation sets."""

    train: dict[str, torch.Tensor]
    eval: dict[str, torch.Tensor]
    metric: str
    num_labels: int


@lru_cache(maxsize=8)
def _tokenized(model: str, task_json: str, max_length: int) -> tuple[TaskDef, dict, dict, Dataset]:
    task = _task_def(task_json)
    train, evaluation = _task_splits(task_json)
    tok = tokenizer(model)

    def encode(data: Dataset) -> dict[str, torch.Tensor]:
        columns = [list(data[c]) for c in task.text]
        enc = tok(*columns, truncation=True, max_length=max_length, padding="max_length",
                  return_tensors="pt")  # fmt: skip
        labels = torch.tensor(
            list(data[task.label]), dtype=torch.float if task.num_labels == 1 else None
        )
        return {**enc, "labels": labels}

    labels = Dataset.from_dict({task.label: list(train[task.label]), "_idx": range(len(train))})
    return task, encode(train), encode(evaluation), labels


def task_data(trial: TrialConfig) -> TaskData:
    """The trial's data: tokenized once per worker, then cut to its difficulty level and caps."""
    task_json = json.dumps(trial.task, sort_keys=True)
    # the max_length axis truncates inputs (train and eval) to its level; others keep the spec's
    max_length = AXES[trial.difficulty_axis].max_length(
        trial.difficulty_level, trial.train.max_length
    )
    task, train, evaluation, labels = _tokenized(trial.model, task_json, max_length)
    level = apply_axis(
        trial.difficulty_axis, labels, trial.difficulty_level, trial.seed, task.label
    )
    index = torch.tensor(list(level["_idx"])[: trial.train.n_train], dtype=torch.long)
    train = {k: v[index] for k, v in train.items()}
    train["labels"] = torch.tensor(
        level[task.label][: trial.train.n_train], dtype=train["labels"].dtype
    )
    evaluation = {k: v[: trial.train.n_eval] for k, v in evaluation.items()}
    return TaskData(train, evaluation, task.metric, task.num_labels)


_masks: OrderedDict[str, dict[str, torch.Tensor]] = OrderedDict()
MASKS_IN_MEMORY = 4  # mask sets kept per process (a roberta-large set is ~300 MB of bools)
# where this process's mask sets came from: "memory" (this LRU), "loaded" (the sweep's mask
# store), "computed"; the driver orders trials by mask set so that "memory" dominates (tests
# read it to show that)
MASK_SOURCES: Counter[str] = Counter()


def _compute_masks(model: PreTrainedModel, trial: TrialConfig, options: dict, source) -> dict:
    """Masks computed now, from the calibration text's activations where the method needs them."""
    if source:  # wanda, sparsegpt: activations of the calibration text
        ids = calibration_ids(tokenizer(trial.model), source)
        options = {**options, "calibration": calibration_batches(model, ids)}
    return compute_masks(model, trial.method, trial.sparsity, trial.scope, **options)


def masks(model: PreTrainedModel, trial: TrialConfig) -> dict[str, torch.Tensor]:
    """The trial's masks: from this process, else the sweep's mask store, else computed (once).

    A method that is not `cacheable` (sparsegpt) also rewrites the kept weights, which its masks
    alone do not reproduce: its last set is kept in this process with the weights it wrote
    (trials are ordered by mask set, so the levels and seeds that share a set follow each other
    on a worker) and written back on the next trial of that set; any other set is computed.
    """
    options = dict(trial.pruning_options)
    source = options.pop("calibration", None)  # wanda, sparsegpt: {dataset|file, n, length}
    method = METHODS[trial.method]
    if method.seeded:  # the random control draws a new mask per seed
        options["seed"] = trial.seed
    # the pretrained body decides the masks; the task head (re-initialised per seed) does not
    body = getattr(model, BODY_FINGERPRINT, None) or model_fingerprint(model.base_model)
    calibration_id = source_id(source) if source else None
    identity = {**options, "revision": method.revision} if method.revision > 1 else options
    weights = next(model.parameters(), None)
    if method.seeded and weights is not None and weights.device.type != "cpu":
        identity = {**identity, "generator": weights.device.type}  # CUDA draws other masks
    key = mask_cache_key(body, trial.method, trial.sparsity, trial.scope, identity, calibration_id)
    if not method.cacheable:
        return _rewriting_masks(model, trial, options, source, key)
    if key in _masks:
        MASK_SOURCES["memory"] += 1
        _masks.move_to_end(key)
        return _masks[key]
    stored = f"{trial.mask_dir}/{key}.safetensors"  # on the sweep's storage, local or s3://
    if (data := storage.read_if_exists(stored)) is not None:
        MASK_SOURCES["loaded"] += 1
        found = masks_from_bytes(data)
    else:
        MASK_SOURCES["computed"] += 1
        found = _compute_masks(model, trial, options, source)
        storage.write_bytes(stored, masks_to_bytes(found))  # bit-packed
    _masks[key] = {name: mask.cpu() for name, mask in found.items()}  # GPU memory is the model's
    while len(_masks) > MASKS_IN_MEMORY:
        _masks.popitem(last=False)
    return found


# the last set of a method that rewrites the weights it keeps: key -> (masks, rewritten weights),
# on the host (a 7B model's pruned matrices: ~13 GB in bf16, instead of minutes of SparseGPT)
_rewritten: dict[str, tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]] = {}


def _rewriting_masks(model: PreTrainedModel, trial: TrialConfig, options: dict, source,
                     key: str) -> dict[str, torch.Tensor]:  # fmt: skip
    """SparseGPT's masks and its rewritten weights: the last set from memory, else computed."""
    if key in _rewritten:
        MASK_SOURCES["memory"] += 1
        found, written = _rewritten[key]
        with torch.no_grad():
            for name, value in written.items():
                model.get_parameter(name).copy_(value)
        device = next(model.parameters()).device
        return {name: mask.to(device) for name, mask in found.items()}
    MASK_SOURCES["computed"] += 1
    _rewritten.clear()  # before computing: one set's weights in host memory at a time
    found = _compute_masks(model, trial, options, source)
    written = {name: model.get_parameter(name).detach().to("cpu", copy=True) for name in found}
    _rewritten[key] = ({name: mask.cpu() for name, mask in found.items()}, written)
    return found

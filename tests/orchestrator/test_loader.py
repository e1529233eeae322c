"""Spec files PyYAML alone chokes on: each is one line naming the file and the problem, exit 2,
nothing written; an alias bomb is refused in well under a second."""

from __future__ import annotations

import time

import pytest

from orchestrator.cli import main
from orchestrator.spec.loader import MAX_DEPTH, MAX_VALUES, parse

BASE = b"name: t\nstorage: {storage}\nmodels: [minilm]\ntasks: [builtin/polarity-easy]\n"
LAUGHS = b"".join(  # nine levels of ten aliases each: 10**9 strings once expanded
    b"l%d: &l%d [%s]\n" % (i, i, b", ".join([b"*l%d" % (i - 1) if i else b"lol"] * 10))
    for i in range(10)
)
BAD = {
    "latin-1": (BASE + "seeds: [1]  # caf\xe9\n".encode("latin-1"),
                "is not UTF-8 text (byte 0xe9 at line 5); save the spec as UTF-8"),
    "binary": (bytes(range(256)) * 4, "is a binary file (it holds NUL bytes), not a YAML spec"),
    "utf-16": (BASE.decode().encode("utf-16"), "is UTF-16 text; save the spec as UTF-8"),
    "deep flow": (BASE + b"seeds: " + b"[" * 5000 + b"]" * 5000 + b"\n",
                  f"nested more than {MAX_DEPTH} levels deep (line 5)"),
    "deep block": (BASE + b"train:\n" + b"".join(b"  " * (i + 1) + b"k%d:\n" % i for i in range(3000)),
                   f"nested more than {MAX_DEPTH} levels deep (line "),
    "alias bomb": (BASE + LAUGHS,
                   f"holds more than {MAX_VALUES:,} values once its aliases are expanded (line "),
    "alias cycle": (BASE + b"seeds: &s [1, *s]\n", "an alias refers to its own anchor (line 5)"),
    "duplicate key": (BASE + b"seeds: [1]\nseeds: [2]\n", "duplicate key 'seeds' at line 6 (first at line 5)"),
    "duplicate in flow": (BASE + b"train: {lr: 1e-3, lr: 2e-3}\n", "duplicate key 'lr' at line 5 (first at line 5)"),
    "python tag": (BASE + b"seeds: !!python/object/apply:os.system [ls]\n",
                   "YAML syntax error at line 5, column 8: could not determine a constructor"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_unreadable_yaml_is_one_line_exit_2_and_writes_nothing(case, tmp_path, capsys):
    data, expected = BAD[case]
    storage = tmp_path / "store"
    path = tmp_path / "sweep.yaml"
    path.write_bytes(data.replace(b"{storage}", str(storage).encode()))
    for verb in ("validate", "submit"):
        start = time.perf_counter()
        assert main([verb, str(path)]) == 2
        assert time.perf_counter() - start < 1.0
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "Traceback" not in err, err
        assert err.startswith(f"junkdna: {path}: ") and expected in err, err
    assert not storage.exists()


def test_aliases_merges_and_a_bom_within_bounds_still_load():
    data = b"\xef\xbb\xbfbase: &b {lr: 0.001, epochs: 2}\ntrain: {<<: *b, epochs: 3}\nseeds: &s [1, 2]\nalso: *s\n"
    assert parse(data, "x.yaml") == {
        "base": {"lr": 0.001, "epochs": 2},
        "train": {"lr": 0.001, "epochs": 3},  # a merged key is overridden, not a duplicate
        "seeds": [1, 2],
        "also": [1, 2],
    }
    nested = b"a: " + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1)
    assert parse(nested, "x.yaml") is not None


def test_an_alias_bomb_is_refused_in_linear_time():
    deeper = b"".join(  # 30 levels of 10: 10**30 values, the same few hundred nodes
        b"l%d: &l%d [%s]\n" % (i, i, b", ".join([b"*l%d" % (i - 1) if i else b"x"] * 10))
        for i in range(30)
    )
    start = time.perf_counter()
    with pytest.raises(ValueError, match="once its aliases are expanded"):
        parse(deeper, "bomb.yaml")
    assert time.perf_counter() - start < 0.2

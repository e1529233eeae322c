"""The storage layer, locally and on a real S3 server (moto): the same calls, the same answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from results import storage
from tests import s3_server

bucket = s3_server.bucket


def test_a_location_is_remote_exactly_when_it_is_a_uri(tmp_path):
    assert storage.is_uri("s3://bucket/prefix") and storage.is_uri("gs://b")
    assert not storage.is_uri("./sweeps") and not storage.is_uri(str(tmp_path))
    assert not storage.is_uri(tmp_path / "x")


@pytest.fixture(params=["local", "s3"])
def root(request, tmp_path) -> str:
    """A directory on each kind of storage."""
    if request.param == "local":
        return str(tmp_path)
    return f"{request.getfixturevalue('bucket')}/{request.node.originalname}"


def test_write_read_exists_list_delete(root):
    storage.write_bytes(f"{root}/d/b.txt", b"bee")  # directories are made as needed
    storage.write_bytes(f"{root}/d/a.txt", b"first")
    storage.write_bytes(f"{root}/d/a.txt", b"ay")  # replaced whole
    storage.write_bytes(f"{root}/d/c.bin", b"")
    assert storage.read_bytes(f"{root}/d/a.txt") == b"ay"
    assert storage.exists(f"{root}/d/a.txt") and not storage.exists(f"{root}/d/z.txt")
    assert [i.base_name for i in storage.list_files(f"{root}/d", ".txt")] == ["a.txt", "b.txt"]
    assert [i.base_name for i in storage.list_files(f"{root}/d")] == ["a.txt", "b.txt", "c.bin"]
    assert storage.list_files(f"{root}/nowhere") == []
    storage.delete(f"{root}/d/a.txt")
    storage.delete(f"{root}/d/a.txt")  # already gone: nothing to do
    assert not storage.exists(f"{root}/d/a.txt")
    with pytest.raises(FileNotFoundError):
        storage.read_bytes(f"{root}/d/a.txt")


def test_a_write_that_fails_leaves_the_old_file_and_nothing_beside_it(root):
    storage.write_bytes(f"{root}/x.txt", b"old")

    def dies(sink):
        sink.write(b"half of the n")
        raise OSError("disk full")

    for name in ("x.txt", "y.txt"):
        with pytest.raises(OSError, match="disk full"):
            storage.write_atomic(f"{root}/{name}", dies)
    assert storage.read_bytes(f"{root}/x.txt") == b"old" and not storage.exists(f"{root}/y.txt")
    fs, path = storage.filesystem(root)
    listing = fs.get_file_info(pafs.FileSelector(path))
    assert [info.base_name for info in listing] == ["x.txt"]  # hidden temporaries included


def test_storage_and_schema_import_no_model_stack():
    code = (
        "import sys, results.storage, results.schema; "
        "print([m for m in ('torch', 'datasets', 'transformers') if m in sys.modules])"
    )
    root = Path(__file__).resolve().parents[2]
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert ran.stdout.strip() == "[]", ran.stderr

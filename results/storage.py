"""Where a sweep's files live: a local directory or object storage, decided in this file only.

A location is a local path or a URI that pyarrow.fs understands (`s3://bucket/prefix`; an
S3-compatible server is reached through AWS_ENDPOINT_URL). Writes are atomic: locally a hidden
temporary file `.<name>.<uuid>.tmp` in the same directory is renamed over the final name; on
object storage the content is buffered and sent as one PUT, which is atomic by itself. A writer
killed mid-write can leave such a temporary file behind; `remove_stale_temporaries` deletes them.

Object storage is paid per request, and a 20,000-trial sweep multiplies each one: a file is
written with one PUT (no directory markers, no multipart upload), read with HEAD + GET, found
missing with one HEAD, and many files are deleted with one request per 1,000 (`delete_many`).
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs

_TEMPORARY = re.compile(r"\..+\.[0-9a-f]{32}\.tmp")


def is_uri(location: str) -> bool:
    """Whether `location` names object storage (`s3://bucket/prefix`) rather than a local path."""
    return "://" in str(location)


def filesystem(location: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem holding `location` and its path there (local paths made absolute)."""
    if is_uri(location):
        scheme, rest = str(location).split("://", 1)
        bucket = rest.split("/", 1)[0]
        fs = _remote(f"{scheme}://{bucket}", os.environ.get("AWS_ENDPOINT_URL"))
        return fs, rest.rstrip("/")
    return pafs.LocalFileSystem(), str(Path(location).resolve())


@lru_cache(maxsize=16)
def _remote(root: str, endpoint: str | None) -> pafs.FileSystem:
    """One client per bucket (and endpoint); S3 output streams open lazily, so that a small
    file is one PutObject instead of a multipart upload (create, part, complete)."""
    options = "?allow_delayed_open=true" if root.startswith("s3://") else ""
    return pafs.FileSystem.from_uri(root + options)[0]


def write_atomic(location: str, write: Callable[[pa.NativeFile], None]) -> str:
    """Call `write(sink)` so that readers of `location` see the whole file or none; its path.

    If `write` raises, nothing is left at `location` or beside it.
    """
    fs, final = filesystem(location)
    directory, name = final.rsplit("/", 1)
    if not isinstance(fs, pafs.LocalFileSystem):  # no directories to create on object storage
        buffer = pa.BufferOutputStream()
        write(buffer)
        with fs.open_output_stream(final) as sink:
            sink.write(buffer.getvalue())
        return final
    fs.create_dir(directory, recursive=True)
    temporary = f"{directory}/.{name}.{uuid.uuid4().hex}.tmp"
    try:
        with fs.open_output_stream(temporary) as sink:
            write(sink)
        os.replace(temporary, final)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return final


def write_bytes(location: str, data: bytes) -> None:
    """Write `data` to `location` atomically."""
    write_atomic(location, lambda sink: sink.write(data))


def read_bytes(location: str) -> bytes:
    """The content of the file at `location`; FileNotFoundError if there is none."""
    fs, path = filesystem(location)
    with fs.open_input_stream(path) as f:
        return f.read()


def read_if_exists(location: str) -> bytes | None:
    """The content of the file at `location`, or None if there is none (one request then)."""
    try:
        return read_bytes(location)
    except FileNotFoundError:
        return None


def exists(location: str) -> bool:
    """Whether a file is at `location`."""
    fs, path = filesystem(location)
    return fs.get_file_info(path).type == pafs.FileType.File


def delete(location: str) -> None:
    """Remove the file at `location`, if there is one."""
    fs, path = filesystem(location)
    try:
        fs.delete_file(path)
    except FileNotFoundError:
        pass


def delete_many(paths: Iterable[str], fs: pafs.FileSystem) -> int:
    """Remove the files at `paths` on `fs` (paths as `list_files` gives them); how many were.

    On S3 with boto3 installed (Ray's cluster images have it): one DeleteObjects request per
    1,000 keys, since pyarrow deletes one object per request (its `delete_dir_contents` batches,
    but only a whole prefix, and a results folder holds files to keep). Elsewhere: one by one.
    """
    paths = list(paths)
    if isinstance(fs, pafs.S3FileSystem) and _boto3() is not None:
        client = _boto3().client("s3")  # AWS_ENDPOINT_URL and credentials from the environment
        removed = 0
        for start in range(0, len(paths), 1000):
            batch = paths[start : start + 1000]
            bucket = batch[0].split("/", 1)[0]
            keys = [{"Key": path.split("/", 1)[1]} for path in batch]
            reply = client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            removed += len(batch) - len(reply.get("Errors", []))
        return removed
    removed = 0
    for path in paths:
        try:
            fs.delete_file(path)
            removed += 1
        except FileNotFoundError:
            continue  # another compaction removed it a moment ago
    return removed


def read_file(path: str, fs: pafs.FileSystem) -> bytes:
    """The whole file at `path` on `fs` (a path as `list_files` gives it), in one request.

    On S3 with boto3 installed: one GetObject, since pyarrow asks for the size first (a HEAD
    per file). Elsewhere: the filesystem's stream. A missing file is FileNotFoundError.
    """
    if isinstance(fs, pafs.S3FileSystem) and _boto3() is not None:
        bucket, key = path.split("/", 1)
        client = _boto3().client("s3")  # AWS_ENDPOINT_URL and credentials from the environment
        try:
            return client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except client.exceptions.NoSuchKey as e:
            raise FileNotFoundError(path) from e
    with fs.open_input_stream(path) as f:
        return f.read()


def _boto3():
    try:
        import boto3
    except ImportError:
        return None
    return boto3


def _files(fs: pafs.FileSystem, directory: str) -> list[pafs.FileInfo]:
    infos = fs.get_file_info(pafs.FileSelector(directory, allow_not_found=True))
    return [info for info in infos if info.type == pafs.FileType.File]


def list_files(directory: str, suffix: str = "") -> list[pafs.FileInfo]:
    """The visible files directly in `directory` whose name ends with `suffix`, sorted by path.

    Paths are on `filesystem(directory)`; hidden files (temporaries among them) are left out,
    and a directory that does not exist is empty.
    """
    fs, root = filesystem(directory)
    return sorted(
        (
            info
            for info in _files(fs, root)
            if info.base_name.endswith(suffix) and not info.base_name.startswith(".")
        ),
        key=lambda info: info.path,
    )


def remove_stale_temporaries(directory: str, older_than_s: float = 3600) -> list[str]:
    """Delete the temporary files of writes in `directory` that died over `older_than_s` ago.

    A younger one may belong to a write still in progress, so it stays. Returns the paths removed.
    """
    fs, root = filesystem(directory)
    cutoff = time.time() - older_than_s
    removed = []
    for info in _files(fs, root):
        if _TEMPORARY.fullmatch(info.base_name) and info.mtime.timestamp() < cutoff:
            try:
                fs.delete_file(info.path)
            except FileNotFoundError:
                continue  # another compaction removed it a moment ago
            removed.append(info.path)
    return sorted(removed)

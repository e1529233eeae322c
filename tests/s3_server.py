"""An S3 server (moto) on localhost for the tests of object storage: `bucket` is its fixture.

`S3Server` counts the requests it serves by kind (GET, HEAD, PUT, POST, DELETE, and LIST for a
GET of a bucket's listing), so tests and benchmarks can assert how many requests a path costs.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from threading import Thread
from urllib.parse import parse_qs

import pyarrow.fs as pafs
import pytest
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

AWS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def request_kind(environ: dict) -> str:
    """GET, HEAD, PUT, POST, DELETE; LIST for a GET of a bucket (no key: a listing)."""
    method = environ["REQUEST_METHOD"]
    path = environ.get("PATH_INFO", "/").strip("/")
    if (
        method == "GET"
        and "/" not in path
        and "uploads" not in parse_qs(environ.get("QUERY_STRING", ""))
    ):
        return "LIST"
    return method


class S3Server:
    """moto's S3 on 127.0.0.1 in a thread, counting requests by kind in `requests`."""

    def __init__(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.requests: Counter[str] = Counter()
        app = DomainDispatcherApplication(create_backend_app)

        def counting(environ, start_response):
            self.requests[request_kind(environ)] += 1
            return app(environ, start_response)

        self._server = make_server("127.0.0.1", 0, counting, threaded=True)
        self._thread = Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.endpoint = f"http://{host}:{port}"

    def env(self) -> dict[str, str]:
        """The environment that points pyarrow (and boto3) at this server."""
        return {**AWS, "AWS_ENDPOINT_URL": self.endpoint}

    def create_bucket(self, name: str) -> str:
        pafs.S3FileSystem(endpoint_override=self.endpoint.removeprefix("http://"), scheme="http",
                          access_key="test", secret_key="test", region="us-east-1",
                          allow_bucket_creation=True).create_dir(name)  # fmt: skip
        return f"s3://{name}"

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()


@contextmanager
def running() -> Iterator[S3Server]:
    """An S3Server with AWS_ENDPOINT_URL pointing at it while the context lasts."""
    server = S3Server()
    with pytest.MonkeyPatch.context() as env:
        for name, value in server.env().items():
            env.setenv(name, value)
        yield server
    server.stop()


@pytest.fixture(scope="module")
def s3():
    """A counting S3 server for the module (`s3.requests`), with a bucket `s3://junk`."""
    with running() as server:
        server.create_bucket("junk")
        yield server


@pytest.fixture(scope="module")
def bucket():
    """A fresh bucket on an S3 server bound to 127.0.0.1, for the module."""
    with running() as server:
        yield server.create_bucket("junk")

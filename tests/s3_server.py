"""An S3 server (moto) on localhost for the tests of object storage: `bucket` is its fixture."""

from __future__ import annotations

import logging

import pyarrow.fs as pafs
import pytest
from moto.server import ThreadedMotoServer

AWS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def bucket():
    """A fresh bucket on an S3 server bound to 127.0.0.1; AWS_ENDPOINT_URL points pyarrow at it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as env:
        for name, value in {**AWS, "AWS_ENDPOINT_URL": f"http://{host}:{port}"}.items():
            env.setenv(name, value)
        pafs.S3FileSystem(endpoint_override=f"{host}:{port}", scheme="http", access_key="test",
                          secret_key="test", region="us-east-1",
                          allow_bucket_creation=True).create_dir("junk")  # fmt: skip
        yield "s3://junk"
    server.stop()

"""S3-compatible storage for tests: moto's S3 server, a TEST DOUBLE of S3, named as such.

No S3-compatible server installs on these machines from the registries they reach (MinIO ships
outside PyPI and Debian), so the server is moto's, run as a process of its own and reached over
loopback by the real django-storages and boto3 (decision 0012).
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import boto3
import pytest

from config.storage import s3_storage
from tests.destinations import declare_destination

TEST_DOUBLE_CREDENTIALS = {"access_key": "test-double", "secret_key": "test-double"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_double_endpoint() -> Iterator[str]:
    """moto's S3 server (the test double) in a process of its own, for the whole session."""
    with running_s3_double() as endpoint:
        yield endpoint


@contextmanager
def running_s3_double(environment: dict[str, str] | None = None) -> Iterator[str]:
    """moto's S3 server on a free port, with `environment` added to its own (e.g. moto's request
    recorder); yields its endpoint URL and stops it afterwards."""
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 (our own interpreter and fixed arguments)
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(environment or {})},
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("moto's S3 server did not start") from None
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def bucket(settings, s3_double_endpoint: str):  # type: ignore[no-untyped-def]
    """A new, empty bucket as the default storage; returns a boto3 Bucket to look into it."""
    name = f"bm-test-{uuid.uuid4().hex[:16]}"
    resource = boto3.resource(
        "s3",
        endpoint_url=s3_double_endpoint,
        region_name="us-east-1",
        aws_access_key_id=TEST_DOUBLE_CREDENTIALS["access_key"],
        aws_secret_access_key=TEST_DOUBLE_CREDENTIALS["secret_key"],
    )
    created = resource.create_bucket(Bucket=name)
    endpoint = urlsplit(s3_double_endpoint)
    declare_destination(settings, host=endpoint.hostname, port=endpoint.port, purpose="storage")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(
            bucket=name,
            endpoint_url=s3_double_endpoint,
            region="us-east-1",
            **TEST_DOUBLE_CREDENTIALS,
        ),
    }
    return created


def bucket_keys(bucket) -> list[str]:  # type: ignore[no-untyped-def]
    """The keys in a bucket, sorted."""
    return sorted(stored.key for stored in bucket.objects.all())

"""A moto S3 server in its own process, reached by real boto3 over HTTP on loopback.

Nothing is patched in the test process: the code under test talks HTTP to an endpoint
URL, exactly as it would to S3, so retries, checksums and error parsing are all real.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

# Credentials and region for the fake server; no real AWS configuration may leak in.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_UNSET = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


class MotoS3:
    """A running server: ``endpoint_url``, a boto3 ``client`` and a fresh ``bucket()``."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self.client: Any = boto3.client("s3", endpoint_url=endpoint_url)

    def bucket(self, *, versioned: bool = False) -> str:
        name = f"models-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=name)
        if versioned:
            self.client.put_bucket_versioning(
                Bucket=name, VersioningConfiguration={"Status": "Enabled"}
            )
        return name


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def moto_server(module: str = "moto.server") -> Iterator[MotoS3]:
    """Start ``python -m moto.server`` on a free loopback port, with fake AWS settings.

    ``module``: another launcher taking the port as its one argument (tests/sfn_server.py).
    """
    with pytest.MonkeyPatch.context() as env:
        for name, value in FAKE_AWS_ENV.items():
            env.setenv(name, value)
        for name in _UNSET:
            env.delenv(name, raising=False)
        port = _free_port()
        command = ["-H", "127.0.0.1", "-p", str(port)] if module == "moto.server" else [str(port)]
        process = subprocess.Popen(
            [sys.executable, "-m", module, *command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        endpoint = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(endpoint, process)
            yield MotoS3(endpoint)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(endpoint: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(endpoint + "/moto-api/", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("moto server did not start within 60 s")


def closed_port_endpoint() -> str:
    """An endpoint URL nothing listens on: connections are refused at once."""
    return f"http://127.0.0.1:{_free_port()}"

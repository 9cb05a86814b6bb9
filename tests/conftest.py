"""Fixtures that run the real `visage` release binary as a separate process."""
import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / ".build" / "release" / "visage"


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VISAGE_") or k == "VISAGE_TEST_POSTGRES_URL"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_cli(*args, data, env=None, check=True, input=None):
    """Runs a `visage` command on a data directory and returns the completed process."""
    return subprocess.run([str(BINARY), *args, "--data", str(data)], env=env or clean_env(), input=input,
                          capture_output=True, check=check, timeout=120)


class Server:
    """A `visage serve` process on a free loopback port."""

    def __init__(self, data, env=None, args=()):
        self.data = Path(data)
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--data", str(data), "--port", "0", *args],
            env=env or clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.output = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("server exited early: " + self.process.stderr.read())
            self.output.append(line)
            match = re.search(r"listening on (http://[\d.]+:\d+)/", line)
            if match:
                self.url = match.group(1)
                # The log goes to stderr; drain it, or a full pipe would block the server.
                self.log = []
                self.drain = threading.Thread(target=lambda: self.log.extend(self.process.stderr), daemon=True)
                self.drain.start()
                return
        raise RuntimeError("server did not start in time")

    def get(self, path, **kwargs):
        return requests.get(self.url + path, timeout=10, allow_redirects=False, **kwargs)

    def post(self, path, **kwargs):
        return requests.post(self.url + path, timeout=10, **kwargs)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            if hasattr(self, "drain"):
                self.drain.join(timeout=5)
            self.process.stdout.close()
            self.process.stderr.close()


@pytest.fixture
def server(tmp_path):
    running = Server(tmp_path / "data")
    yield running
    running.stop()


@pytest.fixture
def postgres_database():
    """A new, empty database in the throw-away PostgreSQL cluster; its URL."""
    admin = os.environ.get("VISAGE_TEST_POSTGRES_URL")
    if not admin:
        pytest.fail("VISAGE_TEST_POSTGRES_URL is not set: run the tests with `make test`")
    name = "visage_e2e_%d_%d" % (os.getpid(), time.monotonic_ns())
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    yield admin.rsplit("/", 1)[0] + "/" + name
    subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True)


@pytest.fixture(scope="session")
def moto_server():
    """An S3 server (moto) on loopback for the whole test run."""
    from s3backend import MotoServer
    running = MotoServer()
    yield running
    running.stop()


@pytest.fixture(scope="module", params=["embedded", "postgres-s3"])
def backend(request):
    """The SDK suites run twice: on the embedded default (SQLite and local files), and with
    metadata in PostgreSQL and object bytes in an S3 server, where nothing may reach the local
    objects folder (each suite checks with `Backend.check_data_directory`)."""
    from s3backend import Backend, create_database, drop_database, new_bucket, s3_env
    if request.param == "embedded":
        yield Backend("embedded")
        return
    admin = os.environ.get("VISAGE_TEST_POSTGRES_URL")
    if not admin:
        pytest.fail("VISAGE_TEST_POSTGRES_URL is not set: run the tests with `make test`")
    moto = request.getfixturevalue("moto_server")
    name, url = create_database(admin, "s3")
    bucket = new_bucket(moto, name.replace("_", "-"))
    yield Backend("postgres-s3", env=dict(VISAGE_DATABASE_URL=url, **s3_env(moto.url, bucket)), moto=moto, bucket=bucket,
                  prefix="blobs/")
    drop_database(admin, name)


def error_of(response):
    """The (code, request id) of a Visage or Alibaba-style JSON error."""
    body = response.json()
    if "error" in body:
        return body["error"]["code"], body["error"]["requestId"]
    return body["Code"], body["RequestId"]

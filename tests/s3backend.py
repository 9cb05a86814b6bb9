"""An S3 server on loopback (moto in server mode) for the S3-compatible object backend, a proxy
in front of it that can refuse or drop requests for a while, and the backend choice the SDK
suites are parametrised with (embedded, or metadata in PostgreSQL and bytes in the S3 server)."""
import http.client
import os
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import requests
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
KEY_ID, SECRET = "visage-test-key", "visage-test-secret"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoServer:
    """`moto_server` as a separate process on a free loopback port."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/moto-api/", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("moto_server did not start")

    def client(self):
        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=KEY_ID,
                            aws_secret_access_key=SECRET, config=Config(s3={"addressing_style": "path"}))

    def keys(self, bucket, prefix=""):
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class FaultProxy:
    """A loopback HTTP proxy in front of the S3 server. `mode` "pass" forwards, "refuse" answers
    503 SlowDown to writes (PUT, POST) and forwards reads, "down" closes every connection unanswered,
    as a stopped server would."""

    def __init__(self, upstream_port):
        self.mode = "pass"
        self.refused = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def relay(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if proxy.mode == "down":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if proxy.mode == "refuse" and self.command in ("PUT", "POST"):
                    proxy.refused += 1
                    text = b"<?xml version='1.0'?><Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
                upstream.request(self.command, self.path, body=body, headers=dict(self.headers.items()))
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Backend:
    """Where a server keeps its metadata and object bytes. `env` is what `visage` needs to use it."""

    def __init__(self, name, env=None, moto=None, bucket=None, prefix=""):
        self.name = name
        self.env = env or {}
        self.moto = moto
        self.bucket = bucket
        self.prefix = prefix

    @property
    def remote(self):
        return self.moto is not None

    def blob_keys(self):
        return self.moto.keys(self.bucket, self.prefix) if self.remote else []

    def check_data_directory(self, data):
        """With bytes in the S3 server, nothing is in the local objects folder and the bucket holds blobs."""
        if not self.remote:
            return
        objects = Path(data) / "objects"
        files = [path for path in objects.rglob("*") if path.is_file()] if objects.exists() else []
        assert files == [], f"object bytes were written locally: {files[:5]}"
        assert self.blob_keys(), "no blob reached the S3 server"


def s3_env(endpoint, bucket, prefix="blobs/", **extra):
    env = dict(VISAGE_OBJECT_STORE=f"s3://{bucket}/{prefix}", VISAGE_S3_ENDPOINT=endpoint, VISAGE_S3_REGION="us-east-1",
               VISAGE_S3_ACCESS_KEY_ID=KEY_ID, VISAGE_S3_SECRET_ACCESS_KEY=SECRET)
    env.update(extra)
    return env


def new_bucket(moto, name):
    moto.client().create_bucket(Bucket=name)
    return name


def create_database(admin_url, label):
    name = "visage_%s_%d_%d" % (label, os.getpid(), time.monotonic_ns())
    subprocess.run(["psql", admin_url, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return name, admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(admin_url, name):
    subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True)

"""A webhook receiver for notification tests, and the check of Visage's signature header."""
import hashlib
import hmac
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from alibabacloud_imm20200930 import models as imm_models


class Receiver:
    """A webhook receiver on loopback: records every delivery; /flaky fails twice, /hang never answers in time."""

    def __init__(self):
        self.deliveries = []
        self.flaky_failures = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                owner.deliveries.append(dict(path=self.path, headers=dict(self.headers), body=body, at=time.monotonic()))
                if self.path == "/hang":
                    time.sleep(8)
                status = 200
                if self.path == "/flaky" and owner.flaky_failures < 2:
                    owner.flaky_failures += 1
                    status = 500
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.http.server_address[1]
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def wait_for(self, path, count=1, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [d for d in self.deliveries if d["path"] == path]
            if len(found) >= count:
                return found
            time.sleep(0.2)
        raise AssertionError(f"no delivery to {path}: {self.deliveries}")


class HTTPNotification(imm_models.Notification):
    """The SDK's Notification with Visage's webhook type added."""

    def __init__(self, endpoint):
        super().__init__()
        self.endpoint = endpoint

    def to_map(self):
        return {"HTTP": {"Endpoint": self.endpoint}}


def verify_signature(delivery, key):
    header = delivery["headers"]["X-Visage-Signature"]
    stamp, mac = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", header).groups()
    expected = hmac.new(key, f"{stamp}.{delivery['body']}".encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, mac)
    assert abs(int(stamp) - time.time()) < 300

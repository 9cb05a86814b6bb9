"""Connection hygiene: half-sent requests are closed after the idle timeout, connections beyond the
cap wait instead of using up the open files, and the server keeps answering."""
import resource
import socket
import subprocess
import time

import requests

from conftest import BINARY, clean_env


def test_half_sent_connections_are_closed_and_the_server_keeps_answering(tmp_path):
    def limit_files():
        resource.setrlimit(resource.RLIMIT_NOFILE, (1200, 1200))

    process = subprocess.Popen([str(BINARY), "serve", "--data", str(tmp_path / "data"), "--port", "0"],
                               env=clean_env(VISAGE_IDLE_TIMEOUT_SECONDS="3"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, preexec_fn=limit_files)
    sockets = []
    try:
        line = process.stdout.readline()
        while "listening on" not in line:
            line = process.stdout.readline()
            assert line, process.stderr.read()
        port = int(line.rsplit(":", 1)[1].strip().strip("/"))
        # 1,400 connections that send half a header and wait (more than the process has files).
        for _ in range(1400):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=0.5)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                sockets.append(s)
            except OSError:
                pass
        assert len(sockets) >= 1200
        assert process.poll() is None
        # Once the idle timeout has passed, the waiting connections are closed and new ones are
        # served at once.
        time.sleep(4)
        latencies = []
        for _ in range(5):
            began = time.monotonic()
            response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            latencies.append(time.monotonic() - began)
            assert response.status_code == 200
        assert max(latencies) < 1, latencies
        assert process.poll() is None
        # The half-sent connections were closed by the server.
        closed = 0
        for s in sockets[:200]:
            s.settimeout(2)
            try:
                closed += s.recv(1) == b""
            except OSError:
                closed += 1
        assert closed == 200
    finally:
        for s in sockets:
            s.close()
        process.terminate()
        process.wait(timeout=30)
        log = process.stderr.read()
        process.stdout.close()
        process.stderr.close()
    assert "connection limit reached" in log

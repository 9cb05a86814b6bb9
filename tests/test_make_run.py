"""`make run` from the project directory builds and serves; SIGTERM stops it cleanly."""
import os
import signal
import socket
import subprocess
import time

import requests

from conftest import ROOT, clean_env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_run_answers_healthz(tmp_path):
    port = free_port()
    env = clean_env(VISAGE_PORT=port, VISAGE_DATA=tmp_path / "data")
    process = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        assert status == 200, process.stdout.read1().decode() if process.poll() is not None else "no answer"
        assert (tmp_path / "data" / "root-credentials.json").exists()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(60)

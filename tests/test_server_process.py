"""The release binary as a user runs it: start-up, credentials, errors, shutdown, PostgreSQL."""
import json
import os
import signal
import socket
import stat
import threading
import time

import requests

from conftest import Server, clean_env, error_of, run_cli


def test_first_start_creates_root_credentials_once(tmp_path):
    data = tmp_path / "data"
    first = Server(data)
    try:
        creds = json.loads((data / "root-credentials.json").read_text())
        assert set(creds) == {"AccountId", "AccessKeyId", "AccessKeySecret"}
        printed = "".join(first.output)
        assert creds["AccessKeySecret"] in printed and creds["AccessKeyId"] in printed
        assert stat.S_IMODE(os.stat(data / "root-credentials.json").st_mode) == 0o600
        assert stat.S_IMODE(os.stat(data / "secret.key").st_mode) == 0o600
    finally:
        assert first.stop() == 0
    second = Server(data)
    try:
        assert creds["AccessKeySecret"] not in "".join(second.output)
        assert json.loads((data / "root-credentials.json").read_text()) == creds
    finally:
        second.stop()
    # The database file alone does not hold the secret.
    raw = b"".join(p.read_bytes() for p in data.glob("visage.sqlite*"))
    assert creds["AccessKeySecret"].encode() not in raw


def test_root_key_pair_from_environment(tmp_path):
    env = clean_env(VISAGE_ROOT_ACCESS_KEY_ID="CiRootKey0001", VISAGE_ROOT_ACCESS_KEY_SECRET="ci-root-secret-0123456789")
    running = Server(tmp_path / "data", env=env)
    try:
        creds = json.loads((tmp_path / "data" / "root-credentials.json").read_text())
        assert creds["AccessKeyId"] == "CiRootKey0001"
        assert creds["AccessKeySecret"] == "ci-root-secret-0123456789"
    finally:
        running.stop()


def test_health_metrics_and_request_ids(server):
    health = server.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["database"] == "sqlite"
    ids = {server.get("/healthz").headers["x-visage-request-id"] for _ in range(5)}
    assert len(ids) == 5
    metrics = server.get("/metrics").text
    assert 'visage_http_requests_total{route="/healthz",method="GET",status="200"} 6' in metrics


def test_malformed_requests_get_json_errors_and_the_server_survives(server):
    cases = [
        ("post", "/?Action=AssumeRole", {}, 400),
        ("post", "/?Version=2015-04-01&Action=", {}, 400),
        ("post", "/?Action=Nope&Version=2015-04-01", {}, 404),
        ("post", "/", {"data": "%%%&&&==", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 400),
        ("post", "/?Action=A&Version=1", {"data": b"x" * (9 * 1024 * 1024),
                                          "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 413),
        ("get", "/visage/v1/%ff%fe", {}, 404),
        ("get", "/ui/does-not-exist", {}, 404),
    ]
    for method, path, kwargs, status in cases:
        response = getattr(requests, method)(server.url + path, timeout=30, allow_redirects=False, **kwargs)
        assert response.status_code == status, (path, response.text)
        code, request_id = error_of(response)
        assert code and request_id == response.headers["x-visage-request-id"]
    # Raw garbage on the socket is refused without taking the server down.
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(b"\x00\x01GARBAGE / HTTP/9.9\r\n\r\n")
        raw.recv(1024)
    assert server.get("/healthz").status_code == 200


def test_sigterm_lets_the_request_in_flight_finish(server):
    host, port = server.url.removeprefix("http://").split(":")
    body = b"Action=Nope&Version=2015-04-01&pad=" + b"x" * 2000
    reply = {}

    def slow_client():
        with socket.create_connection((host, int(port)), timeout=20) as conn:
            conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body))
            conn.sendall(body[:100])
            time.sleep(1.5)  # SIGTERM arrives while the body is still coming
            conn.sendall(body[100:])
            data = b""
            while b"\r\n\r\n" not in data or len(data) < 60:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            reply["data"] = data

    client = threading.Thread(target=slow_client)
    client.start()
    time.sleep(0.5)
    server.process.send_signal(signal.SIGTERM)
    client.join(30)
    assert reply["data"].startswith(b"HTTP/1.1 404"), reply
    assert b"InvalidAction.NotFound" in reply["data"]
    assert server.process.wait(30) == 0


def test_serves_from_postgresql(tmp_path, postgres_database):
    running = Server(tmp_path / "data", env=clean_env(VISAGE_DATABASE_URL=postgres_database))
    try:
        health = running.get("/healthz").json()
        assert health["database"] == "postgres" and health["schemaVersion"] >= 3
    finally:
        assert running.stop() == 0
    assert not (tmp_path / "data" / "visage.sqlite").exists()


def test_bad_task_settings_are_refused_at_start(tmp_path):
    for name, value in [("VISAGE_TASK_RETRY_SECONDS", "soon"), ("VISAGE_TASK_RETRY_SECONDS", "0"),
                        ("VISAGE_TASK_LEASE_SECONDS", "1"), ("VISAGE_WORKERS", "-2")]:
        done = run_cli("serve", "--port", "0", data=tmp_path / "data", env=clean_env(**{name: value}), check=False)
        assert done.returncode != 0 and name in done.stderr.decode(), (name, value, done.stderr)


def test_an_oversized_body_is_refused_naming_the_limit(server):
    body = b"x" * (8 * 1024 * 1024 + 1)
    response = server.post("/?Action=GetCallerIdentity&Version=2015-04-01", data=body,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413 and response.json()["Code"] == "EntityTooLarge"
    assert response.json()["Message"] == "The request body is larger than 8388608 bytes."
    response = server.post("/green/image/scan", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and "8388608" in response.json()["Message"]

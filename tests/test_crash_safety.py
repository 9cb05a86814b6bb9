"""A process killed in the middle of a large object write leaves no visible object behind."""
import signal
import subprocess
import time

from conftest import BINARY, Server, clean_env, run_cli


def test_sigkill_during_a_50mb_write_leaves_no_object(tmp_path):
    data = tmp_path / "data"
    run_cli("buckets", "create", "photos", data=data)
    writer = subprocess.Popen([str(BINARY), "objects", "put", "photos", "big.bin", "-", "--no-progress", "--data", str(data)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
    chunk = bytes(range(256)) * 4096  # 1 MiB
    for _ in range(30):  # 30 of the 50 MiB
        writer.stdin.write(chunk)
    writer.stdin.flush()
    tmp_dir = data / "objects" / "tmp"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        partial = list(tmp_dir.iterdir())
        if partial and partial[0].stat().st_size >= 20 * len(chunk):
            break
        time.sleep(0.05)
    assert partial and partial[0].stat().st_size > 0, "the write never started"
    writer.send_signal(signal.SIGKILL)
    writer.wait(10)
    writer.stdin.close()
    assert list(tmp_dir.iterdir()), "the killed write left its partial file"

    # The next start cleans up what the killed write left, and no object is visible.
    running = Server(data)
    try:
        assert running.get("/healthz").status_code == 200
        assert list(tmp_dir.iterdir()) == []
        assert [p for p in (data / "objects" / "blobs").rglob("*") if p.is_file()] == []
    finally:
        running.stop()
    listing = run_cli("objects", "ls", "photos", data=data)
    assert listing.stdout.strip() == b""
    assert run_cli("objects", "get", "photos", "big.bin", data=data, check=False).returncode != 0

    # And a complete write afterwards works.
    result = run_cli("objects", "put", "photos", "big.bin", "-", "--no-progress", data=data, input=chunk * 50)
    assert b"52428800" in result.stdout

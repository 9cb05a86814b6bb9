"""Mistakes on the command line: one line that names the file and the cause, exit status 1, no
usage text, and nothing created on disk by the failed command."""
import subprocess

import pytest

from conftest import BINARY, ROOT, clean_env

PHOTO = ROOT.parent / "shared" / "testdata" / "faces" / "img1.jpg"


def mistakes(tmp):
    (tmp / "empty").mkdir()
    return [
        (["detect", "missing.jpg"], "cannot read missing.jpg: no such file or directory"),
        (["compare", str(PHOTO), "missing.jpg"], "Error: cannot read missing.jpg: no such file or directory"),
        (["index", "missing-folder", "--project", "p", "--dataset", "d", "--data", "DATA"],
         f"Error: cannot read {tmp}/missing-folder: no such file or directory"),
        (["index", "empty", "--project", "p", "--dataset", "d", "--data", "DATA"],
         f"Error: no images in {tmp}/empty (JPEG, PNG, WEBP, GIF, BMP, TIFF or HEIF files)"),
        (["index", str(PHOTO), "--project", "p", "--dataset", "d", "--data", "DATA"], f"Error: {PHOTO} is not a folder"),
        (["objects", "put", "bucket", "key", "missing.bin", "--data", "DATA"], "Error: cannot read missing.bin: no such file or directory"),
        (["compare-async", str(PHOTO), "missing.jpg", "--data", "DATA"], "Error: cannot read missing.jpg: no such file or directory"),
        (["compare-async", "--pairs", "missing.txt", "--data", "DATA"], "Error: cannot read missing.txt: no such file or directory"),
        (["policies", "create", "p", "missing.json", "--data", "DATA"], "Error: cannot read missing.json: no such file or directory"),
        # Commands that only read refuse a missing data directory instead of starting an empty one.
        (["people", "--project", "p", "--dataset", "d", "--data", "DATA"], f"Error: no data directory at {tmp}/data: "
         "name one with --data or VISAGE_DATA (visage serve or visage index starts one)"),
        (["users", "ls", "--data", "DATA"], f"Error: no data directory at {tmp}/data: "
         "name one with --data or VISAGE_DATA (visage serve or visage index starts one)"),
        (["events", "--data", "DATA"], f"Error: no data directory at {tmp}/data: "
         "name one with --data or VISAGE_DATA (visage serve or visage index starts one)"),
    ]


@pytest.mark.parametrize("index", range(12))
def test_a_mistake_is_one_line_and_leaves_nothing_behind(tmp_path, index):
    args, expected = mistakes(tmp_path)[index]
    data = tmp_path / "data"
    args = [str(data) if a == "DATA" else a for a in args]
    result = subprocess.run([str(BINARY), *args], cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result
    assert result.stderr.strip() == expected
    assert "Usage" not in result.stderr and result.stdout == ""
    assert not data.exists()


def test_serve_on_a_busy_port_fails_before_touching_the_data_directory(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        data = tmp_path / "data"
        result = subprocess.run([str(BINARY), "serve", "--port", str(port), "--data", str(data)], env=clean_env(),
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: cannot listen on 127.0.0.1:{port}: address already in use"
    assert result.stdout == "" and not data.exists()

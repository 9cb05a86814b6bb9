"""`visage index DIR`: uploads and indexes a folder; interrupted, the next run continues where it stopped."""
import json
import re
import shutil
import signal
import subprocess

from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient

from alibaba import config
from conftest import BINARY, ROOT, Server, clean_env, run_cli

FACES = ROOT.parent / "shared" / "testdata" / "faces"


def test_index_folder_resumes_after_interruption(tmp_path):
    folder = tmp_path / "photos"
    (folder / "trip").mkdir(parents=True)
    photos = sorted(FACES.glob("img*.jpg"))[:12]
    for index, photo in enumerate(photos):
        shutil.copy(photo, (folder / "trip" if index % 2 else folder) / photo.name)
    (folder / "readme.txt").write_text("not an image")
    data = tmp_path / "data"
    args = [str(BINARY), "index", str(folder), "--project", "family", "--dataset", "album", "--verbose", "--data", str(data)]
    first = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(), text=True)
    done_first = []
    for line in first.stdout:
        done_first.append(line.split()[-1])
        if len(done_first) == 4:
            first.send_signal(signal.SIGKILL)
            break
    first.wait(30)
    assert first.returncode == -signal.SIGKILL and len(done_first) == 4

    second = run_cli("index", str(folder), "--project", "family", "--dataset", "album", "--verbose", data=data)
    out = second.stdout.decode()
    # The file being indexed when the first run was killed may or may not have been committed.
    assert re.search(rf"already indexed [45], failed 0 of {len(photos)} files", out), out
    again = [line.split()[-1] for line in out.splitlines() if line.startswith("indexed oss://")]
    assert not set(again) & set(done_first) and len(again) + len(done_first) >= len(photos)

    # The dataset is the one the API serves: every photo once, with its faces.
    server = Server(data)
    try:
        root = json.loads((data / "root-credentials.json").read_text())
        imm = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
        found = imm.simple_query(imm_models.SimpleQueryRequest(project_name="family", dataset_name="album")).body
        assert found.total_hits == len(photos)
        uris = {f.uri for f in found.files}
        assert "oss://visage-index/album/trip/" + photos[1].name in uris
        assert all(f.figure_count >= 1 for f in found.files)
        earlier = imm.batch_get_file_meta(imm_models.BatchGetFileMetaRequest(
            project_name="family", dataset_name="album", uris=done_first)).body.files
        assert [f.create_time == f.update_time for f in earlier] == [True] * 4  # not indexed twice
    finally:
        server.stop()
    third = run_cli("index", str(folder), "--project", "family", "--dataset", "album", data=data)
    assert f"indexed 0, already indexed {len(photos)}, failed 0" in third.stdout.decode()


def test_index_draws_a_progress_bar_with_eta_on_a_terminal(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for photo in sorted(FACES.glob("img*.jpg"))[:3]:
        shutil.copy(photo, folder / photo.name)
    command = f"{BINARY} index {folder} --project p --dataset d --data {tmp_path / 'data'}"
    # `script` runs the command on a pseudo-terminal, where the bar is drawn.
    result = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True, env=clean_env(), timeout=120)
    screen = result.stdout.decode(errors="replace")
    assert result.returncode == 0, screen
    assert re.search(r"\[#+-*\] \d+%  \d+/3 files  [\d.]+ files/s  ETA \d+m\d\ds", screen), screen
    assert "3/3 files" in screen and "indexed 3, already indexed 0, failed 0 of 3 files" in screen

"""The Tasks page shows an indexing batch's progress live, names the files that failed, and lists
the work command-line runs did, in a real browser."""
import json
import shutil
import signal
import subprocess
import time

import oss2
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from alibaba import config
from conftest import BINARY, ROOT, Server, clean_env, run_cli
from test_web_ui import browser, severe  # noqa: F401  (the browser fixture)

PHOTOS = sorted((ROOT.parent / "shared" / "testdata" / "faces").glob("img*.jpg"))[:20]


def test_tasks_page_follows_an_indexing_batch(server, browser):  # noqa: F811
    root = json.loads((server.data / "root-credentials.json").read_text())
    bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, "photos")
    bucket.create_bucket()
    for photo in PHOTOS:
        bucket.put_object_from_file(photo.name, str(photo))
    bucket.put_object("broken.jpg", b"not a jpeg")
    imm = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
    imm.create_project(imm_models.CreateProjectRequest(project_name="family"))
    imm.create_dataset(imm_models.CreateDatasetRequest(project_name="family", dataset_name="album"))
    browser.get(server.url + "/ui/#tasks")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "tasks-empty").is_displayed())
    event = imm.batch_index_file_meta(imm_models.BatchIndexFileMetaRequest(
        project_name="family", dataset_name="album",
        files=[imm_models.InputFile(uri=f"oss://photos/{p.name}") for p in PHOTOS] + [imm_models.InputFile(uri="oss://photos/broken.jpg")])
    ).body.event_id
    selector = f'#tasks-rows tr[data-task="{event}"]'
    seen = []

    # The rows are redrawn every second: read each one in a single script call.
    read_row = """
        const row = document.querySelector(arguments[0]);
        if (!row) return null;
        return {status: row.dataset.status, progress: Number(row.querySelector("progress").value),
                cells: Array.from(row.querySelectorAll("td")).map((td) => td.innerText)};
    """

    def progressed(driver):
        row = driver.execute_script(read_row, selector)
        if row is None:
            return False
        if not seen or seen[-1] != row["progress"]:
            seen.append(row["progress"])
        return row if row["status"] == "Succeeded" else False

    row = WebDriverWait(browser, 120, poll_frequency=0.2).until(progressed)
    assert seen[-1] == 100 and any(0 < value < 100 for value in seen), seen  # moved while the page watched
    cells = row["cells"]
    assert cells[0].startswith("Indexing files\n") and cells[1] == "family / album" and cells[2] == "Succeeded"
    files, failure = cells[4].split("\n", 1)
    assert files == f"{len(PHOTOS)} of {len(PHOTOS) + 1}, 1 failed"
    assert failure.startswith("broken.jpg: ")  # the failed file by name, with its cause
    assert "1 of 21 files failed" in cells[6]
    assert severe(browser) == []


def test_tasks_page_lists_face_comparisons(server, browser):  # noqa: F811
    from green import call, client, scan_body
    from test_green_compare import grey_png

    root = json.loads((server.data / "root-credentials.json").read_text())
    bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, "pairs")
    bucket.create_bucket()
    for photo in PHOTOS[:2]:
        bucket.put_object_from_file(photo.name, str(photo))
    bucket.put_object("blank.png", grey_png(64, 64))
    urls = [bucket.sign_url("GET", name, 600) for name in (PHOTOS[0].name, PHOTOS[1].name, "blank.png")]
    browser.get(server.url + "/ui/#tasks")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "comparisons-empty").is_displayed())
    green = client(server, root["AccessKeyId"], root["AccessKeySecret"])
    answer = call(green, "ImageAsyncScan", scan_body([("pair", urls[0], urls[1]), ("blank", urls[0], urls[2])]))
    done, failed = (item["taskId"] for item in answer["data"])
    read_row = """
        const row = document.querySelector(arguments[0]);
        return row ? {status: row.dataset.status, cells: Array.from(row.querySelectorAll("td")).map((td) => td.innerText)} : null;
    """

    def finished(task):
        def check(driver):
            row = driver.execute_script(read_row, f'#comparisons-rows tr[data-task="{task}"]')
            return row if row and row["status"] not in ("Running",) else False
        return WebDriverWait(browser, 60, poll_frequency=0.3).until(check)

    row = finished(done)
    assert row["status"] == "Succeeded" and row["cells"][0].startswith("Content Moderation (sface-1)")
    assert row["cells"][2].endswith("%") and row["cells"][4] in ("same person", "different people")
    row = finished(failed)
    assert row["status"] == "Failed" and "image 2: no face was found" in row["cells"][4]
    assert severe(browser) == []


def read_rows(driver):
    return driver.execute_script("""
        return Array.from(document.querySelectorAll("#tasks-rows tr")).map((row) => ({
            id: row.dataset.task, status: row.dataset.status, origin: row.dataset.origin,
            cells: Array.from(row.querySelectorAll("td")).map((td) => td.innerText)}));""")


def test_tasks_page_lists_command_line_runs(tmp_path, browser):  # noqa: F811
    """`visage index` and `visage cluster` show as tasks, with the file that failed named; a run
    killed midway is ended as failed by the next run instead of staying "Running"."""
    data, folder = tmp_path / "data", tmp_path / "photos"
    folder.mkdir()
    for photo in PHOTOS[:3]:
        shutil.copy(photo, folder / photo.name)
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    indexed = run_cli("index", str(folder), "--project", "family", "--dataset", "album", "--no-progress", data=data, check=False)
    assert indexed.returncode == 1 and b"broken.jpg" in indexed.stderr
    run_cli("cluster", "--project", "family", "--dataset", "album", "--no-progress", data=data)

    # A run killed midway: its task is there, running, until the next run looks.
    many = tmp_path / "many"
    many.mkdir()
    for photo in PHOTOS:
        shutil.copy(photo, many / photo.name)
    killed = subprocess.Popen([str(BINARY), "index", str(many), "--project", "family", "--dataset", "other", "--no-progress",
                               "--verbose", "--data", str(data)], env=clean_env(), stdout=subprocess.PIPE)
    assert killed.stdout.readline().startswith(b"indexed ")  # it is working
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    run_cli("cluster", "--project", "family", "--dataset", "album", "--no-progress", data=data)

    server = Server(data)
    try:
        browser.get(server.url + "/ui/#tasks")
        rows = WebDriverWait(browser, 20).until(lambda d: len(read_rows(d)) == 4 and read_rows(d))
        assert all(r["origin"] == "command" for r in rows)
        by_kind = {}
        for r in rows:
            by_kind.setdefault((r["cells"][1], r["cells"][0].split("\n")[0]), []).append(r)
        (index_run,) = by_kind[("family / album", "Indexing files (command line)")]
        assert index_run["status"] == "Failed" and "1 of 4 files failed" in index_run["cells"][6]
        files, failure = index_run["cells"][4].split("\n", 1)
        assert files == "3 of 4, 1 failed" and failure.startswith("broken.jpg: ")
        clusterings = by_kind[("family / album", "Clustering faces into people (command line)")]
        assert [r["status"] for r in clusterings] == ["Succeeded", "Succeeded"]
        assert all(r["cells"][4] == "\u2013" for r in clusterings)  # no file count for people's work
        (abandoned,) = by_kind[("family / other", "Indexing files (command line)")]
        assert abandoned["status"] == "Failed" and "the command stopped before it finished" in abandoned["cells"][6]
        assert severe(browser) == []
    finally:
        server.stop()

"""The Tasks page shows an indexing batch's progress live, in a real browser."""
import json

import oss2
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from alibaba import config
from conftest import ROOT
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
    assert cells[1] == "family / album" and cells[2] == "Succeeded"
    assert cells[4] == f"{len(PHOTOS)} of {len(PHOTOS) + 1}, 1 failed"
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

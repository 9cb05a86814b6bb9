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

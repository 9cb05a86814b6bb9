"""The People page in a real browser: people cards cut from their photos, and the corrections
made in the page (rename, "Not this person", merge, split, "these two are different", undo, a
re-clustering previewed then applied and undone) as the IMM SDK then sees them."""
import json
import time

import oss2
import pytest
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from Tea.exceptions import TeaException

from alibaba import config
from conftest import ROOT, Server
from test_web_ui import browser, severe  # noqa: F401  (the browser fixture)

FACES = ROOT.parent / "shared" / "testdata" / "faces"
# Small single-person photos (manifest.json), four of each of three people: enough for at least
# two people to form (a person needs three photos) while indexing stays quick.
PHOTOS = {
    "katy_perry": ["img42.jpg", "img43.jpg", "img44.jpg", "img45.jpg"],
    "scarlett_johansson": ["img48.jpg", "img50.jpg", "img51.jpg", "img8.jpg"],
    "matt_damon": ["img29.jpg", "img30.jpg", "img32.jpg", "img33.jpg"],
}
P, D = "family", "album"


def until_idle(imm, timeout=300):
    deadline = time.monotonic() + timeout
    while any(t.status == "Running" for t in imm.list_tasks(
            imm_models.ListTasksRequest(project_name=P, max_results=100)).body.tasks):
        assert time.monotonic() < deadline, "tasks did not finish"
        time.sleep(0.5)


def idle(driver):
    """No correction is in flight: the page has redrawn from the server's answer."""
    return driver.find_element(By.ID, "people").get_attribute("aria-busy") != "true"


def person(imm, object_id):
    return imm.get_figure_cluster(imm_models.GetFigureClusterRequest(
        project_name=P, dataset_name=D, object_id=object_id)).body.figure_cluster


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A server with a clustered dataset; its people by id, as QueryFigureClusters lists them."""
    server = Server(tmp_path_factory.mktemp("people-page") / "data")
    root = json.loads((server.data / "root-credentials.json").read_text())
    bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, "photos")
    bucket.create_bucket()
    names = [name for photos in PHOTOS.values() for name in photos]
    for name in names:
        bucket.put_object_from_file(name, str(FACES / name))
    bucket.put_object("elsewhere.jpg", (FACES / names[0]).read_bytes())  # stored, never indexed
    imm = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
    imm.create_project(imm_models.CreateProjectRequest(project_name=P))
    imm.create_dataset(imm_models.CreateDatasetRequest(project_name=P, dataset_name=D))
    imm.batch_index_file_meta(imm_models.BatchIndexFileMetaRequest(
        project_name=P, dataset_name=D, files=[imm_models.InputFile(uri=f"oss://photos/{n}") for n in names]))
    until_idle(imm)
    imm.create_figure_clustering_task(imm_models.CreateFigureClusteringTaskRequest(project_name=P, dataset_name=D))
    until_idle(imm)
    found = imm.query_figure_clusters(imm_models.QueryFigureClustersRequest(project_name=P, dataset_name=D)).body
    assert len(found.figure_clusters) >= 2, "the photos should form at least two people"
    yield dict(server=server, imm=imm, account=root["AccountId"], clusters={c.object_id: c for c in found.figure_clusters})
    server.stop()


def test_people_routes_answer_and_refuse(env):
    server, clusters = env["server"], env["clusters"]
    scope = {"account": env["account"], "project": P, "dataset": D}
    some = next(iter(clusters))
    assert server.get("/visage/v1/people/datasets").json()["Datasets"] == [
        {"AccountId": env["account"], "ProjectName": P, "DatasetName": D}]
    faces = server.get(f"/visage/v1/people/{some}/faces", params=scope).json()["Faces"]
    assert len(faces) == clusters[some].face_count
    assert all(f["URI"].startswith("oss://photos/") and f["Boundary"]["Width"] > 0 and f["ImageWidth"] > 0 for f in faces)
    # Only photos indexed in the dataset are served.
    assert server.get("/visage/v1/people/photo", params={**scope, "uri": faces[0]["URI"]}).status_code == 200
    assert server.get("/visage/v1/people/photo", params={**scope, "uri": "oss://photos/elsewhere.jpg"}).status_code == 404
    assert server.get("/visage/v1/people", params={**scope, "dataset": "nope"}).status_code == 404
    missing = server.get("/visage/v1/people", params={"account": env["account"], "project": P})
    assert missing.status_code == 400 and "dataset" in missing.json()["error"]["message"]
    assert server.get("/visage/v1/people/Cluster-999/faces", params=scope).status_code == 404
    bad = server.post(f"/visage/v1/people/{some}/name", json={**scope, "Name": 7})
    assert bad.status_code == 400 and "Name" in bad.json()["error"]["message"]
    assert server.post(f"/visage/v1/people/{some}/merge", json={**scope, "From": some}).status_code == 400
    assert server.post(f"/visage/v1/people/{some}/merge", json={**scope, "From": "Cluster-999"}).status_code == 404
    assert server.post("/visage/v1/people/faces/no-such-face/remove", json=scope).status_code == 404
    # A cross-site form cannot post here: only JSON bodies are read.
    assert server.post(f"/visage/v1/people/{some}/name", data=json.dumps({**scope, "Name": "x"}),
                       headers={"Content-Type": "text/plain"}).status_code == 415
    assert person(env["imm"], some).name == clusters[some].name


def test_people_page_shows_and_corrects_people(env, browser):  # noqa: F811
    server, imm, clusters = env["server"], env["imm"], env["clusters"]
    browser.get(server.url + "/ui/#people")
    # The page redraws cards and tiles after every change: an element read mid-redraw is stale.
    wait = WebDriverWait(browser, 20, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException])

    # One card per person, most photos first, with the counts QueryFigureClusters gives.
    read_cards = """
        return Array.from(document.querySelectorAll(".person-card")).map((card) => ({
            id: card.dataset.person, name: card.querySelector(".person-name").textContent,
            count: card.querySelector(".person-count").textContent,
            image: card.querySelector(".face-crop").style.backgroundImage}));
    """
    cards = wait.until(lambda d: len(d.execute_script(read_cards)) == len(clusters) and d.execute_script(read_cards))
    assert {c["id"]: c["count"] for c in cards} == {i: f"{c.image_count} photos" for i, c in clusters.items()}
    assert [clusters[c["id"]].image_count for c in cards] == sorted((c.image_count for c in clusters.values()), reverse=True)
    assert all(c["name"] == "Unnamed" for c in cards)
    # The cover is cut from the photo by the browser: the URL serves the indexed photo itself.
    first = clusters[cards[0]["id"]]
    photo_url = cards[0]["image"].removeprefix('url("').removesuffix('")')
    assert photo_url.startswith("/visage/v1/people/photo?") and "uri=oss%3A%2F%2Fphotos%2F" in photo_url
    photo = server.get(photo_url)
    assert photo.status_code == 200 and photo.headers["Content-Type"] == "image/jpeg"
    assert photo.content == (FACES / first.cover.uri.removeprefix("oss://photos/")).read_bytes()
    assert severe(browser) == []

    # Rename the person with the most photos in the page.
    target, source = cards[0]["id"], cards[1]["id"]
    browser.find_element(By.CSS_SELECTOR, f'.person-card[data-person="{target}"]').click()
    tiles = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#person-faces .face-tile"))
    assert len(tiles) == clusters[target].face_count
    field = browser.find_element(By.ID, "person-name-input")
    field.clear()
    field.send_keys("Ana María")
    browser.find_element(By.ID, "person-rename").click()
    wait.until(lambda d: idle(d) and d.find_element(
        By.CSS_SELECTOR, f'.person-card[data-person="{target}"] .person-name').text == "Ana María")
    assert person(imm, target).name == "Ana María"

    # "Not this person" on one face: it leaves the person.
    before = person(imm, target).face_count
    browser.find_element(By.CSS_SELECTOR, "#person-faces .face-tile .face-remove").click()
    wait.until(lambda d: idle(d) and len(d.find_elements(By.CSS_SELECTOR, "#person-faces .face-tile")) == before - 1)
    assert person(imm, target).face_count == before - 1

    # Merge the second person into the open one.
    Select(browser.find_element(By.ID, "person-merge-select")).select_by_value(source)
    browser.find_element(By.ID, "person-merge").click()
    wait.until(lambda d: idle(d) and not d.find_elements(By.CSS_SELECTOR, f'.person-card[data-person="{source}"]'))
    with pytest.raises(TeaException) as gone:
        person(imm, source)
    assert gone.value.code == "ResourceNotFound"
    merged = person(imm, target)
    assert merged.face_count == before - 1 + clusters[source].face_count and merged.name == "Ana María"
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#person-faces .face-tile")) == merged.face_count)
    assert severe(browser) == []


def test_people_page_split_history_undo_and_recluster(env, browser):  # noqa: F811
    server, imm = env["server"], env["imm"]
    scope = {"account": env["account"], "project": P, "dataset": D}
    browser.get(server.url + "/ui/#people")
    wait = WebDriverWait(browser, 30, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException])
    listing = lambda: {p["ObjectId"]: p for p in server.get("/visage/v1/people", params=scope).json()["People"]}  # noqa: E731
    people = listing()
    target = max(people, key=lambda i: people[i]["FaceCount"])
    faces = people[target]["FaceCount"]
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'.person-card[data-person="{target}"]'))[0].click()
    tiles = wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#person-faces .face-tile")) == faces
                       and d.find_elements(By.CSS_SELECTOR, "#person-faces .face-tile"))
    assert browser.find_element(By.ID, "person-split").get_attribute("disabled")

    # Visage's proposal selects faces to review (or says there is none).
    browser.find_element(By.ID, "person-propose").click()
    wait.until(lambda d: "propos" in d.find_element(By.ID, "people-status").text.lower())
    proposed = server.get(f"/visage/v1/people/{target}/split-proposal", params=scope).json()["Faces"]
    assert sorted(t.get_attribute("data-figure") for t in browser.find_elements(By.CSS_SELECTOR, "#person-faces .face-tile.selected")) \
        == sorted(proposed)

    # Split two chosen faces off: a new person holds them.
    for tile in browser.find_elements(By.CSS_SELECTOR, "#person-faces .face-tile.selected .face-select"):
        tile.click()
    chosen = [t.get_attribute("data-figure") for t in tiles[:2]]
    for figure in chosen:
        browser.find_element(By.CSS_SELECTOR, f'.face-tile[data-figure="{figure}"] .face-select').click()
    assert "2 faces selected" in browser.find_element(By.ID, "person-selected").text
    browser.find_element(By.ID, "person-split").click()
    wait.until(lambda d: idle(d) and len(d.find_elements(By.CSS_SELECTOR, "#person-faces .face-tile")) == faces - 2)
    after = listing()
    new = [i for i in after if i not in people]
    assert len(new) == 1 and after[new[0]]["FaceCount"] == 2 and after[target]["FaceCount"] == faces - 2
    assert browser.find_elements(By.CSS_SELECTOR, f'.person-card[data-person="{new[0]}"]')

    # The split is the newest edit in the history; "Undo last edit" takes it back.
    first = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#people-history li"))
    assert first.get_attribute("data-kind") == "split" and target in first.text and new[0] in first.text
    browser.find_element(By.ID, "people-undo").click()
    wait.until(lambda d: idle(d) and "undone" in d.find_element(By.CSS_SELECTOR, "#people-history li").get_attribute("class"))
    assert new[0] not in listing() and listing()[target]["FaceCount"] == faces
    wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, f'.person-card[data-person="{new[0]}"]'))

    # "These two are different" on two faces: recorded, with its own undo button.
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#person-faces .face-tile")) == faces)
    for figure in chosen:
        browser.find_element(By.CSS_SELECTOR, f'.face-tile[data-figure="{figure}"] .face-select').click()
    browser.find_element(By.ID, "person-different").click()
    top = wait.until(lambda d: idle(d) and d.find_element(By.CSS_SELECTOR, "#people-history li[data-kind='apart-faces']"))
    assert top.find_elements(By.CSS_SELECTOR, ".history-undo")
    edits = server.get("/visage/v1/people/history", params=scope).json()["Edits"]
    assert edits[0]["Kind"] == "apart-faces" and {edits[0]["FigureId"], edits[0]["Other"]} == set(chosen)

    # A re-clustering so strict that nobody holds together: previewed (nothing written), applied, undone.
    threshold = browser.find_element(By.ID, "recluster-threshold")
    threshold.clear()
    threshold.send_keys("0.2")
    browser.find_element(By.ID, "recluster-preview").click()
    rows = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#recluster-changes tbody tr"))
    assert {r.get_attribute("data-person") for r in rows if r.get_attribute("data-change") == "dissolved"} == set(listing())
    assert browser.find_element(By.ID, "recluster-summary").text.startswith("Would change:")
    assert listing()[target]["FaceCount"] == faces
    browser.find_element(By.ID, "recluster-apply").click()
    wait.until(lambda d: d.find_element(By.ID, "recluster-summary").text.startswith("Applied:"))
    wait.until(lambda d: idle(d) and not d.find_elements(By.CSS_SELECTOR, ".person-card"))
    assert listing() == {}
    top = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#people-history li"))
    assert top.get_attribute("data-kind") == "recluster"
    top.find_element(By.CSS_SELECTOR, ".history-undo").click()
    wait.until(lambda d: idle(d) and d.find_elements(By.CSS_SELECTOR, f'.person-card[data-person="{target}"]'))
    assert listing()[target]["FaceCount"] == faces and person(imm, target).name == "Ana María"
    assert severe(browser) == []

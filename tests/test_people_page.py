"""The People page in a real browser: people cards cut from their photos, and the corrections
made in the page (rename, "Not this person", merge, split, "these two are different", undo, a
re-clustering previewed then applied and undone) as the IMM SDK then sees them."""
import json

import oss2
import pytest
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from Tea.exceptions import TeaException

from alibaba import config, until_idle
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


def idle(driver):
    """No correction is in flight: the page has redrawn from the server's answer."""
    return driver.find_element(By.ID, "people").get_attribute("aria-busy") != "true"


def card_count(driver, object_id):
    """The count a person's card in the grid shows, or None without a card."""
    found = driver.find_elements(By.CSS_SELECTOR, f'.person-card[data-person="{object_id}"] .person-count')
    return found[0].text if found else None


def history_line(driver, sequence):
    return driver.find_element(By.CSS_SELECTOR, f'#people-history li[data-sequence="{sequence}"]')


def rename_shown(driver, wait, object_id, name):
    """Renames the person open in the page and waits for their card to show the name."""
    field = driver.find_element(By.ID, "person-name-input")
    field.clear()
    field.send_keys(name)
    driver.find_element(By.ID, "person-rename").click()
    wait.until(lambda d: idle(d) and d.find_element(
        By.CSS_SELECTOR, f'.person-card[data-person="{object_id}"] .person-name').text == name)


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
    until_idle(imm, P)
    imm.create_figure_clustering_task(imm_models.CreateFigureClusteringTaskRequest(project_name=P, dataset_name=D))
    until_idle(imm, P)
    found = imm.query_figure_clusters(imm_models.QueryFigureClustersRequest(project_name=P, dataset_name=D)).body
    assert len(found.figure_clusters) >= 2, "the photos should form at least two people"
    yield dict(server=server, imm=imm, account=root["AccountId"], clusters={c.object_id: c for c in found.figure_clusters})
    server.stop()


def test_people_routes_answer_and_refuse(env):
    server, clusters = env["server"], env["clusters"]
    scope = {"account": env["account"], "project": P, "dataset": D}
    some = next(iter(clusters))
    faces_total = sum(c.face_count for c in clusters.values())
    (listed,) = server.get("/visage/v1/people/datasets").json()["Datasets"]
    assert listed["AccountId"] == env["account"] and (listed["ProjectName"], listed["DatasetName"]) == (P, D)
    assert listed["Files"] == sum(len(p) for p in PHOTOS.values()) and listed["People"] == len(clusters)
    assert listed["Faces"] == faces_total + listed["UnsortedFaces"]
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
    rename_shown(browser, wait, target, "Ana María")
    assert person(imm, target).name == "Ana María"

    # "This is them" on the last face: shown as confirmed, and the server has it placed by the user.
    scope = {"account": env["account"], "project": P, "dataset": D}
    figure = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#person-faces .face-tile"))[-1].get_attribute("data-figure")
    browser.find_element(By.CSS_SELECTOR, f'.face-tile[data-figure="{figure}"] .face-confirm').click()
    wait.until(lambda d: idle(d) and "confirmed" in d.find_element(
        By.CSS_SELECTOR, f'.face-tile[data-figure="{figure}"]').get_attribute("class").split())
    confirm = browser.find_element(By.CSS_SELECTOR, f'.face-tile[data-figure="{figure}"] .face-confirm')
    assert confirm.text == "Kept" and not confirm.is_enabled()
    listed = server.get(f"/visage/v1/people/{target}/faces", params=scope).json()["Faces"]
    assert [f["FigureId"] for f in listed if f["Confirmed"]] == [figure]

    # "Not this person" on one face: it leaves the person.
    before = person(imm, target).face_count
    browser.find_element(By.CSS_SELECTOR, "#person-faces .face-tile .face-remove").click()
    wait.until(lambda d: idle(d) and len(d.find_elements(By.CSS_SELECTOR, "#person-faces .face-tile")) == before - 1)
    assert person(imm, target).face_count == before - 1

    # Merge the second person into the open one, after the confirmation.
    Select(browser.find_element(By.ID, "person-merge-select")).select_by_value(source)
    browser.find_element(By.ID, "person-merge").click()
    wait.until(lambda d: d.find_element(By.ID, "merge-dialog").is_displayed())
    browser.find_element(By.ID, "merge-confirm").click()
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
    # The grid shows the new person with the two photos moved, and the original with two fewer.
    assert after[new[0]]["ImageCount"] == 2 and after[target]["ImageCount"] == people[target]["ImageCount"] - 2
    wait.until(lambda d: card_count(d, new[0]) == "2 photos"
               and card_count(d, target) == f'{after[target]["ImageCount"]} photos')
    assert "Split 2 faces into a new person" in browser.find_element(By.ID, "people-status").text

    # The split is the newest edit in the history; "Undo last edit" takes it back.
    first = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#people-history li"))
    assert first.get_attribute("data-kind") == "split" and "\u201cAna Mar\u00eda\u201d" in first.text and "unnamed person" in first.text
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

    # A re-clustering so strict that nobody holds together but a face a user confirmed (the
    # first test's): previewed (nothing written), applied, undone.
    confirmed = {p for p in listing() if any(
        f["Confirmed"] for f in server.get(f"/visage/v1/people/{p}/faces", params=scope).json()["Faces"])}
    threshold = browser.find_element(By.ID, "recluster-threshold")
    threshold.clear()
    threshold.send_keys("0.2")
    # The run is a server task: its progress bar shows while it runs, and goes when it is done.
    browser.execute_script("""
        const bar = document.getElementById("recluster-progress");
        window.barShown = [];
        new MutationObserver(() => window.barShown.push(!bar.hidden)).observe(bar, {attributes: true});""")
    browser.find_element(By.ID, "recluster-preview").click()
    rows = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#recluster-changes tbody tr"))
    assert True in browser.execute_script("return window.barShown")
    assert not browser.find_element(By.ID, "recluster-progress").is_displayed()
    assert browser.find_element(By.ID, "recluster-preview").is_enabled()
    assert {r.get_attribute("data-person") for r in rows if r.get_attribute("data-change") == "dissolved"} \
        == set(listing()) - confirmed
    assert browser.find_element(By.ID, "recluster-summary").text.startswith("Would change:")
    assert listing()[target]["FaceCount"] == faces
    browser.find_element(By.ID, "recluster-apply").click()
    wait.until(lambda d: d.find_element(By.ID, "recluster-summary").text.startswith("Applied:"))
    wait.until(lambda d: idle(d) and {c.get_attribute("data-person") for c in d.find_elements(By.CSS_SELECTOR, ".person-card")}
               == confirmed)
    assert set(listing()) == confirmed and all(p["FaceCount"] == 1 for p in listing().values())
    top = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#people-history li"))
    assert top.get_attribute("data-kind") == "recluster"
    top.find_element(By.CSS_SELECTOR, ".history-undo").click()
    wait.until(lambda d: idle(d) and d.find_elements(By.CSS_SELECTOR, f'.person-card[data-person="{target}"]'))
    assert listing()[target]["FaceCount"] == faces and person(imm, target).name == "Ana María"
    assert severe(browser) == []


def test_people_page_undoes_edits_from_their_history_lines(env, browser):  # noqa: F811
    """A face split off, its new person named, then merged back: each edit listed in the
    history, undone from its own line (the rename refused while its person is merged away,
    with the server's message shown), the last by "Undo last edit"; the API sees each undo."""
    server = env["server"]
    scope = {"account": env["account"], "project": P, "dataset": D}
    browser.get(server.url + "/ui/#people")
    wait = WebDriverWait(browser, 30, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException])
    listing = lambda: {p["ObjectId"]: p for p in server.get("/visage/v1/people", params=scope).json()["People"]}  # noqa: E731
    newest = lambda: server.get("/visage/v1/people/history", params=scope).json()["Edits"][0]  # noqa: E731
    tiles = lambda d: d.find_elements(By.CSS_SELECTOR, "#person-faces .face-tile")  # noqa: E731
    undone = lambda d, sequence: history_line(d, sequence).get_attribute("data-undone") == "true"  # noqa: E731
    people = listing()
    target = max(people, key=lambda i: people[i]["FaceCount"])
    faces, name = people[target]["FaceCount"], people[target]["Name"]
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'.person-card[data-person="{target}"]'))[0].click()
    figure = wait.until(lambda d: len(tiles(d)) == faces and tiles(d))[0].get_attribute("data-figure")

    # Split one face off, name the new person, then merge it back: three edits.
    browser.find_element(By.CSS_SELECTOR, f'.face-tile[data-figure="{figure}"] .face-select').click()
    browser.find_element(By.ID, "person-split").click()
    wait.until(lambda d: idle(d) and len(tiles(d)) == faces - 1)
    (new,) = [i for i in listing() if i not in people]
    split = newest()
    assert split["Kind"] == "split" and split["Person"] == target and split["Others"] == [new]
    browser.find_element(By.CSS_SELECTOR, f'.person-card[data-person="{new}"]').click()
    wait.until(lambda d: [t.get_attribute("data-figure") for t in tiles(d)] == [figure])
    rename_shown(browser, wait, new, "Nadia")
    rename = newest()
    assert rename["Kind"] == "rename" and rename["Person"] == new and listing()[new]["Name"] == "Nadia"
    browser.find_element(By.CSS_SELECTOR, f'.person-card[data-person="{target}"]').click()
    wait.until(lambda d: len(tiles(d)) == faces - 1)
    Select(browser.find_element(By.ID, "person-merge-select")).select_by_value(new)
    browser.find_element(By.ID, "person-merge").click()
    wait.until(lambda d: d.find_element(By.ID, "merge-dialog").is_displayed())
    browser.find_element(By.ID, "merge-confirm").click()
    wait.until(lambda d: idle(d) and card_count(d, new) is None and len(tiles(d)) == faces)
    merge = newest()
    assert merge["Kind"] == "merge" and merge["Person"] == target and merge["Others"] == [new]

    # The history lists them newest first, each in words, each with an undo button.
    lines = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#people-history li"))
    assert [li.get_attribute("data-sequence") for li in lines[:3]] == [str(e["Sequence"]) for e in (merge, rename, split)]
    texts = [li.find_element(By.CSS_SELECTOR, ".history-text").text for li in lines[:3]]
    # People are named, never shown by id; one merged away keeps the name it had.
    assert texts[0] == f"Merged \u201cNadia\u201d into \u201c{name}\u201d"
    assert texts[1] == "Renamed \u201cNadia\u201d (was \u201cunnamed\u201d)"
    assert texts[2] == f"Split faces off \u201c{name}\u201d into \u201cNadia\u201d"
    assert not any(new in t or target in t for t in texts)
    assert all(li.find_elements(By.CSS_SELECTOR, ".history-undo") for li in lines[:3])

    # The rename cannot be undone while its person is merged away: the server's message shows.
    history_line(browser, rename["Sequence"]).find_element(By.CSS_SELECTOR, ".history-undo").click()
    status = browser.find_element(By.ID, "people-status")
    wait.until(lambda d: idle(d) and status.get_attribute("data-state") == "bad")
    assert f"{new} is gone" in status.text
    assert new not in listing() and not undone(browser, rename["Sequence"])
    # The refused request is the only error the browser logged (reading the log empties it).
    assert [("history/undo" in e["message"] and "409" in e["message"]) for e in severe(browser)] == [True]

    # Undo the merge from its line: the named person is back with its face.
    history_line(browser, merge["Sequence"]).find_element(By.CSS_SELECTOR, ".history-undo").click()
    wait.until(lambda d: idle(d) and undone(d, merge["Sequence"]) and card_count(d, new) == "1 photo")
    after = listing()
    assert after[new]["FaceCount"] == 1 and after[new]["Name"] == "Nadia" and after[target]["FaceCount"] == faces - 1
    line = history_line(browser, merge["Sequence"])
    assert "undone" in line.get_attribute("class") and "(undone)" in line.text
    assert not line.find_elements(By.CSS_SELECTOR, ".history-undo")
    assert status.get_attribute("data-state") == "ok" and status.text.startswith("Undone: Merged \u201cNadia\u201d")

    # Now the rename can be undone: the person is unnamed again.
    history_line(browser, rename["Sequence"]).find_element(By.CSS_SELECTOR, ".history-undo").click()
    wait.until(lambda d: idle(d) and undone(d, rename["Sequence"]) and d.find_element(
        By.CSS_SELECTOR, f'.person-card[data-person="{new}"] .person-name').text == "Unnamed")
    assert listing()[new]["Name"] == ""

    # "Undo last edit" takes back the newest edit left, the split: the face is home again.
    browser.find_element(By.ID, "people-undo").click()
    wait.until(lambda d: idle(d) and undone(d, split["Sequence"]) and card_count(d, new) is None)
    after = listing()
    assert new not in after and after[target]["FaceCount"] == faces and after[target]["Name"] == name
    assert figure in {f["FigureId"] for f in server.get(f"/visage/v1/people/{target}/faces", params=scope).json()["Faces"]}
    assert severe(browser) == []

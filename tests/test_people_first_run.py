"""A first-time user's way through the People page, in headless Chromium on a wide and on a
phone-sized window: from indexed photos and no people to named people, "Cluster now", new
photos placed from the faces-in-no-person view by key and by click, a wrong face taken out and
put where it belongs, a merge confirmed after seeing both people and then undone, the photo
viewer, and the Overview's counts. Every action's feedback must show inside the window, and the
browser must log no errors. Screenshots are kept in .test-artifacts/people-first-run/."""
import json

import oss2
import pytest
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from alibaba import config, until_idle
from conftest import ROOT, Server
from test_web_ui import browser, severe  # noqa: F401  (the browser fixture)

FACES = ROOT.parent / "shared" / "testdata" / "faces"
PEOPLE = {
    "Katy Perry": ["img42.jpg", "img43.jpg", "img44.jpg", "img45.jpg"],
    "Scarlett Johansson": ["img48.jpg", "img50.jpg", "img51.jpg", "img8.jpg"],
    "Matt Damon": ["img29.jpg", "img30.jpg", "img32.jpg", "img33.jpg"],
}
LATER = ["img46.jpg", "img27.jpg"]  # two more photos of Katy Perry, indexed after clustering
P, D = "family", "album"
ARTIFACTS = ROOT / ".test-artifacts" / "people-first-run"

IN_VIEW = """
    const element = arguments[0];
    const box = element.getBoundingClientRect();
    return !element.hidden && box.height > 0 && box.top >= 0 && box.left >= 0
        && box.bottom <= window.innerHeight && box.right <= window.innerWidth;
"""


def index(imm, names):
    imm.batch_index_file_meta(imm_models.BatchIndexFileMetaRequest(
        project_name=P, dataset_name=D, files=[imm_models.InputFile(uri=f"oss://photos/{n}") for n in names]))
    until_idle(imm, P)


def idle(driver):
    return driver.find_element(By.ID, "people").get_attribute("aria-busy") != "true"


def card(driver, object_id):
    return driver.find_element(By.CSS_SELECTOR, f'.person-card[data-person="{object_id}"]')


def card_text(driver, object_id, part):
    found = driver.find_elements(By.CSS_SELECTOR, f'.person-card[data-person="{object_id}"] .person-{part}')
    return found[0].text if found else None


def feedback(driver, wait, starts):
    """The toast says `starts…` and is inside the window."""
    status = driver.find_element(By.ID, "people-status")
    wait.until(lambda d: idle(d) and status.text.startswith(starts))
    assert status.get_attribute("data-state") == "ok", status.text
    assert driver.execute_script(IN_VIEW, status), "the feedback is outside the window"


@pytest.mark.parametrize("size", [(1400, 1000), (390, 844)], ids=["wide", "phone"])
def test_first_run_from_indexed_photos_to_named_people(tmp_path, browser, size):  # noqa: F811
    server = Server(tmp_path / "data")
    try:
        root = json.loads((server.data / "root-credentials.json").read_text())
        bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, "photos")
        bucket.create_bucket()
        for name in [n for names in PEOPLE.values() for n in names] + LATER:
            bucket.put_object_from_file(name, str(FACES / name))
        imm = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
        imm.create_project(imm_models.CreateProjectRequest(project_name=P))
        imm.create_dataset(imm_models.CreateDatasetRequest(project_name=P, dataset_name=D))
        index(imm, [n for names in PEOPLE.values() for n in names])
        run(server, imm, root["AccountId"], browser, size)
    finally:
        server.stop()


def run(server, imm, account, browser, size):  # noqa: F811
    shots = ARTIFACTS / f"{size[0]}x{size[1]}"
    shots.mkdir(parents=True, exist_ok=True)
    shot = lambda name: browser.save_screenshot(str(shots / f"{name}.png"))  # noqa: E731
    scope = {"account": account, "project": P, "dataset": D}
    browser.set_window_size(*size)
    wait = WebDriverWait(browser, 60, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException])

    # No people yet: the page says how to get them, with a button and the command.
    browser.get(server.url + "/ui/#people")
    empty = wait.until(lambda d: d.find_element(By.ID, "people-empty"))
    wait.until(lambda d: "Cluster now" in empty.text)
    assert f"visage cluster --project {P} --dataset {D}" in empty.text and "12 faces wait" in empty.text
    assert "(0 people, 12 faces)" in Select(browser.find_element(By.ID, "people-dataset")).first_selected_option.text
    shot("1-empty")

    # "Cluster now": the run's progress shows, then the three people.
    browser.find_element(By.ID, "people-cluster").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".person-card")) == 3)
    feedback(browser, wait, "Clustered: 3 people")
    shot("2-clustered")

    # Who is who, from the photos each person holds; then each is named in the page.
    people = {p["ObjectId"]: p for p in server.get("/visage/v1/people", params=scope).json()["People"]}
    identity = {}
    for object_id in people:
        uris = {f["URI"].removeprefix("oss://photos/")
                for f in server.get(f"/visage/v1/people/{object_id}/faces", params=scope).json()["Faces"]}
        (identity[object_id],) = [name for name, photos in PEOPLE.items() if uris == set(photos)]
    by_name = {name: object_id for object_id, name in identity.items()}
    for object_id, name in identity.items():
        card(browser, object_id).click()
        wait.until(lambda d: d.find_element(By.ID, "person-detail").is_displayed())
        field = browser.find_element(By.ID, "person-name-input")
        field.clear()
        field.send_keys(name)
        browser.find_element(By.ID, "person-rename").click()
        wait.until(lambda d: card_text(d, object_id, "name") == name)
        feedback(browser, wait, "Renamed.")
    assert not browser.find_element(By.ID, "unsorted").is_displayed()  # everyone has a person

    # Two new photos of Katy arrive: their faces wait, each asking "Is this “Katy Perry”?".
    index(imm, LATER)
    browser.refresh()
    tiles = lambda d: d.find_elements(By.CSS_SELECTOR, "#unsorted-faces .unsorted-tile")  # noqa: E731
    wait.until(lambda d: len(tiles(d)) == 2)
    assert "2 faces belong to no person" in browser.find_element(By.ID, "unsorted-count").text
    for tile in tiles(browser):
        first = tile.find_element(By.CSS_SELECTOR, ".suggestion")
        assert first.text == "Is this \u201cKaty Perry\u201d?" and first.get_attribute("data-person") == by_name["Katy Perry"]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", tiles(browser)[0])
    shot("3-unsorted")
    # Y on the focused face accepts the first suggestion; the next face takes the focus.
    browser.execute_script("arguments[0].focus()", tiles(browser)[0])
    ActionChains(browser).send_keys("y").perform()
    wait.until(lambda d: len(tiles(d)) == 1 and card_text(d, by_name["Katy Perry"], "count") == "5 photos")
    feedback(browser, wait, "Added the face to \u201cKaty Perry\u201d.")
    assert browser.execute_script("return document.activeElement.classList.contains('unsorted-tile')")
    # The other by a click on the suggestion.
    tiles(browser)[0].find_element(By.CSS_SELECTOR, ".suggestion").click()
    wait.until(lambda d: not tiles(d) and card_text(d, by_name["Katy Perry"], "count") == "6 photos")
    feedback(browser, wait, "Added the face to \u201cKaty Perry\u201d.")
    assert not browser.find_element(By.ID, "unsorted").is_displayed()

    # A face taken out of Matt ("Not them") waits, marked as not him; "Add to…" puts it back.
    matt = by_name["Matt Damon"]
    card(browser, matt).click()
    faces = lambda d: d.find_elements(By.CSS_SELECTOR, "#person-faces .face-tile")  # noqa: E731
    wait.until(lambda d: len(faces(d)) == 4)
    figure = faces(browser)[0].get_attribute("data-figure")
    faces(browser)[0].find_element(By.CSS_SELECTOR, ".face-remove").click()
    wait.until(lambda d: len(faces(d)) == 3 and len(tiles(d)) == 1)
    feedback(browser, wait, "Not this person")
    waiting = tiles(browser)[0]
    assert waiting.get_attribute("data-figure") == figure
    assert waiting.find_element(By.CSS_SELECTOR, ".not-people").text == "Not \u201cMatt Damon\u201d"
    assert matt not in [s.get_attribute("data-person") for s in waiting.find_elements(By.CSS_SELECTOR, ".suggestion")]
    shot("4-not-them")
    Select(waiting.find_element(By.CSS_SELECTOR, ".unsorted-add")).select_by_value(matt)
    wait.until(lambda d: len(faces(d)) == 4 and not tiles(d))
    feedback(browser, wait, "Added the face to \u201cMatt Damon\u201d.")
    history = browser.find_element(By.CSS_SELECTOR, "#people-history li .history-text").text
    assert history == "Added a face to \u201cMatt Damon\u201d"

    # The photo viewer: a face opens its photo with every face boxed and named.
    faces(browser)[0].find_element(By.CSS_SELECTOR, ".face-crop").click()
    dialog = wait.until(lambda d: d.find_element(By.ID, "photo-dialog"))
    wait.until(lambda d: dialog.is_displayed() and d.find_elements(By.CSS_SELECTOR, "#photo-faces-list li"))
    assert [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#photo-faces-list li")] == ["\u201cMatt Damon\u201d"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#photo-boxes .face-box")) == 1
    shot("5-photo")
    browser.find_element(By.ID, "photo-close").click()
    wait.until(lambda d: not dialog.is_displayed())

    # Merging asks first, showing both people; Cancel changes nothing.
    scarlett = by_name["Scarlett Johansson"]
    merge = browser.find_element(By.ID, "person-merge")
    assert not merge.is_enabled()  # nobody is chosen until the user chooses
    Select(browser.find_element(By.ID, "person-merge-select")).select_by_value(scarlett)
    merge.click()
    confirm = wait.until(lambda d: d.find_element(By.ID, "merge-dialog"))
    wait.until(lambda d: confirm.is_displayed() and len(d.find_elements(By.CSS_SELECTOR, "#merge-from-faces .face-crop")) == 4
               and len(d.find_elements(By.CSS_SELECTOR, "#merge-into-faces .face-crop")) == 4)
    assert browser.find_element(By.ID, "merge-from-name").text == "Scarlett Johansson \u00b7 4 photos"
    assert browser.find_element(By.ID, "merge-into-name").text == "Matt Damon \u00b7 4 photos"
    assert "\u201cScarlett Johansson\u201d is dropped" in browser.find_element(By.ID, "merge-outcome").text
    assert browser.execute_script(IN_VIEW, browser.find_element(By.ID, "merge-confirm"))
    shot("6-merge-confirmation")
    browser.find_element(By.ID, "merge-cancel").click()
    wait.until(lambda d: not confirm.is_displayed())
    assert card_text(browser, scarlett, "count") == "4 photos"
    merge.click()
    wait.until(lambda d: confirm.is_displayed())
    browser.find_element(By.ID, "merge-confirm").click()
    wait.until(lambda d: card_text(d, scarlett, "count") is None and card_text(d, matt, "count") == "8 photos")
    feedback(browser, wait, "Merged \u201cScarlett Johansson\u201d into \u201cMatt Damon\u201d.")

    # Undo brings Scarlett back with her photos and her name.
    browser.find_element(By.ID, "people-undo").click()
    wait.until(lambda d: card_text(d, scarlett, "name") == "Scarlett Johansson" and card_text(d, matt, "count") == "4 photos")
    feedback(browser, wait, "Undone: Merged \u201cScarlett Johansson\u201d into \u201cMatt Damon\u201d.")
    shot("7-undone")

    # The Overview counts what the server holds.
    browser.get(server.url + "/ui/#overview")
    wait.until(lambda d: d.find_element(By.ID, "overview-people").text == "3")
    assert browser.find_element(By.ID, "overview-files").text == "14"
    assert browser.find_element(By.ID, "overview-faces").text == "14"
    assert browser.find_element(By.ID, "overview-unsorted").text == "0"
    row = browser.find_element(By.CSS_SELECTOR, f'#overview-rows tr[data-dataset="{account}/{P}/{D}"]')
    assert [td.text for td in row.find_elements(By.TAG_NAME, "td")] == [f"{P} / {D}", "14", "14", "3", "0"]
    shot("8-overview")
    assert severe(browser) == []

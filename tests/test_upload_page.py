"""The seed's browser flow in headless Chromium: the Upload page gets a token from the server,
PUTs a photo into the bucket with it, calls DetectImageFaces and draws the boxes the API returned."""
import pytest
import oss2
import requests
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from alibaba import app_user, config, root_ram, seed_role
from conftest import ROOT, Server, clean_env, run_cli
from test_web_ui import browser, severe  # noqa: F401 (the fixture)

BUCKET = "web-direct-upload"
PHOTOS = ROOT.parent / "shared" / "testdata" / "faces"
UPLOAD_ENV = dict(VISAGE_UPLOAD_USER="upload-app", VISAGE_UPLOAD_ROLE="imm-web-upload")


def prepare(server):
    """The operator's set-up: the seed's user, role and policies, the bucket and the project."""
    root, ram = root_ram(server)
    app_user(ram)
    seed_role(ram, root["AccountId"])
    oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, BUCKET).create_bucket()
    admin = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
    admin.create_project(imm_models.CreateProjectRequest(project_name="photos"))
    return root, admin


@pytest.fixture
def upload_server(tmp_path):
    server = Server(tmp_path / "data", env=clean_env(**UPLOAD_ENV))
    yield server
    server.stop()


def test_browser_uploads_and_draws_the_api_boxes(upload_server, browser):  # noqa: F811
    root, admin = prepare(upload_server)
    browser.get(upload_server.url + "/ui/#upload")
    WebDriverWait(browser, 10).until(lambda d: "oss://web-direct-upload/uploads/" in d.find_element(By.ID, "upload-target").text)
    status = browser.find_element(By.ID, "upload-status")
    for name in ("couple.jpg", "t1.jpg"):
        browser.find_element(By.ID, "upload-file").send_keys(str(PHOTOS / name))
        browser.find_element(By.ID, "upload-button").click()
        WebDriverWait(browser, 60).until(lambda d: status.get_attribute("data-state") in ("ok", "bad") and
                                         status.text.endswith("found."))
        assert status.get_attribute("data-state") == "ok", status.text
        drawn = sorted(tuple(int(box.get_attribute(f"data-{k}")) for k in ("left", "top", "width", "height"))
                       for box in browser.find_elements(By.CSS_SELECTOR, "#upload-boxes .face-box"))
        api = admin.detect_image_faces(imm_models.DetectImageFacesRequest(
            project_name="photos", source_uri=f"oss://{BUCKET}/uploads/{name}")).body.faces
        assert drawn == sorted((f.boundary.left, f.boundary.top, f.boundary.width, f.boundary.height) for f in api)
        assert len(drawn) == {"couple.jpg": 2, "t1.jpg": 6}[name]
        assert len(browser.find_elements(By.CSS_SELECTOR, "#upload-faces tr")) == len(drawn)
        # The boxes sit on the displayed photo, in proportion.
        image = browser.find_element(By.ID, "upload-image")
        first = browser.find_elements(By.CSS_SELECTOR, "#upload-boxes .face-box")[0]
        assert first.rect["x"] >= image.rect["x"] - 1 and first.rect["x"] + first.rect["width"] <= image.rect["x"] + image.rect["width"] + 1
    # The second upload reused the first token.
    assert status.get_attribute("data-token-fetches") == "1"
    stored = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), upload_server.url, BUCKET)
    assert stored.get_object("uploads/couple.jpg").read() == (PHOTOS / "couple.jpg").read_bytes()
    assert severe(browser) == []


def test_token_endpoint_protection(tmp_path):
    server = Server(tmp_path / "data", env=clean_env(**UPLOAD_ENV, VISAGE_UPLOAD_SECRET="s3cret-for-tests"))
    try:
        prepare(server)
        assert server.get("/visage/v1/upload/config").json()["NeedsSecret"] is True
        assert server.get("/visage/v1/upload/sts-token").status_code == 401
        assert server.get("/visage/v1/upload/sts-token", headers={"Authorization": "Bearer wrong"}).status_code == 401
        token = server.get("/visage/v1/upload/sts-token", headers={"Authorization": "Bearer s3cret-for-tests"})
        assert token.status_code == 200
        credentials = token.json()
        assert credentials["AccessKeyId"].startswith("STS.") and set(credentials) == {
            "AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}
    finally:
        server.stop()
    unconfigured = Server(tmp_path / "other")
    try:
        assert unconfigured.get("/visage/v1/upload/config").json()["Configured"] is False
        response = unconfigured.get("/visage/v1/upload/sts-token")
        assert response.status_code == 503 and response.json()["error"]["code"] == "NotConfigured"
    finally:
        unconfigured.stop()


def test_one_command_sets_the_page_up(tmp_path, browser):  # noqa: F811
    """`visage upload-setup` (run twice: the second run changes nothing) is all the page needs;
    the role it makes may put photos under uploads/ only; after a failed upload no boxes of the
    previous photo stay on screen."""
    data = tmp_path / "data"
    first = run_cli("upload-setup", data=data).stdout.decode()
    assert first.startswith("Upload page ready: user visage-upload assumes role visage-upload")
    assert run_cli("upload-setup", data=data).stdout.decode() == first
    server = Server(data)  # no VISAGE_UPLOAD_* variables
    try:
        assert server.get("/visage/v1/upload/config").json()["Configured"] is True
        # The credentials handed out are narrow: nothing outside uploads/, no reading back.
        token = server.get("/visage/v1/upload/sts-token").json()
        narrow = oss2.Bucket(oss2.StsAuth(token["AccessKeyId"], token["AccessKeySecret"], token["SecurityToken"]),
                             server.url, BUCKET)
        narrow.put_object("uploads/ok.txt", b"fine")
        with pytest.raises(oss2.exceptions.AccessDenied):
            narrow.put_object("elsewhere.txt", b"no")
        with pytest.raises(oss2.exceptions.AccessDenied):
            narrow.get_object("uploads/ok.txt")

        browser.get(server.url + "/ui/#upload")
        status = browser.find_element(By.ID, "upload-status")
        WebDriverWait(browser, 10).until(lambda d: "oss://web-direct-upload/uploads/" in d.find_element(By.ID, "upload-target").text)
        browser.find_element(By.ID, "upload-file").send_keys(str(PHOTOS / "couple.jpg"))
        browser.find_element(By.ID, "upload-button").click()
        WebDriverWait(browser, 60).until(lambda d: status.text.endswith("found.") or status.get_attribute("data-state") == "bad")
        assert status.text == "2 faces found."
        assert len(browser.find_elements(By.CSS_SELECTOR, "#upload-boxes .face-box")) == 2
        # A file that is no image: the upload fails, and the last photo's boxes are gone.
        broken = tmp_path / "broken.jpg"
        broken.write_bytes(b"this is not a photo")
        browser.find_element(By.ID, "upload-file").send_keys(str(broken))
        browser.find_element(By.ID, "upload-button").click()
        WebDriverWait(browser, 60).until(lambda d: status.get_attribute("data-state") == "bad")
        assert status.text.startswith("Failed: ")
        assert not browser.find_elements(By.CSS_SELECTOR, "#upload-boxes .face-box")
        assert not browser.find_element(By.ID, "upload-result").is_displayed()
        # The one error the browser logged is the refused DetectImageFaces call.
        assert all("400" in e["message"] for e in severe(browser))
    finally:
        server.stop()

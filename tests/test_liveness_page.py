"""The Liveness page in headless Chromium with a fake camera: the operator creates a session with
a verify image, the page runs the check with getUserMedia and liveness-client.js, and shows the
decision and the audit trail. The camera plays a y4m file made by tests/liveness_frames.py: a
rendered 3-D head that turns as asked (the server asks for turnLeft only, by configuration, since
the file cannot follow a random challenge), or a print held up and tilted."""
import numpy as np
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import liveness_frames as lf
from conftest import BINARY, ROOT, Server, clean_env

FACES = ROOT.parent / "shared" / "testdata" / "faces"
KEY = "fedcba9876543210fedcba9876543210"


@pytest.fixture(scope="module")
def page_server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("liveness-page") / "data",
                     env=clean_env(VISAGE_FACE_API_KEY=KEY, VISAGE_LIVENESS_CHALLENGES="turnLeft"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def still():
    photo = lf.load_rgb(FACES / "img2.jpg")
    return lf.framed_still(photo, lf.landmarks_of(BINARY, FACES / "img2.jpg"))


def camera(video):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000",
                "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}"]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def head_video(still, path):
    """0.8 s facing the camera, a 1.2 s turn to the person's left, a hold, and slowly back.
    Chromium plays the file from its start when the camera opens, at its frame rate, looping;
    the page opens the camera and then captures for 2.5 s, so the burst sees the turn."""
    frame, points = still
    verts, triangles, pivot = lf.head_mesh(points)
    background = lf.room(1)
    yaws = [0] * 8 + list(np.linspace(0, 32, 12)) + [32] * 15 + list(np.linspace(32, 0, 15))
    frames = [lf.render_head(frame, verts, triangles, pivot, yaw, 0, background) for yaw in yaws]
    lf.write_y4m(frames, path, fps=10)


def run_page(browser, server, verify_photo):
    browser.get(server.url + "/ui/#liveness")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "liveness-form").is_displayed())
    browser.find_element(By.ID, "liveness-key").send_keys(KEY)
    browser.find_element(By.ID, "liveness-verify").send_keys(str(verify_photo))
    browser.find_element(By.ID, "liveness-create").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_element(By.ID, "liveness-status").get_attribute("data-state") in ("ok", "bad"))
    assert browser.find_element(By.ID, "liveness-status").get_attribute("data-state") == "ok", \
        browser.find_element(By.ID, "liveness-status").text
    assert browser.find_element(By.ID, "liveness-reference").text.startswith("found")
    browser.find_element(By.ID, "liveness-start").click()
    WebDriverWait(browser, 180).until(lambda d: d.find_element(By.ID, "liveness-decision").get_attribute("data-decision"))
    rows = WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#liveness-audit-rows tr"))
    return browser.find_element(By.ID, "liveness-decision").text, rows


def test_a_turning_head_passes_the_page_check(page_server, still, tmp_path):
    video = tmp_path / "head.y4m"
    head_video(still, video)
    browser = camera(video)
    try:
        decision, rows = run_page(browser, page_server, FACES / "img1.jpg")
        instruction = browser.find_element(By.ID, "liveness-instruction")
        assert instruction.get_attribute("data-challenge") == "turnLeft"
        assert decision == "realface", browser.find_element(By.ID, "liveness-reasons").text
        assert browser.find_element(By.ID, "liveness-verify-result").text.startswith("same person")
        cells = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]
        assert [c[3] for c in cells] == ["200", "200"] and cells[0][4] == "challenge: turnLeft" and cells[1][4] == "realface"
        assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
    finally:
        browser.quit()


def test_a_tilted_print_fails_the_page_check(page_server, still, tmp_path):
    frame, _ = still
    video = tmp_path / "print.y4m"
    motion = [(40 * np.sin(np.pi * t), 0, 0, 1, 0, 0) for t in np.linspace(0, 1, 30)]
    frames = []
    for yaw, pitch, roll, scale, dx, dy in [(0, 0, 0, 1, 0, 0)] * 5 + motion:
        H = lf.plane_homography(yaw, pitch, roll, scale * 0.85, (dx, dy))
        warped = lf.cv2.warpPerspective(frame, H, (lf.WIDTH, lf.HEIGHT))
        mask = lf.cv2.warpPerspective(np.full((lf.HEIGHT, lf.WIDTH), 255, np.uint8), H, (lf.WIDTH, lf.HEIGHT))
        frames.append(np.where(mask[..., None] > 127, warped, lf.room(3)))
    lf.write_y4m(frames, video, fps=10)
    browser = camera(video)
    try:
        decision, _ = run_page(browser, page_server, FACES / "img1.jpg")
        assert decision in ("spoofface", "uncertain")
        assert browser.find_element(By.ID, "liveness-verify-result").text.startswith("not verified")
    finally:
        browser.quit()

"""The web UI in a real browser: headless Chromium through chromium-driver."""
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

SECTIONS = ["overview", "upload", "people", "moderation", "liveness", "tasks"]


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


def severe(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_shell_renders_every_section_without_console_errors(server, browser, tmp_path):
    browser.get(server.url + "/")  # a plain GET / lands on the UI
    assert browser.current_url == server.url + "/ui/"
    assert browser.title == "Visage"
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.ID, "health-status").get_attribute("data-state") == "ok")
    assert browser.find_element(By.ID, "health-database").text == "SQLite"
    for name in SECTIONS:
        browser.find_element(By.CSS_SELECTOR, f'.nav a[data-section="{name}"]').click()
        WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, name).is_displayed())
        visible = [s for s in SECTIONS if browser.find_element(By.ID, s).is_displayed()]
        assert visible == [name]
        link = browser.find_element(By.CSS_SELECTOR, f'.nav a[data-section="{name}"]')
        assert link.get_attribute("aria-current") == "page"
    browser.save_screenshot(str(tmp_path / "wide.png"))
    assert severe(browser) == []


def test_narrow_screen_uses_the_menu_button(server, browser):
    browser.set_window_size(400, 800)
    browser.get(server.url + "/ui/#people")
    toggle = browser.find_element(By.CSS_SELECTOR, ".menu-toggle")
    nav = browser.find_element(By.ID, "nav")
    assert toggle.is_displayed() and not nav.is_displayed()
    toggle.click()
    assert nav.is_displayed()
    browser.find_element(By.CSS_SELECTOR, '.nav a[data-section="tasks"]').click()
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "tasks").is_displayed())
    assert not nav.is_displayed()
    assert severe(browser) == []


def test_liveness_page_is_built(server, browser):
    # Every service is built now: the page shows its form, no placeholder.
    browser.get(server.url + "/ui/#liveness")
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "liveness-form").is_displayed())
    assert browser.find_elements(By.ID, "liveness-not-built") == []
    assert severe(browser) == []


def test_moderation_page_shows_an_empty_queue(server, browser):
    # Moderation is built: the page lists the review queue, empty on a new server.
    browser.get(server.url + "/ui/#moderation")
    empty = WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "moderation-empty"))
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "moderation-history-empty").is_displayed())
    assert empty.is_displayed() and "waiting for review" in empty.text
    assert browser.find_elements(By.ID, "moderation-not-built") == []
    assert severe(browser) == []

"""The portals in a real browser: headless Chromium at a phone's size drives a student through
upload and signing, and a sponsor through the bulk signature, against a real gunicorn (with the
production settings file and the pages' CSP). Screenshots are kept in tests/artifacts/.

Skipped only where Chromium is missing and CI is not set; in CI (.ci/run installs it) they run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import requests

from ekatra import create_app
from ekatra.auth.mail import FakeMailer
from ekatra.extensions import db
from tests.cohorts.factories import JPEG, PDF, create_cohort, invite, sponsor_token
from tests.conftest import test_environ
from tests.factories import AuthorClient
from tests.servers import free_port, gunicorn

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
PHONE = (390, 844)
WAIT_SECONDS = 20

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER) and not os.environ.get("CI"),
    reason="Chromium and chromedriver are not installed (CI installs them)",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A migrated database with an author's cohort and one invited student, served by gunicorn."""
    from flask_migrate import upgrade

    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'ekatra.db'}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environ = {**test_environ(url), "PUBLIC_BASE_URL": base, "COHORT_UPLOADS_DIR": str(folder / "uploads")}
    app = create_app(config={"TESTING": True}, environ=environ)
    mailer = FakeMailer()
    app.extensions["ekatra.mailer"] = mailer
    with app.app_context():
        upgrade()
        author = AuthorClient.signup(app.test_client(), "author@example.org", "Asha Author")
        cohort = create_cohort(author, student_count=1)
        link = invite(
            author,
            cohort["id"],
            students=[
                {
                    "email": "priya@example.com",
                    "first_name": "प्रिया",
                    "last_name": "Sharma",
                    "phone": "+919876543210",
                    "channel": "whatsapp",
                    "timezone": "Asia/Kolkata",
                }
            ],
        )["invite_links"][0]
        db.engine.dispose()
    with gunicorn(folder, environ, port=port):
        files = folder / "files"
        files.mkdir()
        (files / "id.jpg").write_bytes(JPEG)
        (files / "matric.pdf").write_bytes(PDF)
        yield {
            "base": base,
            "app": app,
            "author": author,
            "cohort": cohort,
            "link": link,
            "files": files,
            "sponsor": sponsor_token(mailer),
        }


def _browser(tmp_path: Path, size: tuple[int, int]):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or "chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={size[0]},{size[1]}",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": size[0], "height": size[1], "pixelRatio": 2.0}}
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER or "chromedriver"), options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    return driver


def _shot(driver, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.execute_async_script("document.fonts.ready.then(arguments[arguments.length - 1])")
    driver.save_screenshot(str(ARTIFACTS / f"cohorts-{name}.png"))


def _draw(driver, canvas) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    width = canvas.size["width"]
    actions = ActionChains(driver)
    actions.move_to_element_with_offset(canvas, -width // 3, 10).click_and_hold()
    for dx, dy in ((30, -25), (30, 30), (30, -30), (30, 25), (20, -10)):
        actions.move_by_offset(dx, dy)
    actions.release().perform()


def _csp_violations(driver) -> list[str]:
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]
    ]


def _click_and_load(driver, element) -> None:
    """Click something that loads a new page, and wait until the old one is gone."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    # A mark on the old page's window, not a reference to one of its elements: while the old
    # document is torn down, asking Chromium about its nodes can fail in more ways than "stale".
    driver.execute_script("window.ekatraOldPage = true")
    element.click()
    WebDriverWait(driver, WAIT_SECONDS, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return window.ekatraOldPage === undefined && document.readyState === 'complete'"
        )
    )


def _wait_for(driver, css: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_SECONDS).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def test_a_student_on_a_phone_uploads_and_signs_and_a_sponsor_signs_for_the_cohort(site, tmp_path):
    from selenium.webdriver.common.by import By

    base, token = site["base"], site["link"]["token"]
    driver = _browser(tmp_path / "student", PHONE)
    try:
        driver.get(f"{base}/cohorts/student/{token}")
        assert "Welcome, प्रिया" in driver.find_element(By.TAG_NAME, "h1").text
        assert (
            driver.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
        )  # no sideways scroll
        _shot(driver, "student-1-welcome")
        _click_and_load(driver, driver.find_element(By.LINK_TEXT, "Start"))
        _wait_for(driver, "#age").send_keys("24")
        driver.find_element(By.ID, "city").send_keys("Pune")
        _shot(driver, "student-2-profile")
        _click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
        _wait_for(driver, "#file-id_document").send_keys(str(site["files"] / "id.jpg"))
        _click_and_load(driver, driver.find_element(By.XPATH, "//button[contains(., 'Upload ID')]"))
        _wait_for(driver, "#file-matric_certificate").send_keys(str(site["files"] / "matric.pdf"))
        _click_and_load(
            driver, driver.find_element(By.XPATH, "//button[contains(., 'Upload Matric certificate')]")
        )
        assert "was received" in _wait_for(driver, "[role=status]").text
        _shot(driver, "student-3-uploads")
        _click_and_load(driver, driver.find_element(By.LINK_TEXT, "Continue"))
        canvas = _wait_for(driver, "canvas[data-pad=signature]")
        assert "प्रिया Sharma" in driver.find_element(By.CSS_SELECTOR, ".agreement").text
        _draw(driver, canvas)
        driver.find_element(By.CSS_SELECTOR, "input[name=agree]").click()
        _shot(driver, "student-4-signature")
        _click_and_load(driver, driver.find_element(By.XPATH, "//button[.='Sign']"))
        assert "organiser is checking" in _wait_for(driver, "#status-text").text
        _shot(driver, "student-5-status")
        assert _csp_violations(driver) == []
    finally:
        driver.quit()

    with site["app"].app_context():
        author = AuthorClient.login(site["app"].test_client(), "author@example.org")
        approved = author.post(
            f"/api/v1/enrollments/{site['link']['enrollment_id']}/verify", json={"action": "approve"}
        )
        assert approved.status_code == 200, approved.get_json()
        db.engine.dispose()

    driver = _browser(tmp_path / "sponsor", (1024, 900))
    try:
        driver.get(f"{base}/cohorts/sponsor/{site['sponsor']}")
        assert "1 of 1 students are complete and verified" in driver.find_element(By.ID, "summary").text
        _click_and_load(driver, driver.find_element(By.LINK_TEXT, "प्रिया Sharma"))
        signature = _wait_for(driver, "img.signature")
        assert driver.execute_script("return arguments[0].naturalWidth", signature) > 0
        _shot(driver, "sponsor-1-student")
        driver.get(f"{base}/cohorts/sponsor/{site['sponsor']}/overview")
        _draw(driver, _wait_for(driver, "canvas[data-pad=signature]"))
        _draw(driver, driver.find_element(By.CSS_SELECTOR, "canvas[data-pad=initials]"))
        _shot(driver, "sponsor-2-bulk-sign")
        _click_and_load(driver, driver.find_element(By.XPATH, "//button[.='Sign all agreements']"))
        result = _wait_for(driver, "#signed-result").text
        assert "You signed 1 agreements" in result and "day 1" in result
        _shot(driver, "sponsor-3-signed")
        assert _csp_violations(driver) == []
    finally:
        driver.quit()

    cohort = requests.get(
        f"{base}/api/v1/cohorts/{site['cohort']['id']}", headers=site["author"].headers, timeout=10
    )
    assert cohort.status_code == 200, cohort.text
    assert cohort.json()["state"] == "finalised" and cohort.json()["delivery_id"]

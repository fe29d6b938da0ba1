"""Scan my badge in Chromium: a fake camera shows the badge's QR code, the page's own code
decodes it (BarcodeDetector where it reads QR codes, else jsQR) and signs the learner in;
a revoked badge is refused.

Chromium's fake capture device plays a Y4M file made here from the badge's own QR code
(segno's module matrix, drawn in the Y plane), so nothing but the real page decodes it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import segno
from sqlalchemy import select

from portal import create_app
from portal.auth.models import Role, User
from portal.badges import services
from portal.core.extensions import db
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Pages

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 640, 480
NO_BARCODE_DETECTOR = "delete window.BarcodeDetector;"
# Chromium on Linux has no BarcodeDetector: a stand-in with its interface (answering from
# jsQR) drives the page's BarcodeDetector branch, and notes in sessionStorage that it did.
STAND_IN_DETECTOR = """
window.BarcodeDetector = class {
  static getSupportedFormats() { return Promise.resolve(["qr_code"]); }
  constructor(options) { this.formats = options.formats; }
  detect(video) {
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth; canvas.height = video.videoHeight;
    if (!canvas.width) return Promise.resolve([]);
    const ctx = canvas.getContext("2d");
    ctx.drawImage(video, 0, 0);
    const found = jsQR(ctx.getImageData(0, 0, canvas.width, canvas.height).data,
                       canvas.width, canvas.height);
    if (found) sessionStorage.setItem("detector-read", this.formats.join());
    return Promise.resolve(found ? [{rawValue: found.data, format: "qr_code"}] : []);
  }
};
"""


def write_y4m(payload: str, path: Path, frames: int = 5) -> None:
    """A short 4:2:0 video of the QR code, black on white, centred with a quiet zone."""
    matrix = segno.make(payload, error="m").matrix
    size = len(matrix)
    scale = min(WIDTH, HEIGHT) * 3 // 4 // size
    left, top = (WIDTH - size * scale) // 2, (HEIGHT - size * scale) // 2
    luma = bytearray([235]) * (WIDTH * HEIGHT)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (top + y * scale + dy) * WIDTH + left + x * scale
                    luma[start : start + scale] = bytes([16]) * scale
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    header = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * frames)


@pytest.fixture(scope="module")
def live_app(live_db):
    """The live server's database, reached directly to print and revoke Leo's badge."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{live_db}", "SECRET_KEY": "browser-tests"}
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def _people():
    leo = db.session.scalar(select(User).where(User.given_name == "Leo", User.role == Role.LEARNER))
    teacher = db.session.scalar(select(User).where(User.username == "ms.rivera"))
    return leo, teacher


@pytest.fixture(scope="module")
def badge(live_app, live_server):
    """A freshly printed badge of Leo's: what its QR code holds, and Leo's id."""
    with live_app.app_context():
        leo, teacher = _people()
        card = services.issue([leo], teacher)[0]
        db.session.commit()
        leo_id = leo.id
    return card.payload(f"{live_server}/signin/badge"), leo_id


@pytest.fixture(scope="module")
def camera_browser(browser, badge, live_server, tmp_path_factory):
    """Chromium with a fake camera that films Leo's badge (granted without asking)."""
    payload, _ = badge
    video = tmp_path_factory.mktemp("camera") / "badge.y4m"
    write_y4m(payload, video)
    launched = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    yield launched
    launched.close()


@pytest.fixture
def camera_pages(camera_browser, live_server):
    opened = Pages(camera_browser, live_server)
    yield opened
    opened.close()


def test_a_learner_scans_their_badge_and_is_signed_in(camera_pages, badge):
    page = camera_pages.new()
    page.add_init_script(STAND_IN_DETECTOR)
    page.goto("/signin/class")
    page.get_by_role("button", name="Scan my badge").click()
    page.wait_for_url(lambda url: "/signin" not in url, timeout=20_000)
    assert "Leo" in page.locator("main").inner_text()
    assert page.evaluate("sessionStorage.getItem('detector-read')") == "qr_code"
    assert "Learner" in page.locator("footer").inner_text()
    assert not camera_pages.console_errors, camera_pages.console_errors  # CSP included


def test_jsqr_decodes_when_the_browser_has_no_barcode_detector_and_revoked_is_refused(
    camera_pages, badge, live_app
):
    _, leo_id = badge
    page = camera_pages.new()
    page.add_init_script(NO_BARCODE_DETECTOR)
    page.goto("/signin/badge")  # no BarcodeDetector: only jsQR can have read it
    page.wait_for_url(lambda url: "/signin" not in url, timeout=20_000)
    assert "Leo" in page.locator("main").inner_text()

    with live_app.app_context():
        assert services.revoke(db.session.get(User, leo_id))
        db.session.commit()
    refused = camera_pages.new()
    refused.add_init_script(NO_BARCODE_DETECTOR)
    refused.goto("/signin/badge")
    alert = refused.locator(".form-error[role=alert]")
    alert.wait_for(timeout=20_000)
    assert "This badge was turned off" in alert.inner_text()
    assert "/signin/badge" in refused.url
    # The badge is still in front of the camera: it is not sent again until asked.
    again = refused.get_by_role("button", name="Scan again")
    assert again.is_visible()
    with refused.expect_navigation():
        again.click()
    assert "This badge was turned off" in refused.locator(".form-error").inner_text()
    # The refusals are the page's answer (422), which Chromium logs as a failed load.
    errors = [e for e in camera_pages.console_errors if "status of 422" not in e]
    assert not errors, errors


def test_a_phone_camera_opening_the_badge_link_lands_on_sign_in(pages, live_app, live_server):
    """The QR code is a link: opened by a phone's camera app, the page offers to sign in."""
    with live_app.app_context():
        leo, teacher = _people()
        payload = services.issue([leo], teacher)[0].payload(f"{live_server}/signin/badge")
        db.session.commit()
    page = pages.new()
    page.goto(payload)
    button = page.get_by_role("button", name="Sign in with this badge")
    assert button.is_visible()
    assert "WPB1" not in page.url  # the secret leaves the address bar and the history
    button.click()
    page.wait_for_url(lambda url: "/signin" not in url)
    assert "Leo" in page.locator("main").inner_text()

"""Issue 24, acceptance 1, in a real headless Chromium at 412x915 with a fake camera: a volunteer photographs a body
(the camera) and its tag (a picked file) on a recovery while the server is unreachable; the server comes back; the
phone syncs; the lead's phone (a second device of the team) shows both thumbnails; the server's stored copies hash
to the record's values. English and Arabic."""

from __future__ import annotations

import hashlib
import signal

import httpx
import pytest
from PIL import Image

from fieldapp.store import RecordStore
from fieldapp.sync.session import run_pass
from tests.records_factory import call_data
from tests.ui.driver import CHROMIUM_ARGS, PHONE, Phone, start_app, stop_app

# Chromium's own synthetic camera, granted without a prompt (the flags).
FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture(scope="module")
def camera_chromium(playwright, chromium_path):
    """A Chromium of its own with a fake camera (the session's is shared and has none)."""
    launched = playwright.chromium.launch(executable_path=chromium_path, args=[*CHROMIUM_ARGS, *FAKE_CAMERA])
    yield launched
    launched.close()


@pytest.fixture
def camera_phone(camera_chromium, language):
    """A phone at 412x915 in the test's language, its camera allowed (as a volunteer allows it once)."""
    context = camera_chromium.new_context(viewport=PHONE, locale="ar-SY" if language == "ar" else "en-US",
                                          permissions=["camera"])
    yield Phone(context.new_page())
    context.close()


def tag_photo(folder) -> bytes:
    """A photo of a tag as a phone's gallery holds one: a JPEG file."""
    image = Image.new("RGB", (1600, 1200), (200, 180, 40))
    for x in range(400, 1200):
        for y in range(500, 700, 7):
            image.putpixel((x, y), (20, 20, 20))
    path = folder / "tag-JB-7.jpg"
    image.save(path, format="JPEG", quality=92)
    return path


def _photo_nodes(phone: Phone) -> list[str]:
    return phone.page.evaluate("""() => Array.from(document.querySelectorAll('flt-semantics[flt-semantics-identifier^="thumb-"]'),
                                             e => e.getAttribute('flt-semantics-identifier'))""")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_body_and_its_tag_photographed_offline_reach_the_server_and_the_leads_phone(tmp_path, link, camera_phone, language):
    volunteer = link.device(tmp_path / "v")  # through the proxy, as a phone in the field
    lead = link.device(tmp_path / "l", role="lead", direct=True)
    call = volunteer.create_call(call_data())
    volunteer.close()
    lead.close()
    link.server.kill(signal.SIGTERM)  # unreachable from here on: the photos are taken offline
    picked = tag_photo(tmp_path)
    url, proc = start_app(tmp_path / "v", env={"FIELDAPP_LANG": language})
    phone = camera_phone
    try:
        phone.open(url)
        phone.visit(f"/call/{call['id']}/recovery")
        phone.tap("outcome-deceased")
        phone.tap("photo-kind-face")
        phone.tap("take-photo", answered=False)  # the camera, in a dialog
        phone.wait_for_text("Camera ready" if language == "en" else "الكاميرا جاهزة")  # Chromium's fake camera, started
        phone.tap("camera-shoot")  # the dialog closes; the form shows the photo
        for _ in range(100):  # the dialog's barrier goes with its closing: a tap before would land on it
            if len(_photo_nodes(phone)) == 1 and phone.node("camera-shoot").count() == 0:
                break
            phone.frames(5)
        phone.still()
        phone.tap("photo-kind-tag")
        with phone.page.expect_file_chooser() as chooser:
            phone.tap("pick-photo", answered=False)
        before = phone.drawn()
        chooser.value.set_files(str(picked))
        phone.answered(before)
        assert phone.node("photo-error").count() == 0, phone.text()
        assert len(_photo_nodes(phone)) == 2, phone.text()
        phone.tap("save-recovery")
        phone.wait_for_text("2 photos waiting" if language == "en" else "صور بانتظار الإرسال")
        link.server.start()  # the server comes back
        phone.tap("sync-badge")
        phone.tap("send-now")
        phone.wait_for_text("All sent" if language == "en" else "أُرسل الكل", timeout=60_000)
    finally:
        stop_app(proc)
    volunteer = RecordStore.open(tmp_path / "v")
    [recovery] = volunteer.recoveries_of(call["id"])
    photos = recovery.record["data"]["photos"]
    assert [p["kind"] for p in photos] == ["face", "tag"]
    assert photos[1]["sha256"] == hashlib.sha256(picked.read_bytes()).hexdigest()  # the picked file, unaltered
    assert volunteer.photos.counts()["photos_waiting"] == 0
    volunteer.close()
    token = link.server.enroll(link.team, "investigator", "lead")
    for photo in photos:
        for sha in (photo["sha256"], photo["preview"]["sha256"]):
            got = httpx.get(f"{link.server.url}/api/v1/photos/{sha}", headers={"Authorization": f"Bearer {token}"}, timeout=30)
            assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == sha
    # The lead's phone syncs (its worker's pass, run here before its app starts, as tests/ui/test_review_e2e.py
    # does: the app's own first pass would race the test's taps), and shows both thumbnails on the record screen.
    lead = RecordStore.open(tmp_path / "l")
    assert run_pass(lead, tmp_path / "l").error is None
    lead.close()
    url, proc = start_app(tmp_path / "l", env={"FIELDAPP_LANG": language})
    try:
        lead_phone = Phone(camera_phone.page.context.new_page())
        lead_phone.open(url)
        lead_phone.visit(f"/record/{recovery.id}")
        lead_phone.wait_for("record-photos")
        shown = _photo_nodes(lead_phone)
        assert sorted(shown) == sorted(f"thumb-{p['sha256'][:12]}" for p in photos), shown
        said = "Preview from the server" if language == "en" else "معاينة من الخادم"
        assert lead_phone.text().count(said) >= 2, lead_phone.text()  # each thumbnail says where its photo is
        lead_phone.tap(f"thumb-{photos[0]['sha256'][:12]}", answered=False)  # opened large
        lead_phone.wait_for("photo-large")
        lead_phone.shot(f"photos-lead-{language}")
    finally:
        stop_app(proc)
    lead = RecordStore.open(tmp_path / "l")
    assert set(lead.photos.entries()) == {p["preview"]["sha256"] for p in photos}
    lead.close()

"""A wipe, looked at as someone with the raw disk image would: a real ext4 filesystem on a loop device.

Flash and ext4 keep freed blocks: old copies of `keys.json` (each save of it is
a new file, renamed over the old) and old sealed files stay in the image after
a wipe. With the keystore (a stand-in here), every copy of `keys.json` needs
the keystore's secret, which the wipe destroyed first: the right PIN with any
copy found in the image opens nothing, and no plain text is there.

Needs root (mount); skipped elsewhere with the reason. CI runs as root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fieldapp.store import RecordStore, keystore, protect, rekey
from fieldapp.store.vault import KeyFile
from fieldapp.sync import enrollment
from tests.conftest import REQUIRE_ALL
from tests.records_factory import call_data, recovery_data
from tests.store.test_protect import NAME, PHONE, PIN, PLACE, SECRETS, TOKEN

NEW_PIN = "907153"


def _unavailable(reason: str) -> None:
    if REQUIRE_ALL and os.geteuid() == 0:
        pytest.fail(f"a loop-mounted image is needed here: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def ext4(tmp_path):
    """A small ext4 filesystem in a file, loop-mounted; yields (image file, mount point)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a filesystem image needs root (CI runs as root)")
    if not shutil.which("mkfs.ext4"):
        _unavailable("mkfs.ext4 is not installed (e2fsprogs)")
    image, mount = tmp_path / "phone.img", tmp_path / "mnt"
    mount.mkdir()
    subprocess.run(["truncate", "-s", "16M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True, capture_output=True)
    mounted = subprocess.run(["mount", "-o", "loop", str(image), str(mount)], capture_output=True, text=True)
    if mounted.returncode != 0:
        _unavailable(f"mount -o loop failed: {mounted.stderr.strip()}")
    try:
        yield image, mount
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


def _key_files_in(raw: bytes) -> list[dict]:
    """Every copy of keys.json whose bytes are still in the image (freed blocks included)."""
    text = raw.decode("latin-1")
    found, decoder = [], json.JSONDecoder()
    for match in re.finditer(r'\{"(?:duress|format)"', text):
        try:
            data, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(data, dict) and "wrapped" in data and data not in found:
            found.append(data)
    return found


def test_a_wiped_store_on_an_ext4_image_leaves_nothing_that_opens(ext4, tmp_path):
    image, mount = ext4
    held = keystore.FileKeystore(tmp_path / "platform-keystore.json")  # the phone's keystore: not in the image
    keystore.use(held)
    folder = mount / "device"
    try:
        RecordStore.open(folder).close()  # a new phone: the PIN is set before the first record
        protect.set_pin(folder, PIN)
        store = RecordStore.open(folder)
        call = store.create_call(call_data(location={"place": PLACE}, caller_phone=PHONE))
        store.create_recovery(recovery_data(call["id"], name=NAME, identified=True))
        store.create_recovery(recovery_data(call["id"], name="هالة درويش"))
        store.edit(call["id"], data=call_data(location={"place": PLACE}, caller_phone=PHONE, status="dispatched"))
        store.close()
        enrollment.save(folder, enrollment.Enrollment("https://sync.example.org", TOKEN))
        rekey.change_pin(folder, PIN, NEW_PIN)  # another copy of keys.json, the old one freed
        entry = KeyFile.load(folder).keystore_entry
        secret = held.get(entry)
        os.sync()

        protect.wipe(folder)
    finally:
        protect.forget(folder)
        keystore.use(None)
    subprocess.run(["umount", str(mount)], check=True)
    raw = image.read_bytes()

    found = [secret_text for secret_text in SECRETS if secret_text in raw]
    assert found == [], f"plain text left in the image: {found}"
    copies = _key_files_in(raw)
    assert copies, "no copy of keys.json was left in the freed blocks: this image shows nothing"
    assert held.get(entry) is None  # the keystore's entry went first
    for data in copies:
        keys = KeyFile(Path("keys.json"), data)
        assert keys.keystore_entry == entry
        for pin in (PIN, NEW_PIN):  # the right PINs, with what the image and the keystore still hold: nothing
            with pytest.raises(protect.WrongPin):
                keys.unwrap(pin)
    # What made the difference: with the secret the wipe destroyed, an old copy would have opened.
    assert any(_opens(KeyFile(Path("keys.json"), data), secret) for data in copies)


def _opens(keys: KeyFile, secret: bytes) -> bool:
    for pin in (PIN, NEW_PIN):
        try:
            keys.unwrap(pin, secret)
            return True
        except protect.WrongPin:
            pass
    return False

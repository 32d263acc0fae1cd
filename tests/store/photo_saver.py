"""A process that attaches photos to a record in a loop until it is killed (tests/store/test_photo_store.py).

After each attach returns it prints `<original sha256> <preview sha256> <version>`.
"""

import io
import os
import sys

from PIL import Image

from fieldapp.core.records import PhotoKind
from fieldapp.store import RecordStore
from fieldapp.store.attach import attach
from tests.records_factory import call_data


def jpeg(n: int) -> bytes:
    image = Image.frombytes("RGB", (400, 300), os.urandom(400 * 300 * 3))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90, comment=f"photo {n}".encode())
    return out.getvalue()


def main(folder: str) -> None:
    store = RecordStore.open(folder, pin=os.environ.get("FIELDAPP_PIN"))
    call = store.create_call(call_data())
    n = 0
    while True:
        n += 1
        version = attach(store, call["id"], jpeg(n), kind=PhotoKind.SCENE, taken_at="2026-11-25T10:05:00+03:00")
        photo = version["data"]["photos"][-1]
        print(call["id"], photo["sha256"], photo["preview"]["sha256"], version["version"], flush=True)
        if n % 40 == 0:  # a new record: a version stays well under the 50 photos a version may list
            call = store.create_call(call_data())


if __name__ == "__main__":
    main(sys.argv[1])

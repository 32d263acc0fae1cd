"""Schema 3: a version lists its photos by hash; older records unchanged; photos are personal."""

from __future__ import annotations

import hashlib
import json

from fieldapp.core.exports import to_jsonl
from fieldapp.core.records import (
    PersonalField,
    PhotoKind,
    normalize,
    photo_hashes,
    schema_version,
    validate_record,
)
from tests.records_factory import call_record, recovery_data, recovery_record

ORIGINAL = b"\xff\xd8\xff\xe0 original bytes of a photo \xff\xd9"
PREVIEW = b"\xff\xd8\xff\xe0 preview \xff\xd9"


def photo(kind: str = "face", original: bytes = ORIGINAL, preview: bytes | None = PREVIEW) -> dict:
    out = {"sha256": hashlib.sha256(original).hexdigest(), "size": len(original), "media_type": "image/jpeg",
           "taken_at": "2026-11-25T11:31:00+03:00", "kind": kind}
    if preview is not None:
        out["preview"] = {"sha256": hashlib.sha256(preview).hexdigest(), "size": len(preview), "media_type": "image/jpeg"}
    return out


def recovery_with_photos(*photos: dict) -> dict:
    call = call_record()
    return recovery_record(call["id"], data=recovery_data(call["id"], photos=list(photos)))


def test_a_recovery_with_photos_is_schema_3_and_a_call_may_hold_them_too():
    record = recovery_with_photos(photo("face"), photo("tag", b"the tag", None))
    assert validate_record(record) == [] and schema_version(record) == 3
    call = call_record()
    call["data"]["photos"] = [photo("scene")]
    assert validate_record(call) == [] and schema_version(call) == 3
    assert photo_hashes(record) == {hashlib.sha256(b) .hexdigest() for b in (ORIGINAL, PREVIEW, b"the tag")}
    assert {k.value for k in PhotoKind} >= {"face", "marks", "clothing", "effects", "tag", "documents", "scene"}


def test_older_records_are_unchanged_byte_for_byte():
    call = call_record()
    recovery = recovery_record(call["id"], data=recovery_data(call["id"], conditions=["bound"]))
    for record, version in ((call, 1), (recovery, 2)):
        plain = normalize(record)
        assert json.dumps(plain, sort_keys=True) == json.dumps(normalize(plain), sort_keys=True)
        assert "photos" not in plain["data"] and schema_version(plain) == version


def test_a_photo_is_refused_on_a_bad_hash_a_twice_listed_photo_a_preview_not_jpeg_an_unknown_kind():
    bad_hash = {**photo(), "sha256": "ABC"}
    twice = [photo(), photo()]
    png_preview = photo()
    png_preview["preview"]["media_type"] = "image/png"
    unknown_kind = photo("selfie")
    no_size = {k: v for k, v in photo().items() if k != "size"}
    for photos, field in (([bad_hash], "data.photos.0.sha256"), (twice, "data.photos"),
                          ([png_preview], "data.photos.0.preview"), ([unknown_kind], "data.photos.0.kind"),
                          ([no_size], "data.photos.0.size")):
        errors = validate_record(recovery_with_photos(*photos))
        assert [e.field for e in errors] == [field], (field, errors)


def test_photos_are_personal_left_out_of_exports_unless_asked_and_withheld_like_names():
    record = normalize(recovery_with_photos(photo()))
    sha = record["data"]["photos"][0]["sha256"]
    assert sha not in to_jsonl([record]) and "photos" not in json.loads(to_jsonl([record]))["data"]
    assert sha in to_jsonl([record], include_personal=True)
    assert PersonalField.PHOTOS.value == "data.photos"

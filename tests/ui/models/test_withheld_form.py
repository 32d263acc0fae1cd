"""A record whose personal fields the server withheld: the form shows them as withheld, not as empty to fill.

The phone's correction goes out without them and with the marker, so the server keeps its values.
"""

from __future__ import annotations

from fieldapp.ui.routing import Screen
from tests.records_factory import call_record, recovery_data, recovery_record


def test_a_withheld_name_and_receiver_are_not_offered_as_empty_and_the_correction_keeps_the_marker(state):
    call = call_record(device_id="inst-a", withheld=["data.caller_phone"])
    recovery = recovery_record(call["id"], device_id="inst-a", withheld=["data.name", "data.handover.receiver"],
                               data=recovery_data(call["id"], identified=True, handover={"to": "hospital"}))
    state.session.store.save_pulled([call, recovery])

    state.recovery.open(recovery["id"])
    assert state.session.withheld == {"name", "handover_receiver"}
    assert state.t("field.withheld").startswith("Withheld from this phone")
    state.recovery.form.count = "2"
    saved = state.recovery.save()
    assert saved is not None, state.session.errors
    assert saved["withheld"] == ["data.name", "data.handover.receiver"] and "name" not in saved["data"]
    assert saved["data"]["handover"] == {"to": "hospital"} and saved["data"]["count"] == 2

    state.call.open_edit(call["id"])
    assert state.session.withheld == {"caller_phone"}
    state.go(Screen.NEW_CALL)  # a new call withholds nothing
    assert state.session.withheld == frozenset()

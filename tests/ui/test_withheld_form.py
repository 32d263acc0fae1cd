"""A record whose personal fields the server withheld: the form shows them as withheld, not as empty to fill.

The phone's correction goes out without them and with the marker, so the server keeps its values.
"""

from __future__ import annotations

from tests.records_factory import call_record, recovery_data, recovery_record
from tests.ui.test_state import state  # noqa: F401  (fixture: the app's state on an English phone)


def test_a_withheld_name_and_receiver_are_not_offered_as_empty_and_the_correction_keeps_the_marker(state):
    call = call_record(device_id="inst-a", withheld=["data.caller_phone"])
    recovery = recovery_record(call["id"], device_id="inst-a", withheld=["data.name", "data.handover.receiver"],
                               data=recovery_data(call["id"], identified=True, handover={"to": "hospital"}))
    state.store.save_pulled([call, recovery])

    state.edit_recovery(recovery["id"])
    assert state.withheld == {"name", "handover_receiver"}
    assert state.t("field.withheld").startswith("Withheld from this phone")
    state.recovery_form.count = "2"
    saved = state.save_recovery()
    assert saved is not None, state.errors
    assert saved["withheld"] == ["data.name", "data.handover.receiver"] and "name" not in saved["data"]
    assert saved["data"]["handover"] == {"to": "hospital"} and saved["data"]["count"] == 2

    state.call_id = call["id"]
    state.edit_call()
    assert state.withheld == {"caller_phone"}
    state.go("new_call")  # a new call withholds nothing
    assert state.withheld == frozenset()

"""A call: the new call's form (or a call's correction), and the call's page with its status steps and recoveries."""

from __future__ import annotations

import flet as ft

from fieldapp.core.records import CallStatus, IncidentType, Outcome, ReviewState
from fieldapp.store.document import SyncState
from fieldapp.ui import messages
from fieldapp.ui.models.call import STATUS_STEPS
from fieldapp.ui.models.home import place_of
from fieldapp.ui.models.refusals import refusal_lines
from fieldapp.ui.models.session import Ask
from fieldapp.ui.state import AppState
from fieldapp.ui.views.frame import frame
from fieldapp.ui.views.landing import land, refusal_said, scroll_key
from fieldapp.ui.views.photos import photo_part, record_photos
from fieldapp.ui.views.widgets import (
    EDGE,
    EDGE_WIDTH,
    INCIDENT_ICONS,
    Navigator,
    big_button,
    card,
    choice,
    confirmation,
    field,
    heading,
    notice,
    sync_line,
    tagged,
)

INCIDENT_TYPES = [i.value for i in IncidentType]


def new_call(state: AppState, ui: Navigator) -> ft.View:
    t, model, form = state.t, state.call, state.call.form
    errors = state.session.errors

    def pick(kind):
        def choose(_):
            model.pick_type(kind)
            ui.redraw()
        return choose

    # A tile is as high and as wide as its words need (a fixed height cut them at large text); its edge shows
    # it against the page (the fill alone is 1.2:1), and a screen reader reads its name once, and whether chosen.
    tiles = [
        tagged(f"type-{kind}", selected=form.incident_type == kind, control=ft.Container(
            content=ft.Column(horizontal_alignment=ft.CrossAxisAlignment.CENTER, spacing=2, tight=True, controls=[
                ft.Icon(INCIDENT_ICONS[kind], size=30), ft.Text(t(f"incident.{kind}"), size=14, text_align=ft.TextAlign.CENTER),
            ]),
            on_click=pick(kind), padding=ft.Padding.symmetric(horizontal=12, vertical=10), border_radius=12,
            bgcolor=ft.Colors.PRIMARY_CONTAINER if form.incident_type == kind else ft.Colors.SURFACE_CONTAINER_HIGHEST,
            border=ft.Border.all(3, ft.Colors.PRIMARY) if form.incident_type == kind else ft.Border.all(EDGE_WIDTH, EDGE),
        ))
        for kind in INCIDENT_TYPES
    ]

    def use_place(place):
        def choose(_):
            form.place = place
            ui.redraw()
        return choose

    recent = [choice(t.isolate(p), use_place(p), identifier=f"place-{i}", selected=form.place == p)  # typed: its own direction
              for i, p in enumerate(model.recent_places())]

    async def save(e):
        page = e.page  # read before the redraw replaces the button
        model.save()
        ui.redraw()
        await land(page, state)  # a refused save: to its first refused field, said aloud

    location_note = []
    if form.lat is not None:
        location_note.append(ft.Text(t("call.location_set", accuracy=round(form.accuracy_m or 0)), size=14))
    if errors.get("location"):
        location_note.append(ft.Text(errors["location"], color=ft.Colors.ERROR, size=14))
    if errors.get("form"):
        location_note.append(ft.Text(errors["form"], color=ft.Colors.ERROR, size=15))
    editing = bool(model.editing)
    return frame(state, ui, state.route(), t("call.edit") if editing else t("call.new_title"), [
        *refusal_said(state),
        heading(t("call.type"), key=scroll_key("incident_type")),
        *([ft.Text(errors["incident_type"], color=ft.Colors.ERROR)] if "incident_type" in errors else []),
        ft.Row(controls=tiles, wrap=True, spacing=6, run_spacing=6),
        field(state, form, "place", t("call.place")),
        *([ft.Text(t("call.recent_places"), size=14), ft.Row(controls=recent, wrap=True, spacing=6, run_spacing=6)]
          if recent else []),
        big_button(t("call.use_location"), ui.locate, identifier="use-location", icon=ft.Icons.MY_LOCATION, filled=False,
                   primary=False),
        *location_note,
        field(state, form, "received_at", t("call.received_at"), keyboard=ft.KeyboardType.DATETIME),
        field(state, form, "reported_people", t("call.reported_people"), keyboard=ft.KeyboardType.NUMBER),
        field(state, form, "caller_phone", t("call.caller_phone"), keyboard=ft.KeyboardType.PHONE),
        field(state, form, "notes", t("call.notes"), multiline=True),
        *photo_part(state, ui, model.photos, editable=True),  # the scene
    ], back=True, footer=big_button(t("call.save"), save, identifier="save-call", icon=ft.Icons.SAVE))


def call(state: AppState, ui: Navigator, call_id: str, *, top: bool = True) -> ft.View:
    t = state.t
    model = state.call
    page = model.page(call_id)
    if page is None:
        return frame(state, ui, f"/call/{call_id}", t("label.call"), [ft.Text(t("home.empty"))], back=True)
    record = page.stored.record
    data = record["data"]

    def step(status, confirmed=False):
        def mark(_):
            model.set_status(status, confirmed=confirmed)
            ui.redraw()
        return mark

    steps = [
        big_button(t(f"status.{s.value}"), step(s), identifier=f"status-{s.value}", filled=False,
                   selected=data["status"] == s, primary=False)
        for s in STATUS_STEPS
    ] if page.editable else []
    # The time of each step on a line of its own: inside a button it would wrap and be cut.
    times = t.join(t.join([t('status.' + e['status']), e['at'][11:16]], sep=" ") for e in data.get("status_log", []))
    sync_state = page.stored.state
    sync_note: list[ft.Control] = [sync_line(state, sync_state, size=16)]
    if sync_state is SyncState.REJECTED:
        sync_note += [ft.Text(line, color=ft.Colors.ERROR, size=15) for line in refusal_lines(page.stored.errors, t)]
    elif sync_state is SyncState.CONFLICT:
        sync_note.append(ft.Text(t("sync.conflict"), color=ft.Colors.TERTIARY))
    review = record.get("review") or {}
    if review.get("state") == ReviewState.FLAGGED:
        sync_note.append(ft.Text(t("home.flagged", note=review.get("note") or "—"), color=ft.Colors.ERROR, size=15))
    recoveries = []
    for r in page.recoveries:
        rd = r.record["data"]
        withdrawn = bool(rd.get("withdrawn"))
        title = f"{t('outcome.' + rd['outcome'])} × {t.isolate(rd['count'])}"
        handover = t("handover." + rd["handover"]["to"]) if rd.get("handover") else rd.get("handed_to")
        detail = t.join([rd["recovered_at"][11:16], rd.get("tag"), handover])
        recoveries.append(card(f"recovery-{r.id}", lambda _, i=r.id: ui.go(f"/recovery/{i}"), padding=10,
                               content=ft.Row(controls=[
                ft.Icon(ft.Icons.PERSON if rd["outcome"] != Outcome.DECEASED else ft.Icons.REMOVE_CIRCLE_OUTLINE, size=28),
                ft.Column(spacing=2, expand=True, controls=[
                    ft.Text(title, size=16, weight=ft.FontWeight.BOLD,
                            style=ft.TextStyle(decoration=ft.TextDecoration.LINE_THROUGH) if withdrawn else None),
                    ft.Text(detail, size=14),
                    *([ft.Text(t("recovery.withdrawn"), color=ft.Colors.ERROR, size=14)] if withdrawn else []),
                    sync_line(state, r.state, size=14),
                ]),
                ft.Icon(ft.Icons.CHEVRON_RIGHT),
            ])))
    location = data.get("location") or {}
    # A place's name keeps its own direction; coordinates read left to right in either language.
    place = t.isolate(location["place"]) if location.get("place") else t.ltr(place_of(record))
    day = data["received_at"][:10]
    when = (data["received_at"][11:16] if day == state.session.today()
            else t.join([messages.long_date(day, t), data["received_at"][11:16]], sep=" "))
    return frame(state, ui, f"/call/{call_id}", t("incident." + data["incident_type"]), [
        *(notice(state) if top else []),
        ft.Text(place, size=18, weight=ft.FontWeight.BOLD),
        ft.Text(t.join([when, t('status.' + data['status'])]), size=16),
        ft.Text(t("home.people", **page.people), size=16),
        *sync_note,
        *([ft.Text(t("call.read_only"), italic=True)] if not page.editable else []),
        *record_photos(state, state.photos.lines(page.stored)),
        heading(t("call.status")),
        # Each step as wide as its word, wrapping to the next line: in a grid of halves, "Dispatched" at 2x text
        # was wider than its cell and broke mid-word.
        ft.Row(wrap=True, controls=steps, spacing=6, run_spacing=6),
        *(confirmation(state, ui, t("confirm.cancel_call_button"), step(CallStatus.CANCELLED, confirmed=True),
                       identifier="confirm-cancelled") if state.session.asking(Ask.CANCEL_CALL, call_id) else []),
        *([ft.Text(times, size=15)] if times else []),
        heading(t("call.recoveries")),
        *recoveries,
        *([big_button(t("call.add_recovery"), lambda _: ui.go(f"/call/{call_id}/recovery"), identifier="add-recovery",
                      icon=ft.Icons.PERSON_ADD),
           big_button(t("call.edit"), lambda _: ui.go(f"/call/{call_id}/edit"), identifier="edit-call",
                      icon=ft.Icons.EDIT, filled=False, primary=False)]
          if page.editable else []),
    ], back=True)

"""The lead's day queue: the day's calls and recoveries, filters, reviews, Approve all, the export."""

from __future__ import annotations

import flet as ft

from fieldapp.core.records import CallStatus, IncidentType, RecordType, ReviewState
from fieldapp.store import StoredRecord
from fieldapp.store.document import SyncState
from fieldapp.ui import messages
from fieldapp.ui.models.call import STATUS_STEPS
from fieldapp.ui.models.queue import FILTERS, Card, QueueModel
from fieldapp.ui.models.refusals import refusal_lines
from fieldapp.ui.state import AppState
from fieldapp.ui.views.frame import frame
from fieldapp.ui.views.widgets import (
    EDGE,
    EDGE_WIDTH,
    Navigator,
    big_button,
    choice,
    confirmation,
    fold,
    icon_button,
    notice,
    switch,
    sync_line,
    tagged,
)


def _flag_form(state: AppState, ui: Navigator, q: QueueModel) -> ft.Control:
    """The flag's note, under the record flagged: Flag saves the review with it."""
    t = state.t

    def typed(e):
        q.note = e.control.value or ""

    def done(_):
        q.save_flag()
        ui.redraw()

    def cancel(_):
        q.cancel_flag()
        ui.redraw()

    return ft.Column(spacing=6, controls=[
        tagged("field-flag-note", ft.TextField(label=t("queue.flag_for"), value=q.note, on_change=typed,
                                               multiline=True, min_lines=2, text_size=16, autofocus=True)),
        ft.Row(wrap=True, controls=[
            big_button(t("queue.flag_save"), done, identifier="flag-save", primary=False),
            big_button(t("common.cancel"), cancel, identifier="flag-cancel", filled=False, primary=False),
        ]),
    ])


def _record_lines(state: AppState, ui: Navigator, stored: StoredRecord, c: Card) -> list[ft.Control]:
    """One record of the queue: what a lead needs to judge it, its sync state, and what the lead can do.

    Its heading opens the whole record with its versions (/record/<id>)."""
    t, q = state.t, state.queue
    is_call = stored.type == RecordType.CALL
    lines: list[ft.Control] = [
        tagged(f"open-{stored.id}", ft.Container(
            on_click=lambda _: ui.go(f"/record/{stored.id}"), padding=ft.Padding.symmetric(vertical=14, horizontal=10),
            border=ft.Border.all(EDGE_WIDTH, EDGE), border_radius=10,  # a tappable box shows its edge (3:1)
            content=ft.Row(spacing=6, controls=[
                ft.Text(c.title, size=15, weight=ft.FontWeight.BOLD if is_call else None, expand=True),
                ft.Icon(ft.Icons.CHEVRON_LEFT if t.rtl else ft.Icons.CHEVRON_RIGHT, size=20),
            ]))),
        ft.Text("\n".join(c.lines), size=14),  # one text: a day of 150 records is many controls already
        sync_line(state, stored.state, size=14),
    ]
    if c.withdrawn:
        lines.append(tagged(f"withdrawn-{stored.id}", ft.Text(t("queue.withdrawn_card"), color=ft.Colors.ERROR,
                                                               size=14, weight=ft.FontWeight.BOLD)))
    if c.settled_by:
        lines.append(ft.Text(t("queue.settled_by", device=c.settled_by), size=14, color=ft.Colors.TERTIARY))
    if c.review == ReviewState.FLAGGED:
        lines.append(ft.Text(t("home.flagged", note=c.flag_note or "—"), color=ft.Colors.ERROR, size=14))
    lines += [ft.Text(line, color=ft.Colors.ERROR, size=14) for line in refusal_lines(stored.errors, t)]

    def approve(_):
        q.approve(stored.id)
        ui.redraw()

    def flag(_):
        q.start_flag(stored.id, c.flag_note or "")
        ui.redraw()

    if stored.state is SyncState.CONFLICT:
        actions = [big_button(t("queue.resolve"), lambda _: ui.go(f"/conflict/{stored.id}"),
                              identifier=f"resolve-{stored.id}", filled=False, primary=False)]
    else:
        actions = [
            big_button(c.approve_label(t), approve, identifier=f"approve-{stored.id}",
                       filled=False, selected=c.review == ReviewState.APPROVED, primary=False),
            big_button(t("queue.flag"), flag, identifier=f"flag-{stored.id}",
                       filled=False, selected=c.review == ReviewState.FLAGGED, primary=False),
        ]
    lines.append(ft.Row(wrap=True, controls=actions))
    if q.flagging == stored.id:
        lines.append(_flag_form(state, ui, q))
    return lines


def _filters(state: AppState, ui: Navigator) -> list[ft.Control]:
    """By review or sync state (chips), by incident type and by status (menus)."""
    t, q = state.t, state.queue

    def choose(flt):
        def pick(_):
            q.filter = flt
            ui.redraw()
        return pick

    def pick_type(e):
        q.incident_type = e.control.value or None
        ui.redraw()

    def pick_status(e):
        q.status = e.control.value or None
        ui.redraw()

    chips = ft.Row(wrap=True, spacing=6, run_spacing=6, controls=[
        choice(t(f"queue.{name}"), choose(None if name == "all" else name), identifier=f"filter-{name}",
               selected=(q.filter or "all") == name)
        for name in ("all", *FILTERS)
    ])
    every = ft.DropdownOption(key="", text=t("queue.all"))
    chosen_type = t(f"incident.{q.incident_type}") if q.incident_type else t("queue.all")
    chosen_status = t(f"status.{q.status}") if q.status else t("queue.all")
    menus = ft.Row(wrap=True, controls=[  # a menu's node has no name of its own: its label and its choice
        tagged("filter-type", label=f"{t('call.type')}: {chosen_type}", control=ft.Dropdown(
            label=t("call.type"), value=q.incident_type or "", on_select=pick_type,
                                          options=[every] + [ft.DropdownOption(key=k.value, text=t(f"incident.{k.value}"))
                                                             for k in IncidentType])),
        tagged("filter-status", label=f"{t('call.status')}: {chosen_status}", control=ft.Dropdown(
            label=t("call.status"), value=q.status or "", on_select=pick_status,
                                            options=[ft.DropdownOption(key="", text=t("queue.all"))]
                                            + [ft.DropdownOption(key=s.value, text=t(f"status.{s.value}"))
                                               for s in (CallStatus.RECEIVED, *STATUS_STEPS)])),
    ])

    def search(e):
        q.search = e.control.value or ""

    def toggle(_):
        q.filters_open = not q.filters_open
        ui.redraw()

    sep = t("list.sep")
    active = sep.join([*([t(f"queue.{q.filter}")] if q.filter else []), *([chosen_type] if q.incident_type else []),
                       *([chosen_status] if q.status else []), *([q.search] if q.search else [])]) or t("queue.all")
    shown = fold(t("queue.filters", active=active), q.filters_open, toggle, identifier="filters")
    if not q.filters_open:
        return [shown]
    return [shown, tagged("field-search", ft.TextField(label=t("queue.search"), value=q.search, on_change=search,
                                                       on_submit=lambda _: ui.redraw(), text_size=18)), chips, menus]


def queue(state: AppState, ui: Navigator) -> ft.View:
    t, q = state.t, state.queue

    def set_day(e):
        q.set_day(e.control.value or "")

    def show_more(_):
        q.show_more()
        ui.redraw()

    def approve_all(confirmed: bool):
        def act(_):
            q.approve_all(confirmed=confirmed)
            ui.redraw()
        return act

    def export(fmt):
        async def act(_):
            path = q.export(fmt)
            ui.redraw()
            await ui.offer_file(path)
        return act

    cards: list[ft.Control] = []
    items = q.items()
    settled = q.settled()
    for item in items[:q.shown]:
        lines: list[ft.Control] = []
        for stored, c in q.cards(item, settled):
            if stored is item.call and not item.call_of_day:  # the call of the day before: its recoveries' context
                lines.append(ft.Text(t("queue.call_other_day"), italic=True, size=14))
            lines += _record_lines(state, ui, stored, c)
        if item.call is None:
            lines.insert(0, ft.Text(t("queue.no_call"), italic=True))
        cards.append(ft.Card(content=ft.Container(padding=10, content=ft.Column(spacing=4, controls=lines))))
    asked = state.session.confirming
    # Drawn anew, the queue opens at its top, where its day's actions are: a plain column keeps no offset to go
    # back to (only a long list's is kept, frame.py). A plain column, 30 calls at a time: opening a record over
    # it costs no more at 150 calls than at 5 once the screens under the top one are out of Flet's diff
    # (app.py). A lazy list was tried: at 2x text its cards' nodes were read clipped mid-list (the 2x check in
    # tests/ui/test_a11y_e2e.py), and it left what it had not built out of the accessibility tree. The day's
    # actions stand above the cards, in reach without scrolling the day; not in a fixed bar, which at a large
    # text size would leave the cards too little of the screen.
    approve = (confirmation(state, ui, t("confirm.approve_all_button", n=len(asked.ids)), approve_all(True),
                            identifier="approve-all")
               if asked is not None and q.asking_approve_all() else
               [big_button(t("queue.approve_all"), approve_all(False), identifier="approve-all", icon=ft.Icons.DONE_ALL)])
    return frame(state, ui, "/queue", t("queue.title"), [
        *notice(state),
        ft.Text(messages.long_date(q.day, t), size=17, weight=ft.FontWeight.BOLD),
        tagged("field-day", ft.TextField(label=t("queue.day"), value=q.day, on_change=set_day,
                                         on_submit=lambda _: ui.redraw(), text_size=18,
                                         suffix=icon_button(ft.Icons.REFRESH, t("queue.show_day"), lambda _: ui.redraw(),
                                                            identifier="show-day"))),
        *approve,
        ft.Row(wrap=True, controls=[
            big_button(t("queue.figures"), lambda _: ui.go("/queue/figures"), identifier="open-figures",
                       icon=ft.Icons.BAR_CHART, filled=False, primary=False),
            big_button(t("queue.export_csv"), export("csv"), identifier="export-csv", icon=ft.Icons.DOWNLOAD,
                       filled=False, primary=False),
            big_button(t("queue.export_geojson"), export("geojson"), identifier="export-geojson", icon=ft.Icons.MAP,
                       filled=False, primary=False),
        ]),
        switch(t("queue.export_personal"), q.include_personal,
               lambda e: q.set_export_personal(bool(e.control.value)), identifier="export-personal"),
        *_filters(state, ui),
        *(cards or [ft.Text(t("queue.empty"), size=16)]),
        *([big_button(t("queue.show_more", n=len(items) - q.shown), show_more, identifier="show-more",
                      filled=False, primary=False)] if len(items) > q.shown else []),
    ])

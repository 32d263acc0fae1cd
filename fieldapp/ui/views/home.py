"""Home (today's calls and every call still open) and the outbox the sync badge opens."""

from __future__ import annotations

import flet as ft

from fieldapp.core.records import ReviewState
from fieldapp.ui import messages
from fieldapp.ui.models.home import HOME_PAGE
from fieldapp.ui.state import AppState
from fieldapp.ui.views.frame import frame
from fieldapp.ui.views.widgets import INCIDENT_ICONS, Navigator, big_button, card, notice, sync_line


def home(state: AppState, ui: Navigator) -> ft.View:
    t, model = state.t, state.home
    today = state.session.today()
    cards: list[ft.Control] = []
    rows = model.rows()
    for row in rows[:model.limit]:
        what = t.join([t('incident.' + row.incident_type), row.place])
        when = row.time if row.day == today else t.join([t('home.still_open', day=messages.long_date(row.day, t)), row.time])
        lines = [
            ft.Text(what, size=17, weight=ft.FontWeight.BOLD),
            ft.Text(f"{t.join([when, t('status.' + row.status)])}\n{t('home.people', **row.people)}", size=15),
            sync_line(state, row.state),
        ]
        if row.review is ReviewState.FLAGGED:
            lines.append(ft.Text(t("home.flagged", note=row.review_note or "—"), color=ft.Colors.ERROR, size=15))
        # Its name is the words on it (a label as well would be read twice).
        cards.append(card(f"call-{row.id}", lambda _, i=row.id: ui.go(f"/call/{i}"),
                          ft.Row(vertical_alignment=ft.CrossAxisAlignment.START, controls=[
                              ft.Icon(INCIDENT_ICONS[row.incident_type], size=32),
                              ft.Column(spacing=2, expand=True, controls=lines),
                          ])))

    def more(_):
        model.more()
        ui.redraw()

    if len(rows) > model.limit:  # a long day comes a page at a time: the first page is drawn at once
        cards.append(big_button(t("home.more", n=min(HOME_PAGE, len(rows) - model.limit), m=len(rows)), more,
                                identifier="home-more", icon=ft.Icons.EXPAND_MORE, filled=False, primary=False))
    return frame(state, ui, "/", t("home.today"), [
        *notice(state),
        *(cards or [ft.Text(t("home.empty"), size=16)]),
    ], fab=True, lazy=True)


def outbox(state: AppState, ui: Navigator) -> ft.View:
    """What the badge stands for: the records still waiting, refused or in conflict."""
    t = state.t
    cards: list[ft.Control] = []
    for row in state.outbox.rows():
        cards.append(card(f"outbox-{row.id}", lambda _, r=row.route: ui.go(r), ft.Column(spacing=4, controls=[
            ft.Text(row.title, size=16, weight=ft.FontWeight.BOLD),
            sync_line(state, row.state),
            *[ft.Text(line, color=ft.Colors.ERROR, size=15) for line in row.reasons],
        ])))

    def send(_):
        state.outbox.send_now()
        ui.redraw()

    return frame(state, ui, "/sync", t("outbox.title"), [
        *notice(state),
        big_button(t("settings.send_now"), send, identifier="send-now", icon=ft.Icons.SYNC),
        *(cards or [ft.Text(t("outbox.empty"), size=16)]),
    ], back=True, lazy=True)

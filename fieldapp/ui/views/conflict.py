"""A conflict: this phone's values beside the other device's, field by field; the lead's combination."""

from __future__ import annotations

import flet as ft

from fieldapp.ui import messages
from fieldapp.ui.models import reading
from fieldapp.ui.models.conflict import Settled, conflict_value
from fieldapp.ui.state import AppState
from fieldapp.ui.views.frame import frame
from fieldapp.ui.views.widgets import Navigator, big_button, confirmation, switch, tagged


def your_change(t, plan) -> list[ft.Control]:
    """The lead's own change: what the Save button writes over the server's version, field by field."""
    if plan is None:
        return []
    lines: list[ft.Control] = []
    for c in plan.changes:
        lines.append(ft.Text(t("conflict.change_line", label=messages.label(c.field, t),
                               was=conflict_value(t, c.field, c.server), now=conflict_value(t, c.field, c.result)),
                             size=15))
    if not lines:
        lines.append(ft.Text(t("conflict.change_none"), size=15))
    dropped = list(dict.fromkeys(messages.label(f, t) for f in plan.dropped))
    if dropped:
        lines.append(ft.Text(t("conflict.change_dropped", labels=t.list(dropped)), size=15))
    return [tagged("your-change", ft.Container(
        padding=10, border_radius=8, bgcolor=ft.Colors.PRIMARY_CONTAINER,
        content=ft.Column(spacing=4, controls=[
            ft.Text(t("conflict.your_change"), weight=ft.FontWeight.BOLD, size=16, color=ft.Colors.ON_PRIMARY_CONTAINER),
            *lines,
        ]),
    ))]


def conflict(state: AppState, ui: Navigator) -> ft.View:
    t, model = state.t, state.conflict
    record_id = model.record_id
    stored = model.record()
    differences = model.differences()
    ticked = model.keep
    plan = model.plan()

    def tick(path):
        def toggle(e):
            model.take(path, bool(e.control.value))
            ui.redraw()  # the lead's own change, listed below, follows each switch
        return toggle

    def done(keep, *, confirmed: bool = False):
        def act(_):
            settled = model.settle(keep, confirmed=confirmed)
            if settled is Settled.ASKED:  # asked first: what it discards
                ui.redraw()
            elif settled is Settled.CLOSED:  # a pull brought a newer version while the screen was open
                state.open_route("/queue")
                state.notice = t("conflict.closed")
                ui.redraw()
            else:
                ui.go("/queue")
        return act

    what = reading.headline(t, stored.record) if stored is not None else "?"
    ours_review = (stored.record.get("review") if stored else None) or {}
    theirs_review = ((stored.server_record or {}).get("review") if stored else None) or {}
    ours_by, theirs_by = model.authors()
    rows: list[ft.Control] = []
    for d in differences:
        name = messages.label(d.field, t)

        def side(label: str, value, changed: bool, by: str, color, path: str = d.field) -> ft.Control:
            said = t("conflict.changed_by", who=by) if changed else t("conflict.unchanged")
            return ft.Container(bgcolor=color, padding=8, border_radius=6, content=ft.Column(spacing=2, controls=[
                ft.Text(f"{label}: {conflict_value(t, path, value)}", size=15),
                ft.Text(said, size=13, italic=True),
            ]))

        base = ([ft.Text(f"{t('conflict.base')}: {conflict_value(t, d.field, d.base)}", size=15)]
                if d.base_known else [])
        rows.append(tagged(f"conflict-{d.field}", ft.Container(
            padding=10, border=ft.Border.all(1, ft.Colors.OUTLINE), border_radius=8,
            content=ft.Column(spacing=4, controls=[
                ft.Text(name, weight=ft.FontWeight.BOLD, size=16),
                *base,
                side(t("conflict.this_phone"), d.ours, d.ours_changed, ours_by, ft.Colors.TERTIARY_CONTAINER),
                side(t("conflict.other_device"), d.theirs, d.theirs_changed, theirs_by, ft.Colors.SECONDARY_CONTAINER),
                switch(t("conflict.take"), d.field in ticked, tick(d.field), identifier=f"take-{d.field}"),
            ]))))
    if ours_review != theirs_review:
        rows.append(ft.Text(f"{t('conflict.review')}: {t('conflict.this_phone')} "
                            f"{t('review.' + ours_review.get('state', 'unreviewed'))} · {t('conflict.other_device')} "
                            f"{t('review.' + theirs_review.get('state', 'unreviewed'))}", size=15))
    return frame(state, ui, f"/conflict/{record_id}", t("conflict.title"), [
        ft.Text(t("conflict.which", what=what), size=17, weight=ft.FontWeight.BOLD),
        ft.Text(t("conflict.intro"), size=15),
        *(rows or [ft.Text(t("conflict.none"), size=15)]),
        *your_change(t, plan),
        big_button(t("conflict.save_combined"), done("theirs"), identifier="keep-theirs", icon=ft.Icons.MERGE,
                   expand=True),
        *(confirmation(state, ui, t("confirm.keep_ours_button"), done("ours", confirmed=True), identifier="keep-ours")
          if model.asking_keep_ours() else
          [big_button(t("conflict.keep_all_ours"), done("ours"), identifier="keep-ours", filled=False, expand=True)]),
    ], back=True)

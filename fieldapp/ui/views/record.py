"""One record read whole: every field, then every version with who sent it, when, and what it changed."""

from __future__ import annotations

import flet as ft

from fieldapp.ui.state import AppState
from fieldapp.ui.views.frame import frame
from fieldapp.ui.views.photos import record_photos
from fieldapp.ui.views.widgets import Navigator, sync_line, tagged


def record(state: AppState, ui: Navigator) -> ft.View:
    t, model = state.t, state.record
    stored = model.stored()
    route = f"/record/{model.record_id}"
    if stored is None:
        return frame(state, ui, route, t("record.title"), [ft.Text(t("record.gone"), size=16)], back=True)
    rows: list[ft.Control] = [sync_line(state, stored.state)]
    if stored.record["data"].get("withdrawn") is True:
        rows.append(ft.Text(t("queue.withdrawn_card"), color=ft.Colors.ERROR, size=15, weight=ft.FontWeight.BOLD))
    for label, value in model.lines():
        rows.append(ft.Column(spacing=0, controls=[
            ft.Text(label, size=13, color=ft.Colors.ON_SURFACE_VARIANT),
            ft.Text(value, size=16, selectable=True),
        ]))
    rows += record_photos(state, state.photos.lines(stored))  # the previews
    rows.append(ft.Text(t("record.history"), size=17, weight=ft.FontWeight.BOLD))
    for v in model.history():
        body: list[ft.Control] = [ft.Text(v.heading(t), weight=ft.FontWeight.BOLD, size=15)]
        if v.merged_from:
            body.append(ft.Text(t("record.merged", sides=t.list(
                t.join([f"v{m.get('version')}", m.get("device_id", "")], sep=" ") for m in v.merged_from)), size=14))
        body += [ft.Text(change.line(t), size=14) for change in v.changes] or [ft.Text(t("record.no_change"), size=14)]
        rows.append(tagged(f"version-{v.number}", ft.Container(
            padding=10, border=ft.Border.all(1, ft.Colors.OUTLINE), border_radius=8,
            content=ft.Column(spacing=4, controls=body))))
    title = t("record.title")
    return frame(state, ui, route, title, [tagged("record-fields", ft.Column(spacing=8, controls=rows))], back=True)


__all__ = ["record"]

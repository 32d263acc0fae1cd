"""The screens: thin Flet layers over fieldapp/ui/state.py.

Each function draws one screen from the state and wires its controls to the
state's actions; `refresh` redraws after an action. Touch targets are at least
48 px, text is large enough for a dusty screen at night, and every control a
test or a screen reader needs has a semantics identifier.
"""

from __future__ import annotations

from typing import Callable

import flet as ft

from fieldapp.core.records import CallStatus
from fieldapp.ui.state import AGE_GROUPS, INCIDENT_TYPES, OUTCOMES, SEXES, STATUS_STEPS, AppState

TOUCH = 56  # px: comfortably above 48 for gloved hands
# Shipped in assets/fonts (the web client would fetch Arabic glyphs from a CDN).
FONT = "Noto Sans Arabic"

INCIDENT_ICONS = {
    "airstrike": ft.Icons.FLIGHT, "shelling": ft.Icons.GPS_FIXED, "explosion": ft.Icons.FLARE,
    "building_collapse": ft.Icons.DOMAIN_DISABLED, "fire": ft.Icons.LOCAL_FIRE_DEPARTMENT,
    "armed_violence": ft.Icons.REPORT, "bodies_found": ft.Icons.SEARCH, "traffic_accident": ft.Icons.CAR_CRASH,
    "flood": ft.Icons.WATER, "earthquake": ft.Icons.LANDSLIDE, "other": ft.Icons.HELP_OUTLINE,
}

Refresh = Callable[[], None]


def tagged(identifier: str, control: ft.Control, label: str | None = None) -> ft.Control:
    return ft.Semantics(identifier=identifier, label=label, content=control)


def _col(span: int, control: ft.Control) -> ft.Control:
    control.col = {"xs": span}  # of 12: a ResponsiveRow reads it on its direct child
    return control


def big_button(text: str, on_click, *, identifier: str, icon=None, filled: bool = True, selected: bool = False) -> ft.Control:
    kind = ft.FilledButton if filled or selected else ft.OutlinedButton
    button = kind(content=text, icon=icon, on_click=on_click, height=TOUCH,
                  style=ft.ButtonStyle(text_style=ft.TextStyle(size=18, font_family=FONT)))
    return tagged(identifier, button)


def field(state: AppState, form, name: str, label: str, *, keyboard=None, multiline: bool = False) -> ft.Control:
    def changed(e):
        setattr(form, name, e.control.value or "")

    return tagged(f"field-{name}", ft.TextField(
        label=label, value=str(getattr(form, name) or ""), on_change=changed, keyboard_type=keyboard,
        multiline=multiline, min_lines=2 if multiline else None, error=state.errors.get(name),
        text_size=18,
    ))


def header(state: AppState, title: str, refresh: Refresh, *, back: str | None = None) -> ft.Control:
    t = state.t
    left = []
    if back:
        def go_back(_):
            state.go(back, state.call_id)
            refresh()

        left.append(tagged("back", ft.IconButton(icon=ft.Icons.ARROW_BACK, tooltip=t("call.back"), on_click=go_back,
                                                 icon_size=28, width=TOUCH, height=TOUCH)))
    return ft.Column(spacing=4, controls=[
        ft.Row(controls=[*left, ft.Text(title, size=22, weight=ft.FontWeight.BOLD, expand=True)]),
        *[ft.Text(p, color=ft.Colors.ERROR, size=14) for p in state.problems],
    ])


def badge(state: AppState) -> tuple[ft.Control, ft.Text]:
    """The sync badge, always in sight; its text is updated in place, never by a redraw."""
    text = ft.Text(state.badge(), size=15)
    return tagged("sync-badge", ft.Container(
        content=text, padding=ft.Padding.symmetric(horizontal=12, vertical=8),
        border_radius=20, bgcolor=ft.Colors.SECONDARY_CONTAINER,
    )), text


def nav(state: AppState, refresh: Refresh) -> ft.Control:
    t = state.t

    def to(screen):
        def go(_):
            state.go(screen)
            refresh()
        return go

    return ft.Row(alignment=ft.MainAxisAlignment.SPACE_AROUND, wrap=True, controls=[
        big_button(t("nav.home"), to("home"), identifier="nav-home", icon=ft.Icons.LIST, filled=False,
                   selected=state.screen == "home"),
        big_button(t("nav.queue"), to("queue"), identifier="nav-queue", icon=ft.Icons.FACT_CHECK, filled=False,
                   selected=state.screen in ("queue", "conflict", "figures")),
        big_button(t("nav.settings"), to("settings"), identifier="nav-settings", icon=ft.Icons.SETTINGS, filled=False,
                   selected=state.screen == "settings"),
    ])


# --- home ---------------------------------------------------------------------------------------


def home(state: AppState, refresh: Refresh) -> list[ft.Control]:
    t = state.t

    def new_call(_):
        state.go("new_call")
        refresh()

    def open_call(call_id):
        def go(_):
            state.go("call", call_id)
            refresh()
        return go

    rows = state.home_rows()
    cards = [
        tagged(f"call-{row.id}", ft.Card(content=ft.ListTile(
            leading=ft.Icon(INCIDENT_ICONS[row.incident_type], size=32),
            title=ft.Text(f"{t('incident.' + row.incident_type)} · {row.place}", size=17),
            subtitle=ft.Text(f"{row.time} · {t('status.' + row.status)}\n"
                             + t("home.people", **row.people), size=15),
            on_click=open_call(row.id), min_height=72,
        )), label=f"{t('incident.' + row.incident_type)} {row.place}")
        for row in rows
    ]
    return [
        header(state, t("home.today"), refresh),
        big_button(t("home.new_call"), new_call, identifier="new-call", icon=ft.Icons.ADD_ALERT),
        *(cards or [ft.Text(t("home.empty"), size=16)]),
    ]


# --- new call ------------------------------------------------------------------------------------


def new_call(state: AppState, refresh: Refresh, locate) -> list[ft.Control]:
    t, form = state.t, state.call_form

    def pick(kind):
        def choose(_):
            form.incident_type = kind
            refresh()
        return choose

    tiles = [
        _col(4, tagged(f"type-{kind}", ft.Container(
            content=ft.Column(horizontal_alignment=ft.CrossAxisAlignment.CENTER, spacing=2, controls=[
                ft.Icon(INCIDENT_ICONS[kind], size=30), ft.Text(t(f"incident.{kind}"), size=14, text_align=ft.TextAlign.CENTER),
            ]),
            on_click=pick(kind), padding=6, border_radius=12, height=84,
            bgcolor=ft.Colors.PRIMARY_CONTAINER if form.incident_type == kind else ft.Colors.SURFACE_CONTAINER_HIGHEST,
            border=ft.Border.all(3, ft.Colors.PRIMARY) if form.incident_type == kind else None,
        ), label=t(f"incident.{kind}")))
        for kind in INCIDENT_TYPES
    ]

    def use_place(place):
        def choose(_):
            form.place = place
            refresh()
        return choose

    recent = [ft.Chip(label=ft.Text(p, size=14), on_click=use_place(p)) for p in state.recent_places()]

    def save(_):
        state.save_call()
        refresh()

    location_note = []
    if form.lat is not None:
        location_note.append(ft.Text(t("call.location_set", accuracy=round(form.accuracy_m or 0)), size=14))
    if state.errors.get("location"):
        location_note.append(ft.Text(state.errors["location"], color=ft.Colors.ERROR, size=14))
    return [
        header(state, t("call.edit") if state.editing else t("call.new_title"), refresh,
               back="call" if state.editing else "home"),
        ft.Text(t("call.type"), size=17, weight=ft.FontWeight.BOLD),
        *([ft.Text(state.errors["incident_type"], color=ft.Colors.ERROR)] if "incident_type" in state.errors else []),
        ft.ResponsiveRow(controls=tiles, spacing=6, run_spacing=6),
        field(state, form, "place", t("call.place")),
        *([ft.Text(t("call.recent_places"), size=14), ft.Row(controls=recent, wrap=True)] if recent else []),
        big_button(t("call.use_location"), locate, identifier="use-location", icon=ft.Icons.MY_LOCATION, filled=False),
        *location_note,
        field(state, form, "received_at", t("call.received_at"), keyboard=ft.KeyboardType.DATETIME),
        field(state, form, "reported_people", t("call.reported_people"), keyboard=ft.KeyboardType.NUMBER),
        field(state, form, "caller_phone", t("call.caller_phone"), keyboard=ft.KeyboardType.PHONE),
        field(state, form, "notes", t("call.notes"), multiline=True),
        big_button(t("call.save"), save, identifier="save-call", icon=ft.Icons.SAVE),
    ]


# --- a call's page ----------------------------------------------------------------------------------


def call(state: AppState, refresh: Refresh) -> list[ft.Control]:
    t = state.t
    page = state.call_page()
    if page is None:
        state.go("home")
        return home(state, refresh)
    record = page.stored.record
    data = record["data"]

    def step(status):
        def mark(_):
            state.set_status(status)
            refresh()
        return mark

    def add_recovery(_):
        state.go("recovery", state.call_id)
        refresh()

    def correct(_):
        state.edit_call()
        refresh()

    steps = [
        big_button(t(f"status.{s.value}"), step(s.value), identifier=f"status-{s.value}", filled=False,
                   selected=data["status"] == s.value)
        for s in STATUS_STEPS
    ] if page.editable else []
    # The time of each step on a line of its own: inside a button it would wrap and be cut.
    times = " · ".join(f"{t('status.' + e['status'])} {e['at'][11:16]}" for e in data.get("status_log", []))
    sync_note = []
    if page.stored.state.value == "rejected":
        sync_note.append(ft.Text(t("sync.refused"), color=ft.Colors.ERROR, weight=ft.FontWeight.BOLD))
        sync_note += [ft.Text(f"{e['field']}: {e['message']}", color=ft.Colors.ERROR) for e in page.stored.errors]
    elif page.stored.state.value == "conflict":
        sync_note.append(ft.Text(t("sync.conflict"), color=ft.Colors.TERTIARY, weight=ft.FontWeight.BOLD))
    recoveries = [
        ft.ListTile(
            leading=ft.Icon(ft.Icons.PERSON if r.record["data"]["outcome"] != "deceased" else ft.Icons.REMOVE_CIRCLE_OUTLINE),
            title=ft.Text(f"{t('outcome.' + r.record['data']['outcome'])} × {r.record['data']['count']}", size=16),
            subtitle=ft.Text(" · ".join(x for x in (r.record["data"]["recovered_at"][11:16], r.record["data"].get("tag"),
                                                     r.record["data"].get("handed_to")) if x), size=14),
        )
        for r in page.recoveries
    ]
    return [
        header(state, f"{t('incident.' + data['incident_type'])} · {(data.get('location') or {}).get('place', '')}",
               refresh, back="home"),
        *([ft.Text(state.notice, color=ft.Colors.PRIMARY)] if state.notice else []),
        ft.Text(f"{data['received_at'][11:16]} · {t('status.' + data['status'])} · "
                + t("home.people", **page.people), size=16),
        *sync_note,
        *([ft.Text(t("call.read_only"), italic=True)] if not page.editable else []),
        ft.Text(t("call.status"), size=17, weight=ft.FontWeight.BOLD),
        ft.ResponsiveRow(controls=[_col(6, s) for s in steps], spacing=6, run_spacing=6),
        *([ft.Text(times, size=15)] if times else []),
        ft.Text(t("call.recoveries"), size=17, weight=ft.FontWeight.BOLD),
        *recoveries,
        *([big_button(t("call.add_recovery"), add_recovery, identifier="add-recovery", icon=ft.Icons.PERSON_ADD),
           big_button(t("call.edit"), correct, identifier="edit-call", icon=ft.Icons.EDIT, filled=False)]
          if page.editable else []),
    ]


# --- a recovery --------------------------------------------------------------------------------------


def chips(state: AppState, form, name: str, values: list[str], prefix: str, refresh: Refresh) -> ft.Control:
    def choose(value):
        def pick(_):
            setattr(form, name, value)
            state.errors.pop(name, None)
            refresh()
        return pick

    return ft.Row(wrap=True, spacing=6, run_spacing=6, controls=[
        tagged(f"{name}-{v}", ft.Chip(label=ft.Text(state.t(f"{prefix}.{v}"), size=16), selected=getattr(form, name) == v,
                                      on_select=choose(v), padding=ft.Padding.all(10)), label=state.t(f"{prefix}.{v}"))
        for v in values
    ])


def recovery(state: AppState, refresh: Refresh) -> list[ft.Control]:
    t, form = state.t, state.recovery_form

    def save(_):
        state.save_recovery()
        refresh()

    def identified(e):
        form.identified = bool(e.control.value)
        refresh()

    return [
        header(state, t("recovery.title"), refresh, back="call"),
        ft.Text(t("recovery.outcome"), size=17, weight=ft.FontWeight.BOLD),
        *([ft.Text(state.errors["outcome"], color=ft.Colors.ERROR)] if "outcome" in state.errors else []),
        chips(state, form, "outcome", OUTCOMES, "outcome", refresh),
        field(state, form, "count", t("recovery.count"), keyboard=ft.KeyboardType.NUMBER),
        ft.Text(t("recovery.sex"), size=16),
        chips(state, form, "sex", SEXES, "sex", refresh),
        ft.Text(t("recovery.age_group"), size=16),
        chips(state, form, "age_group", AGE_GROUPS, "age", refresh),
        tagged("identified", ft.Switch(label=t("recovery.identified"), value=form.identified, on_change=identified)),
        *([field(state, form, "name", t("recovery.name"))] if form.identified else []),
        field(state, form, "tag", t("recovery.tag")),
        field(state, form, "handed_to", t("recovery.handed_to")),
        field(state, form, "notes", t("recovery.notes"), multiline=True),
        big_button(t("recovery.save"), save, identifier="save-recovery", icon=ft.Icons.SAVE),
    ]


# --- settings ---------------------------------------------------------------------------------------------


def settings(state: AppState, refresh: Refresh, apply_look: Refresh) -> list[ft.Control]:
    t = state.t
    entry = {"server": state.enrolled_server() or "", "token": ""}

    def language(value):
        def choose(_):
            state.set_language(value)
            apply_look()
            refresh()
        return choose

    def dark(e):
        state.set_dark(bool(e.control.value))
        apply_look()
        refresh()

    def callsign(e):
        state.set_callsign(e.control.value or "")

    def server(e):
        entry["server"] = e.control.value or ""

    def token(e):
        entry["token"] = e.control.value or ""

    def enroll(_):
        state.enroll(entry["server"], entry["token"])
        refresh()

    def send_now(_):
        state.send_now()
        refresh()

    linked = state.enrolled_server()
    return [
        header(state, t("settings.title"), refresh),
        *([ft.Text(state.notice, color=ft.Colors.PRIMARY)] if state.notice else []),
        ft.Text(t("settings.language"), size=17, weight=ft.FontWeight.BOLD),
        ft.Row(controls=[
            big_button("العربية", language("ar"), identifier="lang-ar", filled=False, selected=state.language == "ar"),
            big_button("English", language("en"), identifier="lang-en", filled=False, selected=state.language == "en"),
        ]),
        tagged("dark", ft.Switch(label=t("settings.dark"), value=state.dark, on_change=dark)),
        tagged("field-callsign", ft.TextField(label=t("settings.callsign"), value=state.callsign, on_change=callsign, text_size=18)),
        *([ft.Text(t("settings.enrolled", server=linked), size=15)] if linked else []),
        tagged("field-server", ft.TextField(label=t("settings.server"), value=entry["server"], on_change=server,
                                            keyboard_type=ft.KeyboardType.URL, error=state.errors.get("server"), text_size=18)),
        tagged("field-token", ft.TextField(label=t("settings.token"), password=True, on_change=token, text_size=18)),
        big_button(t("settings.enroll"), enroll, identifier="enroll", icon=ft.Icons.LINK, filled=False),
        big_button(t("settings.send_now"), send_now, identifier="send-now", icon=ft.Icons.SYNC),
    ]


# --- the team lead's day ----------------------------------------------------------------------------------


def queue(state: AppState, lead, refresh: Refresh) -> list[ft.Control]:
    t, q = state.t, state.queue

    def set_day(e):
        q["day"] = (e.control.value or "").strip()

    def show_day(_):
        refresh()

    def set_search(e):
        q["search"] = e.control.value or ""

    def choose(flt):
        def pick(_):
            q["filter"] = flt
            refresh()
        return pick

    def review(record_id, kind):
        def act(_):
            lead.review(record_id, kind, q.get("note", "") if kind == "flagged" else "")
            state.notice = None
            state.saved()
            refresh()
        return act

    def approve_all(_):
        state.notice = t("queue.approved_n", n=lead.approve_all_unflagged(q["day"]))
        state.saved()
        refresh()

    def export(fmt):
        def act(_):
            state.export_day(lead, fmt)
            refresh()
        return act

    def resolve(record_id):
        def go(_):
            state.go("conflict", record_id)
            refresh()
        return go

    def figures(_):
        state.go("figures")
        refresh()

    filters = ft.Row(wrap=True, spacing=6, run_spacing=6, controls=[
        tagged(f"filter-{name}", ft.Chip(label=ft.Text(t(f"queue.{name}"), size=15),
                                         selected=(q.get("filter") or "all") == name,
                                         on_select=choose(None if name == "all" else name)), label=t(f"queue.{name}"))
        for name in ("all", "waiting", "refused", "conflict", "unreviewed")
    ])
    def pick_type(e):
        q["incident_type"] = e.control.value or None
        refresh()

    def pick_status(e):
        q["status"] = e.control.value or None
        refresh()

    every = ft.DropdownOption(key="", text=t("queue.all"))
    by_kind = ft.Row(wrap=True, controls=[
        tagged("filter-type", ft.Dropdown(label=t("call.type"), value=q.get("incident_type") or "", on_select=pick_type,
                                          options=[every] + [ft.DropdownOption(key=k, text=t(f"incident.{k}"))
                                                             for k in INCIDENT_TYPES])),
        tagged("filter-status", ft.Dropdown(label=t("call.status"), value=q.get("status") or "", on_select=pick_status,
                                            options=[ft.DropdownOption(key="", text=t("queue.all"))]
                                            + [ft.DropdownOption(key=s.value, text=t(f"status.{s.value}"))
                                               for s in (CallStatus.RECEIVED, *STATUS_STEPS)])),
    ])
    items = lead.queue(q["day"], flt=q.get("filter"), search=q.get("search", ""),
                       incident_type=q.get("incident_type"), status=q.get("status"))
    cards = []
    for item in items:
        lines = []
        for stored in item.records():
            data = stored.record["data"]
            review_state = (stored.record.get("review") or {}).get("state", "unreviewed")
            what = (f"{t('incident.' + data['incident_type'])} · {(data.get('location') or {}).get('place', '')}"
                    if stored.type == "call" else f"{t('outcome.' + data['outcome'])} × {data['count']}")
            state_text = t({"pending": "sync.pending", "sent": "sync.sent", "rejected": "sync.refused",
                            "conflict": "queue.conflict"}[stored.state.value])
            lines.append(ft.Text(f"{what} · {t('review.' + review_state)} · {state_text}", size=15,
                                 weight=ft.FontWeight.BOLD if stored.type == "call" else None))
            lines += [ft.Text(f"{e['field']}: {e['message']}", color=ft.Colors.ERROR, size=14) for e in stored.errors]
            actions = []
            if stored.state.value == "conflict":
                actions.append(big_button(t("queue.resolve"), resolve(stored.id), identifier=f"resolve-{stored.id}",
                                          filled=False))
            else:
                actions += [
                    big_button(t("queue.approve"), review(stored.id, "approved"), identifier=f"approve-{stored.id}",
                               filled=False, selected=review_state == "approved"),
                    big_button(t("queue.flag"), review(stored.id, "flagged"), identifier=f"flag-{stored.id}",
                               filled=False, selected=review_state == "flagged"),
                ]
            lines.append(ft.Row(wrap=True, controls=actions))
        if item.call is None:
            lines.insert(0, ft.Text(t("queue.no_call"), italic=True))
        cards.append(ft.Card(content=ft.Container(padding=10, content=ft.Column(spacing=4, controls=lines))))
    return [
        header(state, t("queue.title"), refresh),
        *([ft.Text(state.notice, color=ft.Colors.PRIMARY)] if state.notice else []),
        tagged("field-day", ft.TextField(label=t("queue.day"), value=q["day"], on_change=set_day, on_submit=show_day,
                                         text_size=18, suffix=ft.IconButton(icon=ft.Icons.REFRESH, on_click=show_day))),
        tagged("field-search", ft.TextField(label=t("queue.search"), value=q.get("search", ""), on_change=set_search,
                                            on_submit=show_day, text_size=18)),
        filters,
        by_kind,
        tagged("field-note", ft.TextField(label=t("queue.flag_note"), value=q.get("note", ""),
                                          on_change=lambda e: q.__setitem__("note", e.control.value or ""), text_size=16)),
        *(cards or [ft.Text(t("queue.empty"), size=16)]),
        big_button(t("queue.approve_all"), approve_all, identifier="approve-all", icon=ft.Icons.DONE_ALL),
        tagged("export-personal", ft.Switch(label=t("queue.export_personal"), value=bool(q.get("include_personal")),
                                            on_change=lambda e: state.set_export_personal(bool(e.control.value)))),
        ft.Row(wrap=True, controls=[
            big_button(t("queue.figures"), figures, identifier="open-figures", icon=ft.Icons.BAR_CHART, filled=False),
            big_button(t("queue.export_csv"), export("csv"), identifier="export-csv", icon=ft.Icons.DOWNLOAD, filled=False),
            big_button(t("queue.export_geojson"), export("geojson"), identifier="export-geojson", icon=ft.Icons.MAP,
                       filled=False),
        ]),
    ]


def conflict(state: AppState, lead, refresh: Refresh) -> list[ft.Control]:
    t = state.t
    record_id = state.call_id
    differences = lead.differences(record_id)
    ticked: set[str] = set()

    def tick(path):
        def toggle(e):
            (ticked.add if e.control.value else ticked.discard)(path)
        return toggle

    def done(keep):
        def act(_):
            lead.resolve(record_id, keep=keep, take_ours=set(ticked) if keep == "theirs" else None)
            state.saved()
            state.go("queue")
            refresh()
        return act

    rows = [
        ft.Container(padding=8, border=ft.Border.all(1, ft.Colors.OUTLINE), border_radius=8, content=ft.Column(spacing=2, controls=[
            ft.Text(d.field, weight=ft.FontWeight.BOLD, size=15),
            ft.Row(controls=[
                ft.Container(expand=True, bgcolor=ft.Colors.TERTIARY_CONTAINER, padding=6,
                             content=ft.Text(f"{t('conflict.ours')}: {d.ours}", size=15)),
                ft.Container(expand=True, bgcolor=ft.Colors.SECONDARY_CONTAINER, padding=6,
                             content=ft.Text(f"{t('conflict.theirs')}: {d.theirs}", size=15)),
            ]),
            tagged(f"take-{d.field}", ft.Checkbox(label=t("conflict.ours"), on_change=tick(d.field))),
        ]))
        for d in differences
    ]
    return [
        header(state, t("conflict.title"), refresh, back="queue"),
        *rows,
        big_button(t("conflict.combine"), done("theirs"), identifier="keep-theirs", icon=ft.Icons.MERGE),
        big_button(t("conflict.keep_ours"), done("ours"), identifier="keep-ours", filled=False),
    ]


def figures(state: AppState, lead, refresh: Refresh) -> list[ft.Control]:
    import flet_charts as fch

    t = state.t
    day = state.queue["day"]
    f = lead.figures(day)
    hours = f["by_hour"]
    top = max([1, *hours["calls"], *hours["people"]])
    chart = fch.BarChart(
        height=220, max_y=top, interactive=False,
        groups=[
            fch.BarChartGroup(x=h, rods=[
                fch.BarChartRod(to_y=hours["calls"][h], width=5, color=ft.Colors.PRIMARY),
                fch.BarChartRod(to_y=hours["people"][h], width=5, color=ft.Colors.TERTIARY),
            ])
            for h in range(24)
        ],
        bottom_axis=fch.ChartAxis(labels=[fch.ChartAxisLabel(value=h, label=ft.Text(str(h), size=10)) for h in range(0, 24, 3)],
                                  label_size=20),
        left_axis=fch.ChartAxis(label_size=28),
    )
    median = f["median_minutes_to_scene"]
    people = f["people"]
    return [
        header(state, f"{t('figures.title')} · {day}", refresh, back="queue"),
        ft.Text(f"{t('figures.calls')}: {f['totals']['calls']}", size=18, weight=ft.FontWeight.BOLD),
        ft.Text(" · ".join(f"{t('outcome.' + k)} {v}" for k, v in people.items()), size=17),
        ft.Text(t("figures.identified", a=f["deceased"]["identified"], b=f["deceased"]["unidentified"]), size=16),
        ft.Text(t("figures.to_scene", m=median if median is not None else t("figures.none")), size=16),
        ft.Text(t("figures.by_hour"), size=17, weight=ft.FontWeight.BOLD),
        tagged("hour-chart", chart, label=t("figures.by_hour")),
        ft.Text(t("figures.by_type"), size=17, weight=ft.FontWeight.BOLD),
        *[ft.Text(f"{t('incident.' + k)}: {v}", size=15) for k, v in f["calls_by_incident_type"].items() if v],
        ft.Text(t("figures.by_status"), size=17, weight=ft.FontWeight.BOLD),
        *[ft.Text(f"{t('status.' + k)}: {v}", size=15) for k, v in f["calls_by_status"].items() if v],
    ]

"""The screens: thin Flet layers over fieldapp/ui/state.py.

Each function builds one screen's `ft.View` from the state and wires its
controls to the state's actions through `ui` (fieldapp/ui/app.py's Shell):
`ui.go(route)` opens a screen, `ui.redraw()` draws the current one again.
Every view has the same frame: a title bar (with Back on a sub-screen), the
sync badge fixed under it, the screen's own list (which scrolls, and starts at
its top), and the bottom navigation bar. Touch targets are at least 48 px,
primary actions 56 px, and every control a test or a screen reader needs has a
semantics identifier.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

import flet as ft

from fieldapp.core.records import CallStatus
from fieldapp.store import NotInConflict, protect
from fieldapp.ui import messages
from fieldapp.ui.state import (
    AGE_GROUPS,
    CONDITIONS,
    HANDOVER_TARGETS,
    HOME_PAGE,
    INCIDENT_TYPES,
    OUTCOMES,
    SEXES,
    STATUS_STEPS,
    AppState,
    Ask,
    conflict_value,
    evidence_lines,
    refusal_lines,
)

if TYPE_CHECKING:
    from fieldapp.ui.app import Shell

WIPE_AFTER_CHOICES = (5, 10, 20)  # wrong PINs in a row before a wipe, for a team that chooses one
PRIMARY = 56  # px: primary actions, for gloved hands
TOUCH = 48  # px: every other target
# Shipped in assets/fonts (the web client would fetch Arabic glyphs from a CDN).
FONT = "Noto Sans Arabic"

INCIDENT_ICONS = {
    "airstrike": ft.Icons.FLIGHT, "shelling": ft.Icons.GPS_FIXED, "explosion": ft.Icons.FLARE,
    "building_collapse": ft.Icons.DOMAIN_DISABLED, "fire": ft.Icons.LOCAL_FIRE_DEPARTMENT,
    "armed_violence": ft.Icons.REPORT, "bodies_found": ft.Icons.SEARCH, "traffic_accident": ft.Icons.CAR_CRASH,
    "flood": ft.Icons.WATER, "earthquake": ft.Icons.LANDSLIDE, "other": ft.Icons.HELP_OUTLINE,
}
# A record's sync state: an icon and a colour beside its words.
SYNC_LOOK = {
    "pending": (ft.Icons.SCHEDULE_SEND, ft.Colors.ON_SURFACE_VARIANT),
    "sent": (ft.Icons.CLOUD_DONE, ft.Colors.PRIMARY),
    "rejected": (ft.Icons.ERROR, ft.Colors.ERROR),
    "conflict": (ft.Icons.SYNC_PROBLEM, ft.Colors.TERTIARY),
}



def tagged(identifier: str, control: ft.Control, label: str | None = None) -> ft.Control:
    return ft.Semantics(identifier=identifier, label=label, content=control)


def _col(span: int, control: ft.Control) -> ft.Control:
    control.col = {"xs": span}  # of 12: a ResponsiveRow reads it on its direct child
    return control


def big_button(text: str, on_click, *, identifier: str, icon=None, filled: bool = True, selected: bool = False,
               primary: bool = True, expand: bool = False) -> ft.Control:
    kind = ft.FilledButton if filled or selected else ft.OutlinedButton
    button = kind(content=ft.Text(text, size=18 if primary else 16, font_family=FONT, text_align=ft.TextAlign.CENTER),
                  icon=icon, on_click=on_click, height=PRIMARY if primary else TOUCH, expand=expand)
    return tagged(identifier, button)


def confirmation(state: AppState, ui: Shell, confirm_text: str, on_confirm, *, identifier: str) -> list[ft.Control]:
    """A harmful tap's question, in view where it was tapped: what will happen, the confirming button in the
    error colour (never like a primary action), and No. Nothing is done until the confirming tap."""
    asked = state.confirming
    if asked is None:
        return []
    t = state.t

    def no(_):
        state.dismiss()
        ui.redraw()

    confirm = ft.FilledButton(content=ft.Text(confirm_text, size=16, font_family=FONT, text_align=ft.TextAlign.CENTER),
                              icon=ft.Icons.WARNING_AMBER, on_click=on_confirm, height=TOUCH,
                              style=ft.ButtonStyle(bgcolor=ft.Colors.ERROR, color=ft.Colors.ON_ERROR))
    return [tagged(f"{identifier}-question", ft.Container(
        padding=12, border_radius=8, bgcolor=ft.Colors.ERROR_CONTAINER, border=ft.Border.all(2, ft.Colors.ERROR),
        content=ft.Column(spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH, controls=[
            ft.Row(spacing=8, controls=[
                ft.Icon(ft.Icons.WARNING_AMBER, color=ft.Colors.ON_ERROR_CONTAINER),
                ft.Text(t("confirm.title"), size=16, weight=ft.FontWeight.BOLD, color=ft.Colors.ON_ERROR_CONTAINER),
            ]),
            ft.Text(asked.message, size=16, color=ft.Colors.ON_ERROR_CONTAINER),
            tagged(identifier, confirm),
            big_button(t("confirm.no"), no, identifier=f"{identifier}-no", filled=False, primary=False),
        ]),
    ))]


def choice(text: str, on_click, *, identifier: str, selected: bool) -> ft.Control:
    """A chip-like choice, 48 px high: filled with a tick when chosen."""
    kind = ft.FilledTonalButton if selected else ft.OutlinedButton
    button = kind(content=ft.Text(text, size=16), icon=ft.Icons.CHECK if selected else None, on_click=on_click,
                  height=TOUCH, style=ft.ButtonStyle(padding=ft.Padding.symmetric(horizontal=14)))
    return tagged(identifier, ft.Semantics(selected=selected, content=button), label=text)


def switch(text: str, value: bool, on_change, *, identifier: str) -> ft.Control:
    """A switch whose hit area is 48 px high."""
    return tagged(identifier, ft.Switch(label=ft.Text(text, size=16), value=value, on_change=on_change,
                                        padding=ft.Padding.symmetric(horizontal=4, vertical=8)))


def field(state: AppState, form, name: str, label: str, *, keyboard=None, multiline: bool = False) -> ft.Control:
    def changed(e):
        setattr(form, name, e.control.value or "")

    warning = state.warnings.get(name)
    if name in state.withheld:  # the server keeps it; an empty field here would look like none to fill in
        return tagged(f"field-{name}", ft.TextField(label=label, value="", read_only=True, text_size=18,
                                                    helper=state.t("field.withheld"), helper_max_lines=3))
    return tagged(f"field-{name}", ft.TextField(
        label=label, value=str(getattr(form, name) or ""), on_change=changed, keyboard_type=keyboard,
        multiline=multiline, min_lines=2 if multiline else None, error=state.errors.get(name),
        helper=warning, helper_max_lines=5, text_size=18,
        helper_style=ft.TextStyle(color=ft.Colors.TERTIARY, weight=ft.FontWeight.BOLD, size=15) if warning else None,
    ))


def sync_line(state: AppState, sync_state: str, *, size: int = 15) -> ft.Control:
    icon, color = SYNC_LOOK[sync_state]
    return ft.Row(spacing=6, tight=True, controls=[
        ft.Icon(icon, color=color, size=20), ft.Text(state.t(f"sync.short.{sync_state}"), color=color, size=size),
    ])


def notice(state: AppState) -> list[ft.Control]:
    if not state.notice:
        return []
    return [tagged("notice", ft.Container(
        padding=10, border_radius=8, bgcolor=ft.Colors.PRIMARY_CONTAINER,
        content=ft.Text(state.notice, color=ft.Colors.ON_PRIMARY_CONTAINER, size=16),
    ))]


def frame(state: AppState, ui: Shell, route: str, title: str, controls: list[ft.Control], *,
          back: bool = False, fab: bool = False, lazy: bool = False) -> ft.View:
    """One screen: title bar, the fixed badge, its own scrolling list, the bottom navigation.

    A long list (`lazy`: home's calls, the queue) is built as it scrolls; a form is built whole,
    so its Save button is there to reach however far down it is.
    """
    t = state.t
    tabs = [("/", ft.Icons.LIST_ALT, t("nav.home")), ("/queue", ft.Icons.FACT_CHECK, t("nav.queue")),
            ("/settings", ft.Icons.SETTINGS, t("nav.settings"))]
    if not state.shows_queue():
        tabs.pop(1)
    section = "/queue" if route.startswith(("/queue", "/conflict")) else "/settings" if route == "/settings" else "/"
    tab = next((i for i, (r, _, _) in enumerate(tabs) if r == section), 0)

    def change_tab(e):
        ui.go(tabs[e.control.selected_index][0])

    leading = tagged("back", ft.IconButton(icon=ft.Icons.ARROW_BACK, tooltip=t("call.back"), on_click=lambda _: ui.back(),
                                          width=TOUCH, height=TOUCH)) if back else None
    badge_text = ft.Text(state.badge(), size=15, expand=True, max_lines=2)
    badge = tagged("sync-badge", ft.Container(
        content=ft.Row(controls=[ft.Icon(ft.Icons.SYNC, size=20), badge_text, ft.Icon(ft.Icons.CHEVRON_RIGHT, size=20)]),
        padding=ft.Padding.symmetric(horizontal=12, vertical=14), border_radius=24,
        bgcolor=ft.Colors.SECONDARY_CONTAINER, on_click=lambda _: ui.go("/sync"),
    ))
    problems = [ft.Text(p, color=ft.Colors.ERROR, size=14) for p in state.problems]
    rtl = state.t.rtl  # each part mirrors for Arabic: a View's own rtl does not reach its bars
    return ft.View(
        route=route, rtl=rtl, padding=0, spacing=0, data=badge_text,
        appbar=ft.AppBar(title=ft.Text(title, size=20, weight=ft.FontWeight.BOLD), leading=leading, rtl=rtl,
                         automatically_imply_leading=False, bgcolor=ft.Colors.SURFACE_CONTAINER),
        floating_action_button_location=ft.FloatingActionButtonLocation.START_FLOAT if rtl else None,
        navigation_bar=ft.NavigationBar(
            selected_index=tab, on_change=change_tab, rtl=rtl,
            destinations=[ft.NavigationBarDestination(icon=icon, label=label) for _, icon, label in tabs],
        ),
        # Typed as the button itself; Flutter takes any widget there, and the tag is how tests find it.
        floating_action_button=tagged("new-call", ft.FloatingActionButton(  # type: ignore[arg-type]
            icon=ft.Icons.ADD_ALERT, content=t("home.new_call"), on_click=lambda _: ui.go("/new"), height=PRIMARY,
        )) if fab else None,
        controls=[
            ft.Container(padding=ft.Padding.only(left=12, right=12, top=8, bottom=4), content=badge, rtl=rtl),
            ft.ListView(expand=True, spacing=10, padding=ft.Padding.only(left=12, right=12, top=4, bottom=96),
                        controls=[*problems, *controls], rtl=rtl) if lazy else
            ft.Column(expand=True, spacing=10, scroll=ft.ScrollMode.AUTO, rtl=rtl, controls=[ft.Container(
                padding=ft.Padding.only(left=12, right=12, top=4, bottom=96),
                content=ft.Column(spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
                                  controls=[*problems, *controls]))]),
        ],
    )


def patch(old: ft.View, new: ft.View) -> bool:
    """Give a drawn screen the parts of its new drawing, keeping its scrolling list (and its position)."""
    if len(old.controls) != 2 or len(new.controls) != 2 or type(old.controls[1]) is not type(new.controls[1]):
        return False
    old.appbar, old.navigation_bar = new.appbar, new.navigation_bar
    old.floating_action_button = new.floating_action_button
    old.floating_action_button_location = new.floating_action_button_location
    old.rtl = new.rtl
    old.controls[0] = new.controls[0]
    old.data = new.data  # its badge
    before, after = old.controls[1], new.controls[1]
    if isinstance(before, ft.ListView) and isinstance(after, ft.ListView):
        before.rtl, before.controls = after.rtl, after.controls
    elif isinstance(before, ft.Column) and isinstance(after, ft.Column):
        shown, drawn = before.controls[0], after.controls[0]
        assert isinstance(shown, ft.Container) and isinstance(drawn, ft.Container)
        before.rtl, shown.content = after.rtl, drawn.content
    return True


# --- home ---------------------------------------------------------------------------------------


def home(state: AppState, ui: Shell) -> ft.View:
    t = state.t
    today = state.today()
    cards: list[ft.Control] = []
    rows = state.home_rows()
    for row in rows[:state.home_limit]:
        what = f"{t('incident.' + row.incident_type)} · {row.place}"
        when = row.time if row.day == today else f"{t('home.still_open', day=messages.long_date(row.day, t))} · {row.time}"
        lines = [
            ft.Text(what, size=17, weight=ft.FontWeight.BOLD),
            ft.Text(f"{when} · {t('status.' + row.status)}\n{t('home.people', **row.people)}", size=15),
            sync_line(state, row.state),
        ]
        if row.review == "flagged":
            lines.append(ft.Text(t("home.flagged", note=row.review_note or "—"), color=ft.Colors.ERROR, size=15))
        cards.append(tagged(f"call-{row.id}", ft.Card(content=ft.Container(
            padding=12, on_click=lambda _, i=row.id: ui.go(f"/call/{i}"),
            content=ft.Row(vertical_alignment=ft.CrossAxisAlignment.START, controls=[
                ft.Icon(INCIDENT_ICONS[row.incident_type], size=32),
                ft.Column(spacing=2, expand=True, controls=lines),
            ]),
        )), label=what))
    def more(_):
        state.home_limit += HOME_PAGE
        ui.redraw()

    if len(rows) > state.home_limit:  # a long day comes a page at a time: the first page is drawn at once
        cards.append(big_button(t("home.more", n=min(HOME_PAGE, len(rows) - state.home_limit), m=len(rows)), more,
                                identifier="home-more", icon=ft.Icons.EXPAND_MORE, filled=False, primary=False))
    return frame(state, ui, "/", t("home.today"), [
        *notice(state),
        *(cards or [ft.Text(t("home.empty"), size=16)]),
    ], fab=True, lazy=True)


def outbox(state: AppState, ui: Shell) -> ft.View:
    """What the badge stands for: the records still waiting, refused or in conflict."""
    t = state.t
    cards: list[ft.Control] = []
    for row in state.outbox_rows():
        target = f"/call/{row.call_id}" if row.type == "call" else f"/recovery/{row.id}"
        cards.append(tagged(f"outbox-{row.id}", ft.Card(content=ft.Container(
            padding=12, on_click=lambda _, r=target: ui.go(r),
            content=ft.Column(spacing=4, controls=[
                ft.Text(row.title, size=16, weight=ft.FontWeight.BOLD),
                sync_line(state, row.state),
                *[ft.Text(line, color=ft.Colors.ERROR, size=15) for line in row.reasons],
            ]),
        )), label=row.title))

    def send(_):
        state.send_now()
        ui.redraw()

    return frame(state, ui, "/sync", t("outbox.title"), [
        *notice(state),
        big_button(t("settings.send_now"), send, identifier="send-now", icon=ft.Icons.SYNC),
        *(cards or [ft.Text(t("outbox.empty"), size=16)]),
    ], back=True, lazy=True)


# --- new call ------------------------------------------------------------------------------------


def new_call(state: AppState, ui: Shell) -> ft.View:
    t, form = state.t, state.call_form

    def pick(kind):
        def choose(_):
            form.incident_type = kind
            state.errors.pop("incident_type", None)
            ui.redraw()
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
            ui.redraw()
        return choose

    recent = [choice(p, use_place(p), identifier=f"place-{i}", selected=form.place == p)
              for i, p in enumerate(state.recent_places())]

    def save(_):
        state.save_call()
        ui.redraw()

    location_note = []
    if form.lat is not None:
        location_note.append(ft.Text(t("call.location_set", accuracy=round(form.accuracy_m or 0)), size=14))
    if state.errors.get("location"):
        location_note.append(ft.Text(state.errors["location"], color=ft.Colors.ERROR, size=14))
    if state.errors.get("form"):
        location_note.append(ft.Text(state.errors["form"], color=ft.Colors.ERROR, size=15))
    editing = bool(state.editing)
    return frame(state, ui, state.route(), t("call.edit") if editing else t("call.new_title"), [
        ft.Text(t("call.type"), size=17, weight=ft.FontWeight.BOLD),
        *([ft.Text(state.errors["incident_type"], color=ft.Colors.ERROR)] if "incident_type" in state.errors else []),
        ft.ResponsiveRow(controls=tiles, spacing=6, run_spacing=6),
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
        big_button(t("call.save"), save, identifier="save-call", icon=ft.Icons.SAVE),
    ], back=True)


# --- a call's page ----------------------------------------------------------------------------------


def call(state: AppState, ui: Shell, call_id: str, *, top: bool = True) -> ft.View:
    t = state.t
    page = state.call_page(call_id)
    if page is None:
        return frame(state, ui, f"/call/{call_id}", t("label.call"), [ft.Text(t("home.empty"))], back=True)
    record = page.stored.record
    data = record["data"]

    def step(status, confirmed=False):
        def mark(_):
            state.set_status(status, confirmed=confirmed)
            ui.redraw()
        return mark

    steps = [
        big_button(t(f"status.{s.value}"), step(s.value), identifier=f"status-{s.value}", filled=False,
                   selected=data["status"] == s.value, primary=False)
        for s in STATUS_STEPS
    ] if page.editable else []
    # The time of each step on a line of its own: inside a button it would wrap and be cut.
    times = " · ".join(f"{t('status.' + e['status'])} {e['at'][11:16]}" for e in data.get("status_log", []))
    sync_state = page.stored.state.value
    sync_note: list[ft.Control] = [sync_line(state, sync_state, size=16)]
    if sync_state == "rejected":
        sync_note += [ft.Text(line, color=ft.Colors.ERROR, size=15) for line in refusal_lines(page.stored.errors, t)]
    elif sync_state == "conflict":
        sync_note.append(ft.Text(t("sync.conflict"), color=ft.Colors.TERTIARY))
    review = record.get("review") or {}
    if review.get("state") == "flagged":
        sync_note.append(ft.Text(t("home.flagged", note=review.get("note") or "—"), color=ft.Colors.ERROR, size=15))
    recoveries = []
    for r in page.recoveries:
        rd = r.record["data"]
        withdrawn = bool(rd.get("withdrawn"))
        title = f"{t('outcome.' + rd['outcome'])} × {rd['count']}"
        handover = t("handover." + rd["handover"]["to"]) if rd.get("handover") else rd.get("handed_to")
        detail = " · ".join(x for x in (rd["recovered_at"][11:16], rd.get("tag"), handover) if x)
        recoveries.append(tagged(f"recovery-{r.id}", ft.Card(content=ft.Container(
            padding=10, on_click=lambda _, i=r.id: ui.go(f"/recovery/{i}"),
            content=ft.Row(controls=[
                ft.Icon(ft.Icons.PERSON if rd["outcome"] != "deceased" else ft.Icons.REMOVE_CIRCLE_OUTLINE, size=28),
                ft.Column(spacing=2, expand=True, controls=[
                    ft.Text(title, size=16, weight=ft.FontWeight.BOLD,
                            style=ft.TextStyle(decoration=ft.TextDecoration.LINE_THROUGH) if withdrawn else None),
                    ft.Text(detail, size=14),
                    *([ft.Text(t("recovery.withdrawn"), color=ft.Colors.ERROR, size=14)] if withdrawn else []),
                    sync_line(state, r.state.value, size=14),
                ]),
                ft.Icon(ft.Icons.CHEVRON_RIGHT),
            ]),
        )), label=title))
    location = data.get("location") or {}
    place = location.get("place") or (f"{location['lat']:.4f}, {location['lon']:.4f}" if "lat" in location else "")
    day = data["received_at"][:10]
    when = data["received_at"][11:16] if day == state.today() else f"{messages.long_date(day, t)} {data['received_at'][11:16]}"
    return frame(state, ui, f"/call/{call_id}", t("incident." + data["incident_type"]), [
        *(notice(state) if top else []),
        ft.Text(place, size=18, weight=ft.FontWeight.BOLD),
        ft.Text(f"{when} · {t('status.' + data['status'])}", size=16),
        ft.Text(t("home.people", **page.people), size=16),
        *sync_note,
        *([ft.Text(t("call.read_only"), italic=True)] if not page.editable else []),
        ft.Text(t("call.status"), size=17, weight=ft.FontWeight.BOLD),
        ft.ResponsiveRow(controls=[_col(6, s) for s in steps], spacing=6, run_spacing=6),
        *(confirmation(state, ui, t("confirm.cancel_call_button"), step(CallStatus.CANCELLED.value, confirmed=True),
                       identifier="confirm-cancelled") if state.asking(Ask.CANCEL_CALL, call_id) else []),
        *([ft.Text(times, size=15)] if times else []),
        ft.Text(t("call.recoveries"), size=17, weight=ft.FontWeight.BOLD),
        *recoveries,
        *([big_button(t("call.add_recovery"), lambda _: ui.go(f"/call/{call_id}/recovery"), identifier="add-recovery",
                      icon=ft.Icons.PERSON_ADD),
           big_button(t("call.edit"), lambda _: ui.go(f"/call/{call_id}/edit"), identifier="edit-call",
                      icon=ft.Icons.EDIT, filled=False, primary=False)]
          if page.editable else []),
    ], back=True)


# --- a recovery --------------------------------------------------------------------------------------


def chips(state: AppState, ui: Shell, form, name: str, values: list[str], prefix: str, *,
          clearable: bool = False, ident: str | None = None) -> ft.Control:
    def choose(value):
        def pick(_):
            # a clearable choice (the handover) is unchosen by a second tap
            setattr(form, name, None if clearable and getattr(form, name) == value else value)
            state.errors.pop(name, None)
            ui.redraw()
        return pick

    return ft.Row(wrap=True, spacing=6, run_spacing=6, controls=[
        choice(state.t(f"{prefix}.{v}"), choose(v), identifier=f"{ident or name}-{v}", selected=getattr(form, name) == v)
        for v in values
    ])


def condition_chips(state: AppState, ui: Shell, form) -> ft.Control:
    """What the team saw: any number of the vocabulary's conditions, each a 48 px toggle."""
    def toggle(value):
        def flip(_):
            form.toggle_condition(value)
            state.errors.pop("conditions", None)
            ui.redraw()
        return flip

    return ft.Row(wrap=True, spacing=6, run_spacing=6, controls=[
        choice(state.t(f"condition.{c}"), toggle(c), identifier=f"condition-{c}", selected=c in form.conditions)
        for c in CONDITIONS
    ])


def _shown(control: ft.Control, visible: bool) -> ft.Control:
    control.visible = visible
    return control


def _error_line(state: AppState, name: str) -> list[ft.Control]:
    return [ft.Text(state.errors[name], color=ft.Colors.ERROR)] if name in state.errors else []


def recovery(state: AppState, ui: Shell) -> ft.View:
    t, form = state.t, state.recovery_form
    stored = state.recovery_record()
    withdrawn = bool(stored and stored.record["data"].get("withdrawn"))
    editable = stored is None or (stored.mine and not withdrawn)

    def save(_):
        state.save_recovery()
        ui.redraw()

    def identified(e):
        form.identified = bool(e.control.value)
        ui.redraw()

    confirm_box = ft.Column(spacing=6, visible=False)

    def withdraw(_):
        """Withdrawing asks first, in place: what it does, then Withdraw or Cancel."""
        def confirm(_):
            state.withdraw_recovery()
            ui.redraw()

        def cancel(_):
            confirm_box.visible = False

        confirm_box.controls = [
            ft.Text(t("recovery.withdraw_confirm"), size=16),
            ft.Row(wrap=True, controls=[
                big_button(t("recovery.withdraw"), confirm, identifier="withdraw-confirm", primary=False),
                big_button(t("common.cancel"), cancel, identifier="withdraw-cancel", filled=False, primary=False),
            ]),
        ]
        confirm_box.visible = True

    status: list[ft.Control] = []
    if stored is not None:
        status.append(sync_line(state, stored.state.value, size=16))
        if stored.state.value == "rejected":
            status += [ft.Text(line, color=ft.Colors.ERROR, size=15) for line in refusal_lines(stored.errors, t)]
        if withdrawn:
            status.append(ft.Text(t("recovery.withdrawn"), color=ft.Colors.ERROR, size=16, weight=ft.FontWeight.BOLD))
        if not stored.mine:
            status.append(ft.Text(t("call.read_only"), italic=True))
        evidence = evidence_lines(stored.record["data"], t)
        if evidence:
            status.append(tagged("recovery-evidence", ft.Column(spacing=2, controls=[
                ft.Text(t("recovery.evidence"), size=17, weight=ft.FontWeight.BOLD),
                *[ft.Text(f"{name}: {value}", size=15) for name, value in evidence],
            ])))
    if state.errors.get("form"):
        status.append(ft.Text(state.errors["form"], color=ft.Colors.ERROR, size=15))
    actions: list[ft.Control] = []
    if editable:
        actions.append(big_button(t("recovery.save_correction") if stored else t("recovery.save"), save,
                                  identifier="save-recovery", icon=ft.Icons.SAVE))
    if stored is not None and editable:
        actions.append(big_button(t("recovery.withdraw"), withdraw, identifier="withdraw-recovery",
                                  icon=ft.Icons.REMOVE_CIRCLE_OUTLINE, filled=False, primary=False))
        actions.append(confirm_box)
    return frame(state, ui, state.route(), t("recovery.open_title") if stored else t("recovery.title"), [
        *status,
        ft.Text(t("recovery.outcome"), size=17, weight=ft.FontWeight.BOLD),
        *([ft.Text(state.errors["outcome"], color=ft.Colors.ERROR)] if "outcome" in state.errors else []),
        chips(state, ui, form, "outcome", OUTCOMES, "outcome"),
        field(state, form, "count", t("recovery.count"), keyboard=ft.KeyboardType.NUMBER),
        field(state, form, "recovered_at", t("recovery.recovered_at"), keyboard=ft.KeyboardType.DATETIME),
        ft.Text(t("recovery.sex"), size=16),
        chips(state, ui, form, "sex", SEXES, "sex"),
        ft.Text(t("recovery.age_group"), size=16),
        chips(state, ui, form, "age_group", AGE_GROUPS, "age"),
        switch(t("recovery.identified"), form.identified, identified, identifier="identified"),
        *([field(state, form, "name", t("recovery.name"))] if form.identified else []),
        field(state, form, "age_years", t("recovery.age_years"), keyboard=ft.KeyboardType.NUMBER),
        # asked of a deceased person only; always in the list (hidden otherwise), so the fields under it keep
        # their places when the outcome changes
        _shown(field(state, form, "death_estimated_at", t("recovery.death_at"), keyboard=ft.KeyboardType.DATETIME),
               form.outcome == "deceased"),
        ft.Text(t("recovery.conditions"), size=16),
        *_error_line(state, "conditions"),
        condition_chips(state, ui, form),
        field(state, form, "tag", t("recovery.tag")),
        ft.Text(t("recovery.handover"), size=16),
        *_error_line(state, "handover_to"),
        chips(state, ui, form, "handover_to", HANDOVER_TARGETS, "handover", clearable=True, ident="handover"),
        field(state, form, "handover_receiver", t("recovery.handover_receiver")),
        field(state, form, "handover_place", t("recovery.handover_place")),
        field(state, form, "handover_at", t("recovery.handover_at"), keyboard=ft.KeyboardType.DATETIME),
        field(state, form, "notes", t("recovery.notes"), multiline=True),
        *actions,
    ], back=True)


# --- settings ---------------------------------------------------------------------------------------------


def settings(state: AppState, ui: Shell) -> ft.View:
    t = state.t
    entry = {"server": state.enrolled_server() or "", "token": ""}

    def language(value):
        def choose(_):
            state.set_language(value)
            ui.restyle()
        return choose

    def dark(e):
        state.set_dark(bool(e.control.value))
        ui.restyle()

    def callsign(e):
        state.set_callsign(e.control.value or "")

    def server(e):
        entry["server"] = e.control.value or ""

    def token(e):
        entry["token"] = e.control.value or ""

    def enroll(_):
        state.enroll(entry["server"], entry["token"])
        ui.redraw()

    def send_now(_):
        state.send_now()
        ui.redraw()

    def wipe_asked(_):
        state.wipe()  # only asks, however often tapped
        ui.redraw()

    async def wipe(_):
        # Off the page's loop: the keystore's entry is removed first, and its answer comes back through this loop.
        if await asyncio.to_thread(state.wipe, confirmed=True):
            ui.restart()
        else:
            ui.redraw()

    def wipe_after(e):
        state.set_wipe_after(int(e.control.value or 0) or None)
        ui.redraw()

    limit = state.wipe_after()
    pin_part = [tagged("wipe-after", ft.Dropdown(
        label=t("settings.wipe_after"), value=str(limit or 0), on_select=wipe_after,
        options=[ft.DropdownOption(key="0", text=t("settings.wipe_after_never"))]
        + [ft.DropdownOption(key=str(n), text=t("settings.wipe_after_n", n=n)) for n in WIPE_AFTER_CHOICES]))
    ] if protect.has_pin(state.data_dir) else []
    linked = state.enrolled_server()
    return frame(state, ui, "/settings", t("settings.title"), [
        *notice(state),
        ft.Text(t("settings.language"), size=17, weight=ft.FontWeight.BOLD),
        ft.Row(controls=[
            big_button("العربية", language("ar"), identifier="lang-ar", filled=False, selected=state.language == "ar",
                       primary=False),
            big_button("English", language("en"), identifier="lang-en", filled=False, selected=state.language == "en",
                       primary=False),
        ]),
        switch(t("settings.dark"), state.dark, dark, identifier="dark"),
        tagged("field-callsign", ft.TextField(label=t("settings.callsign"), value=state.callsign, on_change=callsign,
                                              text_size=18)),
        *([ft.Text(t("settings.enrolled", server=linked), size=15)] if linked else []),
        tagged("field-server", ft.TextField(label=t("settings.server"), value=entry["server"], on_change=server,
                                            keyboard_type=ft.KeyboardType.URL, error=state.errors.get("server"), text_size=18)),
        tagged("field-token", ft.TextField(label=t("settings.token"), password=True, on_change=token, text_size=18)),
        big_button(t("settings.enroll"), enroll, identifier="enroll", icon=ft.Icons.LINK, filled=False, primary=False),
        big_button(t("settings.send_now"), send_now, identifier="send-now", icon=ft.Icons.SYNC),
        ft.Divider(),
        tagged("keystore", ft.Text(state.keystore_words(), size=15)),
        *pin_part,
        *(confirmation(state, ui, t("settings.wipe_sure_button"), wipe, identifier="wipe") if state.wipe_armed else
          [big_button(t("settings.wipe"), wipe_asked, identifier="wipe", icon=ft.Icons.DELETE_FOREVER, filled=False,
                      primary=False)]),
    ])


# --- the team lead's day ----------------------------------------------------------------------------------


def queue(state: AppState, ui: Shell) -> ft.View:
    t, q, lead = state.t, state.queue, ui.lead

    def set_day(e):
        q.day = messages.ascii_digits(e.control.value or "").strip()

    def set_search(e):
        q.search = e.control.value or ""

    def choose(flt):
        def pick(_):
            q.filter = flt
            ui.redraw()
        return pick

    def approve(record_id):
        def act(_):
            lead.review(record_id, "approved")
            state.notice = None
            state.saved()
            ui.redraw()
        return act

    def flag(record_id, current_note):
        """Flag opens this record's own note under it; Flag there saves the review with that note."""
        def act(_):
            q.flagging, q.note = record_id, current_note
            ui.redraw()
        return act

    def typed(e):
        q.note = e.control.value or ""

    def flag_done(_):
        if q.flagging:
            lead.review(q.flagging, "flagged", q.note)
        q.flagging, q.note = None, ""
        state.saved()
        ui.redraw()

    def flag_cancel(_):
        q.flagging, q.note = None, ""
        ui.redraw()

    def flag_form() -> ft.Control:
        return ft.Column(spacing=6, controls=[
            tagged("field-flag-note", ft.TextField(label=t("queue.flag_for"), value=q.note, on_change=typed,
                                                   multiline=True, min_lines=2, text_size=16, autofocus=True)),
            ft.Row(wrap=True, controls=[
                big_button(t("queue.flag_save"), flag_done, identifier="flag-save", primary=False),
                big_button(t("common.cancel"), flag_cancel, identifier="flag-cancel", filled=False, primary=False),
            ]),
        ])

    def approve_all(confirmed: bool):
        def act(_):
            state.approve_all(lead, confirmed=confirmed)
            ui.redraw()
        return act

    def export(fmt):
        async def act(_):
            path = state.export_day(lead, fmt)
            ui.redraw()
            await ui.offer_file(path)
        return act

    filters = ft.Row(wrap=True, spacing=6, run_spacing=6, controls=[
        choice(t(f"queue.{name}"), choose(None if name == "all" else name), identifier=f"filter-{name}",
               selected=(q.filter or "all") == name)
        for name in ("all", "waiting", "refused", "conflict", "unreviewed")
    ])

    def pick_type(e):
        q.incident_type = e.control.value or None
        ui.redraw()

    def pick_status(e):
        q.status = e.control.value or None
        ui.redraw()

    every = ft.DropdownOption(key="", text=t("queue.all"))
    by_kind = ft.Row(wrap=True, controls=[
        tagged("filter-type", ft.Dropdown(label=t("call.type"), value=q.incident_type or "", on_select=pick_type,
                                          options=[every] + [ft.DropdownOption(key=k, text=t(f"incident.{k}"))
                                                             for k in INCIDENT_TYPES])),
        tagged("filter-status", ft.Dropdown(label=t("call.status"), value=q.status or "", on_select=pick_status,
                                            options=[ft.DropdownOption(key="", text=t("queue.all"))]
                                            + [ft.DropdownOption(key=s.value, text=t(f"status.{s.value}"))
                                               for s in (CallStatus.RECEIVED, *STATUS_STEPS)])),
    ])
    items = lead.queue(q.day, flt=q.filter, search=q.search, incident_type=q.incident_type, status=q.status)
    cards: list[ft.Control] = []
    for item in items:
        lines: list[ft.Control] = []
        for stored in item.records():
            data = stored.record["data"]
            review = stored.record.get("review") or {}
            review_state = review.get("state", "unreviewed")
            what = (f"{t('incident.' + data['incident_type'])} · {(data.get('location') or {}).get('place', '')}"
                    if stored.type == "call" else f"{t('outcome.' + data['outcome'])} × {data['count']}")
            lines.append(ft.Text(f"{what} · {t('review.' + review_state)}", size=15,
                                 weight=ft.FontWeight.BOLD if stored.type == "call" else None))
            lines.append(sync_line(state, stored.state.value, size=14))
            if review_state == "flagged":
                lines.append(ft.Text(t("home.flagged", note=review.get("note") or "—"), color=ft.Colors.ERROR, size=14))
            lines += [ft.Text(line, color=ft.Colors.ERROR, size=14) for line in refusal_lines(stored.errors, t)]
            actions = []
            if stored.state.value == "conflict":
                actions.append(big_button(t("queue.resolve"), lambda _, i=stored.id: ui.go(f"/conflict/{i}"),
                                          identifier=f"resolve-{stored.id}", filled=False, primary=False))
            else:
                actions += [
                    big_button(t("queue.approve"), approve(stored.id), identifier=f"approve-{stored.id}",
                               filled=False, selected=review_state == "approved", primary=False),
                    big_button(t("queue.flag"), flag(stored.id, review.get("note", "")), identifier=f"flag-{stored.id}",
                               filled=False, selected=review_state == "flagged", primary=False),
                ]
            lines.append(ft.Row(wrap=True, controls=actions))
            if q.flagging == stored.id:
                lines.append(flag_form())
        if item.call is None:
            lines.insert(0, ft.Text(t("queue.no_call"), italic=True))
        cards.append(ft.Card(content=ft.Container(padding=10, content=ft.Column(spacing=4, controls=lines))))
    return frame(state, ui, "/queue", t("queue.title"), [
        *notice(state),
        ft.Text(messages.long_date(q.day, t), size=17, weight=ft.FontWeight.BOLD),
        tagged("field-day", ft.TextField(label=t("queue.day"), value=q.day, on_change=set_day,
                                         on_submit=lambda _: ui.redraw(), text_size=18,
                                         suffix=ft.IconButton(icon=ft.Icons.REFRESH, on_click=lambda _: ui.redraw(),
                                                              width=TOUCH, height=TOUCH))),
        tagged("field-search", ft.TextField(label=t("queue.search"), value=q.search, on_change=set_search,
                                            on_submit=lambda _: ui.redraw(), text_size=18)),
        filters,
        by_kind,
        *(cards or [ft.Text(t("queue.empty"), size=16)]),
        *(confirmation(state, ui, t("confirm.approve_all_button", n=len(state.confirming.ids)), approve_all(True),
                       identifier="approve-all")
          if state.confirming is not None and state.asking(Ask.APPROVE_ALL, q.day) else
          [big_button(t("queue.approve_all"), approve_all(False), identifier="approve-all", icon=ft.Icons.DONE_ALL)]),
        switch(t("queue.export_personal"), q.include_personal,
               lambda e: state.set_export_personal(bool(e.control.value)), identifier="export-personal"),
        ft.Row(wrap=True, controls=[
            big_button(t("queue.figures"), lambda _: ui.go("/queue/figures"), identifier="open-figures",
                       icon=ft.Icons.BAR_CHART, filled=False, primary=False),
            big_button(t("queue.export_csv"), export("csv"), identifier="export-csv", icon=ft.Icons.DOWNLOAD,
                       filled=False, primary=False),
            big_button(t("queue.export_geojson"), export("geojson"), identifier="export-geojson", icon=ft.Icons.MAP,
                       filled=False, primary=False),
        ]),
    ])


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
        lines.append(ft.Text(t("conflict.change_dropped", labels=t("list.sep").join(dropped)), size=15))
    return [tagged("your-change", ft.Container(
        padding=10, border_radius=8, bgcolor=ft.Colors.PRIMARY_CONTAINER,
        content=ft.Column(spacing=4, controls=[
            ft.Text(t("conflict.your_change"), weight=ft.FontWeight.BOLD, size=16, color=ft.Colors.ON_PRIMARY_CONTAINER),
            *lines,
        ]),
    ))]


def conflict(state: AppState, ui: Shell) -> ft.View:
    t, lead = state.t, ui.lead
    record_id = state.call_id
    assert record_id is not None  # its route names it
    stored = state.store.get(record_id)
    differences = lead.differences(record_id)
    ticked = state.conflict_keep
    plan = lead.plan(record_id, take_ours=ticked)

    def tick(path):
        def toggle(e):
            (ticked.add if e.control.value else ticked.discard)(path)
            ui.redraw()  # the lead's own change, listed below, follows each switch
        return toggle

    def done(keep, *, confirmed: bool = False):
        def act(_):
            try:
                if keep == "ours":
                    if state.keep_all_ours(lead, confirmed=confirmed) is None:  # asked first: what it discards
                        ui.redraw()
                        return
                else:
                    lead.resolve(record_id, keep=keep, take_ours=set(ticked))
            except NotInConflict:  # a pull brought a newer version while the screen was open
                state.open_route("/queue")
                state.notice = t("conflict.closed")
                ui.redraw()
                return
            state.saved()
            ui.go("/queue")
        return act

    data = stored.record["data"] if stored else {}
    if stored is not None and stored.type == "call":
        what = f"{t('incident.' + data['incident_type'])} · {(data.get('location') or {}).get('place', '')} · " \
               f"{messages.long_date(data['received_at'][:10], t)} {data['received_at'][11:16]}"
    elif stored is not None:
        what = f"{t('outcome.' + data['outcome'])} × {data['count']} · {data['recovered_at'][11:16]}"
    else:
        what = "?"
    ours_review = (stored.record.get("review") if stored else None) or {}
    theirs_review = ((stored.server_record or {}).get("review") if stored else None) or {}
    rows: list[ft.Control] = []
    for d in differences:
        name = messages.label(d.field, t)
        rows.append(ft.Container(padding=10, border=ft.Border.all(1, ft.Colors.OUTLINE), border_radius=8,
                                 content=ft.Column(spacing=4, controls=[
            ft.Text(name, weight=ft.FontWeight.BOLD, size=16),
            ft.Container(bgcolor=ft.Colors.TERTIARY_CONTAINER, padding=8, border_radius=6,
                         content=ft.Text(f"{t('conflict.this_phone')}: {conflict_value(t, d.field, d.ours)}", size=15)),
            ft.Container(bgcolor=ft.Colors.SECONDARY_CONTAINER, padding=8, border_radius=6,
                         content=ft.Text(f"{t('conflict.other_device')}: {conflict_value(t, d.field, d.theirs)}", size=15)),
            switch(t("conflict.take"), d.field in ticked, tick(d.field), identifier=f"take-{d.field}"),
        ])))
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
          if state.asking(Ask.KEEP_OURS, record_id) else
          [big_button(t("conflict.keep_all_ours"), done("ours"), identifier="keep-ours", filled=False, expand=True)]),
    ], back=True)


def figures(state: AppState, ui: Shell) -> ft.View:
    import flet_charts as fch

    t, lead = state.t, ui.lead
    day = state.queue.day
    f = lead.figures(day)
    hours = f["by_hour"]
    top = max([1, *hours["calls"], *hours["people"]])
    step = max(1, -(-top // 4))
    calls_color, people_color = ft.Colors.PRIMARY, ft.Colors.TERTIARY
    chart = fch.BarChart(
        height=240, max_y=step * 4, interactive=False,
        groups=[
            fch.BarChartGroup(x=h, rods=[
                fch.BarChartRod(to_y=hours["calls"][h], width=5, color=calls_color),
                fch.BarChartRod(to_y=hours["people"][h], width=5, color=people_color),
            ])
            for h in range(24)
        ],
        bottom_axis=fch.ChartAxis(
            labels=[fch.ChartAxisLabel(value=h, label=ft.Text(messages.local_digits(f"{h:02d}", state.language), size=12))
                    for h in range(0, 24, 6)],
            label_size=24, title=ft.Text(t("figures.hour_axis"), size=13), title_size=22),
        left_axis=fch.ChartAxis(
            labels=[fch.ChartAxisLabel(value=v, label=ft.Text(messages.local_digits(str(v), state.language), size=12))
                    for v in range(0, step * 5, step)],
            label_size=36),
        horizontal_grid_lines=fch.ChartGridLines(interval=step, color=ft.Colors.OUTLINE_VARIANT, width=1),
    )

    def key(color, text):
        return ft.Row(tight=True, spacing=6, controls=[
            ft.Container(width=16, height=16, bgcolor=color, border_radius=3), ft.Text(text, size=15)])

    legend = ft.Row(wrap=True, spacing=16, controls=[key(calls_color, t("figures.legend_calls")),
                                                     key(people_color, t("figures.legend_people"))])
    median = f["median_minutes_to_scene"]
    people = f["people"]
    return frame(state, ui, "/queue/figures", t("figures.title"), [
        ft.Text(messages.long_date(day, t), size=17, weight=ft.FontWeight.BOLD),
        ft.Text(f"{t('figures.calls')}: {f['totals']['calls']}", size=18, weight=ft.FontWeight.BOLD),
        ft.Text(" · ".join(f"{t('outcome.' + k)} {v}" for k, v in people.items()), size=17),
        ft.Text(t("figures.identified", a=f["deceased"]["identified"], b=f["deceased"]["unidentified"]), size=16),
        ft.Text(t("figures.to_scene", m=median if median is not None else t("figures.none")), size=16),
        ft.Text(t("figures.by_hour"), size=17, weight=ft.FontWeight.BOLD),
        legend,
        tagged("hour-chart", ft.Container(padding=ft.Padding.only(right=8, top=8), content=chart),
               label=t("figures.by_hour")),
        ft.Text(t("figures.by_type"), size=17, weight=ft.FontWeight.BOLD),
        *[ft.Text(f"{t('incident.' + k)}: {v}", size=15) for k, v in f["calls_by_incident_type"].items() if v],
        ft.Text(t("figures.by_status"), size=17, weight=ft.FontWeight.BOLD),
        *[ft.Text(f"{t('status.' + k)}: {v}", size=15) for k, v in f["calls_by_status"].items() if v],
    ], back=True)


BUILDERS: dict[str, Callable[[AppState, Shell], ft.View]] = {
    "home": home, "outbox": outbox, "new_call": new_call, "recovery": recovery, "settings": settings,
    "queue": queue, "conflict": conflict, "figures": figures,
}

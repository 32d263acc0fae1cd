"""A recovery: the form for a new one, or a recorded one to read, correct or withdraw."""

from __future__ import annotations

import flet as ft

from fieldapp.core.records import AgeGroup, Condition, HandoverTarget, Outcome, Sex
from fieldapp.store.document import SyncState
from fieldapp.ui.models.recovery import evidence_lines
from fieldapp.ui.models.refusals import refusal_lines
from fieldapp.ui.state import AppState
from fieldapp.ui.views.frame import frame
from fieldapp.ui.views.landing import land, refusal_said, scroll_key
from fieldapp.ui.views.photos import photo_part, record_photos
from fieldapp.ui.views.widgets import Navigator, big_button, choice, field, heading, switch, sync_line, tagged

OUTCOMES = [o.value for o in Outcome]
SEXES = [s.value for s in Sex]
AGE_GROUPS = [a.value for a in AgeGroup]
CONDITIONS = [c.value for c in Condition]
HANDOVER_TARGETS = [h.value for h in HandoverTarget]


def chips(state: AppState, ui: Navigator, name: str, values: list[str], prefix: str, *,
          clearable: bool = False, ident: str | None = None) -> ft.Control:
    model = state.recovery
    form = model.form

    def choose(value):
        def pick(_):
            # a clearable choice (the handover) is unchosen by a second tap
            model.choose(name, None if clearable and getattr(form, name) == value else value)
            ui.redraw()
        return pick

    return ft.Row(wrap=True, spacing=6, run_spacing=6, controls=[
        choice(state.t(f"{prefix}.{v}"), choose(v), identifier=f"{ident or name}-{v}", selected=getattr(form, name) == v)
        for v in values
    ])


def condition_chips(state: AppState, ui: Navigator) -> ft.Control:
    """What the team saw: any number of the vocabulary's conditions, each a 48 px toggle."""
    model = state.recovery
    form = model.form

    def toggle(value):
        def flip(_):
            model.toggle_condition(value)
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
    errors = state.session.errors
    return [ft.Text(errors[name], color=ft.Colors.ERROR)] if name in errors else []


def recovery(state: AppState, ui: Navigator) -> ft.View:
    t, model, form = state.t, state.recovery, state.recovery.form
    errors = state.session.errors
    stored = model.record()
    withdrawn = bool(stored and stored.record["data"].get("withdrawn"))
    editable = stored is None or (stored.mine and not withdrawn)

    async def save(e):
        page = e.page  # read before the redraw replaces the button
        model.save()
        ui.redraw()
        await land(page, state)  # a refused save: to its first refused field, said aloud

    def identified(e):
        form.identified = bool(e.control.value)
        ui.redraw()

    confirm_box = ft.Column(spacing=6, visible=False)

    def withdraw(_):
        """Withdrawing asks first, in place: what it does, then Withdraw or Cancel."""
        def confirm(_):
            model.withdraw()
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
        status.append(sync_line(state, stored.state, size=16))
        if stored.state is SyncState.REJECTED:
            status += [ft.Text(line, color=ft.Colors.ERROR, size=15) for line in refusal_lines(stored.errors, t)]
        if withdrawn:
            status.append(ft.Text(t("recovery.withdrawn"), color=ft.Colors.ERROR, size=16, weight=ft.FontWeight.BOLD))
        if not stored.mine:
            status.append(ft.Text(t("call.read_only"), italic=True))
        evidence = evidence_lines(stored.record["data"], t)
        if evidence:
            status.append(tagged("recovery-evidence", ft.Column(spacing=2, controls=[
                heading(t("recovery.evidence")),
                *[ft.Text(f"{name}: {value}", size=15) for name, value in evidence],
            ])))
    if errors.get("form"):
        status.append(ft.Text(errors["form"], color=ft.Colors.ERROR, size=15))
    status += refusal_said(state)
    actions: list[ft.Control] = []
    # Save is fixed under the form (in reach however far down it is scrolled); Withdraw stays at the form's end.
    save_bar = big_button(t("recovery.save_correction") if stored else t("recovery.save"), save,
                          identifier="save-recovery", icon=ft.Icons.SAVE) if editable else None
    if stored is not None and editable:
        actions.append(big_button(t("recovery.withdraw"), withdraw, identifier="withdraw-recovery",
                                  icon=ft.Icons.REMOVE_CIRCLE_OUTLINE, filled=False, primary=False))
        actions.append(confirm_box)
    return frame(state, ui, state.route(), t("recovery.open_title") if stored else t("recovery.title"), [
        *status,
        heading(t("recovery.outcome"), key=scroll_key("outcome")),
        *([ft.Text(errors["outcome"], color=ft.Colors.ERROR)] if "outcome" in errors else []),
        chips(state, ui, "outcome", OUTCOMES, "outcome"),
        field(state, form, "count", t("recovery.count"), keyboard=ft.KeyboardType.NUMBER),
        field(state, form, "recovered_at", t("recovery.recovered_at"), keyboard=ft.KeyboardType.DATETIME),
        ft.Text(t("recovery.sex"), size=16),
        chips(state, ui, "sex", SEXES, "sex"),
        ft.Text(t("recovery.age_group"), size=16),
        chips(state, ui, "age_group", AGE_GROUPS, "age"),
        switch(t("recovery.identified"), form.identified, identified, identifier="identified"),
        *([field(state, form, "name", t("recovery.name"))] if form.identified else []),
        field(state, form, "age_years", t("recovery.age_years"), keyboard=ft.KeyboardType.NUMBER),
        # asked of a deceased person only; always in the list (hidden otherwise), so the fields under it keep
        # their places when the outcome changes
        _shown(field(state, form, "death_estimated_at", t("recovery.death_at"), keyboard=ft.KeyboardType.DATETIME),
               form.outcome == Outcome.DECEASED),
        ft.Text(t("recovery.conditions"), size=16),
        *_error_line(state, "conditions"),
        condition_chips(state, ui),
        field(state, form, "tag", t("recovery.tag")),
        ft.Text(t("recovery.handover"), size=16),
        *_error_line(state, "handover_to"),
        chips(state, ui, "handover_to", HANDOVER_TARGETS, "handover", clearable=True, ident="handover"),
        field(state, form, "handover_receiver", t("recovery.handover_receiver")),
        field(state, form, "handover_place", t("recovery.handover_place")),
        field(state, form, "handover_at", t("recovery.handover_at"), keyboard=ft.KeyboardType.DATETIME),
        field(state, form, "notes", t("recovery.notes"), multiline=True),
        # the body, its tag, effects, documents: taken here, or as read on a record not this phone's to correct
        *(photo_part(state, ui, model.photos, editable=True) if editable else
          record_photos(state, state.photos.lines(stored))),
        *actions,
    ], back=True, footer=save_bar)

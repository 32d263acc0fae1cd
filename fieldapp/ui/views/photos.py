"""Photographs on the screens: a form's part (kind, Take photo, Choose a photo, thumbnails with Remove), a record's
thumbnails with where each photo is, and one photo seen large. The model is fieldapp/ui/models/photos.py.

The camera is flet-camera's control in a dialog (Android, iOS and the web client); the file picker is Flet's
FilePicker service, asked for the file's bytes (`with_data`: a browser gives no path). Nothing here waits on
the network: a photo goes to the phone's store, and the form's Save lists it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from fieldapp.ui.models.photos import PhotoLine, PhotoState, PhotoTray, where
from fieldapp.ui.state import AppState
from fieldapp.ui.views.widgets import Navigator, big_button, choice, heading, icon_button, tagged

TILE = 120  # a thumbnail's side on the screen, in logical pixels
STATE_COLOR = {PhotoState.SENT: ft.Colors.PRIMARY, PhotoState.FROM_SERVER: ft.Colors.PRIMARY,
               PhotoState.PREVIEW_SENT: ft.Colors.TERTIARY, PhotoState.WAITING: ft.Colors.TERTIARY,
               PhotoState.NOT_HERE: ft.Colors.ON_SURFACE_VARIANT}


def show_large(state: AppState, page: ft.Page, line: PhotoLine) -> None:
    """The photo's preview over the screen, with its kind and where it is; Close returns."""
    t = state.t
    data = state.photos.large(line.preview) if line.preview else None
    picture: ft.Control = ft.Image(src=data, fit=ft.BoxFit.CONTAIN) if data else ft.Text(t("photo.not_here"))
    dialog = ft.AlertDialog(
        rtl=t.rtl, title=ft.Text(t(f"photo_kind.{line.kind}")),
        content=tagged("photo-large", ft.Column(tight=True, controls=[
            picture, ft.Text(t(f"photo_state.{line.state}"), size=15)])),
        actions=[big_button(t("photo.close"), lambda _: page.pop_dialog(), identifier="photo-close", filled=False,
                            primary=False)],
    )
    page.show_dialog(dialog)


def tile(state: AppState, line: PhotoLine, *, on_remove: Any = None) -> ft.Control:
    """One photo: its thumbnail (a tap opens it large), its kind, where it is, and Remove on a form."""
    t = state.t
    thumb = state.photos.thumbnail(line.preview) if line.preview else None
    picture: ft.Control = ft.Image(src=thumb, width=TILE, height=TILE, fit=ft.BoxFit.COVER, border_radius=8) if thumb \
        else ft.Container(width=TILE, height=TILE, border_radius=8, bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST,
                          content=ft.Icon(ft.Icons.IMAGE_NOT_SUPPORTED, size=32), alignment=ft.Alignment.CENTER)
    kind, where = t(f"photo_kind.{line.kind}"), t(f"photo_state.{line.state}")

    def open_large(e) -> None:
        show_large(state, e.page, line)

    body: list[ft.Control] = [
        tagged(f"thumb-{line.short}", ft.Container(content=picture, on_click=open_large, ink=True),
               label=t.join([t("photo.open", kind=kind), where])),
        ft.Text(kind, size=14, weight=ft.FontWeight.BOLD, width=TILE),
        ft.Text(where, size=13, color=STATE_COLOR[line.state], width=TILE),
    ]
    if on_remove is not None:
        body.append(icon_button(ft.Icons.DELETE_OUTLINE, t("photo.remove", kind=kind), on_remove,
                                identifier=f"remove-photo-{line.short}"))
    return ft.Column(spacing=2, tight=True, controls=body)


def record_photos(state: AppState, lines: list[PhotoLine]) -> list[ft.Control]:
    """A record's photos as read (the record screen, a recovery read): thumbnails, each saying where it is."""
    if not lines:
        return []
    t = state.t
    return [tagged("record-photos", ft.Column(spacing=6, controls=[
        heading(t("photo.heading")),
        ft.Text(t("photo.summary", **where(lines)), size=15),
        ft.Row(wrap=True, spacing=10, run_spacing=10, controls=[tile(state, line) for line in lines]),
    ]))]


def photo_part(state: AppState, ui: Navigator, tray: PhotoTray, *, editable: bool) -> list[ft.Control]:
    """A form's photos: the kind the next one is given, Take photo and Choose a photo, then the thumbnails."""
    t = state.t
    error = state.session.errors.get("photos")

    def kind_of(kind):
        def pick(_):
            tray.choose_kind(kind)
            ui.redraw()
        return pick

    def remove(sha: str):
        def gone(_):
            tray.remove(sha)
            ui.redraw()
        return gone

    async def take(e) -> None:
        await open_camera(state, ui, tray, e.page)

    async def pick(_e) -> None:
        await pick_files(tray)
        ui.redraw()

    controls: list[ft.Control] = [heading(t("photo.heading"))]
    if editable:
        controls += [
            ft.Text(t("photo.kind"), size=16),
            ft.Row(wrap=True, spacing=6, run_spacing=6, controls=[
                choice(t(f"photo_kind.{k}"), kind_of(k), identifier=f"photo-kind-{k}", selected=tray.kind == k)
                for k in tray.kinds]),
            ft.Row(wrap=True, spacing=8, run_spacing=8, controls=[
                big_button(t("photo.take"), take, identifier="take-photo", icon=ft.Icons.PHOTO_CAMERA, filled=False,
                           primary=False),
                big_button(t("photo.pick"), pick, identifier="pick-photo", icon=ft.Icons.PHOTO_LIBRARY, filled=False,
                           primary=False),
            ]),
        ]
    if error:
        controls.append(tagged("photo-error", ft.Text(error, color=ft.Colors.ERROR, size=15), live=True))
    lines = tray.lines()
    if lines:
        controls.append(ft.Row(wrap=True, spacing=10, run_spacing=10, controls=[
            tile(state, line, on_remove=remove(line.sha256) if editable else None) for line in lines]))
    elif not editable:
        return []
    return [tagged("form-photos", ft.Column(spacing=8, controls=controls))]


async def pick_files(tray: PhotoTray) -> None:
    """Photos from the phone (or the computer, in a browser): each one's bytes, never compressed (the evidence)."""
    try:
        picker = ft.FilePicker()  # a service: registers itself with the current page
        files = await picker.pick_files(file_type=ft.FilePickerFileType.IMAGE, allow_multiple=True, with_data=True)
    except Exception:  # no picker on this platform: nothing picked
        files = []
    for picked in files or []:
        # Off the page's loop: the preview of a 12 MP photo takes a second on a cheap phone, and two durable writes.
        await asyncio.to_thread(tray.add_picked, picked.bytes, picked.path)


async def open_camera(state: AppState, ui: Navigator, tray: PhotoTray, page: ft.Page) -> None:
    """The camera in a dialog: its preview, Take and Cancel. No camera, or none that starts: said on the form."""
    t = state.t
    try:
        from flet_camera import Camera, CameraLensDirection, ResolutionPreset
    except ImportError:  # a build without flet-camera
        tray.no_camera()
        ui.redraw()
        return
    camera = Camera(width=320, height=320, preview_enabled=True)
    ready = {"camera": False}

    def close() -> None:
        try:
            page.pop_dialog()
        except Exception:  # closed already (Back)
            pass

    async def shoot(_e) -> None:
        if not ready["camera"]:
            return
        try:
            data = await asyncio.wait_for(camera.take_picture(), timeout=30)
        except Exception:
            data = None
        close()
        if data:
            await asyncio.to_thread(tray.add, bytes(data))  # off the page's loop, as a picked file
        else:
            tray.no_camera()
        ui.redraw()

    def cancel(_e) -> None:
        close()

    # Said under the preview: a cheap phone's camera takes a moment to start, and Take waits for it.
    starting = ft.Text(t("photo.camera_starting"), size=15)
    page.show_dialog(ft.AlertDialog(
        modal=True, rtl=t.rtl, title=ft.Text(t("photo.camera_title", kind=t(f"photo_kind.{tray.kind}"))),
        content=tagged("camera", ft.Column(tight=True, controls=[ft.Container(width=320, height=320, content=camera),
                                                                  starting])),
        actions=[big_button(t("photo.shoot"), shoot, identifier="camera-shoot", icon=ft.Icons.CAMERA),
                 big_button(t("common.cancel"), cancel, identifier="camera-cancel", filled=False, primary=False)],
    ))
    try:
        cameras = await asyncio.wait_for(camera.get_available_cameras(), timeout=20)
        if not cameras:
            raise LookupError("no camera")
        back = next((c for c in cameras if c.lens_direction == CameraLensDirection.BACK), cameras[0])
        await asyncio.wait_for(camera.initialize(back, ResolutionPreset.VERY_HIGH, enable_audio=False), timeout=30)
        ready["camera"] = True
        starting.value = t("photo.camera_ready")
        starting.update()
    except Exception:
        close()
        tray.no_camera()
        ui.redraw()

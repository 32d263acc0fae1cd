"""Draw the app's icon and splash: `python assets/source/make_icons.py` rewrites them.

The mark is a map pin with a hole: a place where a call came from. One solid
shape, no text and no thin lines, so it still reads at 48 px on a cheap phone
in sunlight. It is not a red cross, a red crescent or the civil-defence
triangle: those are protected emblems, not ours to put on an app.

- `assets/icon.png`: the pin, near-black with a white hole, on an opaque orange
  1024 px square (near-black on that orange: a contrast of about 7 to 1).
  `icon_background` in pyproject.toml is the same orange.
- `assets/splash.png`: the same pin, for the splash on the orange splash colour.
- `assets/splash_dark.png`: the pin in orange with a near-black hole, for the
  splash in dark mode (dark splash colour).

flet-cli reads these names from `assets/` (`icon.png`, `splash.png`,
`splash_dark.png`; a `_android` suffix would make a platform-only variant).
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

ASSETS = Path(__file__).resolve().parents[1]
SIZE = 1024
SCALE = 4  # drawn 4x larger, then reduced: smooth edges without a vector library

INK = (20, 20, 20, 255)  # near-black
PAPER = (255, 255, 255, 255)
ORANGE = (245, 124, 0, 255)  # #F57C00, Material orange 700: the app's theme seed family
CLEAR = (0, 0, 0, 0)


def pin(fill: tuple, hole: tuple) -> Image.Image:
    """The pin, filling a transparent square: a disc that narrows to a point below it."""
    s = SIZE * SCALE
    img = Image.new("RGBA", (s, s), CLEAR)
    draw = ImageDraw.Draw(img)
    r = s * 0.30  # the head's radius
    cx, cy = s / 2, r + s * 0.03  # the head's centre
    tip = (cx, s * 0.97)
    # The two sides are tangent to the head, so the outline has no corner but the tip.
    angle = math.asin(r / (tip[1] - cy))  # between each side and the vertical through the tip
    left = (cx - r * math.cos(angle), cy + r * math.sin(angle))
    right = (cx + r * math.cos(angle), cy + r * math.sin(angle))
    draw.polygon([left, right, tip], fill=fill)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    h = r * 0.42  # the hole: big enough to stay open at 48 px
    draw.ellipse([cx - h, cy - h, cx + h, cy + h], fill=hole)
    return img.resize((SIZE, SIZE), Image.LANCZOS)


def on(background: tuple, mark: Image.Image, share: float) -> Image.Image:
    """`mark` reduced to `share` of the side, centred on a square of `background`."""
    side = round(SIZE * share)
    canvas = Image.new("RGBA", (SIZE, SIZE), background)
    small = mark.resize((side, side), Image.LANCZOS)
    canvas.alpha_composite(small, ((SIZE - side) // 2, (SIZE - side) // 2))
    return canvas


def main() -> None:
    # The icon is opaque: flet-cli then uses it as a finished composition (no
    # reframing), the legacy 48 px launcher icon is an orange square that reads
    # on any wallpaper, and the adaptive icon's mask crops only orange. The pin
    # reaches 0.56 of the way from the centre to an edge, inside the 66/108 circle
    # Android guarantees to show under every mask.
    on(ORANGE, pin(INK, PAPER), 0.56).save(ASSETS / "icon.png", optimize=True)
    # Splashes are transparent: the splash colour (pyproject.toml) shows around them.
    pin(INK, PAPER).save(ASSETS / "splash.png", optimize=True)
    pin(ORANGE, INK).save(ASSETS / "splash_dark.png", optimize=True)


if __name__ == "__main__":
    main()

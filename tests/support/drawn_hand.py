"""A drawn open right hand (palm towards the viewer) for hand-detection tests and benchmarks.

No photo with bare hands ships in the registry packages we use (scikit-image's astronaut and camera man
wear gloves or hide them; matplotlib's Grace Hopper is a bust), and nothing may be downloaded. So tests and
``bench/bench_pose_wholebody.py`` draw a hand with Pillow: forearm, palm, four fingers with crease lines,
a thumb, slightly blurred. MediaPipe's palm detector and hand landmarker find it.

The marked points (:func:`draw_hand`'s ``marks``) are where a person would click on the drawing: each
fingertip is the top of its finger's rounded end, the thumb tip the corner of the thumb polygon, the wrist
the middle of the palm's lower edge where the forearm joins it. They are OpenPose / MediaPipe hand indices
0 (wrist), 4 (thumb tip), 8, 12, 16, 20 (index, middle, ring, little fingertips).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SKIN = (224, 172, 140)
BACKGROUND = (60, 90, 120)
# (left x, top y, width) of the index, middle, ring and little fingers on a 256 px drawing
FINGERS = ((84, 40, 18), (106, 25, 19), (129, 30, 19), (151, 50, 17))
THUMB = ((80, 160), (40, 110), (52, 98), (100, 140))
WRIST = (128, 196)


def draw_hand(size: int = 256, skin=SKIN, background=BACKGROUND) -> tuple[np.ndarray, dict[int, tuple]]:
    """``(image, marks)``: uint8 ``[size, size, 3]`` RGB drawing, and ``{hand index: (x, y) px}``."""
    s = size / 256
    im = Image.new("RGB", (size, size), background)
    d = ImageDraw.Draw(im)
    d.rounded_rectangle([100 * s, 170 * s, 156 * s, 256 * s], 20 * s, fill=skin)  # forearm
    d.ellipse([78 * s, 105 * s, 178 * s, 200 * s], fill=skin)  # palm
    for x, top, w in FINGERS:
        d.rounded_rectangle([x * s, top * s, (x + w) * s, 140 * s], 9 * s, fill=skin)
    d.polygon([(x * s, y * s) for x, y in THUMB], fill=skin)
    crease = (190, 140, 115)
    for x, top, w in FINGERS:
        for y in (top + 30, top + 55):
            d.line([(x + 3) * s, y * s, (x + w - 3) * s, y * s], fill=crease, width=max(1, int(2 * s)))
    image = np.asarray(im.filter(ImageFilter.GaussianBlur(1.5 * s)))
    marks = {0: WRIST, 4: THUMB[1]}
    for k, (x, top, w) in zip((8, 12, 16, 20), FINGERS):
        marks[k] = (x + w / 2, top)
    return image, {k: (x * s, y * s) for k, (x, y) in marks.items()}


def paste_hand(
    base: np.ndarray, wrist_xy, side: int = 128, angle: float = 0.0
) -> tuple[np.ndarray, dict[int, tuple]]:
    """``base`` (uint8 RGB, not modified) with a ``side`` px :func:`draw_hand` pasted so that its wrist
    mark lands on ``wrist_xy``, turned ``angle`` degrees clockwise about it; returns the new image and the
    marks in its pixels. The forearm then points from the wrist along :func:`forearm_direction`."""
    hand, marks = draw_hand(side)
    wx, wy = marks[0]
    if angle:
        # PIL turns counter-clockwise for positive angles (image y down): -angle turns clockwise on screen
        hand = np.asarray(
            Image.fromarray(hand).rotate(
                -angle, resample=Image.BICUBIC, center=(wx, wy), fillcolor=BACKGROUND
            )
        )
        c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
        marks = {
            k: (wx + c * (x - wx) - s * (y - wy), wy + s * (x - wx) + c * (y - wy))
            for k, (x, y) in marks.items()
        }
    x0 = int(round(wrist_xy[0] - wx))
    y0 = int(round(wrist_xy[1] - wy))
    out = base.copy()
    out[y0 : y0 + side, x0 : x0 + side] = hand
    return out, {k: (x + x0, y + y0) for k, (x, y) in marks.items()}


def forearm_direction(angle: float = 0.0) -> np.ndarray:
    """Unit vector from the wrist towards the elbow of a hand pasted at ``angle`` (straight down at 0)."""
    a = np.radians(angle)
    return np.array([-np.sin(a), np.cos(a)])

"""Group photos made from the single-person photos shipped in registry packages, for bench_people.py.

Sources (no download): scikit-image's ``camera.png`` (CC0) and ``astronaut.png`` (NASA, public domain),
matplotlib's ``grace_hopper.jpg`` (US Navy, public domain). Each person is cut out as a crop around their
visible landmarks (fixed boxes below, measured once with the pack's detector on the full photos), then
scaled, mirrored, tinted and laid side by side or in rows on a plain or textured background. Every
photo is built the same way on every run (a fixed seed for the tints and the texture).

Each builder returns ``(rgb uint8 [H, W, 3], people present)``.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

CROPS = {  # (x0, y0, x1, y1) px on the full photo: head to the bottom edge, arms included
    "camera": (40, 60, 420, 512),
    "astronaut": (40, 0, 340, 512),
    "grace_hopper": (60, 90, 480, 600),
}
"""Person boxes on the source photos (the detector's visible landmarks on each, grown to hold the head)."""


def sources() -> dict[str, np.ndarray]:
    """The three single-person photos, RGB uint8 (camera made RGB by repeating its grey channel)."""
    import matplotlib.cbook
    import skimage.data

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as fh:
        grace = np.asarray(Image.open(fh).convert("RGB"))
    return {
        "camera": np.repeat(skimage.data.camera()[:, :, None], 3, axis=2),
        "astronaut": skimage.data.astronaut(),
        "grace_hopper": grace,
    }


def person(name: str, height: int, width: int | None = None, mirror: bool = False, tint=None) -> np.ndarray:
    """The crop of ``name`` resized to ``height`` px tall (aspect kept, or ``width`` px wide by cutting
    the crop's sides around its centre), mirrored and multiplied by ``tint`` (RGB factors) if given."""
    src = sources()[name]
    x0, y0, x1, y1 = CROPS[name]
    crop = src[y0:y1, x0:x1]
    if width is not None:
        keep = round(width * crop.shape[0] / height)
        if keep < crop.shape[1]:
            cut = (crop.shape[1] - keep) // 2
            crop = crop[:, cut : cut + keep]
    w = width if width is not None else round(crop.shape[1] * height / crop.shape[0])
    out = np.asarray(Image.fromarray(np.ascontiguousarray(crop)).resize((w, height), Image.LANCZOS))
    if mirror:
        out = out[:, ::-1]
    if tint is not None:
        out = np.clip(out * np.asarray(tint, dtype=np.float64), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out)


ORDER = ("camera", "astronaut", "grace_hopper")
TINTS = ((1.0, 1.0, 1.0), (1.1, 0.95, 0.85), (0.85, 0.95, 1.1), (0.9, 1.05, 0.9))


def strip(n: int = 8, width: int = 1451, height: int = 300) -> tuple[np.ndarray, int]:
    """``n`` people side by side in a ``width`` x ``height`` strip (a team photo cut at the thighs)."""
    edges = np.linspace(0, width, n + 1).round().astype(int)
    cols = [
        person(ORDER[i % 3], height, edges[i + 1] - edges[i], mirror=bool(i % 2), tint=TINTS[i % 4])
        for i in range(n)
    ]
    return np.concatenate(cols, axis=1), n


def widened(name: str = "camera", width: int = 1110, height: int = 370) -> tuple[np.ndarray, int]:
    """One person ``height`` px tall in the middle of a ``width`` px wide photo (sides: the edge columns
    repeated, as a plain wall)."""
    one = person(name, height)
    left = (width - one.shape[1]) // 2
    return np.pad(one, ((0, 0), (left, width - one.shape[1] - left), (0, 0)), mode="edge"), 1


def background(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth, mid-grey textured wall (seeded noise, blurred): no person in it."""
    rng = np.random.default_rng(seed)
    small = rng.integers(90, 170, (max(2, height // 32), max(2, width // 32), 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.BICUBIC))


def group(
    layout: list[tuple[str, int, int, int, bool]], width: int, height: int, grey: bool = False, seed: int = 0
) -> tuple[np.ndarray, int]:
    """People pasted on a :func:`background`: ``layout`` = (name, x, y, height, mirror) per person, in
    paint order (later ones in front); ``grey`` makes the photo greyscale (kept RGB)."""
    canvas = background(width, height, seed).copy()
    for i, (name, x, y, h, mirror) in enumerate(layout):
        one = person(name, h, mirror=mirror, tint=TINTS[i % 4])
        ph, pw = one.shape[:2]
        x1, y1 = min(width, x + pw), min(height, y + ph)
        canvas[y:y1, x:x1] = one[: y1 - y, : x1 - x]
    if grey:
        canvas = np.repeat(np.asarray(Image.fromarray(canvas).convert("L"))[:, :, None], 3, axis=2)
    return canvas, len(layout)


def held_out() -> dict[str, tuple[np.ndarray, int]]:
    """Group photos not looked at while the detector's windows were chosen (reported apart)."""
    return {
        "strip12_3000x300": strip(12, 3000, 300),
        "duo_700x330": group(
            [("grace_hopper", 60, 20, 310, True), ("camera", 380, 40, 290, False)], 700, 330, seed=1
        ),
        "strip6_grey_1800x320": (
            np.repeat(
                np.asarray(Image.fromarray(strip(6, 1800, 320)[0]).convert("L"))[:, :, None], 3, axis=2
            ),
            6,
        ),
        "quad_1200x400": group(
            [
                ("astronaut", 20, 60, 340, False),
                ("camera", 310, 80, 320, True),
                ("grace_hopper", 600, 50, 350, False),
                ("astronaut", 900, 70, 330, True),
            ],
            1200,
            400,
            seed=2,
        ),
    }


def photos() -> dict[str, tuple[np.ndarray, int]]:
    """The group photos the detector's windows were chosen on: name -> (rgb, people present)."""
    return {
        "strip8_1451x300": strip(8),
        "widened_1110x370": widened(),
        "trio_448x336": group(
            [
                ("camera", 0, 96, 240, False),
                ("astronaut", 150, 60, 276, True),
                ("grace_hopper", 300, 110, 226, False),
            ],
            448,
            336,
        ),
        "bench_grey_640x370": group(
            [
                ("astronaut", 0, 90, 280, False),
                ("grace_hopper", 215, 80, 290, True),
                ("camera", 430, 100, 270, True),
            ],
            640,
            370,
            grey=True,
        ),
        "rows_900x520": group(
            [
                ("grace_hopper", 40, 0, 300, False),
                ("camera", 330, 0, 300, True),
                ("astronaut", 620, 0, 300, False),
                ("camera", 0, 240, 280, False),
                ("astronaut", 300, 250, 270, True),
                ("grace_hopper", 600, 230, 290, True),
            ],
            900,
            520,
        ),
        "strip5_2400x360": strip(5, 2400, 360),
    }

"""Numeric pose edits: set a point, move / scale / rotate a limb.

A *limb* is a root joint and the points it carries (the root stays fixed; moving a shank moves the
ankle and the foot). A wrist carries its hand and the nose the face (``hand_*_keypoints_2d``,
``face_keypoints_2d``, :data:`pose.wholebody.ATTACHED`): moving, turning or setting them moves those
points by the same transform. Edited points are user-set, so they are removed from the person's
``"inferred_keypoints"``.

Every edit names its person by index (``0 <= person < len(people)``) and returns a new frame. Errors:
ValueError for an unknown point, limb or person index, or a missing root; TypeError for an index that
is not an int (see :func:`checks.check_int`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping

import numpy as np

from ..checks import check_int
from .keypoints import KEYPOINT_NAMES, KP, inferred_indices, person_points, set_person_points, validate_frame
from .wholebody import carry_attached

_L = {
    s: {
        k: KP[f"{s}_{k}"]
        for k in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "big_toe", "small_toe", "heel")
    }
    for s in ("left", "right")
}

#: limb name -> (root index, indices of the points it moves)
LIMBS: dict[str, tuple[int, tuple[int, ...]]] = {
    "head": (KP["neck"], (KP["nose"], KP["right_eye"], KP["left_eye"], KP["right_ear"], KP["left_ear"]))
}
for _s, _j in _L.items():
    _foot = (_j["big_toe"], _j["small_toe"], _j["heel"])
    LIMBS[f"{_s}_arm"] = (_j["shoulder"], (_j["elbow"], _j["wrist"]))
    LIMBS[f"{_s}_forearm"] = (_j["elbow"], (_j["wrist"],))
    LIMBS[f"{_s}_leg"] = (_j["hip"], (_j["knee"], _j["ankle"], *_foot))
    LIMBS[f"{_s}_shank"] = (_j["knee"], (_j["ankle"], *_foot))
    LIMBS[f"{_s}_foot"] = (_j["ankle"], _foot)


def _index(point: int | str) -> int:
    if isinstance(point, str):
        if point not in KP:
            raise ValueError(f"point: unknown name {point!r}; use one of {', '.join(KEYPOINT_NAMES)}")
        return KP[point]
    return check_int("point", point, 0, len(KEYPOINT_NAMES) - 1)


def _person(frame: Mapping, person: int):
    validate_frame(frame)
    n = len(frame["people"])
    return frame["people"][check_int(f"person (of {n} people)", person, 0, n - 1)]


def _limb(limb: str) -> tuple[int, tuple[int, ...]]:
    if limb not in LIMBS:
        raise ValueError(f"limb: unknown {limb!r}; use one of {', '.join(LIMBS)}")
    return LIMBS[limb]


def _replace(frame: Mapping, person: int, pts: np.ndarray, touched, fn=None) -> dict:
    """``frame`` with person ``person``'s points set to ``pts``; ``fn(q)`` moves the hands / face attached
    to the ``touched`` points (:func:`pose.wholebody.carry_attached`)."""
    p = frame["people"][person]
    if fn is not None:
        p = carry_attached(p, touched, fn)
    inferred = set(inferred_indices(p)) - set(touched)
    out = copy.deepcopy(dict(frame))
    out["people"][person] = set_person_points(p, pts, inferred)
    return out


def set_point(frame: Mapping, person: int, point: int | str, x: float, y: float) -> dict:
    """Set keypoint ``point`` (index 0..23 or name, e.g. ``"left_ankle"``) of person ``person`` to
    ``(x, y)`` px (outside the canvas allowed); it becomes present and user-set. Returns a new frame.
    Raises ValueError for an unknown point or person, or non-finite coordinates; TypeError for a
    person or point index that is not an int."""
    p = _person(frame, person)
    i = _index(point)
    if not (math.isfinite(float(x)) and math.isfinite(float(y))):
        raise ValueError(f"x, y must be finite numbers, got {x!r}, {y!r}")
    pts = person_points(p)
    delta = np.array([float(x), float(y)]) - pts[i, :2]
    moved = pts[i, 2] > 0  # a present wrist (nose) takes its hand (face) along; a new one has none yet
    pts[i] = (float(x), float(y), 1.0)
    return _replace(frame, person, pts, [i], (lambda q: q + delta) if moved else None)


def remove_point(frame: Mapping, person: int, point: int | str) -> dict:
    """Mark keypoint ``point`` of person ``person`` as missing. Returns a new frame."""
    p = _person(frame, person)
    i = _index(point)
    pts = person_points(p)
    pts[i] = 0.0
    return _replace(frame, person, pts, [i])


def _transform(frame: Mapping, person: int, limb: str, fn) -> dict:
    p = _person(frame, person)
    root, moved = _limb(limb)
    pts = person_points(p)
    if pts[root, 2] <= 0:
        raise ValueError(f"limb {limb!r}: its root point {KEYPOINT_NAMES[root]!r} is missing; set it first")
    touched = [i for i in moved if pts[i, 2] > 0]
    root_xy = pts[root, :2].copy()
    for i in touched:
        pts[i, :2] = fn(pts[i, :2], root_xy)
    return _replace(frame, person, pts, touched, lambda q: fn(q, root_xy))


def move_limb(frame: Mapping, person: int, limb: str, dx: float, dy: float) -> dict:
    """Translate the points of ``limb`` (see :data:`LIMBS`) by ``(dx, dy)`` px; the root stays."""
    d = np.array([float(dx), float(dy)])
    return _transform(frame, person, limb, lambda q, r: q + d)


def scale_limb(frame: Mapping, person: int, limb: str, factor: float) -> dict:
    """Scale the points of ``limb`` about its root by ``factor`` (> 0; e.g. 1.1 = 10 % longer)."""
    if not float(factor) > 0:
        raise ValueError(f"factor must be > 0, got {factor!r}")
    return _transform(frame, person, limb, lambda q, r: r + (q - r) * float(factor))


def rotate_limb(frame: Mapping, person: int, limb: str, degrees: float) -> dict:
    """Rotate the points of ``limb`` about its root by ``degrees`` (positive = clockwise on screen,
    since image y points down)."""
    a = math.radians(float(degrees))
    c, s = math.cos(a), math.sin(a)
    rot = np.array([[c, -s], [s, c]])
    return _transform(frame, person, limb, lambda q, r: r + rot @ (q - r))

"""Edits made in the graph's pose editor (the ``PoseEditor`` node's widget), applied to a POSE_KEYPOINT.

The widget value is a JSON string (``""`` = no edits)::

    {"version": 1,
     "input": "3f9a...",                 # input_key() of the POSE_KEYPOINT the edits were made on
     "points": [[frame, person, index, x, y], ...],   # x, y in px; null, null = point deleted
     "base": [...]}                      # optional: the input frames, for display only (ignored here)

Each entry of ``points`` sets keypoint ``index`` (0..23, see :mod:`pose.keypoints`) of person ``person``
in frame ``frame`` to ``(x, y)`` pixels of that frame's canvas, or deletes it. Coordinates outside the
canvas, negative ones included, are kept. A person index at or beyond the frame's number of people adds
people (missing points everywhere else). An edited point is user-set: it leaves ``inferred_keypoints``.

Edits are keyed to their input: :func:`apply_edits` applies them only when :func:`input_key` of the
current input equals ``"input"``. An edit made on one input is never applied to another (a new photo,
another detection): the input passes through unchanged and the status says ``"stale"``, which the
widget shows with the choice to keep the edits for the new input or to discard them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping, Sequence

import numpy as np

from .keypoints import (
    N_POINTS,
    inferred_indices,
    new_frame,
    person_from_points,
    person_points,
    set_person_points,
    validate_frame,
)

EDITS_VERSION = 1
MAX_PEOPLE = 64
"""Largest number of people an edit may create in one frame."""
_KEYS = {"version", "input", "points", "base"}


def input_key(frames: Sequence[Mapping]) -> str:
    """A short fingerprint (16 hex digits of SHA-256) of a POSE_KEYPOINT: canvas sizes, each person's 24
    points (rounded to 0.01 px) and inferred indices. Equal poses give equal keys; hands, face and
    unknown keys do not count. Raises PoseFormatError for a malformed frame."""
    canon = []
    for i, frame in enumerate(frames):
        validate_frame(frame, name=f"pose[{i}]")
        people = []
        for person in frame["people"]:
            pts = person_points(person)
            people.append(
                [
                    [[round(float(x), 2), round(float(y), 2)] if c > 0 else None for x, y, c in pts],
                    inferred_indices(person),
                ]
            )
        canon.append([int(frame["canvas_width"]), int(frame["canvas_height"]), people])
    text = json.dumps(canon, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def blank_frames(width: int, height: int, count: int = 1) -> list[dict]:
    """``count`` frames of ``width`` x ``height`` px with nobody in them (the editor's empty canvas).
    Raises ValueError for a size < 1."""
    if int(width) < 1 or int(height) < 1:
        raise ValueError(f"canvas size must be >= 1 px, got {width}x{height}")
    return [new_frame(width, height) for _ in range(max(1, int(count)))]


def parse_edits(value: str | Mapping | None) -> dict | None:
    """Validate the widget value; returns ``{"input": str, "points": [(f, p, i, x | None, y | None)]}``
    or None for no edits (``""``, None, or no points).

    Raises:
        ValueError: naming the malformed field, e.g. ``edits.points[3]: index must be 0..23, got 30``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise ValueError(f"edits: not valid JSON ({e}); reset the pose editor") from e
    if not isinstance(value, Mapping):
        raise ValueError("edits: expected a JSON object with 'input' and 'points'")
    unknown = set(value) - _KEYS
    if unknown:
        raise ValueError(f"edits: unknown keys {sorted(unknown)}")
    if value.get("version", EDITS_VERSION) != EDITS_VERSION:
        raise ValueError(f"edits.version: expected {EDITS_VERSION}, got {value.get('version')!r}")
    raw = value.get("points") or []
    if not isinstance(raw, list):
        raise ValueError("edits.points: expected a list of [frame, person, index, x, y]")
    points = []
    for n, entry in enumerate(raw):
        where = f"edits.points[{n}]"
        if not isinstance(entry, (list, tuple)) or len(entry) != 5:
            raise ValueError(f"{where}: expected [frame, person, index, x, y], got {entry!r}")
        f, p, i, x, y = entry
        for name, v, hi in (("frame", f, None), ("person", p, MAX_PEOPLE - 1), ("index", i, N_POINTS - 1)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0 or (hi is not None and v > hi):
                raise ValueError(
                    f"{where}: {name} must be an integer 0..{hi if hi is not None else ''}, got {v!r}"
                )
        if (x is None) != (y is None):
            raise ValueError(f"{where}: x and y must both be numbers or both null")
        if x is not None:
            ok = all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (x, y)
            )
            if not ok:
                raise ValueError(f"{where}: x and y must be finite numbers (px), got {x!r}, {y!r}")
            x, y = float(x), float(y)
        points.append((f, p, i, x, y))
    if not points:
        return None
    key = value.get("input")
    if not isinstance(key, str) or not key:
        raise ValueError("edits.input: missing; the edits do not say which input they were made on")
    return {"input": key, "points": points}


def apply_edits(frames: Sequence[Mapping], value: str | Mapping | None) -> tuple[list[dict], str]:
    """Apply the editor's widget value to ``frames`` (POSE_KEYPOINT, pixels).

    Returns:
        ``(frames, status)``: new frames (the input is not modified) and ``"none"`` (no edits),
        ``"applied"``, or ``"stale"`` (the edits were made on another input: ``frames`` come back
        unchanged, see the module docstring).
    Raises:
        ValueError: a malformed value (see :func:`parse_edits`), or an edit of a frame that the input
        does not have.
    """
    out = [copy.deepcopy(dict(f)) for f in frames]
    edits = parse_edits(value)
    if edits is None:
        return out, "none"
    if edits["input"] != input_key(frames):
        return out, "stale"
    by_person: dict[tuple[int, int], list] = {}
    for f, p, i, x, y in edits["points"]:
        if f >= len(out):
            raise ValueError(f"edits: frame {f} does not exist; the input has {len(out)} frame(s)")
        by_person.setdefault((f, p), []).append((i, x, y))
    for (f, p), changes in sorted(by_person.items()):
        people = out[f]["people"]
        while len(people) <= p:
            people.append(person_from_points(np.zeros((N_POINTS, 3))))
        pts = person_points(people[p])
        inferred = set(inferred_indices(people[p]))
        for i, x, y in changes:
            pts[i] = (0.0, 0.0, 0.0) if x is None else (x, y, 1.0)
            inferred.discard(i)
        people[p] = set_person_points(people[p], pts, sorted(inferred))
    return out, "applied"

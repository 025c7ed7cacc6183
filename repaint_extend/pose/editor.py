"""Edits made in the graph's pose editor (the ``PoseEditor`` node's widget), applied to a POSE_KEYPOINT.

The widget value is a JSON string (``""`` = no edits)::

    {"version": 1,
     "input": "3f9a...",                 # input_key() of the POSE_KEYPOINT the edits were made on
     "points": [[frame, person, index, x, y], ...],   # x, y in px; null, null = point deleted
     "base": [...],                      # optional: the input frames, for display only (ignored here)
     "background": "data:image/jpeg;..."} # optional: a small copy of the background, for display only

Each entry of ``points`` sets keypoint ``index`` of person ``person`` in frame ``frame`` to ``(x, y)``
pixels of that frame's canvas, or deletes it. ``index`` counts the whole body (:data:`EDIT_GROUPS`):
0..23 body and feet (see :mod:`pose.keypoints`), 24..44 ``hand_left_keypoints_2d``, 45..65
``hand_right_keypoints_2d`` (21 points each, OpenPose's hand order), 66..135 ``face_keypoints_2d`` (70
points, OpenPose's face order), as controlnet_aux's DWPose writes them. An edit of a hand or face point
of a person without that array creates it (other points missing). Coordinates outside the
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
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from ..checks import check_int
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
_KEYS = {"version", "input", "points", "base", "background"}
EDIT_GROUPS = (
    ("hand_left_keypoints_2d", N_POINTS, 21),
    ("hand_right_keypoints_2d", N_POINTS + 21, 21),
    ("face_keypoints_2d", N_POINTS + 42, 70),
)
"""The editor's points beyond body and feet: (POSE_KEYPOINT key, first edit index, number of points);
OpenPose's hand (21) and face (70) layouts (CMU OpenPose doc/02_output.md), as controlnet_aux writes them."""
N_EDIT_POINTS = N_POINTS + 21 + 21 + 70
"""Edit indices are 0..N_EDIT_POINTS - 1 (136 points)."""


def input_key(frames: Sequence[Mapping]) -> str:
    """A short fingerprint (16 hex digits of SHA-256) of a POSE_KEYPOINT: canvas sizes, each person's 24
    points (rounded to 0.01 px) and inferred indices, and its hand and face points when it has any (so
    that the key of a pose without them is what it was before hands and face were edited). Equal poses
    give equal keys; unknown keys do not count. Raises PoseFormatError for a malformed frame."""
    canon = []
    for i, frame in enumerate(frames):
        validate_frame(frame, name=f"pose[{i}]")
        people = []
        for person in frame["people"]:
            pts = person_points(person)
            entry = [
                [[round(float(x), 2), round(float(y), 2)] if c > 0 else None for x, y, c in pts],
                inferred_indices(person),
            ]
            extra = {key: _rounded(_group_points(person, key, n)) for key, _, n in EDIT_GROUPS}
            if any(any(p is not None for p in v) for v in extra.values()):
                entry.append(extra)
            people.append(entry)
        canon.append([int(frame["canvas_width"]), int(frame["canvas_height"]), people])
    text = json.dumps(canon, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _group_points(person: Mapping, key: str, count: int) -> np.ndarray:
    """``person[key]`` (hand or face) as float64 ``[max(count, len), 3]``, missing points zero."""
    values = person.get(key) or []
    arr = np.asarray(values, dtype=np.float64).reshape(-1, 3) if len(values) else np.zeros((0, 3))
    out = np.zeros((max(count, arr.shape[0]), 3))
    out[: arr.shape[0]] = arr
    return out


def _rounded(pts: np.ndarray) -> list:
    return [[round(float(x), 2), round(float(y), 2)] if c > 0 else None for x, y, c in pts]


def blank_frames(width: int, height: int, count: int = 1) -> list[dict]:
    """``count`` frames of ``width`` x ``height`` px with nobody in them (the editor's empty canvas).
    Raises ValueError for a size < 1."""
    if int(width) < 1 or int(height) < 1:
        raise ValueError(f"canvas size must be >= 1 px, got {width}x{height}")
    return [new_frame(width, height) for _ in range(max(1, int(count)))]


def _edit_index(name: str, hi: int | None):
    """Schema of an integer field of an edit, 0..``hi``: the message names the field and the range."""

    def check(v: Any) -> int:
        try:
            return check_int(name, v, 0, hi)
        except (TypeError, ValueError) as error:
            raise PydanticCustomError("edit_index", "{message}", {"message": str(error)}) from None

    return Annotated[Any, AfterValidator(check)]


def _coordinate(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise PydanticCustomError("edit_xy", "x and y must be finite numbers (px), got {v}", {"v": repr(v)})
    return float(v)


def _point(entry: Any) -> Any:
    if not isinstance(entry, (list, tuple)) or len(entry) != 5:
        raise PydanticCustomError(
            "edit_point", "expected [frame, person, index, x, y], got {v}", {"v": repr(entry)}
        )
    if (entry[3] is None) != (entry[4] is None):
        raise PydanticCustomError("edit_xy", "x and y must both be numbers or both null", {})
    return tuple(entry)


_Point = Annotated[
    tuple[
        _edit_index("frame", None),
        _edit_index("person", MAX_PEOPLE - 1),
        _edit_index("index", N_EDIT_POINTS - 1),
        Annotated[Any, AfterValidator(_coordinate)],
        Annotated[Any, AfterValidator(_coordinate)],
    ],
    BeforeValidator(_point),
]


class _Edits(BaseModel):
    """The widget value's schema (see the module docstring); unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[EDITS_VERSION] = EDITS_VERSION
    input: Any = None
    points: list[_Point] | None = None
    base: Any = None
    background: Any = None


def _edits_error(error: ValidationError) -> ValueError:
    """The first pydantic error as ``edits.points[3]: index must be 0..23, got 30`` (the field named)."""
    e = error.errors(include_url=False)[0]
    loc = [
        part for part in e["loc"] if not (isinstance(part, str) and part.startswith(("function-", "tuple[")))
    ]
    where = "edits" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc[:2])
    if e["type"] == "extra_forbidden":
        return ValueError(f"edits: unknown keys {sorted(error_keys(error))}")
    if e["type"] == "literal_error":
        return ValueError(f"{where}: expected {EDITS_VERSION}, got {e['input']!r}")
    if e["type"] == "list_type":
        return ValueError(f"{where}: expected a list of [frame, person, index, x, y]")
    return ValueError(f"{where}: {e['msg']}")


def error_keys(error: ValidationError) -> set[str]:
    """The unknown top-level keys named by ``extra_forbidden`` errors."""
    return {str(e["loc"][0]) for e in error.errors(include_url=False) if e["type"] == "extra_forbidden"}


def parse_edits(value: str | Mapping | None) -> dict | None:
    """Validate the widget value (pydantic schema ``_Edits``); returns ``{"input": str, "points":
    [(f, p, i, x | None, y | None)]}`` or None for no edits (``""``, None, or no points).

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
    try:
        edits = _Edits.model_validate(dict(value))
    except ValidationError as e:
        raise _edits_error(e) from None
    if not edits.points:
        return None
    if not isinstance(edits.input, str) or not edits.input:
        raise ValueError("edits.input: missing; the edits do not say which input they were made on")
    return {"input": edits.input, "points": list(edits.points)}


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
        groups = {}
        for i, x, y in changes:
            xyc = (0.0, 0.0, 0.0) if x is None else (x, y, 1.0)
            if i < N_POINTS:
                pts[i] = xyc
                inferred.discard(i)
                continue
            key, start, count = next(g for g in EDIT_GROUPS if g[1] <= i < g[1] + g[2])
            if key not in groups:
                groups[key] = _group_points(people[p], key, count)
            groups[key][i - start] = xyc
        people[p] = set_person_points(people[p], pts, sorted(inferred))
        for key, arr in groups.items():
            people[p][key] = [float(v) for v in arr.reshape(-1)]
    return out, "applied"

"""Keypoint model and the POSE_KEYPOINT / OpenPose JSON formats.

Keypoint model
--------------
Each person has 24 keypoints, indexed ``0..23``:

* ``0..17``: OpenPose COCO-18 body order (the order of ControlNet-openpose, controlnet_aux and
  comfyui_controlnet_aux): nose, neck, right shoulder, right elbow, right wrist, left shoulder,
  left elbow, left wrist, right hip, right knee, right ankle, left hip, left knee, left ankle,
  right eye, left eye, right ear, left ear.
* ``18..23``: six foot points in COCO-WholeBody order (Jin et al., "Whole-Body Human Pose
  Estimation in the Wild", ECCV 2020; the order DWPose emits at its indices 18..23 and OpenPose
  BODY_25 at 19..24): left big toe, left small toe, left heel, right big toe, right small toe,
  right heel.

Coordinates are **pixels** of the frame's canvas (``canvas_width`` x ``canvas_height``), origin at
the top-left corner, x to the right, y down. A point outside the canvas (negative, or beyond the
width or height) is legal and kept: it is *present*. A *missing* point is stored as
``[0.0, 0.0, 0.0]`` (confidence 0), exactly as comfyui_controlnet_aux writes it.

POSE_KEYPOINT (ComfyUI type, as comfyui_controlnet_aux produces and consumes it)
---------------------------------------------------------------------------------
A list with one *frame* per image. A frame is::

    {"people": [person, ...], "canvas_width": int, "canvas_height": int}

and a person is::

    {"pose_keypoints_2d": [x0, y0, c0, ..., x17, y17, c17],   # COCO-18, 54 floats
     "face_keypoints_2d": [...] or None,                       # 70 points (or 68) x 3, optional
     "hand_left_keypoints_2d": [...] or None,                  # 21 x 3, optional
     "hand_right_keypoints_2d": [...] or None,                 # 21 x 3, optional
     "foot_keypoints_2d": [x18, y18, c18, ..., x23, y23, c23], # FOOT_KEY: our 6 feet, 18 floats
     "inferred_keypoints": [9, 10, 18, ...]}                   # INFERRED_KEY: see below

Facts checked in comfyui_controlnet_aux's source (``src/custom_controlnet_aux/dwpose/__init__.py``,
``encode_poses_as_dict`` / ``decode_json_as_poses``; ``.../dwpose/util.py`` ``draw_bodypose``):

* its DWPose node writes **pixel** coordinates of the detection canvas; its OpenPose node writes
  coordinates **normalised** to [0, 1]; its drawer tells them apart with ``is_normalized`` (all
  ``|x|, |y| <= 1``). We always write pixels; :func:`frame_from_pose_keypoint` reads both.
* it writes a present point with confidence ``1.0`` and a missing one as ``[0, 0, 0]``;
* its decoder treats a confidence ``< 1.0`` as a **missing** point (``if c < 1.0: return None``).
  So every present point, detected or inferred, is written with confidence ``1.0``
  (:data:`PRESENT_CONFIDENCE`); detector scores, when known, go to :data:`SCORES_KEY`.

Extra keys (ours; other consumers ignore unknown keys):

* :data:`FOOT_KEY` ``"foot_keypoints_2d"``: the 6 foot points, 18 floats, same ``[x, y, c]``
  convention. The name is the de-facto one used by several ComfyUI pose packs for DWPose's feet.
* :data:`INFERRED_KEY` ``"inferred_keypoints"``: sorted list of keypoint indices (0..23, in the
  24-point numbering above) whose position was inferred (by :func:`pose.complete_legs`, or derived
  rather than measured by a detector, e.g. MediaPipe has no small toe). Inferred points are
  present points (confidence 1.0, so every consumer draws them); the list tells them apart.
* :data:`SCORES_KEY` ``"keypoint_scores"``: optional, 24 detector confidences in [0, 1].
* :data:`PRIOR_KEY` ``"prior_keypoints_2d"``: optional, 24 x 3 floats: the detector's own guesses
  (pixels, confidence = the detector's visibility) for points it reported as missing, e.g.
  MediaPipe's estimates of legs beyond the frame. :func:`pose.complete_legs` may use them.

The popular pose editors treat ``x <= 0 or y <= 0`` as missing; points left of or above the canvas
are therefore shown as missing there, although they are present here.
"""

from __future__ import annotations

import copy
import functools
import json
import math
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    TypeAdapter,
    ValidationError,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

N_BODY = 18
N_FEET = 6
N_POINTS = N_BODY + N_FEET
PRESENT_CONFIDENCE = 1.0
FOOT_KEY = "foot_keypoints_2d"
INFERRED_KEY = "inferred_keypoints"
SCORES_KEY = "keypoint_scores"
PRIOR_KEY = "prior_keypoints_2d"
BODY_KEY = "pose_keypoints_2d"
OTHER_KEYS = ("face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d")

KEYPOINT_NAMES = (
    "nose",
    "neck",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "right_eye",
    "left_eye",
    "right_ear",
    "left_ear",
    "left_big_toe",
    "left_small_toe",
    "left_heel",
    "right_big_toe",
    "right_small_toe",
    "right_heel",
)
KP = {name: i for i, name in enumerate(KEYPOINT_NAMES)}

# OpenPose BODY_25 order (CMU OpenPose doc/02_output.md, "Pose Output Format (BODY_25)"):
# 0 Nose, 1 Neck, 2 RShoulder, 3 RElbow, 4 RWrist, 5 LShoulder, 6 LElbow, 7 LWrist, 8 MidHip,
# 9 RHip, 10 RKnee, 11 RAnkle, 12 LHip, 13 LKnee, 14 LAnkle, 15 REye, 16 LEye, 17 REar, 18 LEar,
# 19 LBigToe, 20 LSmallToe, 21 LHeel, 22 RBigToe, 23 RSmallToe, 24 RHeel.
# BODY25_FROM_OURS[i] is the BODY_25 index of our keypoint i.
BODY25_FROM_OURS = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24)
BODY25_MIDHIP = 8


class PoseFormatError(ValueError):
    """Malformed POSE_KEYPOINT / OpenPose JSON; the message names the offending field."""


# ----------------------------------------------------------------------------------------------
# validation: pydantic schemas of a frame and a person; errors become PoseFormatError naming the field


def _sequence(value: Any) -> Any:
    """Accept a list or tuple only (pydantic's lax lists would also take sets and generators)."""
    if value is None:
        raise PydanticCustomError("missing", "missing")
    if not isinstance(value, (list, tuple)):
        raise PydanticCustomError("pose_list", "expected a list, got {type}", {"type": type(value).__name__})
    return value


def _flatten_triplets(value: Any) -> Any:
    """``[x, y, c, ...]``, ``[[x, y, c], ...]`` or an array -> a flat list for the number checks."""
    if isinstance(value, np.ndarray):
        return value.astype(np.float64).reshape(-1).tolist()
    if not isinstance(value, (list, tuple)):
        raise PydanticCustomError(
            "pose_triplets",
            "expected a list of numbers [x, y, c, ...], got {type}",
            {"type": type(value).__name__},
        )
    if value and isinstance(value[0], (list, tuple)):  # nested [[x, y, c], ...]
        for k, item in enumerate(value):
            if not isinstance(item, (list, tuple)) or len(item) != 3:
                raise PydanticCustomError("pose_triplet", "expected [x, y, c]", {"index": k})
        return [v for item in value for v in item]
    return value


def _whole_field(message: str):
    """Report any error inside a field as one error of the field itself, with ``message``."""

    def wrap(value: Any, handler: Any) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError("pose_field", message, {"input": repr(value)}) from None

    return WrapValidator(wrap)


def _triplets(n: int | None) -> Any:
    """Schema of a flat keypoint list ``[x0, y0, c0, ...]``: finite numbers (not bool), ``n`` points or none."""

    def whole_triplets(values: list[float]) -> list[float]:
        if len(values) % 3:
            raise PydanticCustomError(
                "pose_length",
                "length {size} is not a multiple of 3 (x, y, confidence)",
                {"size": len(values)},
            )
        if n is not None and len(values) not in (0, 3 * n):
            raise PydanticCustomError(
                "pose_count",
                "expected {n} keypoints ({size} numbers), got {got}",
                {"n": n, "size": 3 * n, "got": len(values) // 3},
            )
        return values

    return Annotated[
        list[Annotated[float, Field(strict=True, allow_inf_nan=False)]],
        BeforeValidator(_flatten_triplets),
        AfterValidator(whole_triplets),
    ]


_CanvasSide = Annotated[
    float,
    Field(strict=True, gt=0, multiple_of=1, allow_inf_nan=False),
    _whole_field("expected a positive integer, got {input}"),
]
_Indices = Annotated[
    list[Annotated[float, Field(strict=True, ge=0, lt=N_POINTS, multiple_of=1)]],
    BeforeValidator(_sequence),
    _whole_field(f"expected a list of keypoint indices 0..{N_POINTS - 1}"),
]
_Scores = Annotated[
    list[Annotated[float, Field(strict=True)]],
    Field(min_length=N_POINTS, max_length=N_POINTS),
    BeforeValidator(_sequence),
    _whole_field(f"expected {N_POINTS} numbers"),
]


class _Person(BaseModel):
    """One person of a POSE_KEYPOINT frame (see the module docstring); other keys are ignored."""

    pose_keypoints_2d: _triplets(N_BODY) | None  # BODY_KEY: required, may be null
    foot_keypoints_2d: _triplets(N_FEET) | None = None  # FOOT_KEY
    prior_keypoints_2d: _triplets(N_POINTS) | None = None  # PRIOR_KEY
    face_keypoints_2d: _triplets(None) | None = None  # OTHER_KEYS
    hand_left_keypoints_2d: _triplets(None) | None = None
    hand_right_keypoints_2d: _triplets(None) | None = None
    inferred_keypoints: _Indices | None = None  # INFERRED_KEY
    keypoint_scores: _Scores | None = None  # SCORES_KEY


class _Frame(BaseModel):
    """One POSE_KEYPOINT frame; other keys are ignored."""

    canvas_width: _CanvasSide
    canvas_height: _CanvasSide
    people: Annotated[list[_Person], BeforeValidator(_sequence)]


class _OpenPosePerson(BaseModel):
    """One person of OpenPose's ``--write_json`` output (BODY_25); other keys are ignored."""

    pose_keypoints_2d: _triplets(len(BODY25_FROM_OURS) + 1) | None  # BODY_25: ours + MidHip
    face_keypoints_2d: _triplets(None) | None = None
    hand_left_keypoints_2d: _triplets(None) | None = None
    hand_right_keypoints_2d: _triplets(None) | None = None


class _OpenPoseJSON(BaseModel):
    """OpenPose's ``--write_json`` document: ``{"people": [...], ...}``; other keys are ignored."""

    people: Annotated[list[_OpenPosePerson], BeforeValidator(_sequence)]


_EXPECTED_DICT = {"_Frame": "a dict with 'people', 'canvas_width', 'canvas_height'"}
_MESSAGES = {
    "missing": "missing",
    "float_type": "expected a number, got {input!r}",
    "finite_number": "expected a finite number, got {input!r}",
}


def _pose_error(error: ValidationError, name: str) -> PoseFormatError:
    """The first error of ``error`` as a PoseFormatError ``name.people[0].pose_keypoints_2d[4]: ...``.

    pydantic's location ``("people", 0, "pose_keypoints_2d", 4)`` becomes the path after ``name``; a
    custom error's ``index`` (the bad row of a nested ``[[x, y, c], ...]``) extends it.
    """
    e = error.errors(include_url=False)[0]
    ctx = e.get("ctx") or {}
    loc = (*e["loc"], *([ctx["index"]] if "index" in ctx else []))
    where = name + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    if e["type"] == "model_type":
        what = _EXPECTED_DICT.get(ctx.get("class_name"), "a dict")
        text = f"expected {what}, got {type(e['input']).__name__}"
    else:
        text = _MESSAGES[e["type"]].format(input=e.get("input")) if e["type"] in _MESSAGES else e["msg"]
    return PoseFormatError(f"{where}: {text}")


def _parse(model: type[BaseModel], data: Any, name: str) -> Any:
    """``model.model_validate(data)``; raises PoseFormatError naming the first bad field after ``name``."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise _pose_error(e, name) from None


@functools.cache
def _triplets_adapter(n: int | None) -> TypeAdapter:
    return TypeAdapter(_triplets(n))


def _flat_triplets(value: Any, field: str, n: int | None) -> np.ndarray:
    """``[x, y, c, ...]`` (or ``[[x, y, c], ...]``, or an array) -> float64 ``[N, 3]``; ``[0, 3]`` for None.

    Raises:
        PoseFormatError naming ``field`` (and the index) unless the values are finite numbers (not bool)
        forming whole triplets, ``n`` of them (or none) when ``n`` is given.
    """
    if value is None:
        return np.zeros((0, 3))
    try:
        flat = _triplets_adapter(n).validate_python(value)
    except ValidationError as e:
        raise _pose_error(e, field) from None
    return np.asarray(flat, dtype=np.float64).reshape(-1, 3)


MAX_CANVAS_SIDE = 16384
"""Largest canvas side (pixels) that the loaders accept: ComfyUI's ``MAX_RESOLUTION`` (its ``nodes.py``),
the largest width or height its image nodes make. A pose is drawn on its canvas, so a larger one
(a 10**9 px canvas from a bad file) would ask :func:`pose.render` for gigabytes before failing."""


def check_canvas_size(frame: Mapping, name: str = "frame", max_side: int = MAX_CANVAS_SIDE) -> None:
    """Refuse a frame whose ``canvas_width`` or ``canvas_height`` exceeds ``max_side`` pixels.

    Raises:
        PoseFormatError (a ValueError) naming the field, its value and the limit.
    """
    for key in ("canvas_width", "canvas_height"):
        if int(frame[key]) > max_side:
            raise PoseFormatError(
                f"{name}.{key}: {int(frame[key])} px is larger than the {max_side} px a canvas side may "
                f"have (ComfyUI's MAX_RESOLUTION); fix the file's canvas size"
            )


def validate_frame(frame: Any, name: str = "frame") -> None:
    """Check that ``frame`` is one POSE_KEYPOINT frame (see the module docstring).

    The schema is pydantic's (``_Frame``, ``_Person``): ``canvas_width``/``canvas_height`` positive
    integers (pixels), ``people`` a list of persons with ``pose_keypoints_2d`` (18 points, or empty or
    null), optional feet (6 points), prior (24), face and hands (any count), ``inferred_keypoints``
    (indices 0..23) and ``keypoint_scores`` (24 numbers). Unknown keys are allowed. The canvas size
    limit (:data:`MAX_CANVAS_SIDE`) is the loaders' check, :func:`check_canvas_size`.

    Raises:
        PoseFormatError (a ValueError): naming the first malformed field, e.g.
            ``frame.people[0].pose_keypoints_2d: expected 18 keypoints (54 numbers), got 17``.
    """
    _parse(_Frame, frame, name)


def person_points(person: Mapping) -> np.ndarray:
    """The 24 keypoints of one person as float64 ``[24, 3]`` (x px, y px, confidence).

    Missing points have confidence 0. A person without :data:`FOOT_KEY` has missing feet.
    Raises PoseFormatError if the fields are malformed.
    """
    pts = np.zeros((N_POINTS, 3))
    body = _flat_triplets(person.get(BODY_KEY), BODY_KEY, N_BODY)
    if body.shape[0]:
        pts[:N_BODY] = body
    feet = _flat_triplets(person.get(FOOT_KEY), FOOT_KEY, N_FEET)
    if feet.shape[0]:
        pts[N_BODY:] = feet
    return pts


def present(points: np.ndarray) -> np.ndarray:
    """Boolean ``[N]``: which points of a ``[N, 3]`` array are present (confidence > 0)."""
    return points[:, 2] > 0


def _flat(arr: np.ndarray) -> list[float]:
    return [float(v) for v in np.asarray(arr, dtype=np.float64).reshape(-1)]


def set_person_points(person: Mapping, points: np.ndarray, inferred: Sequence[int] | None = None) -> dict:
    """Return a deep copy of ``person`` with its 24 keypoints replaced by ``points`` ``[24, 3]``.

    Present points are written with confidence :data:`PRESENT_CONFIDENCE` (1.0) so that
    controlnet_aux's decoder (which drops ``c < 1.0``) draws them; missing points as
    ``[0, 0, 0]``. ``inferred`` replaces :data:`INFERRED_KEY` when given.
    """
    pts = np.array(points, dtype=np.float64).reshape(N_POINTS, 3)
    out = copy.deepcopy(dict(person))
    miss = ~(pts[:, 2] > 0)
    pts[miss] = 0.0
    pts[~miss, 2] = PRESENT_CONFIDENCE
    out[BODY_KEY] = _flat(pts[:N_BODY])
    out[FOOT_KEY] = _flat(pts[N_BODY:])
    for key in OTHER_KEYS:
        out.setdefault(key, None)
    if inferred is not None:
        out[INFERRED_KEY] = sorted({int(i) for i in inferred if pts[int(i), 2] > 0})
    elif INFERRED_KEY in out:
        out[INFERRED_KEY] = sorted(int(i) for i in out[INFERRED_KEY] if pts[int(i), 2] > 0)
    return out


def inferred_indices(person: Mapping) -> list[int]:
    """Sorted keypoint indices (0..23) listed as inferred in ``person`` (empty if none)."""
    return sorted(int(i) for i in (person.get(INFERRED_KEY) or []))


def new_frame(canvas_width: int, canvas_height: int, people: Sequence[Mapping] = ()) -> dict:
    """A POSE_KEYPOINT frame dict (deep-copies ``people``)."""
    frame = {
        "people": copy.deepcopy(list(people)),
        "canvas_width": int(canvas_width),
        "canvas_height": int(canvas_height),
    }
    validate_frame(frame)
    return frame


def person_from_points(
    points: np.ndarray,
    inferred: Sequence[int] = (),
    scores: Sequence[float] | None = None,
    prior: np.ndarray | None = None,
) -> dict:
    """Build a person dict from ``[24, 3]`` points (pixels; confidence > 0 = present)."""
    person: dict[str, Any] = {
        BODY_KEY: [],
        "face_keypoints_2d": None,
        "hand_left_keypoints_2d": None,
        "hand_right_keypoints_2d": None,
    }
    person = set_person_points(person, points, inferred)
    if scores is not None:
        person[SCORES_KEY] = [float(s) for s in scores]
    if prior is not None:
        person[PRIOR_KEY] = _flat(np.asarray(prior).reshape(N_POINTS, 3))
    return person


# ----------------------------------------------------------------------------------------------
# POSE_KEYPOINT read / write


def _looks_normalised(frame: Mapping) -> bool:
    """comfyui_controlnet_aux's rule (``is_normalized``): every present coordinate in [-1, 1]."""
    vals = []
    for person in frame.get("people", []):
        for key in (BODY_KEY, FOOT_KEY, *OTHER_KEYS):
            arr = _flat_triplets(person.get(key), key, None)
            if arr.shape[0]:
                vals.append(np.abs(arr[arr[:, 2] > 0, :2]).reshape(-1))
    if not vals:
        return False
    allv = np.concatenate(vals)
    return bool(allv.size) and bool(np.all(allv <= 1.0))


def frame_from_pose_keypoint(frame: Any, coords: str = "auto", name: str = "frame") -> dict:
    """Read one POSE_KEYPOINT frame as comfyui_controlnet_aux (or any pose pack) produces it.

    Args:
        frame: a frame dict, or a JSON string of one.
        coords: ``"pixels"``, ``"normalized"`` ([0, 1] of the canvas, as comfyui_controlnet_aux's
            OpenPose node writes), or ``"auto"``: normalised when every present coordinate lies in
            [-1, 1] (comfyui_controlnet_aux's own ``is_normalized`` rule), pixels otherwise.
    Returns:
        a new frame in our convention: pixel coordinates, present points with confidence 1.0
        (any confidence > 0 counts as present), missing ones ``[0, 0, 0]``, feet in
        :data:`FOOT_KEY` (missing if absent). Unknown keys are kept.
    Raises:
        PoseFormatError naming the malformed field, or a canvas side above :data:`MAX_CANVAS_SIDE`;
        ValueError for a bad ``coords``.
    """
    if isinstance(frame, (str, bytes)):
        try:
            frame = json.loads(frame)
        except json.JSONDecodeError as e:
            raise PoseFormatError(f"{name}: not valid JSON ({e})") from e
    validate_frame(frame, name)
    check_canvas_size(frame, name)
    if coords not in ("auto", "pixels", "normalized"):
        raise ValueError(f"coords must be 'auto', 'pixels' or 'normalized', got {coords!r}")
    scale = coords == "normalized" or (coords == "auto" and _looks_normalised(frame))
    w, h = int(frame["canvas_width"]), int(frame["canvas_height"])
    out = copy.deepcopy(dict(frame))
    out["canvas_width"], out["canvas_height"] = w, h
    people = []
    for person in frame["people"]:
        pts = person_points(person)
        extra = {}
        for key in OTHER_KEYS:
            arr = _flat_triplets(person.get(key), key, None)
            if arr.shape[0]:
                if scale:
                    arr[arr[:, 2] > 0, :2] *= (w, h)
                extra[key] = _flat(arr)
            else:
                extra[key] = None if person.get(key) is None else []
        if scale:
            pts[pts[:, 2] > 0, :2] *= (w, h)
        new = set_person_points(person, pts)
        new.update(extra)
        if scale and new.get(PRIOR_KEY) is not None:
            prior = _flat_triplets(new[PRIOR_KEY], PRIOR_KEY, N_POINTS)
            prior[:, :2] *= (w, h)
            new[PRIOR_KEY] = _flat(prior)
        people.append(new)
    out["people"] = people
    return out


def frame_to_pose_keypoint(frame: Mapping) -> dict:
    """Write one frame as POSE_KEYPOINT (pixels; c = 1.0 present, [0, 0, 0] missing).

    The result is plain JSON-serialisable Python (lists, floats, ints), a deep copy.
    Raises PoseFormatError if ``frame`` is malformed.
    """
    validate_frame(frame)
    out = copy.deepcopy(dict(frame))
    out["people"] = [set_person_points(p, person_points(p)) for p in frame["people"]]
    out["canvas_width"], out["canvas_height"] = int(frame["canvas_width"]), int(frame["canvas_height"])
    return out


def load_pose_keypoint_json(text: str | bytes, coords: str = "auto") -> list[dict]:
    """Parse a POSE_KEYPOINT JSON document: a list of frames, or a single frame object.

    Returns a list of frames in our convention (see :func:`frame_from_pose_keypoint`).
    Raises PoseFormatError naming the malformed field (``frames[2].people[0]...``), also for a canvas
    side above :data:`MAX_CANVAS_SIDE` (16384 px).
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise PoseFormatError(f"POSE_KEYPOINT JSON: not valid JSON ({e})") from e
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        raise PoseFormatError("POSE_KEYPOINT JSON: expected a list of frames or one frame object")
    return [frame_from_pose_keypoint(f, coords, name=f"frames[{i}]") for i, f in enumerate(data)]


def dump_pose_keypoint_json(frames: Mapping | Sequence[Mapping], indent: int | None = None) -> str:
    """Serialise one frame or a list of frames as POSE_KEYPOINT JSON (always a list)."""
    if isinstance(frames, Mapping):
        frames = [frames]
    return json.dumps([frame_to_pose_keypoint(f) for f in frames], indent=indent)


# ----------------------------------------------------------------------------------------------
# OpenPose JSON (BODY_25 with feet)


def frame_from_openpose_json(
    data: Any, canvas_width: int | None = None, canvas_height: int | None = None, coords: str = "pixels"
) -> dict:
    """Read OpenPose's own JSON output (``--write_json``, BODY_25 model) as one frame.

    Format (CMU OpenPose ``doc/02_output.md``): ``{"version": 1.3, "people": [{"person_id": [-1],
    "pose_keypoints_2d": [75 numbers], "face_keypoints_2d": [...], "hand_left_keypoints_2d": [...],
    "hand_right_keypoints_2d": [...], ...}]}``. BODY_25 indices map to ours by
    :data:`BODY25_FROM_OURS`; MidHip (8) is dropped (it is the hips' midpoint). OpenPose
    confidences are in [0, 1], 0 = missing; they are kept in :data:`SCORES_KEY`.

    Args:
        data: dict or JSON string.
        canvas_width, canvas_height: the image size in pixels; OpenPose JSON has none. If omitted,
            ``data["canvas_width"/"canvas_height"]`` are used when present, else an error.
        coords: ``"pixels"`` (OpenPose default) or ``"normalized"`` (``--keypoint_scale 3``, [0, 1]).
    Raises:
        PoseFormatError naming the malformed field; ValueError when the canvas size is unknown.
    """
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as e:
            raise PoseFormatError(f"OpenPose JSON: not valid JSON ({e})") from e
    if not isinstance(data, Mapping):
        raise PoseFormatError("OpenPose JSON: expected an object with 'people'")
    w = canvas_width if canvas_width is not None else data.get("canvas_width")
    h = canvas_height if canvas_height is not None else data.get("canvas_height")
    if w is None or h is None:
        raise ValueError("OpenPose JSON has no image size: pass canvas_width and canvas_height (pixels)")
    validate_frame({"people": [], "canvas_width": w, "canvas_height": h}, "OpenPose JSON")
    check_canvas_size({"canvas_width": w, "canvas_height": h}, "OpenPose JSON")
    if coords not in ("pixels", "normalized"):
        raise ValueError(f"coords must be 'pixels' or 'normalized', got {coords!r}")
    people = []
    for p in _parse(_OpenPoseJSON, data, "OpenPose JSON").people:
        arr = np.asarray(p.pose_keypoints_2d or [0.0] * 75, dtype=np.float64).reshape(25, 3)
        pts = arr[list(BODY25_FROM_OURS)].copy()
        scores = [float(c) for c in pts[:, 2]]
        extra = {}
        for key in OTHER_KEYS:
            other = np.asarray(getattr(p, key) or [], dtype=np.float64).reshape(-1, 3)
            if coords == "normalized" and other.shape[0]:
                other[:, :2] *= (w, h)
            extra[key] = _flat(other) if other.shape[0] else None
        if coords == "normalized":
            pts[:, :2] *= (w, h)
        person = person_from_points(pts, scores=scores)
        person.update(extra)
        people.append(person)
    return new_frame(int(w), int(h), people)


def frame_to_openpose_json(frame: Mapping, version: float = 1.3) -> dict:
    """Write one frame as OpenPose JSON (BODY_25 with feet, pixel coordinates).

    Our 18 + 6 points go to their BODY_25 indices (:data:`BODY25_FROM_OURS`); MidHip (8) is the
    midpoint of both hips when both are present, else missing. Confidences are the detector
    scores (:data:`SCORES_KEY`) when known, else 1.0 for present points; 0 for missing.
    ``canvas_width``/``canvas_height`` are added as extra fields (OpenPose ignores them).
    """
    validate_frame(frame)
    people = []
    for p in frame["people"]:
        pts = person_points(p)
        pres = present(pts)
        scores = p.get(SCORES_KEY)
        out = np.zeros((25, 3))
        for ours, b25 in enumerate(BODY25_FROM_OURS):
            if pres[ours]:
                c = float(scores[ours]) if scores is not None and scores[ours] > 0 else 1.0
                out[b25] = (pts[ours, 0], pts[ours, 1], c)
        rh, lh = KP["right_hip"], KP["left_hip"]
        if pres[rh] and pres[lh]:
            out[BODY25_MIDHIP] = (*((pts[rh, :2] + pts[lh, :2]) / 2), min(out[9, 2], out[12, 2]))
        person = {"person_id": [-1], "pose_keypoints_2d": _flat(out)}
        for key in OTHER_KEYS:
            person[key] = list(p.get(key) or [])
        person.update(
            {
                "pose_keypoints_3d": [],
                "face_keypoints_3d": [],
                "hand_left_keypoints_3d": [],
                "hand_right_keypoints_3d": [],
            }
        )
        people.append(person)
    return {
        "version": version,
        "people": people,
        "canvas_width": int(frame["canvas_width"]),
        "canvas_height": int(frame["canvas_height"]),
    }


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two 2-D points (pixels)."""
    return float(math.hypot(float(a[0] - b[0]), float(a[1] - b[1])))

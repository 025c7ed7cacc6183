"""Pose detection: MediaPipe Pose (shipped, offline) and optional controlnet_aux OpenPose / DWPose.

MediaPipe Pose Landmarker (BlazePose GHUM 3D, "full") gives 33 landmarks per person, in this
order (MediaPipe docs, "Pose landmark detection guide", pose landmark model):
0 nose, 1-3 left eye inner/eye/outer, 4-6 right eye inner/eye/outer, 7 left ear, 8 right ear,
9-10 mouth left/right, 11 left shoulder, 12 right shoulder, 13 left elbow, 14 right elbow,
15 left wrist, 16 right wrist, 17-22 pinkies/indices/thumbs, 23 left hip, 24 right hip,
25 left knee, 26 right knee, 27 left ankle, 28 right ankle, 29 left heel, 30 right heel,
31 left foot index, 32 right foot index.
Coordinates are normalised to the image ([0, 1], may lie outside), with a per-landmark
``visibility`` (likelihood of being in frame and not occluded).

Mapping to our 18 + 6 points (see :mod:`pose.keypoints`): COCO-18 from the landmarks of the same
name; the neck is the midpoint of the shoulders (as DWPose / comfyui_controlnet_aux compute it);
the big toe is MediaPipe's "foot index" (tip of the foot); MediaPipe has no small toe, so it is
derived from the heel, big toe and hips (:func:`pose.complete.small_toe_from`) and listed as inferred.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
import types
from typing import Any

import numpy as np

from ..checks import check_int
from .keypoints import KP, N_POINTS, new_frame, person_from_points
from .wholebody import import_mediapipe

MODEL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
DEFAULT_TASK = os.path.join(MODEL_DIR, "pose_landmarker_full.task")

# our keypoint index -> MediaPipe landmark index (None: derived)
MP_FROM_OURS = {
    KP["nose"]: 0,
    KP["right_shoulder"]: 12,
    KP["right_elbow"]: 14,
    KP["right_wrist"]: 16,
    KP["left_shoulder"]: 11,
    KP["left_elbow"]: 13,
    KP["left_wrist"]: 15,
    KP["right_hip"]: 24,
    KP["right_knee"]: 26,
    KP["right_ankle"]: 28,
    KP["left_hip"]: 23,
    KP["left_knee"]: 25,
    KP["left_ankle"]: 27,
    KP["right_eye"]: 5,
    KP["left_eye"]: 2,
    KP["right_ear"]: 8,
    KP["left_ear"]: 7,
    KP["left_big_toe"]: 31,
    KP["left_heel"]: 29,
    KP["right_big_toe"]: 32,
    KP["right_heel"]: 30,
}

_lock = threading.Lock()
_landmarkers: dict[tuple, Any] = {}


def check_image(image: Any, name: str = "image") -> np.ndarray:
    """Validate an RGB image: uint8 numpy ``[H, W, 3]`` (a ``[H, W, 4]`` RGBA drops alpha).

    Raises:
        TypeError: not a numpy array; ValueError: wrong dtype or shape, with the fix.
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(
            f"{name}: expected a numpy uint8 array [H, W, 3] (RGB), got {type(image).__name__}; "
            "convert a ComfyUI IMAGE with (t[0].cpu().numpy() * 255).round().astype(np.uint8)"
        )
    if image.dtype != np.uint8:
        raise ValueError(f"{name}: expected dtype uint8 (0..255), got {image.dtype}")
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"{name}: expected shape [H, W, 3] (RGB), got {list(image.shape)}")
    return np.ascontiguousarray(image[:, :, :3])


def _get_landmarker(model_path: str, num_poses: int):
    key = (os.path.abspath(model_path), int(num_poses))
    with _lock:
        lm = _landmarkers.get(key)
        if lm is None:
            if not os.path.isfile(model_path):
                raise FileNotFoundError(
                    f"MediaPipe pose model not found: {model_path}. It ships with this pack as "
                    f"pose/models/pose_landmarker_full.task; rebuild it with pose/models/build_task.py"
                )
            mp, BaseOptions, vision = import_mediapipe()
            opts = vision.PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=model_path),
                running_mode=vision.RunningMode.IMAGE,
                num_poses=int(num_poses),
            )
            lm = vision.PoseLandmarker.create_from_options(opts)
            _landmarkers[key] = lm
        return lm


def detect_mediapipe_landmarks(
    image: np.ndarray, model_path: str = DEFAULT_TASK, num_poses: int = 1
) -> np.ndarray:
    """Raw MediaPipe landmarks: float64 ``[P, 33, 3]`` = (x px, y px, visibility in [0, 1]).

    The model is loaded once per (path, num_poses) and cached (thread-safe).
    """
    image = check_image(image)
    mp, _, _ = import_mediapipe()
    lm = _get_landmarker(model_path, num_poses)
    h, w = image.shape[:2]
    with _lock:  # a Tasks landmarker is not re-entrant
        result = lm.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=image))
    out = np.zeros((len(result.pose_landmarks), 33, 3))
    for p, lms in enumerate(result.pose_landmarks):
        for i, landmark in enumerate(lms):
            vis = landmark.visibility if landmark.visibility is not None else 0.0
            out[p, i] = (landmark.x * w, landmark.y * h, vis)
    return out


DETECT_MIN_SIDE = 256
"""Shorter side (px) below which an image or window in which the landmarker finds nobody is tried again
upscaled (bicubic, for detection only): MediaPipe's pose landmarker runs on a 256 x 256 crop of the person
(model card "BlazePose GHUM 3D", input 256 x 256). The output pixels never see the upscaled copy. The
original comes first: on crops of scikit-image's and matplotlib's photos at 100 and 140 px, the upscaled
copy placed completed ankles no better (bench/bench_people.py) and missed a person the original found."""


def upscaled_landmarks(image: np.ndarray, model_path: str = DEFAULT_TASK, num_poses: int = 1) -> np.ndarray:
    """:func:`detect_mediapipe_landmarks` on ``image``; when it finds nobody and ``image``'s shorter side is
    under :data:`DETECT_MIN_SIDE` px, on a copy upscaled (Pillow bicubic) to that side, the landmarks mapped
    back to ``image``'s pixels. Returns ``[P, 33, 3]``."""
    image = check_image(image)
    out = detect_mediapipe_landmarks(image, model_path, num_poses)
    h, w = image.shape[:2]
    scale = DETECT_MIN_SIDE / min(h, w)
    if len(out) or scale <= 1:
        return out
    from PIL import Image

    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    big = np.asarray(Image.fromarray(image).resize(size, Image.BICUBIC))
    out = detect_mediapipe_landmarks(big, model_path, num_poses)
    out[..., 0] *= w / size[0]
    out[..., 1] *= h / size[1]
    return out


MIN_SHANK_TO_THIGH = 0.5
"""A detected ankle counts only when it lies at least this fraction of the thigh (hip to knee) from its
knee. Shank and thigh are of equal length (0.246 H and 0.245 H, Drillis & Contini via Winter 2009,
Fig. 4.1); an ankle closer to its knee than half of that is the landmarker placing the foot where the
knee is (a small photo cut at the knees), and Complete Legs places it instead."""


def _drop_short_shanks(pts: np.ndarray) -> None:
    """Mark missing (in place) each ankle, with its heel and toes, that lies closer to its present knee
    than :data:`MIN_SHANK_TO_THIGH` x the hip-to-knee length (hip, knee and ankle all present)."""
    for side in ("left", "right"):
        hip, knee, ankle = (KP[f"{side}_{j}"] for j in ("hip", "knee", "ankle"))
        if min(pts[hip, 2], pts[knee, 2], pts[ankle, 2]) <= 0:
            continue
        thigh = np.hypot(*(pts[knee, :2] - pts[hip, :2]))
        if np.hypot(*(pts[ankle, :2] - pts[knee, :2])) < MIN_SHANK_TO_THIGH * thigh:
            for j in (ankle, KP[f"{side}_heel"], KP[f"{side}_big_toe"], KP[f"{side}_small_toe"]):
                pts[j] = 0.0


def landmarks_to_person(
    lms: np.ndarray, width: int, height: int, visibility: float = 0.5, margin: float = 0.02
) -> dict:
    """Map one person's MediaPipe landmarks ``[33, 3]`` (px, px, visibility) to a person dict.

    A landmark is *present* when its visibility >= ``visibility`` and it lies inside the canvas
    grown by ``margin`` x its size; otherwise it is missing, and its estimate goes to the
    :data:`~pose.keypoints.PRIOR_KEY` field (``[x, y, visibility]``) for :func:`pose.complete_legs`.
    Scores (:data:`~pose.keypoints.SCORES_KEY`) are MediaPipe's visibilities.
    """
    from .complete import small_toe_from  # local: complete imports keypoints only

    pts = np.zeros((N_POINTS, 3))
    prior = np.zeros((N_POINTS, 3))
    scores = np.zeros(N_POINTS)
    mx, my = margin * width, margin * height
    for ours, m in MP_FROM_OURS.items():
        x, y, v = lms[m]
        inside = -mx <= x <= width + mx and -my <= y <= height + my
        scores[ours] = v
        prior[ours] = (x, y, max(v, 1e-3))
        if v >= visibility and inside:
            pts[ours] = (x, y, 1.0)
    # neck = shoulder midpoint (DWPose / comfyui_controlnet_aux convention)
    rs, ls = KP["right_shoulder"], KP["left_shoulder"]
    neck = (lms[11, :2] + lms[12, :2]) / 2
    scores[KP["neck"]] = min(scores[rs], scores[ls])
    prior[KP["neck"]] = (*neck, max(scores[KP["neck"]], 1e-3))
    if pts[rs, 2] > 0 and pts[ls, 2] > 0:
        pts[KP["neck"]] = (*neck, 1.0)
    _drop_short_shanks(pts)
    inferred = []
    # small toes: derived from heel, big toe and hips (MediaPipe has none)
    for side, other in (("left", "right"), ("right", "left")):
        heel, big, small = KP[f"{side}_heel"], KP[f"{side}_big_toe"], KP[f"{side}_small_toe"]
        hip, other_hip = MP_FROM_OURS[KP[f"{side}_hip"]], MP_FROM_OURS[KP[f"{other}_hip"]]
        est = small_toe_from(prior[heel, :2], prior[big, :2], lms[hip, :2], lms[other_hip, :2])
        prior[small] = (*est, max(min(scores[heel], scores[big]), 1e-3))
        if pts[heel, 2] > 0 and pts[big, 2] > 0:
            pts[small] = (*est, 1.0)
            inferred.append(small)
    return person_from_points(pts, inferred=inferred, scores=scores, prior=prior)


# Several people, wide and small photos. MediaPipe's pose detector (BlazePose) letterboxes the whole image
# into its 224 x 224 input: on a wide strip or group photo each person is a few pixels tall, and it mostly
# reports one person (or none) even with num_poses > 1. detect() therefore also runs the landmarker on
# windows (full-height columns and squares) of several sizes and merges what it finds (see _detect_people).
WINDOW_FRACTIONS = (1.0, 0.75, 0.6, 0.5)
"""Window sides tried, as fractions of the image's shorter side (a person cut at the knees is about as tall
as the photo; a back row or a seated person less)."""
WINDOW_STEP = 1 / 3
"""Windows of one size lie this fraction of their side apart (so that a person narrower than two thirds
of a window lies whole in one of them)."""
MIN_WINDOW = 96
"""Smallest window side (px); smaller windows are upscaled to :data:`DETECT_MIN_SIDE` like small photos."""
MAX_WINDOWS = 96
"""Window budget per image: the first size (the whole shorter side) always covers the whole image, however
wide (a 16384 x 300 strip: 162 windows); smaller sizes are added, largest first, while the total stays
within this. About 0.03 s a window on a CPU."""
EDGE_FRACTION = 0.02
"""A person whose visible landmarks come this close (x the window side) to a window edge inside the
image is cut by the window; a window that holds the whole person is preferred for it."""
SAME_PERSON_OVERLAP = 0.5
"""Two detections are one person when their boxes (visible landmarks) overlap by more than this
fraction of the smaller box."""
MIN_VISIBLE_LANDMARKS = 5
"""A detection needs this many landmarks of visibility >= 0.5 to count (fewer: no box to compare)."""
MIN_BOX_FRACTION = 0.5
"""A detection in a window counts when its box (visible landmarks) spans at least this fraction of the
window's shorter side: smaller ones are faces, badges or patterns taken for a distant person in a small
window, and a real person that small is found whole in a smaller window."""

MIN_INSIDE_FRACTION = 0.5
"""A detection in a window counts when at least this fraction of its box (visible landmarks) lies inside the
window: less is a person extrapolated from a fragment at the window's edge (a cup's rim taken for a
shoulder), and a real person cut by the window is found whole in another window."""
HEAD_ABOVE_SHOULDERS = 0.2
"""A detection in a window counts when its nose lies at least this fraction of the torso (shoulders' to
hips' midpoints) away from the shoulders' midpoint. Anthropometry puts the nose about 0.09 H above the
shoulders (eye height 0.936 H, chin 0.870 H, shoulder 0.818 H: Drillis & Contini via Winter 2009,
Fig. 4.1), a third of the 0.288 H torso; a pattern taken for a person (a camera on a tripod) has its
"nose" on its "shoulders"."""


def _inside_fraction(box: tuple, w: int, h: int) -> float:
    """The fraction of ``box`` (window px) that lies inside the ``w`` x ``h`` window."""
    ix = max(0.0, min(box[2], w) - max(box[0], 0.0))
    iy = max(0.0, min(box[3], h) - max(box[1], 0.0))
    return ix * iy / max((box[2] - box[0]) * (box[3] - box[1]), 1e-9)


def _plausible(lms: np.ndarray) -> bool:
    """Whether the landmarks ``[33, 3]`` have a head above the shoulders (:data:`HEAD_ABOVE_SHOULDERS`)."""
    shoulders = (lms[11, :2] + lms[12, :2]) / 2  # MediaPipe 11 / 12: shoulders, 23 / 24: hips, 0: nose
    torso = np.hypot(*((lms[23, :2] + lms[24, :2]) / 2 - shoulders))
    return bool(np.hypot(*(lms[0, :2] - shoulders)) >= HEAD_ABOVE_SHOULDERS * torso)


def _positions(size: int, side: int, step: int) -> list[int]:
    return sorted({*range(0, size - side + 1, step), size - side})


def detection_windows(height: int, width: int) -> list[tuple[int, int, int, int]]:
    """``(x, y, w, h)`` px windows: the whole image; then, for each of :data:`WINDOW_FRACTIONS` of the
    shorter image side (at least :data:`MIN_WINDOW` px): bands that span the whole shorter side and are
    that wide along the longer one (columns of a wide photo, where people cut at the knees stand the full
    height), then squares of that side (people smaller than the photo: back rows, seated people);
    :data:`WINDOW_STEP` of a side apart, the last one flush with the far edge. The first size always
    covers the image; each further set is added only while the total stays within :data:`MAX_WINDOWS`."""
    height, width = check_int("height", height, 1), check_int("width", width, 1)
    short = min(height, width)
    out = [(0, 0, width, height)]
    for k, fraction in enumerate(WINDOW_FRACTIONS):
        side = round(short * fraction)
        if side < MIN_WINDOW:
            break
        step = max(1, round(side * WINDOW_STEP))
        band = (side, height) if width >= height else (width, side)
        for w, h in dict.fromkeys([band, (side, side)]):
            more = [
                (x, y, w, h)
                for y in _positions(height, h, step)
                for x in _positions(width, w, step)
                if (w, h) != (width, height)
            ]
            if k > 0 and len(out) + len(more) > MAX_WINDOWS:
                return out
            out += more
    return out


def _visible_box(lms: np.ndarray) -> tuple[float, float, float, float] | None:
    """``(x0, y0, x1, y1)`` px of the landmarks ``[33, 3]`` with visibility >= 0.5, or None if too few."""
    v = lms[lms[:, 2] >= 0.5, :2]
    if len(v) < MIN_VISIBLE_LANDMARKS:
        return None
    return (*v.min(0), *v.max(0))


def _overlap(a: tuple, b: tuple) -> float:
    """Intersection of two boxes over the smaller one's area."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / max(smaller, 1e-9)


def _cut_by_window(box: tuple, window: tuple, height: int, width: int) -> bool:
    """True when ``box`` (window px) touches an edge of ``window`` that lies inside the image."""
    x, y, w, h = window
    m = EDGE_FRACTION * w
    return (
        (x > 0 and box[0] < m)
        or (y > 0 and box[1] < m)
        or (x + w < width and box[2] > w - m)
        or (y + h < height and box[3] > h - m)
    )


def _mirrored_landmarks(image: np.ndarray, model_path: str, num_poses: int) -> np.ndarray:
    """:func:`upscaled_landmarks` of ``image`` mirrored left-right, mapped back to ``image``: x -> w - x,
    and each left landmark swapped with its right twin (MediaPipe's pairs 1-4, 2-5, 3-6, 7-8, 9-10, then
    11-12, 13-14, ... 31-32)."""
    w = image.shape[1]
    out = upscaled_landmarks(np.ascontiguousarray(image[:, ::-1]), model_path, num_poses)
    out[..., 0] = w - out[..., 0]
    swap = np.array([0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, *[i + (1 if i % 2 else -1) for i in range(11, 33)]])
    return out[:, swap]


def _window_candidates(
    image: np.ndarray, num_poses: int, model_path: str
) -> list[tuple[bool, np.ndarray, tuple[int, int]]]:
    """``(cut, landmarks [33, 3] in image px, (w, h) of the window)`` of every person found in any detection
    window; ``cut``: the person touches an edge of its window that lies inside the image. A band window (see
    :func:`detection_windows`) in which the landmarker finds nobody is tried once more mirrored (MediaPipe's detector is not symmetric: a person seen from
    the back or in profile at a window's edge is often found only one way round)."""
    height, width = image.shape[:2]
    found = []
    for window in detection_windows(height, width):
        x, y, w, h = window
        crop = np.ascontiguousarray(image[y : y + h, x : x + w])
        for mirrored in (False, True):
            landmarks = (_mirrored_landmarks if mirrored else upscaled_landmarks)(crop, model_path, num_poses)
            for lms in landmarks:
                box = _visible_box(lms)
                big = box is not None and max(box[2] - box[0], box[3] - box[1]) >= MIN_BOX_FRACTION * min(
                    w, h
                )
                if big and _plausible(lms) and _inside_fraction(box, w, h) >= MIN_INSIDE_FRACTION:
                    cut = _cut_by_window(box, window, height, width)
                    found.append((cut, lms + np.array([x, y, 0.0]), (w, h)))
            if len(landmarks) or w == h:  # squares: once (the bands, across the photo, catch the rest)
                break
    return found


def _confirmed(image: np.ndarray, box: tuple, size: tuple[int, int], model_path: str) -> bool:
    """Whether the landmarker (or, failing that, on the mirrored crop) finds a person again, overlapping
    ``box`` (image px) by more than :data:`SAME_PERSON_OVERLAP`, in a window of ``size`` (w, h: the size of
    the window that found the person cut) centred on ``box``. A person cut by one window is found again
    with themselves in the middle; a pattern taken for a person at a window's edge mostly is not (a cup of
    coffee)."""
    height, width = image.shape[:2]
    w, h = min(size[0], width), min(size[1], height)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    x = int(min(max(cx - w / 2, 0), width - w))
    y = int(min(max(cy - h / 2, 0), height - h))
    crop = np.ascontiguousarray(image[y : y + h, x : x + w])
    for find in (upscaled_landmarks, _mirrored_landmarks):
        for lms in find(crop, model_path, MAX_PEOPLE):
            again = _visible_box(lms + np.array([x, y, 0.0]))
            if again is not None and _overlap(box, again) > SAME_PERSON_OVERLAP:
                return True
    return False


def _area(lms: np.ndarray) -> float:
    """Area (px^2) of the visible landmarks' box: of two detections of one person, the larger one has found
    more of the body (the legs too), usually in a larger window with more context."""
    x0, y0, x1, y1 = _visible_box(lms)
    return float((x1 - x0) * (y1 - y0))


def _neck_x(lms: np.ndarray) -> float:
    return float(lms[11, 0] + lms[12, 0]) / 2  # MediaPipe 11 / 12: left / right shoulder


def _detect_people(image: np.ndarray, num_poses: int, model_path: str) -> list[np.ndarray]:
    """Up to ``num_poses`` people's landmarks, ordered left to right (by the shoulders' midpoint).

    One person: the landmarker on the whole image (upscaled if small, :func:`upscaled_landmarks`); when it
    finds nobody (a wide photo), the windows as below, keeping the most visible person. Several: the
    landmarker on every window of :func:`detection_windows`; duplicates (boxes overlapping more than
    :data:`SAME_PERSON_OVERLAP`) keep the detection that is whole in its window, then the one whose visible
    landmarks span the largest box; a person found only cut by windows is kept when found again around
    themselves (:func:`_confirmed`); the ``num_poses`` first are kept.
    """
    if num_poses == 1:
        whole = list(upscaled_landmarks(image, model_path, 1))
        if whole:
            return whole
    kept: list[np.ndarray] = []
    for cut, lms, size in sorted(
        _window_candidates(image, num_poses, model_path), key=lambda c: (c[0], -_area(c[1]))
    ):
        box = _visible_box(lms)
        unique = all(_overlap(box, _visible_box(k)) <= SAME_PERSON_OVERLAP for k in kept)
        if unique and (not cut or _confirmed(image, box, size, model_path)):
            kept.append(lms)
            if len(kept) == num_poses:
                break
    return sorted(kept, key=_neck_x)


def detect(
    image: np.ndarray,
    num_poses: int = 1,
    visibility: float = 0.5,
    model_path: str = DEFAULT_TASK,
    hands: bool = False,
    face: bool = False,
) -> dict:
    """Detect body and feet with MediaPipe Pose; return one POSE_KEYPOINT frame.

    Args:
        image: uint8 ``[H, W, 3]`` RGB numpy array.
        num_poses: most people to detect, >= 1. With more than one, the landmarker (MediaPipe
            ``num_poses``) also runs on square windows of the image (see :func:`detection_windows`),
            since on a whole wide image it mostly finds one person.
        visibility: MediaPipe visibility in [0, 1] from which a landmark counts as detected
            (default 0.5, the value MediaPipe's own confidence options default to).
        model_path: the ``.task`` bundle (default: the one shipped in ``pose/models``).
        hands, face: also detect each person's hands (21 points each) and face (70 points) with the
            shipped MediaPipe hand / face landmarkers (:func:`pose.wholebody.add_hands_face`).
    Returns:
        frame ``{"people": [...], "canvas_width": W, "canvas_height": H}`` with pixel coordinates,
        people ordered left to right (by the midpoint of their shoulders), COCO-18 in
        ``pose_keypoints_2d``, feet in ``foot_keypoints_2d``; undetected points missing, with
        MediaPipe's guesses in ``prior_keypoints_2d`` (see :mod:`pose.keypoints`).
        No person found: ``people == []``.
    Raises:
        TypeError/ValueError for a bad image or ``num_poses``; FileNotFoundError if the model is missing;
        ImportError if mediapipe is not installed.
    Runs offline; the model is loaded once and cached.
    """
    image = check_image(image)
    num_poses = check_int("num_poses", num_poses, 1)
    if not 0.0 <= float(visibility) <= 1.0:
        raise ValueError(f"visibility must be in [0, 1], got {visibility}")
    h, w = image.shape[:2]
    all_lms = _detect_people(image, int(num_poses), model_path)
    people = [landmarks_to_person(lms, w, h, visibility) for lms in all_lms]
    if hands or face:
        from .wholebody import add_hands_face

        people = add_hands_face(image, people, hands=hands, face=face)
    return new_frame(w, h, people)


MAX_PEOPLE = 16
"""Pose Detect's largest ``max_people``, and the shipped workflows' value: every person in the photo."""


def detect_people(
    image: np.ndarray, max_people: int = MAX_PEOPLE, visibility: float = 0.5, model_path: str = DEFAULT_TASK
) -> dict:
    """The shipped workflows' Pose Detect (MediaPipe, ``max_people``, ``visibility`` 0.5) on one photo: the
    frame :func:`detect` returns with ``num_poses=max_people``. A runner's check that a photo shows a
    person, and its count of people, call this with the workflow's ``max_people`` so that they find
    exactly whom the workflow will pose (wide photos windowed, small ones upscaled for detection).

    Raises what :func:`detect` raises.
    """
    return detect(image, num_poses=max_people, visibility=visibility, model_path=model_path)


# ----------------------------------------------------------------------------------------------
# optional detectors through controlnet_aux


PRIVATE_CONTROLNET_AUX = "_repaint_extend_controlnet_aux"
"""Private package name under which :func:`import_controlnet_aux` loads controlnet_aux's files."""


def _private_controlnet_aux() -> types.ModuleType:
    """A private package whose ``__path__`` is controlnet_aux's folder, its ``__init__`` not run.

    Registered once under :data:`PRIVATE_CONTROLNET_AUX` (a name nobody else uses), so that the
    package's own relative imports (``from ..util import ...``) resolve inside it.
    """
    with _lock:
        package = sys.modules.get(PRIVATE_CONTROLNET_AUX)
        if package is None:
            spec = importlib.util.find_spec("controlnet_aux")  # finds the folder; runs nothing
            if spec is None or not spec.submodule_search_locations:
                raise ImportError("controlnet_aux is not installed: pip install controlnet-aux==0.0.10")
            package = types.ModuleType(PRIVATE_CONTROLNET_AUX, "controlnet_aux's modules, loaded privately")
            package.__path__ = list(spec.submodule_search_locations)
            package.__package__ = PRIVATE_CONTROLNET_AUX
            sys.modules[PRIVATE_CONTROLNET_AUX] = package
        return package


def import_controlnet_aux(submodule: str):
    """Import ``controlnet_aux.<submodule>`` even where its package ``__init__`` is broken.

    controlnet_aux (<= 0.0.10) imports its MediaPipe face detector at package import, which uses
    the legacy ``mediapipe.solutions`` that mediapipe >= 0.10.30 no longer has: ``import
    controlnet_aux`` then fails with ``AttributeError: module 'mediapipe' has no attribute
    'solutions'``. The submodules we use (``open_pose``, ``dwpose``) import only each other and
    ``controlnet_aux.util``, relatively. So, unless the real ``controlnet_aux.<submodule>`` is already
    loaded (then it is returned), the submodule is loaded from controlnet_aux's folder under the
    private package :data:`PRIVATE_CONTROLNET_AUX` without running the package ``__init__``. Nothing
    shared is patched: ``mediapipe`` and the real ``controlnet_aux`` entries of ``sys.modules`` stay as
    they are, for every thread and every later import.
    """
    real = sys.modules.get(f"controlnet_aux.{submodule}")
    if real is not None:
        return real
    return importlib.import_module(f"{_private_controlnet_aux().__name__}.{submodule}")


def _require_file(path: str | None, what: str, filename: str, where: str) -> str:
    if not path or not os.path.isfile(path):
        raise FileNotFoundError(
            f"{what} weights not found at {path!r}. Put '{filename}' in {where} and pass its path; "
            "this pack never downloads weights."
        )
    return path


_openpose_bodies: dict[str, Any] = {}


def detect_openpose(image: np.ndarray, weights_path: str) -> dict:
    """Detect COCO-18 body keypoints with controlnet_aux's OpenPose body model (no feet).

    Args:
        image: uint8 ``[H, W, 3]`` RGB.
        weights_path: path of ``body_pose_model.pth`` (from the ``lllyasviel/Annotators`` model
            repository), e.g. ``ComfyUI/models/controlnet_aux/body_pose_model.pth``.
    Returns:
        a frame like :func:`detect` (feet missing; scores = OpenPose part scores).
    Raises:
        FileNotFoundError naming the file and where it goes when ``weights_path`` is missing;
        never downloads (controlnet_aux's ``Body`` is built from the local file directly).
    """
    image = check_image(image)
    path = _require_file(
        weights_path,
        "OpenPose body",
        "body_pose_model.pth",
        "ComfyUI/models/controlnet_aux/ (file from the 'lllyasviel/Annotators' repository)",
    )
    body_mod = import_controlnet_aux("open_pose.body")
    import torch

    with _lock:
        body = _openpose_bodies.get(path)
        if body is None:
            body = body_mod.Body(path)
            _openpose_bodies[path] = body
    h, w = image.shape[:2]
    with torch.no_grad():
        candidate, subset = body(image[:, :, ::-1].copy())  # controlnet_aux expects BGR
    people = []
    for res in body_mod.Body.format_body_result(candidate, subset):
        pts = np.zeros((N_POINTS, 3))
        scores = np.zeros(N_POINTS)
        for i, kp in enumerate(res.keypoints[:18]):
            if kp is not None:
                pts[i] = (kp.x, kp.y, 1.0)
                scores[i] = float(kp.score)
        people.append(person_from_points(pts, scores=scores))
    return new_frame(w, h, people)


def detect_dwpose(
    image: np.ndarray,
    det_checkpoint: str,
    pose_checkpoint: str,
    device: str = "cpu",
    score_threshold: float = 0.3,
) -> dict:
    """Detect body + feet with controlnet_aux's DWPose (``controlnet_aux.dwpose.Wholebody``).

    controlnet_aux 0.0.10's DWPose runs on OpenMMLab (``mmcv>=2.0.1``, ``mmdet>=3.1.0``,
    ``mmpose>=1.1.0``) with its bundled configs and two local checkpoints.

    Args:
        image: uint8 ``[H, W, 3]`` RGB.
        det_checkpoint: YOLOX-L COCO detector, ``yolox_l_8x8_300e_coco_20211126_140236-d3bd2b23.pth``.
        pose_checkpoint: DWPose whole-body model ``dw-ll_ucoco_384.pth``.
        score_threshold: keypoint score from which a point is present (0.3, as DWPose and
            comfyui_controlnet_aux use).
    Returns:
        a frame like :func:`detect`; feet from DWPose's COCO-WholeBody points 18..23.
    Raises:
        FileNotFoundError naming each missing checkpoint and where it goes (checked first, so
        nothing is ever downloaded; controlnet_aux would otherwise fetch URLs); ImportError when
        the OpenMMLab packages are missing.
    """
    image = check_image(image)
    where = "ComfyUI/models/controlnet_aux/dwpose/"
    det = _require_file(
        det_checkpoint,
        "DWPose detector (YOLOX-L)",
        "yolox_l_8x8_300e_coco_20211126_140236-d3bd2b23.pth",
        where,
    )
    pose = _require_file(pose_checkpoint, "DWPose pose estimator", "dw-ll_ucoco_384.pth", where)
    try:
        import mmdet  # noqa: F401
        import mmpose  # noqa: F401
    except ImportError as e:
        raise ImportError(
            "DWPose through controlnet_aux needs OpenMMLab: pip install -U openmim && "
            "mim install 'mmcv>=2.0.1' 'mmdet>=3.1.0' 'mmpose>=1.1.0'"
        ) from e
    wb_mod = import_controlnet_aux("dwpose.wholebody")
    key = f"{det}|{pose}|{device}"
    with _lock:
        wb = _openpose_bodies.get(key)
        if wb is None:
            wb = wb_mod.Wholebody(det_ckpt=det, pose_ckpt=pose, device=device)
            _openpose_bodies[key] = wb
    h, w = image.shape[:2]
    keypoints, scores = wb(image[:, :, ::-1].copy())  # [N, 134, 2] px, [N, 134]; body in OpenPose order
    people = []
    for kps, sc in zip(np.asarray(keypoints), np.asarray(scores)):
        pts = np.zeros((N_POINTS, 3))
        ok = sc[:N_POINTS] > score_threshold
        pts[ok, :2] = kps[:N_POINTS][ok]
        pts[ok, 2] = 1.0
        people.append(person_from_points(pts, scores=np.clip(sc[:N_POINTS], 0, 1)))
    return new_frame(w, h, people)

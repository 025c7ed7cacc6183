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

MODEL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
DEFAULT_TASK = os.path.join(MODEL_DIR, "pose_landmarker_full.task")
MAX_PEOPLE = 16
"""Most people one detection returns (Pose Detect's ``max_people`` range)."""

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


def _import_mediapipe():
    try:
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "pose.detect needs the 'mediapipe' package (Tasks API): pip install mediapipe==1.2.2"
        ) from e
    return mp, BaseOptions, vision


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
            mp, BaseOptions, vision = _import_mediapipe()
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
    mp, _, _ = _import_mediapipe()
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


# Several people. MediaPipe's pose detector (BlazePose) letterboxes the whole image into its 224 x 224
# input, and on a wide collage it mostly reports one person even with num_poses > 1. detect() therefore
# also runs the landmarker on square windows and merges what it finds (see _detect_people).
WINDOW_SCALES = (1, 2)
"""Window sides tried for several people: the image's shorter side divided by each of these."""
MIN_WINDOW = 256
"""Smallest window side (px): the detector's 224 px input, rounded up to a multiple of 32."""
MAX_WINDOWS = 32
"""At most this many windows per image (finer scales are dropped beyond it): about 0.1 s each on a CPU."""
EDGE_FRACTION = 0.02
"""A person whose visible landmarks come this close (x the window side) to a window edge inside the
image is cut by the window; the window that holds the whole person reports it instead."""
SAME_PERSON_OVERLAP = 0.5
"""Two detections are one person when their boxes (visible landmarks) overlap by more than this
fraction of the smaller box."""
MIN_VISIBLE_LANDMARKS = 5
"""A detection needs this many landmarks of visibility >= 0.5 to count (fewer: no box to compare)."""


def detection_windows(height: int, width: int) -> list[tuple[int, int, int, int]]:
    """``(x, y, w, h)`` px windows: the whole image, then squares whose side is the shorter image side
    divided by each of :data:`WINDOW_SCALES` (at least :data:`MIN_WINDOW` px), half a side apart, the
    last one flush with the far edge; at most :data:`MAX_WINDOWS` in all."""
    out = [(0, 0, width, height)]
    for scale in WINDOW_SCALES:
        side = min(height, width) // scale
        if side < MIN_WINDOW:
            break
        step = side // 2
        xs = sorted({*range(0, width - side + 1, step), width - side})
        ys = sorted({*range(0, height - side + 1, step), height - side})
        more = [(x, y, side, side) for y in ys for x in xs if (side, side) != (width, height)]
        if len(out) + len(more) > MAX_WINDOWS:
            break
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


def _window_candidates(image: np.ndarray, num_poses: int, model_path: str) -> list[np.ndarray]:
    """Landmarks ``[33, 3]`` (image px) of every whole person found in any detection window."""
    height, width = image.shape[:2]
    found = []
    for window in detection_windows(height, width):
        x, y, w, h = window
        crop = np.ascontiguousarray(image[y : y + h, x : x + w])
        for lms in detect_mediapipe_landmarks(crop, model_path, num_poses):
            box = _visible_box(lms)
            if box is None or _cut_by_window(box, window, height, width):
                continue
            found.append(lms + np.array([x, y, 0.0]))
    return found


def _neck_x(lms: np.ndarray) -> float:
    return float(lms[11, 0] + lms[12, 0]) / 2  # MediaPipe 11 / 12: left / right shoulder


def _detect_people(image: np.ndarray, num_poses: int, model_path: str) -> list[np.ndarray]:
    """Up to ``num_poses`` people's landmarks, ordered left to right (by the shoulders' midpoint).

    One person: the landmarker on the whole image. Several: the landmarker on every window of
    :func:`detection_windows`; duplicates (boxes overlapping > :data:`SAME_PERSON_OVERLAP`) keep the
    detection of the highest total visibility, and the ``num_poses`` most visible people are kept.
    """
    if num_poses == 1:
        return list(detect_mediapipe_landmarks(image, model_path, 1))
    kept: list[np.ndarray] = []
    for lms in sorted(_window_candidates(image, num_poses, model_path), key=lambda m: -m[:, 2].sum()):
        box = _visible_box(lms)
        if all(_overlap(box, _visible_box(k)) <= SAME_PERSON_OVERLAP for k in kept):
            kept.append(lms)
    return sorted(kept[:num_poses], key=_neck_x)


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

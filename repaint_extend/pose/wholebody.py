"""Hands and face for detected people: MediaPipe Hand / Face Landmarker (shipped, offline) -> OpenPose.

Output format: OpenPose's (CMU OpenPose ``doc/02_output.md``), the one comfyui_controlnet_aux writes in
POSE_KEYPOINT and ControlNet openpose_full hints are drawn from:

* ``hand_left_keypoints_2d`` / ``hand_right_keypoints_2d``: 21 points, the person's own left / right hand,
  in OpenPose's hand order: 0 wrist, 1-4 thumb (CMC, MCP, IP, tip), 5-8 index, 9-12 middle, 13-16 ring,
  17-20 little finger (MCP, PIP, DIP, tip). MediaPipe's hand landmarks have the same 21 points in the same
  order (MediaPipe "Hand landmarks detection guide"), so the mapping is the identity.
* ``face_keypoints_2d``: 70 points, the iBUG 300-W / Multi-PIE 68 (0-16 jaw from the subject's right,
  17-21 right brow, 22-26 left brow, 27-35 nose, 36-41 right eye, 42-47 left eye, 48-59 outer lips,
  60-67 inner lips) and the two pupils (68 right, 69 left), as OpenPose's face model.

Each present point is ``[x px, y px, 1.0]`` (:data:`~pose.keypoints.PRESENT_CONFIDENCE`), a missing one
``[0, 0, 0]``. A person whose hand or face was not found has ``None`` there.

How a person gets its hands and face (:func:`add_hands_face`): the landmarkers run on a square crop around
each present wrist and around the head, sized from the person's own body points. A hand is kept when its
wrist lands near the pose's wrist and nearer to it than to any other wrist in the image; a face when its
nose lands near the pose's nose. So a hand belongs to the person whose wrist it continues, on the side the
body says (MediaPipe's handedness guess is not used), and a person without a detected wrist gets no hand.

Visibility (nothing is guessed): MediaPipe's hand and face landmarks carry no per-point visibility; a point
outside the image is missing, and a face point is missing when every mesh triangle around it faces away
from the camera (:func:`mesh_visibility`: the far cheek of a face in profile). Fingers hidden behind the
hand itself cannot be told apart and are kept where the model puts them.
"""

from __future__ import annotations

import atexit
import functools
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .keypoints import KP, PRESENT_CONFIDENCE, _flat, _flat_triplets, person_points

MODEL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
HAND_TASK = os.path.join(MODEL_DIR, "hand_landmarker.task")
FACE_TASK = os.path.join(MODEL_DIR, "face_landmarker.task")
N_HAND = 21
N_FACE = 70
HAND_KEYS = {"left": "hand_left_keypoints_2d", "right": "hand_right_keypoints_2d"}
FACE_KEY = "face_keypoints_2d"

# OpenPose face point -> MediaPipe Face Mesh indices (the mean of two where two are given).
# Correspondence from P. Yan, "Mediapipe_2_Dlib_Landmarks" (github.com/PeizhiYan/Mediapipe_2_Dlib_Landmarks,
# mediapipe2dlib/mp2dlib.py, 2024), checked by drawing the 70 numbered points on scikit-image's astronaut
# (frontal) and camera man (three-quarter view); the pupils are MediaPipe's iris centres 468 (subject's
# right eye, around mesh 33) and 473.
FACE_FROM_MESH: tuple[tuple[int, ...], ...] = (
    # 0-16 jaw, subject's right ear to left ear
    (127,), (234,), (93,), (132, 58), (58, 172), (136,), (150,), (176,), (152,),
    (400,), (379,), (365,), (397, 288), (361,), (323,), (454,), (356,),
    # 17-21 right brow (outer to inner), 22-26 left brow (inner to outer)
    (70,), (63,), (105,), (66,), (107,), (336,), (296,), (334,), (293,), (300,),
    # 27-30 nose bridge (top to tip), 31-35 nostrils (right to left)
    (168, 6), (197, 195), (5,), (4,), (75,), (97,), (2,), (326,), (305,),
    # 36-41 right eye (outer corner, upper lid, inner corner, lower lid)
    (33,), (160,), (158,), (133,), (153,), (144,),
    # 42-47 left eye (inner corner, upper lid, outer corner, lower lid)
    (362,), (385,), (387,), (263,), (373,), (380,),
    # 48-59 outer lips: right corner, upper lip to the left corner, lower lip back
    (61,), (39,), (37,), (0,), (267,), (269,), (291,), (321,), (314,), (17,), (84,), (91,),
    # 60-67 inner lips: right corner, upper, left corner, lower
    (78,), (82,), (13,), (312,), (308,), (317,), (14,), (87,),
    # 68, 69 pupils (right, left): iris centres
    (468,), (473,),
)  # fmt: skip
assert len(FACE_FROM_MESH) == N_FACE

HAND_PER_FOREARM = 0.74
"""Hand length (wrist to middle fingertip) over forearm length (elbow to wrist): 0.108 H / 0.146 H in
Drillis & Contini's segment table (as in Winter, "Biomechanics and Motor Control of Human Movement",
Fig. 4.1)."""
HAND_PER_SHOULDERS = 0.108 / 0.259
"""Hand length over shoulder width (0.259 H in the same table), when the elbow is missing; it is too short
for a person seen in profile, whose shoulders look narrow."""
HAND_CROP = 3.0
"""Side of the square searched for a hand, in hand lengths, centred half a hand beyond the wrist. It holds
every point within one hand length of the wrist (1.5 - 0.5), so a hand as long as estimated is inside it
whichever way the detected forearm points."""
HAND_MATCH = 0.6
"""A detected hand belongs to the wrist when its wrist point lies within this many hand lengths of it."""
FACE_CROP = 2.2
"""Side of the square searched for a face, in head widths (the widest span of the head points or
0.6 x the shoulder width)."""
FACE_MATCH = 0.5
"""A detected face belongs to the person when its nose tip lies within this many head widths of the
pose's nose (or head centre)."""
MIN_CROP = 32
"""Smallest crop side, px."""

_lock = threading.Lock()
_landmarkers: dict[tuple[str, str], Any] = {}


def _close_landmarkers() -> None:
    """Close the cached landmarkers while MediaPipe's dispatch threads still run (else the landmarkers'
    ``__del__`` at interpreter exit prints a TypeError)."""
    with _lock:
        for lm in _landmarkers.values():
            lm.close()
        _landmarkers.clear()


def _close_at_exit() -> None:
    """Register :func:`_close_landmarkers` with threading's exit hooks. They run in reverse order of
    registration and before atexit's, and each landmarker's dispatcher registers its own shutdown when it
    is made, so this is called again after each new landmarker to run first. ``threading._register_atexit``
    is private but present since Python 3.9."""
    getattr(threading, "_register_atexit", atexit.register)(_close_landmarkers)


def import_mediapipe():
    """``(mediapipe, BaseOptions, vision)`` (the Tasks API) for every MediaPipe detector of the pack (body,
    hands, face; :mod:`pose.detect` imports it from here). Raises ImportError with the fix when missing."""
    try:
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "pose detection needs the 'mediapipe' package (Tasks API): pip install mediapipe==1.2.2"
        ) from e
    return mp, BaseOptions, vision


def _landmarker(kind: str, path: str):
    """A cached MediaPipe Tasks HandLandmarker / FaceLandmarker for the bundle at ``path``."""
    key = (kind, os.path.abspath(path))
    with _lock:
        lm = _landmarkers.get(key)
        if lm is None:
            if not os.path.isfile(path):
                raise FileNotFoundError(
                    f"MediaPipe {kind} model not found: {path}. It ships with this pack in pose/models; "
                    "rebuild it with pose/models/build_hand_face.py"
                )
            _, BaseOptions, vision = import_mediapipe()
            base = BaseOptions(model_asset_path=path)
            mode = vision.RunningMode.IMAGE
            if kind == "hand":
                opts = vision.HandLandmarkerOptions(base_options=base, running_mode=mode, num_hands=2)
                lm = vision.HandLandmarker.create_from_options(opts)
            else:
                opts = vision.FaceLandmarkerOptions(base_options=base, running_mode=mode, num_faces=2)
                lm = vision.FaceLandmarker.create_from_options(opts)
            _landmarkers[key] = lm
            _close_at_exit()
        return lm


def _run(kind: str, path: str, crop: np.ndarray) -> list[np.ndarray]:
    """Landmarks of every hand / face in ``crop`` (uint8 RGB): float64 ``[N, 3]`` each, (x px, y px, z px)
    in the crop (MediaPipe's z is scaled like x)."""
    mp, _, _ = import_mediapipe()
    lm = _landmarker(kind, path)
    h, w = crop.shape[:2]
    with _lock:  # a Tasks landmarker is not re-entrant
        result = lm.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(crop)))
    found = result.hand_landmarks if kind == "hand" else result.face_landmarks
    return [np.array([(p.x * w, p.y * h, p.z * w) for p in lms], dtype=np.float64) for lms in found]


def crop_square(image: np.ndarray, cx: float, cy: float, side: float) -> tuple[np.ndarray, np.ndarray]:
    """The ``side`` x ``side`` px square centred at ``(cx, cy)``, zero outside the image (MediaPipe's own
    ``BORDER_ZERO``), and its top-left corner ``[x0, y0]`` in image px (add it to crop coordinates)."""
    side = max(int(round(side)), MIN_CROP)
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    h, w = image.shape[:2]
    out = np.zeros((side, side, 3), dtype=np.uint8)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = image[sy0:sy1, sx0:sx1]
    return out, np.array([x0, y0], dtype=np.float64)


def _inside(xy: np.ndarray, width: int, height: int) -> np.ndarray:
    return (xy[:, 0] >= 0) & (xy[:, 0] < width) & (xy[:, 1] >= 0) & (xy[:, 1] < height)


def _triplets(xy: np.ndarray, keep: np.ndarray) -> list[float]:
    """``[x, y, 1.0]`` for kept points, ``[0, 0, 0]`` for the others, flat."""
    out = np.zeros((len(xy), 3))
    out[keep, :2] = xy[keep]
    out[keep, 2] = PRESENT_CONFIDENCE
    return _flat(out)


def hand_search(points: np.ndarray, side: str) -> tuple[np.ndarray, float] | None:
    """``(centre [x, y] px, hand length px)`` where to look for the person's ``side`` hand, or None when
    its wrist is missing. ``points``: the person's ``[24, 3]`` body points. The hand length comes from the
    forearm (:data:`HAND_PER_FOREARM`), else from the shoulder width (:data:`HAND_PER_SHOULDERS`; the
    crop is then centred on the wrist); the centre lies half a hand beyond the wrist along the forearm."""
    wrist, elbow = points[KP[f"{side}_wrist"]], points[KP[f"{side}_elbow"]]
    if wrist[2] <= 0:
        return None
    if elbow[2] > 0 and np.hypot(*(wrist[:2] - elbow[:2])) > 1:
        forearm = wrist[:2] - elbow[:2]
        length = HAND_PER_FOREARM * float(np.hypot(*forearm))
        return wrist[:2] + 0.5 * length * forearm / np.hypot(*forearm), length
    rs, ls = points[KP["right_shoulder"]], points[KP["left_shoulder"]]
    if rs[2] > 0 and ls[2] > 0:
        return wrist[:2].copy(), HAND_PER_SHOULDERS * float(np.hypot(*(rs[:2] - ls[:2])))
    return None


def match_hand(
    hands: Sequence[np.ndarray],
    wrist: np.ndarray,
    hand_length: float,
    other_wrists: Sequence[np.ndarray] = (),
) -> np.ndarray | None:
    """The hand (``[21, >=2]`` image px) whose wrist point is nearest ``wrist`` [x, y], if within
    :data:`HAND_MATCH` hand lengths and nearer to ``wrist`` than to any of ``other_wrists`` (every other
    present wrist in the image, of this person and the others); else None."""
    best, best_d = None, HAND_MATCH * hand_length
    for hand in hands:
        d = float(np.hypot(*(hand[0, :2] - wrist[:2])))
        if any(np.hypot(*(hand[0, :2] - o[:2])) < d for o in other_wrists):
            continue  # another wrist is nearer: that hand is someone else's (or the other hand)
        if d <= best_d:
            best, best_d = hand, d
    return best


def head_search(points: np.ndarray) -> tuple[np.ndarray, float, np.ndarray] | None:
    """``(crop centre [x, y], head width px, anchor [x, y])`` for the person's face, or None without two
    head points. The anchor is the nose (else the head points' mean) that a detected nose tip must be near;
    the width is the widest span of the present head points (nose, eyes, ears) or 0.6 x the shoulder
    width, whichever is larger."""
    head = [KP[k] for k in ("nose", "right_eye", "left_eye", "right_ear", "left_ear")]
    pts = points[head]
    pts = pts[pts[:, 2] > 0, :2]
    if len(pts) < 2:
        return None
    span = float(np.max(np.hypot(*(pts[:, None] - pts[None]).transpose(2, 0, 1))))
    rs, ls = points[KP["right_shoulder"]], points[KP["left_shoulder"]]
    if rs[2] > 0 and ls[2] > 0:
        span = max(span, 0.6 * float(np.hypot(*(rs[:2] - ls[:2]))))
    nose = points[KP["nose"]]
    anchor = nose[:2].copy() if nose[2] > 0 else pts.mean(0)
    return pts.mean(0), span, anchor


@functools.cache
def mesh_triangles() -> np.ndarray:
    """int ``[T, 3]``: the triangles of MediaPipe's face mesh, consistently oriented.

    They are the 3-cycles of ``FaceLandmarksConnections.FACE_LANDMARKS_TESSELATION``'s edges (MediaPipe's
    468-point tessellation), oriented alike by walking the mesh (two triangles sharing an edge run along
    it in opposite directions), so that all their normals point out of the face or all into it."""
    _, _, vision = import_mediapipe()
    tess = vision.FaceLandmarksConnections.FACE_LANDMARKS_TESSELATION
    return orient_triangles({(min(c.start, c.end), max(c.start, c.end)) for c in tess})


def orient_triangles(edges: set[tuple[int, int]]) -> np.ndarray:
    """The 3-cycles of an undirected edge set, as int ``[T, 3]`` triangles oriented consistently over each
    connected patch (walked from its lowest triangle, which keeps its sorted order; each neighbour runs
    the shared edge the other way)."""
    nbrs: dict[int, set[int]] = {}
    for a, b in edges:
        nbrs.setdefault(a, set()).add(b)
        nbrs.setdefault(b, set()).add(a)
    tris = sorted({tuple(sorted((a, b, c))) for a, b in edges for c in nbrs[a] & nbrs[b]})
    by_edge: dict[tuple[int, int], list[int]] = {}
    for t, (a, b, c) in enumerate(tris):
        for e in ((a, b), (b, c), (a, c)):
            by_edge.setdefault(e, []).append(t)
    oriented: dict[int, tuple[int, int, int]] = {}
    for seed in range(len(tris)):
        if seed in oriented:
            continue
        oriented[seed] = tris[seed]
        queue = [seed]
        while queue:
            t = queue.pop()
            a, b, c = oriented[t]
            for u, v in ((a, b), (b, c), (c, a)):  # directed edges of t
                for n in by_edge[(min(u, v), max(u, v))]:
                    if n in oriented:
                        continue
                    x, y, z = tris[n]
                    directed = {(x, y), (y, z), (z, x)}
                    oriented[n] = (x, z, y) if (u, v) in directed else (x, y, z)  # neighbour runs v -> u
                    queue.append(n)
    return np.array([oriented[t] for t in range(len(tris))], dtype=np.int64)


def mesh_visibility(mesh: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """bool ``[N]``: which mesh points face the camera.

    ``mesh``: ``[N, 3]`` (x, y px; z px, smaller = nearer the camera, MediaPipe's convention);
    ``triangles``: consistently oriented (:func:`mesh_triangles`). Which of the two orientations points
    out of the face is decided by the majority of triangles whose normal points away from the mesh's
    centroid. A triangle faces the camera when its outward normal has negative z; a point is visible when
    at least one of its triangles faces the camera; points in no triangle (the irises) take the visibility
    of the nearest point that is in one."""
    p = np.asarray(mesh, dtype=np.float64)[:, :3]
    a, b, c = p[triangles[:, 0]], p[triangles[:, 1]], p[triangles[:, 2]]
    normal = np.cross(b - a, c - a)
    used = np.unique(triangles)
    away = np.sum(normal * ((a + b + c) / 3 - p[used].mean(0)), axis=1)
    if np.count_nonzero(away > 0) < np.count_nonzero(away < 0):
        normal = -normal
    facing = normal[:, 2] < 0
    visible = np.zeros(len(p), dtype=bool)
    for k in range(3):
        np.logical_or.at(visible, triangles[:, k], facing)
    in_tri = np.zeros(len(p), dtype=bool)
    in_tri[used] = True
    for i in np.flatnonzero(~in_tri):
        d = np.hypot(*(p[used, :2] - p[i, :2]).T)
        visible[i] = visible[used[np.argmin(d)]]
    return visible


def face_from_mesh(mesh: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """OpenPose's 70 face points ``[70, 3]`` (x, y px, 1.0 present / 0 missing) from the 478-point mesh
    (image px) by :data:`FACE_FROM_MESH`; a point from two mesh points is their mean, present only when both
    are visible."""
    out = np.zeros((N_FACE, 3))
    for k, idx in enumerate(FACE_FROM_MESH):
        if all(visible[i] for i in idx):
            out[k] = (*mesh[list(idx), :2].mean(0), PRESENT_CONFIDENCE)
    return out


def _present_wrists(points: Sequence[np.ndarray]) -> list[tuple[int, str, np.ndarray]]:
    """``(person, side, [x, y])`` of every present wrist of every person's ``[24, 3]`` points."""
    return [
        (k, side, pts[KP[f"{side}_wrist"], :2])
        for k, pts in enumerate(points)
        for side in HAND_KEYS
        if pts[KP[f"{side}_wrist"], 2] > 0
    ]


def _hands_of_all(image: np.ndarray, points: Sequence[np.ndarray], hand_path: str) -> list[dict]:
    """``[{hand key: 63 floats or None}]`` per person: a crop around each present wrist, the hand matched to
    it (:func:`match_hand`, against every other wrist in the image)."""
    h, w = image.shape[:2]
    out: list[dict] = [dict.fromkeys(HAND_KEYS.values()) for _ in points]
    wrists = _present_wrists(points)
    for k, side, wrist in wrists:
        where = hand_search(points[k], side)
        if where is None:
            continue
        centre, length = where
        crop, origin = crop_square(image, *centre, HAND_CROP * length)
        hands = [lms[:, :2] + origin for lms in _run("hand", hand_path, crop)]
        others = [xy for j, s, xy in wrists if (j, s) != (k, side)]
        hand = match_hand(hands, wrist, length, others)
        if hand is not None:
            out[k][HAND_KEYS[side]] = _triplets(hand, _inside(hand, w, h))
    return out


def _person_face(image: np.ndarray, points: np.ndarray, face_path: str) -> list[float] | None:
    where = head_search(points)
    if where is None:
        return None
    centre, width, anchor = where
    crop, origin = crop_square(image, *centre, FACE_CROP * width)
    best, best_d = None, FACE_MATCH * width
    for mesh in _run("face", face_path, crop):
        mesh[:, :2] += origin
        d = float(np.hypot(*(mesh[1, :2] - anchor)))  # mesh 1: nose tip
        if d <= best_d:
            best, best_d = mesh, d
    if best is None:
        return None
    h, w = image.shape[:2]
    visible = mesh_visibility(best, mesh_triangles()) & _inside(best[:, :2], w, h)
    return _flat(face_from_mesh(best, visible))


def add_hands_face(
    image: np.ndarray,
    people: Sequence[Mapping],
    hands: bool = True,
    face: bool = True,
    hand_path: str = HAND_TASK,
    face_path: str = FACE_TASK,
) -> list[dict]:
    """Copies of ``people`` (persons of a POSE_KEYPOINT frame on ``image``) with their hands and faces.

    Args:
        image: uint8 ``[H, W, 3]`` RGB, the image the people were detected on (their pixel coordinates).
        people: person dicts (body points decide where to look, see the module docstring).
        hands, face: what to detect. A part not asked for is left as it was.
        hand_path, face_path: the ``.task`` bundles (default: the ones shipped in ``pose/models``).
    Returns:
        new person dicts; ``hand_left_keypoints_2d`` / ``hand_right_keypoints_2d`` (21 points) and
        ``face_keypoints_2d`` (70 points) filled, or None where nothing was found.
    Raises:
        FileNotFoundError when a bundle is missing; ImportError without mediapipe.
    """
    points = [person_points(p) for p in people]
    found = _hands_of_all(image, points, hand_path) if hands else [{} for _ in people]
    out = []
    for person, pts, person_hands in zip(people, points, found):
        new = dict(person)
        new.update(person_hands)
        if face:
            new[FACE_KEY] = _person_face(image, pts, face_path)
        out.append(new)
    return out


# ----------------------------------------------------------------------------------------------
# hands and face ride along with their body point (edits, turns)

ATTACHED = {
    KP["right_wrist"]: (HAND_KEYS["right"],),
    KP["left_wrist"]: (HAND_KEYS["left"],),
    KP["nose"]: (FACE_KEY,),
}
"""Body point -> the parts that move with it: each wrist carries its hand, the nose carries the face."""


def carry_attached(person: Mapping, moved: Sequence[int], fn) -> dict:
    """A copy of ``person`` whose hands / face attached (:data:`ATTACHED`) to a point in ``moved`` have each
    present point ``q`` [x, y] replaced by ``fn(q)``; missing points stay ``[0, 0, 0]``."""
    out = dict(person)
    for i in moved:
        for key in ATTACHED.get(int(i), ()):
            if person.get(key) is None:
                continue
            arr = _flat_triplets(person[key], key, None).copy()
            on = arr[:, 2] > 0
            arr[on, :2] = np.array([fn(q) for q in arr[on, :2]]).reshape(-1, 2)
            out[key] = _flat(arr)
    return out

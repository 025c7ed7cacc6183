"""Render a POSE_KEYPOINT frame as an OpenPose control image.

Body, hands and face are drawn by controlnet_aux's own functions
(``controlnet_aux.open_pose.util.draw_bodypose`` / ``draw_handpose`` / ``draw_facepose``), the ones
that produce ControlNet-openpose's training-style images: 17 limbs as filled ellipses of half-width
``stickwidth = 4`` px in 0.6 x the limb colour, then 18 points as discs of radius 4 px in the 18
OpenPose colours, on black.

Feet: controlnet_aux (and DWPose's own ControlNet annotator) compute DWPose's six foot points but
do not draw them. We draw them with the same primitives and sizes as the body (``cv2.ellipse2Poly``
stick of half-width 4 px, filled with 0.6 x colour; disc of radius 4 px), connecting them as
OpenPose BODY_25 renders its feet (``POSE_BODY_25_PAIRS_RENDER``: ankle-big toe, big toe-small
toe, ankle-heel), in the colour of the foot's ankle point (right ankle ``[0, 170, 255]``, left
ankle ``[85, 0, 255]``, controlnet_aux's colours 10 and 13), so each foot continues its shank.
Foot sticks are drawn before the body, foot points after it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .keypoints import KP, N_BODY, _flat_triplets, person_points, validate_frame

STICKWIDTH = 4  # controlnet_aux draw_bodypose: stickwidth = 4
POINT_RADIUS = 4  # controlnet_aux draw_bodypose: cv2.circle(..., 4, ...)
LIMB_DIM = 0.6  # controlnet_aux draw_bodypose: limb colour = 0.6 x point colour
# controlnet_aux draw_bodypose colours 10 (right ankle) and 13 (left ankle), RGB
RIGHT_FOOT_COLOR = (0, 170, 255)
LEFT_FOOT_COLOR = (85, 0, 255)
# BODY_25 foot rendering pairs, in our indices
FOOT_PAIRS = (
    (KP["left_ankle"], KP["left_big_toe"], LEFT_FOOT_COLOR),
    (KP["left_big_toe"], KP["left_small_toe"], LEFT_FOOT_COLOR),
    (KP["left_ankle"], KP["left_heel"], LEFT_FOOT_COLOR),
    (KP["right_ankle"], KP["right_big_toe"], RIGHT_FOOT_COLOR),
    (KP["right_big_toe"], KP["right_small_toe"], RIGHT_FOOT_COLOR),
    (KP["right_ankle"], KP["right_heel"], RIGHT_FOOT_COLOR),
)
FOOT_POINTS = (
    (KP["left_big_toe"], LEFT_FOOT_COLOR),
    (KP["left_small_toe"], LEFT_FOOT_COLOR),
    (KP["left_heel"], LEFT_FOOT_COLOR),
    (KP["right_big_toe"], RIGHT_FOOT_COLOR),
    (KP["right_small_toe"], RIGHT_FOOT_COLOR),
    (KP["right_heel"], RIGHT_FOOT_COLOR),
)


def _util():
    from .detect import import_controlnet_aux

    return import_controlnet_aux("open_pose.util")


def _keypoint_cls():
    from .detect import import_controlnet_aux

    return import_controlnet_aux("open_pose.body").Keypoint


def _to_keypoints(arr: np.ndarray, w: int, h: int, normalised: bool, missing_at_origin: bool = False):
    """controlnet_aux Keypoints; a missing point is None, or ``Keypoint(0, 0)`` with ``missing_at_origin``:
    controlnet_aux 0.0.10's ``draw_handpose`` / ``draw_facepose`` fail on None and skip points at
    ``x, y <= eps`` (0.01), which is how its own hand detector marks a missing point."""
    Keypoint = _keypoint_cls()
    sx, sy = (1.0 / w, 1.0 / h) if normalised else (1.0, 1.0)
    gone = Keypoint(0.0, 0.0) if missing_at_origin else None
    return [Keypoint(float(x) * sx, float(y) * sy) if c > 0 else gone for x, y, c in arr]


def _stick(canvas: np.ndarray, a: np.ndarray, b: np.ndarray, color) -> None:
    import cv2

    # same construction as controlnet_aux draw_bodypose (ellipse around the segment midpoint)
    mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
    length = math.hypot(a[0] - b[0], a[1] - b[1])
    angle = math.degrees(math.atan2(a[1] - b[1], a[0] - b[0]))
    poly = cv2.ellipse2Poly((int(mx), int(my)), (int(length / 2), STICKWIDTH), int(angle), 0, 360, 1)
    cv2.fillConvexPoly(canvas, poly, [int(c * LIMB_DIM) for c in color])


def render(
    frame: Mapping,
    draw_body: bool = True,
    draw_feet: bool = True,
    draw_hands: bool = True,
    draw_face: bool = True,
    width: int | None = None,
    height: int | None = None,
) -> np.ndarray:
    """Draw an OpenPose control image of every person in ``frame``.

    Args:
        frame: one POSE_KEYPOINT frame (pixels; points outside the canvas are drawn clipped, so a
            leg leaving the canvas is drawn up to the border).
        draw_body, draw_feet, draw_hands, draw_face: what to draw.
        width, height: output size in px (default the frame's canvas); keypoints are scaled.
    Returns:
        uint8 ``[H, W, 3]`` RGB, black background.
    Raises:
        PoseFormatError for a malformed frame; ValueError for a bad size.
    """
    import cv2

    validate_frame(frame)
    cw, ch = int(frame["canvas_width"]), int(frame["canvas_height"])
    W = cw if width is None else int(width)
    H = ch if height is None else int(height)
    if W < 1 or H < 1:
        raise ValueError(f"width and height must be >= 1, got {W}x{H}")
    sx, sy = W / cw, H / ch
    util = _util()
    # Newer (comfyui_controlnet_aux) drawers guess normalised vs pixel coordinates with
    # is_normalized(); controlnet_aux 0.0.10 always multiplies by the canvas size.
    guesses = hasattr(util, "is_normalized")
    canvas = np.zeros((H, W, 3), dtype=np.uint8)
    for person in frame["people"]:
        pts = person_points(person).copy()
        pts[:, 0] *= sx
        pts[:, 1] *= sy
        has = pts[:, 2] > 0
        if draw_feet:
            for a, b, color in FOOT_PAIRS:
                if has[a] and has[b]:
                    _stick(canvas, pts[a], pts[b], color)
        if draw_body:
            body = pts[:N_BODY]
            normed = body[body[:, 2] > 0, :2] / (W, H)
            use_norm = not guesses or bool(np.all(np.abs(normed) <= 1.0))
            canvas = util.draw_bodypose(canvas, _to_keypoints(body, W, H, use_norm))
        if draw_feet:
            for i, color in FOOT_POINTS:
                if has[i]:
                    cv2.circle(canvas, (int(pts[i, 0]), int(pts[i, 1])), POINT_RADIUS, color, thickness=-1)
        for key, on, fn in (
            ("hand_left_keypoints_2d", draw_hands, util.draw_handpose),
            ("hand_right_keypoints_2d", draw_hands, util.draw_handpose),
            ("face_keypoints_2d", draw_face, util.draw_facepose),
        ):
            if not on or person.get(key) is None:
                continue
            arr = _flat_triplets(person[key], key, None)
            if not arr.shape[0]:
                continue
            arr = arr.copy()
            arr[:, 0] *= sx
            arr[:, 1] *= sy
            normed = arr[arr[:, 2] > 0, :2] / (W, H)
            use_norm = not guesses or bool(np.all(np.abs(normed) <= 1.0))
            canvas = fn(canvas, _to_keypoints(arr, W, H, use_norm, missing_at_origin=True))
    return canvas


def overlay(image: np.ndarray, control: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """Blend a control image over a photo where the control image is not black (for previews).

    ``image`` and ``control``: uint8 ``[H, W, 3]`` of the same size. Returns uint8 ``[H, W, 3]``.
    """
    if image.shape != control.shape:
        raise ValueError(
            f"image {list(image.shape)} and control {list(control.shape)} must have the same shape"
        )
    drawn = control.any(axis=2, keepdims=True)
    out = np.where(drawn, (1 - alpha) * image + alpha * control, image)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)

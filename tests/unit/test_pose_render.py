"""render(): OpenPose control image through controlnet_aux's drawing, feet as documented."""

import numpy as np
import pytest

from repaint_extend.pose import person_from_points, render
from repaint_extend.pose.detect import import_controlnet_aux
from repaint_extend.pose.keypoints import KP


def frame_with(points, w, h):
    pts = np.zeros((24, 3))
    for name, (x, y) in points.items():
        pts[KP[name]] = (x, y, 1.0)
    return {"people": [person_from_points(pts)], "canvas_width": w, "canvas_height": h}


def test_body_colours_sizes_and_black_background():
    f = frame_with({"neck": (100, 40), "right_shoulder": (60, 40)}, 301, 170)
    img = render(f)
    assert img.shape == (170, 301, 3) and img.dtype == np.uint8
    assert img[40, 80].tolist() == [153, 0, 0]  # limb neck-right shoulder: 0.6 x [255, 0, 0]
    assert img[40, 100].tolist() == [255, 85, 0]  # neck point colour
    assert img[40, 60].tolist() == [255, 170, 0]  # right shoulder point colour
    assert img[40 + 4, 80].tolist() == [153, 0, 0] and img[40 + 6, 80].tolist() == [0, 0, 0]  # stickwidth 4
    assert img[150:, :].max() == 0 and img[:, 200:].max() == 0  # black elsewhere


def test_same_pixels_as_controlnet_aux_draw_bodypose():
    rng = np.random.default_rng(1)
    pts = np.zeros((24, 3))
    pts[:18, :2] = rng.uniform(0, 256, (18, 2))
    pts[:18, 2] = 1
    pts[[3, 7], 2] = 0
    f = {"people": [person_from_points(pts)], "canvas_width": 256, "canvas_height": 192}
    util = import_controlnet_aux("open_pose.util")
    Keypoint = import_controlnet_aux("open_pose.body").Keypoint
    kps = [Keypoint(x / 256, y / 192) if c > 0 else None for x, y, c in pts[:18]]
    ref = util.draw_bodypose(np.zeros((192, 256, 3), np.uint8), kps)
    np.testing.assert_array_equal(render(f, draw_feet=False), ref)


def test_feet_sticks_and_points():
    f = frame_with(
        {
            "left_ankle": (50, 20),
            "left_big_toe": (50, 60),
            "left_heel": (30, 20),
            "right_ankle": (150, 20),
            "right_big_toe": (150, 60),
        },
        200,
        100,
    )
    img = render(f)
    assert img[40, 50].tolist() == [51, 0, 153]  # 0.6 x left ankle colour (85, 0, 255)
    assert img[60, 50].tolist() == [85, 0, 255]  # left big toe point
    assert img[20, 40].tolist() == [51, 0, 153]  # ankle-heel stick
    assert img[40, 150].tolist() == [0, 102, 153]  # 0.6 x right ankle colour (0, 170, 255)
    assert img[20, 50].tolist() == [85, 0, 255]  # ankle point drawn by the body drawer on top
    no_feet = render(f, draw_feet=False)
    assert no_feet[40, 50].tolist() == [0, 0, 0]


def test_points_outside_canvas_are_drawn_clipped():
    f = frame_with({"right_hip": (50, 60), "right_knee": (50, 160)}, 100, 100)  # knee below canvas
    img = render(f)
    assert img[99, 50].tolist() == [
        0,
        153,
        51,
    ]  # limb hip-knee (colour 7, [0, 255, 85] x 0.6) reaches the border
    assert img[60, 50].tolist() == [0, 255, 170]  # right hip point (colour 8)


def test_resize_and_errors():
    f = frame_with({"neck": (100, 40), "right_shoulder": (60, 40)}, 200, 100)
    img = render(f, width=400, height=200)
    assert img.shape == (200, 400, 3) and img[80, 160].tolist() == [153, 0, 0]
    with pytest.raises(ValueError, match="width"):
        render(f, width=0)
    with pytest.raises(ValueError, match="canvas_width"):
        render({"people": [], "canvas_height": 3})

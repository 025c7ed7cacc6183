"""Numeric pose edits."""

import copy

import numpy as np
import pytest

from repaint_extend.pose import (
    INFERRED_KEY,
    move_limb,
    person_from_points,
    person_points,
    rotate_limb,
    scale_limb,
    set_point,
)
from repaint_extend.pose.keypoints import KP


def frame():
    pts = np.zeros((24, 3))
    pts[KP["left_hip"]] = (100, 100, 1)
    pts[KP["left_knee"]] = (100, 150, 1)
    pts[KP["left_ankle"]] = (100, 200, 1)
    pts[KP["left_heel"]] = (95, 210, 1)
    return {
        "people": [person_from_points(pts, inferred=[KP["left_ankle"], KP["left_heel"]])],
        "canvas_width": 200,
        "canvas_height": 200,
    }


def test_rotate_scale_move_limb():
    f = frame()
    before = copy.deepcopy(f)
    r = person_points(rotate_limb(f, 0, "left_leg", 90)["people"][0])
    assert f == before
    np.testing.assert_allclose(r[KP["left_knee"], :2], [50, 100], atol=1e-9)  # clockwise on screen
    np.testing.assert_allclose(r[KP["left_ankle"], :2], [0, 100], atol=1e-9)
    s = person_points(scale_limb(f, 0, "left_shank", 2.0)["people"][0])
    np.testing.assert_allclose(s[KP["left_ankle"], :2], [100, 250])
    assert s[KP["left_knee"], :2].tolist() == [100, 150]  # root fixed
    m = move_limb(f, 0, "left_foot", 5, -3)
    mp = person_points(m["people"][0])
    assert mp[KP["left_heel"], :2].tolist() == [100, 207]
    assert mp[KP["left_big_toe"], 2] == 0  # missing points stay missing
    assert m["people"][0][INFERRED_KEY] == [KP["left_ankle"]]  # edited heel is now user-set


def test_set_point_and_errors():
    f = set_point(frame(), 0, "left_ankle", -10, 250)
    p = f["people"][0]
    assert person_points(p)[KP["left_ankle"]].tolist() == [-10, 250, 1]
    assert KP["left_ankle"] not in p[INFERRED_KEY]
    with pytest.raises(ValueError, match="point"):
        set_point(frame(), 0, "left_paw", 1, 1)
    with pytest.raises(ValueError, match="person"):
        set_point(frame(), 2, 0, 1, 1)
    with pytest.raises(ValueError, match="limb"):
        rotate_limb(frame(), 0, "tail", 10)
    with pytest.raises(ValueError, match="root"):
        rotate_limb(frame(), 0, "right_leg", 10)
    with pytest.raises(ValueError, match="factor"):
        scale_limb(frame(), 0, "left_leg", 0)

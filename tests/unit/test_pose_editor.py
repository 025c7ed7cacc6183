"""The graph pose editor's edits (pose/editor.py): keyed to their input, applied as set / delete / add."""

import copy
import json

import numpy as np
import pytest

from repaint_extend.pose import (
    INFERRED_KEY,
    apply_edits,
    blank_frames,
    input_key,
    parse_edits,
    person_from_points,
    person_points,
)
from repaint_extend.pose.keypoints import KP


def frames():
    pts = np.zeros((24, 3))
    pts[KP["left_hip"]] = (100, 100, 1)
    pts[KP["left_knee"]] = (100, 150, 1)
    pts[KP["left_ankle"]] = (100, 200, 1)
    pts[KP["left_heel"]] = (95, 210, 1)
    person = person_from_points(pts, inferred=[KP["left_ankle"], KP["left_heel"]])
    return [{"people": [person], "canvas_width": 200, "canvas_height": 220}]


def edits(points, key=None, base=None):
    value = {"version": 1, "input": key or input_key(frames()), "points": points}
    if base is not None:
        value["base"] = base
    return json.dumps(value)


def test_moved_point_keeps_out_of_frame_coordinates_and_leaves_inferred():
    before = frames()
    kept = copy.deepcopy(before)
    value = edits([[0, 0, KP["left_ankle"], -30.5, 260.0], [0, 0, KP["left_heel"], None, None]], base=before)
    out, status = apply_edits(before, value)
    assert status == "applied" and before == kept  # input not modified
    person = out[0]["people"][0]
    pts = person_points(person)
    assert pts[KP["left_ankle"]].tolist() == [-30.5, 260.0, 1.0]
    assert pts[KP["left_heel"], 2] == 0  # deleted
    assert person[INFERRED_KEY] == []
    assert pts[KP["left_knee"]].tolist() == [100, 150, 1]  # untouched


def test_added_point_and_added_person():
    value = edits([[0, 0, KP["left_big_toe"], 110, 215], [0, 1, KP["nose"], 50, 20]])
    out, status = apply_edits(frames(), value)
    assert status == "applied"
    assert person_points(out[0]["people"][0])[KP["left_big_toe"]].tolist() == [110, 215, 1]
    second = person_points(out[0]["people"][1])
    assert second[KP["nose"]].tolist() == [50, 20, 1] and second[:, 2].sum() == 1


def test_edits_of_another_input_are_not_applied():
    other = frames()
    other[0]["people"][0]["pose_keypoints_2d"][0:3] = [10.0, 10.0, 1.0]  # another detection
    assert input_key(other) != input_key(frames())
    value = edits([[0, 0, KP["left_ankle"], 0, 0]])
    out, status = apply_edits(other, value)
    assert status == "stale" and out == other


def test_key_ignores_float_noise_but_not_inferred_or_size():
    noisy = frames()
    noisy[0]["people"][0]["pose_keypoints_2d"][KP["left_knee"] * 3] += 1e-6
    assert input_key(noisy) == input_key(frames())
    relabelled = frames()
    relabelled[0]["people"][0][INFERRED_KEY] = []
    resized = frames()
    resized[0]["canvas_height"] = 300
    assert len({input_key(frames()), input_key(relabelled), input_key(resized)}) == 3


def test_no_edits_pass_through():
    for value in ("", None, edits([])):
        out, status = apply_edits(frames(), value)
        assert status == "none" and out == frames()
    blank = blank_frames(64, 48, 2)
    assert [(f["canvas_width"], f["canvas_height"], f["people"]) for f in blank] == [(64, 48, [])] * 2
    with pytest.raises(ValueError, match="canvas size"):
        blank_frames(0, 10)


@pytest.mark.parametrize(
    "value, match",
    [
        ("{", "not valid JSON"),
        ("[1]", "JSON object"),
        (json.dumps({"input": "k", "points": [], "html": "<b>"}), "unknown keys"),
        (json.dumps({"input": "k", "points": [[0, 0, 24, 1, 1]]}), r"points\[0\]: index"),
        (json.dumps({"input": "k", "points": [[0, 99, 1, 1, 1]]}), "person"),
        (json.dumps({"input": "k", "points": [[0, 0, 1, None, 1]]}), "both"),
        (json.dumps({"input": "k", "points": [[0, 0, 1, "1", 1]]}), "finite"),
        (json.dumps({"input": "k", "points": [[0, 0, 1]]}), "expected"),
        (json.dumps({"points": [[0, 0, 1, 1, 1]]}), "edits.input"),
        (json.dumps({"version": 2, "input": "k", "points": []}), "version"),
    ],
)
def test_malformed_values_name_the_field(value, match):
    with pytest.raises(ValueError, match=match):
        parse_edits(value)


def test_edit_of_a_missing_frame_is_an_error():
    with pytest.raises(ValueError, match="frame 3"):
        apply_edits(frames(), edits([[3, 0, 0, 1, 1]]))

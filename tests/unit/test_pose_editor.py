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
        (json.dumps({"input": "k", "points": [[0, 0, 136, 1, 1]]}), r"points\[0\]: index"),
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


def _whole_body():
    """frames() with a left hand (21 points, one missing) and a face of 70 points, as DWPose writes them."""
    out = frames()
    person = out[0]["people"][0]
    hand = [v for k in range(21) for v in (120 + k, 110 + k % 4, 1.0 if k != 7 else 0.0)]
    hand[7 * 3 : 7 * 3 + 2] = [0.0, 0.0]
    person["hand_left_keypoints_2d"] = hand
    person["face_keypoints_2d"] = [v for k in range(70) for v in (90 + k / 10, 40 + k / 20, 1.0)]
    return out


def test_hand_and_face_points_are_kept_edited_and_deleted():
    """Edit indices 24..44 are the left hand, 45..65 the right hand, 66..135 the face: a finger point moves,
    a face point goes, a right hand is created by its first point; every other point is kept as it was."""
    before = _whole_body()
    value = json.dumps(
        {
            "version": 1,
            "input": input_key(before),
            "points": [[0, 0, 24 + 8, 300.5, -4.0], [0, 0, 66 + 69, None, None], [0, 0, 45, 10, 20]],
            "background": "data:image/jpeg;base64,AAAA",
        }
    )
    out, status = apply_edits(before, value)
    assert status == "applied"
    person, old = out[0]["people"][0], before[0]["people"][0]
    hand = np.reshape(person["hand_left_keypoints_2d"], (21, 3))
    assert hand[8].tolist() == [300.5, -4.0, 1.0]
    assert (
        np.delete(hand, 8, 0).tolist()
        == np.delete(np.reshape(old["hand_left_keypoints_2d"], (21, 3)), 8, 0).tolist()
    )
    face = np.reshape(person["face_keypoints_2d"], (70, 3))
    assert (
        face[69].tolist() == [0, 0, 0]
        and face[:69].tolist() == np.reshape(old["face_keypoints_2d"], (70, 3))[:69].tolist()
    )
    right = np.reshape(person["hand_right_keypoints_2d"], (21, 3))
    assert right[0].tolist() == [10, 20, 1] and right[1:, 2].sum() == 0
    assert person_points(person).tolist() == person_points(old).tolist()  # body untouched


def test_untouched_hands_and_face_pass_through_a_body_edit():
    before = _whole_body()
    value = json.dumps({"version": 1, "input": input_key(before), "points": [[0, 0, KP["left_knee"], 1, 2]]})
    out, _ = apply_edits(before, value)
    for key in ("hand_left_keypoints_2d", "face_keypoints_2d"):
        assert out[0]["people"][0][key] == before[0]["people"][0][key]


def test_the_key_sees_hands_and_face_only_when_a_pose_has_them():
    """A body-only pose keeps the key it had before hands were counted (saved edits stay applied); a pose
    whose hand moved gets another key."""
    empty_hand = frames()
    empty_hand[0]["people"][0]["hand_left_keypoints_2d"] = [0.0] * 63
    assert input_key(empty_hand) == input_key(frames())
    with_hands = _whole_body()
    moved = _whole_body()
    moved[0]["people"][0]["hand_left_keypoints_2d"][0] += 5
    assert len({input_key(frames()), input_key(with_hands), input_key(moved)}) == 3

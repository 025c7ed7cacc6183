"""POSE_KEYPOINT and OpenPose JSON interop: conventions, round trips, malformed input."""

import copy
import json

import numpy as np
import pytest

from repaint_extend.pose import (
    FOOT_KEY,
    INFERRED_KEY,
    KEYPOINT_NAMES,
    PoseFormatError,
    dump_pose_keypoint_json,
    frame_from_openpose_json,
    frame_from_pose_keypoint,
    frame_to_openpose_json,
    frame_to_pose_keypoint,
    load_pose_keypoint_json,
    person_from_points,
    person_points,
    validate_frame,
)
from repaint_extend.pose.keypoints import BODY25_FROM_OURS


def make_points(seed=0, missing=(), outside=()):
    rng = np.random.default_rng(seed)
    pts = np.zeros((24, 3))
    pts[:, 0] = rng.uniform(5, 500, 24)
    pts[:, 1] = rng.uniform(5, 380, 24)
    pts[:, 2] = 1.0
    for i in outside:
        pts[i, :2] = (-30.5, 455.25)  # left of and below a 512x400 canvas
    for i in missing:
        pts[i] = 0.0
    return pts


def make_frame(**kw):
    return {
        "people": [person_from_points(make_points(**kw), inferred=[10, 20])],
        "canvas_width": 512,
        "canvas_height": 400,
    }


def test_keypoint_order_is_coco18_plus_wholebody_feet():
    assert KEYPOINT_NAMES[:3] == ("nose", "neck", "right_shoulder")
    assert KEYPOINT_NAMES[10] == "right_ankle" and KEYPOINT_NAMES[13] == "left_ankle"
    assert KEYPOINT_NAMES[18:] == (
        "left_big_toe",
        "left_small_toe",
        "left_heel",
        "right_big_toe",
        "right_small_toe",
        "right_heel",
    )


def test_person_layout_matches_comfyui_controlnet_aux():
    frame = make_frame(missing=(3, 19), outside=(13,))
    p = frame["people"][0]
    assert len(p["pose_keypoints_2d"]) == 54 and len(p[FOOT_KEY]) == 18
    body = np.array(p["pose_keypoints_2d"]).reshape(18, 3)
    # present points carry confidence exactly 1.0 (controlnet_aux's decoder drops c < 1.0)
    assert set(body[:, 2].tolist()) == {0.0, 1.0}
    assert body[3].tolist() == [0.0, 0.0, 0.0]  # missing
    assert body[13].tolist() == [-30.5, 455.25, 1.0]  # outside the canvas: present, kept
    assert p[INFERRED_KEY] == [10, 20]
    for key in ("face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d"):
        assert key in p
    json.dumps(frame)  # JSON-serialisable


def test_pose_keypoint_round_trip_is_exact():
    frame = make_frame(missing=(3, 19), outside=(13, 22))
    text = dump_pose_keypoint_json([frame, frame])
    back = load_pose_keypoint_json(text)
    assert len(back) == 2
    for f in back:
        np.testing.assert_array_equal(person_points(f["people"][0]), person_points(frame["people"][0]))
        assert f["people"][0][INFERRED_KEY] == [10, 20]
        assert (f["canvas_width"], f["canvas_height"]) == (512, 400)


def test_reads_normalised_coordinates_like_controlnet_aux_openpose_node():
    pts = make_points(missing=(5,))
    norm = pts.copy()
    norm[:, 0] /= 512
    norm[:, 1] /= 400
    norm[5] = 0
    raw = {
        "people": [
            {
                "pose_keypoints_2d": norm[:18].reshape(-1).tolist(),
                "face_keypoints_2d": None,
                "hand_left_keypoints_2d": None,
                "hand_right_keypoints_2d": None,
            }
        ],
        "canvas_width": 512,
        "canvas_height": 400,
    }
    f = frame_from_pose_keypoint(raw)  # auto: all coordinates within [0, 1] -> normalised
    got = person_points(f["people"][0])
    np.testing.assert_allclose(got[:18, :2], pts[:18, :2], atol=1e-9)
    assert got[5, 2] == 0 and np.all(got[18:, 2] == 0)  # feet absent -> missing
    f_px = frame_from_pose_keypoint(raw, coords="pixels")
    assert person_points(f_px["people"][0])[0, 0] < 1.0


def test_reads_dwpose_pixels_and_fractional_confidences_as_present():
    raw = {
        "people": [{"pose_keypoints_2d": [100.0, 50.0, 0.7] + [0.0, 0.0, 0.0] * 17}],
        "canvas_width": 64,
        "canvas_height": 64,
    }
    p = frame_from_pose_keypoint(raw)["people"][0]
    assert p["pose_keypoints_2d"][:3] == [100.0, 50.0, 1.0]


def test_input_is_not_modified():
    frame = make_frame()
    before = copy.deepcopy(frame)
    frame_to_pose_keypoint(frame)
    frame_from_pose_keypoint(frame)
    frame_to_openpose_json(frame)
    assert frame == before


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda f: f.pop("canvas_width"), "canvas_width"),
        (lambda f: f.__setitem__("canvas_height", -3), "canvas_height"),
        (lambda f: f.__setitem__("people", {}), "people"),
        (
            lambda f: f["people"][0].__setitem__("pose_keypoints_2d", [1.0] * 51),
            "people[0].pose_keypoints_2d",
        ),
        (lambda f: f["people"][0].__setitem__("pose_keypoints_2d", [1.0] * 53), "pose_keypoints_2d"),
        (lambda f: f["people"][0]["pose_keypoints_2d"].__setitem__(4, "x"), "pose_keypoints_2d[4]"),
        (lambda f: f["people"][0].__setitem__(FOOT_KEY, [0.0] * 15), FOOT_KEY),
        (lambda f: f["people"][0].__setitem__(INFERRED_KEY, [30]), INFERRED_KEY),
        (lambda f: f["people"][0].pop("pose_keypoints_2d"), "pose_keypoints_2d"),
        (lambda f: f["people"][0]["pose_keypoints_2d"].__setitem__(5, float("nan")), "pose_keypoints_2d[5]"),
        (lambda f: f["people"][0]["pose_keypoints_2d"].__setitem__(6, True), "pose_keypoints_2d[6]"),
        (lambda f: f["people"][0].__setitem__("keypoint_scores", [0.5] * 23), "keypoint_scores"),
        (lambda f: f.__setitem__("canvas_width", 512.5), "canvas_width"),
    ],
)
def test_malformed_frame_names_the_field(mutate, field):
    frame = make_frame()
    mutate(frame)
    with pytest.raises(PoseFormatError, match=field.replace("[", r"\[").replace("]", r"\]")):
        validate_frame(frame)
    assert issubclass(PoseFormatError, ValueError)


def test_validate_frame_accepts_the_forms_other_packs_write():
    """Tuples, nested [[x, y, c], ...] rows, numpy scalars and arrays, integral floats, null or empty
    fields and unknown keys are all valid frames (the schema refuses only what it must)."""
    frame = make_frame()
    person = frame["people"][0]
    body = person["pose_keypoints_2d"]
    variants = [
        {**person, "pose_keypoints_2d": [body[i : i + 3] for i in range(0, 54, 3)]},
        {**person, "pose_keypoints_2d": tuple(np.float32(v) for v in body), INFERRED_KEY: (np.int64(3), 9.0)},
        {**person, "pose_keypoints_2d": np.asarray(body), FOOT_KEY: None, "face_keypoints_2d": [0.0] * 204},
        {**person, "pose_keypoints_2d": [], "keypoint_scores": [float("nan")] * 24, "person_id": [-1]},
        {"pose_keypoints_2d": None},
    ]
    validate_frame({"people": tuple(variants), "canvas_width": np.int64(512), "canvas_height": 400.0})
    np.testing.assert_array_equal(person_points(variants[0]), person_points(person))


def test_malformed_json_text():
    with pytest.raises(PoseFormatError, match="not valid JSON"):
        load_pose_keypoint_json("[{")
    with pytest.raises(PoseFormatError, match=r"frames\[1\]\.canvas_width"):
        load_pose_keypoint_json(json.dumps([make_frame(), {"people": [], "canvas_height": 4}]))


def test_openpose_body25_round_trip():
    frame = make_frame(missing=(4, 23), outside=(10,))
    op = frame_to_openpose_json(frame)
    kp = np.array(op["people"][0]["pose_keypoints_2d"]).reshape(25, 3)
    pts = person_points(frame["people"][0])
    for ours, b25 in enumerate(BODY25_FROM_OURS):
        np.testing.assert_array_equal(kp[b25, :2], pts[ours, :2])
    # BODY_25 feet at 19..24 in WholeBody order, MidHip = mean of the hips
    np.testing.assert_array_equal(kp[19:25, :2], pts[18:24, :2])
    np.testing.assert_allclose(kp[8, :2], (pts[8, :2] + pts[11, :2]) / 2)
    assert kp[BODY25_FROM_OURS[23], 2] == 0
    back = frame_from_openpose_json(json.dumps(op))
    np.testing.assert_array_equal(person_points(back["people"][0]), pts)


def test_openpose_json_needs_canvas_and_checks_fields():
    op = frame_to_openpose_json(make_frame())
    op.pop("canvas_width")
    with pytest.raises(ValueError, match="canvas_width"):
        frame_from_openpose_json(op)
    f = frame_from_openpose_json(op, canvas_width=512, canvas_height=400)
    assert f["canvas_width"] == 512
    op["people"][0]["pose_keypoints_2d"] = [0.0] * 54  # 18 points is not BODY_25
    with pytest.raises(PoseFormatError, match=r"people\[0\]\.pose_keypoints_2d.*25"):
        frame_from_openpose_json(op, canvas_width=512, canvas_height=400)


def test_openpose_normalised_coordinates():
    op = {"people": [{"pose_keypoints_2d": [0.5, 0.25, 0.9] + [0.0] * 72}]}
    f = frame_from_openpose_json(op, 200, 100, coords="normalized")
    p = person_points(f["people"][0])
    assert p[0].tolist() == [100.0, 25.0, 1.0]
    assert f["people"][0]["keypoint_scores"][0] == pytest.approx(0.9)


def test_loaders_refuse_a_canvas_larger_than_comfys_max_resolution():
    from repaint_extend.pose import MAX_CANVAS_SIDE

    assert MAX_CANVAS_SIDE == 16384  # ComfyUI's nodes.MAX_RESOLUTION
    huge = {"people": [], "canvas_width": 64, "canvas_height": 10**9}
    with pytest.raises(PoseFormatError, match=r"frames\[0\]\.canvas_height: 1000000000 px"):
        load_pose_keypoint_json(json.dumps([huge]))
    with pytest.raises(PoseFormatError, match="OpenPose JSON.canvas_width"):
        frame_from_openpose_json({"people": []}, canvas_width=16385, canvas_height=8)
    assert (
        frame_from_openpose_json({"people": []}, canvas_width=16384, canvas_height=8)["canvas_width"] == 16384
    )

"""complete_legs on synthetic skeletons: kept points, inferred points, stance, symmetry, prior."""

import copy

import numpy as np
import pytest

from repaint_extend.pose import (
    INFERRED_KEY,
    KEYPOINT_NAMES,
    complete_legs,
    leg_ratios,
    person_from_points,
    person_points,
)

KP = {n: i for i, n in enumerate(KEYPOINT_NAMES)}

# Published values, written out here rather than imported from the module under test: Drillis &
# Contini (1966) as reproduced in Winter, Biomechanics and Motor Control of Human Movement (4th ed.,
# 2009), Fig. 4.1, fractions of body height H.
SHOULDER_HEIGHT, HIP_HEIGHT, KNEE_HEIGHT, ANKLE_HEIGHT = 0.818, 0.530, 0.285, 0.039
FOOT_LENGTH, SHOULDER_WIDTH, HIP_WIDTH = 0.152, 0.259, 0.191
TORSO = SHOULDER_HEIGHT - HIP_HEIGHT  # 0.288
THIGH = HIP_HEIGHT - KNEE_HEIGHT  # 0.245
SHANK = KNEE_HEIGHT - ANKLE_HEIGHT  # 0.246


def standing(cut_y=None, canvas=(512, 400), knees=True):
    """Frontal standing person: shoulders y=100, hips y=250 (torso 150 px -> H = 150 / 0.288)."""
    H = 150 / TORSO
    pts = np.zeros((24, 3))
    pos = {
        "nose": (256, 60),
        "neck": (256, 100),
        "right_shoulder": (216, 100),
        "left_shoulder": (296, 100),
        "right_elbow": (206, 170),
        "left_elbow": (306, 170),
        "right_wrist": (200, 230),
        "left_wrist": (312, 230),
        "right_hip": (231, 250),
        "left_hip": (281, 250),
        "right_eye": (248, 52),
        "left_eye": (264, 52),
        "right_ear": (238, 56),
        "left_ear": (274, 56),
    }
    if knees:
        pos.update({"right_knee": (228, 250 + THIGH * H), "left_knee": (284, 250 + THIGH * H)})
    for name, (x, y) in pos.items():
        if cut_y is None or y < cut_y:
            pts[KP[name]] = (x, y, 1.0)
    return {"people": [person_from_points(pts)], "canvas_width": canvas[0], "canvas_height": canvas[1]}, H


def test_keeps_visible_points_and_marks_inferred():
    frame, H = standing()
    before = copy.deepcopy(frame)
    out = complete_legs(frame)
    assert frame == before  # input untouched
    p_in, p_out = person_points(frame["people"][0]), person_points(out["people"][0])
    vis = p_in[:, 2] > 0
    np.testing.assert_array_equal(p_out[vis], p_in[vis])
    inferred = out["people"][0][INFERRED_KEY]
    assert set(inferred) == {KP["right_ankle"], KP["left_ankle"], *range(18, 24)}
    assert np.all(p_out[:, 2] == 1.0)  # everything present with confidence 1.0
    # ankles below the 400 px canvas
    assert p_out[KP["right_ankle"], 1] > 400 and p_out[KP["left_ankle"], 1] > 400


def test_straight_stance_lengths_follow_the_table():
    frame, H = standing(knees=False)
    out = complete_legs(frame, stance="straight")
    p = person_points(out["people"][0])
    for side in ("left", "right"):
        hip, knee, ankle = p[KP[f"{side}_hip"], :2], p[KP[f"{side}_knee"], :2], p[KP[f"{side}_ankle"], :2]
        assert knee[0] == pytest.approx(hip[0]) and ankle[0] == pytest.approx(hip[0])  # straight down
        assert knee[1] - hip[1] == pytest.approx(THIGH * H)
        assert ankle[1] - knee[1] == pytest.approx(SHANK * H)
        # feet below the ankle, within a foot length
        for f in ("big_toe", "small_toe", "heel"):
            q = p[KP[f"{side}_{f}"], :2]
            assert q[1] > ankle[1] and np.hypot(*(q - ankle)) < FOOT_LENGTH * H
    r = leg_ratios(out)
    assert r["left_thigh"] == pytest.approx(THIGH / TORSO) and r["right_shank"] == pytest.approx(
        SHANK / TORSO
    )
    # toes spread outward: the small toe lies on the outer side of the heel -> big-toe line (the left
    # foot's outer side is +x here, the right foot's -x)
    for side, outward in (("left", 1.0), ("right", -1.0)):
        heel, big, small = (p[KP[f"{side}_{f}"], :2] for f in ("heel", "big_toe", "small_toe"))
        foot, toe = big - heel, small - heel
        assert np.sign(foot[0] * toe[1] - foot[1] * toe[0]) == np.sign(foot[0] * 0 - foot[1] * outward)


def test_follow_thighs_continues_the_thigh_direction():
    frame, H = standing()
    pts = person_points(frame["people"][0])
    pts[KP["left_knee"], :2] = (281 + 60, 250 + 100)  # thigh going out to the right
    frame["people"][0] = person_from_points(pts)
    straight = person_points(complete_legs(frame, stance="straight", symmetry=False)["people"][0])
    follow = person_points(complete_legs(frame, stance="follow_thighs", symmetry=False)["people"][0])
    knee = pts[KP["left_knee"], :2]
    thigh = knee - pts[KP["left_hip"], :2]
    shank = follow[KP["left_ankle"], :2] - knee
    cos = thigh @ shank / np.linalg.norm(thigh) / np.linalg.norm(shank)
    assert cos == pytest.approx(1.0)
    assert straight[KP["left_ankle"], 0] == pytest.approx(knee[0])  # straight: vertical shank


def test_symmetry_mirrors_the_detected_leg():
    frame, H = standing()
    pts = person_points(frame["people"][0])
    pts[KP["right_ankle"]] = (200, 380, 1.0)  # right ankle detected, left missing
    frame["people"][0] = person_from_points(pts)
    out = person_points(complete_legs(frame, symmetry=True)["people"][0])
    v_right = pts[KP["right_ankle"], :2] - pts[KP["right_knee"], :2]
    v_left = out[KP["left_ankle"], :2] - out[KP["left_knee"], :2]
    np.testing.assert_allclose(v_left, [-v_right[0], v_right[1]])
    off = person_points(complete_legs(frame, symmetry=False)["people"][0])
    assert off[KP["left_ankle"], 0] == pytest.approx(off[KP["left_knee"], 0])


def test_plausible_prior_gives_direction_implausible_prior_is_ignored():
    frame, H = standing(knees=False)
    prior = np.zeros((24, 3))
    prior[KP["left_hip"]] = (281, 250, 0.9)
    prior[KP["left_knee"]] = (281 + 40, 250 + 100, 0.2)  # plausible (length ~108 px of 128, 22 deg)
    prior[KP["right_hip"]] = (231, 250, 0.9)
    prior[KP["right_knee"]] = (231, 250 - 120, 0.2)  # pointing up: implausible
    frame["people"][0]["prior_keypoints_2d"] = prior.reshape(-1).tolist()
    p = person_points(complete_legs(frame, symmetry=False)["people"][0])
    v = p[KP["left_knee"], :2] - (281, 250)
    assert np.hypot(*v) == pytest.approx(THIGH * H)
    assert v[0] / v[1] == pytest.approx(40 / 100)
    assert p[KP["right_knee"], 0] == pytest.approx(231) and p[KP["right_knee"], 1] > 250
    q = person_points(complete_legs(frame, symmetry=False, use_prior=False)["people"][0])
    assert q[KP["left_knee"], 0] == pytest.approx(281)


def test_hips_inferred_from_shoulders_and_person_without_torso_unchanged():
    frame, H = standing(cut_y=200)  # hips cut off too
    out = complete_legs(frame)
    p = out["people"][0]
    assert {KP["left_hip"], KP["right_hip"]} <= set(p[INFERRED_KEY])
    pts = person_points(p)
    H_sw = 80 / SHOULDER_WIDTH  # shoulders 80 px apart
    assert pts[KP["left_hip"], 1] - 100 == pytest.approx(TORSO * H_sw)
    assert pts[KP["left_hip"], 0] - pts[KP["right_hip"], 0] == pytest.approx(80 * HIP_WIDTH / SHOULDER_WIDTH)
    empty = {"people": [person_from_points(np.zeros((24, 3)))], "canvas_width": 64, "canvas_height": 64}
    assert person_points(complete_legs(empty)["people"][0]).sum() == 0


def test_bad_arguments():
    frame, _ = standing()
    with pytest.raises(ValueError, match="stance"):
        complete_legs(frame, stance="kneeling")
    with pytest.raises(ValueError, match="people"):
        complete_legs(frame, people=[3])
    with pytest.raises(TypeError, match="people"):
        complete_legs(frame, people=[True])  # a bool is not an index

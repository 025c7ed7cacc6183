"""Hands and face (issue 23): mapping, assignment, visibility, rendering, and hands / face riding along with
JSON, BODY_25, padding, completion and edits. The last tests run the shipped MediaPipe models."""

import json

import numpy as np
import pytest

from repaint_extend.pose import (
    complete_legs,
    dump_pose_keypoint_json,
    frame_from_openpose_json,
    frame_to_openpose_json,
    load_pose_keypoint_json,
    move_limb,
    new_frame,
    pad,
    person_from_points,
    render,
    rotate_limb,
    scale_limb,
    set_point,
)
from repaint_extend.pose import wholebody as wb
from repaint_extend.pose.keypoints import KP, N_POINTS

HANDS = ("hand_left_keypoints_2d", "hand_right_keypoints_2d")


def _body():
    """A standing person cut at the thighs on a 512 x 512 canvas (knees, ankles, feet missing)."""
    pts = np.zeros((N_POINTS, 3))
    for name, xy in {
        "nose": (256, 80),
        "neck": (256, 140),
        "right_shoulder": (206, 140),
        "left_shoulder": (306, 140),
        "right_elbow": (190, 220),
        "left_elbow": (322, 220),
        "right_wrist": (180, 300),
        "left_wrist": (332, 300),
        "right_hip": (226, 320),
        "left_hip": (286, 320),
        "right_eye": (246, 70),
        "left_eye": (266, 70),
        "right_ear": (234, 76),
        "left_ear": (278, 76),
    }.items():
        pts[KP[name]] = (*xy, 1.0)
    return pts


def _hand(wrist, rng, missing=()):
    """21 points near ``wrist``, as a flat OpenPose list; ``missing`` indices are [0, 0, 0]."""
    pts = np.zeros((21, 3))
    pts[:, :2] = np.asarray(wrist) + rng.uniform(-5, 40, size=(21, 2))
    pts[0, :2] = wrist
    pts[:, 2] = 1.0
    pts[list(missing)] = 0.0
    return [float(v) for v in pts.reshape(-1)]


def _whole_frame():
    rng = np.random.default_rng(0)
    body = _body()
    person = person_from_points(body)
    person["hand_right_keypoints_2d"] = _hand(body[KP["right_wrist"], :2], rng, missing=(7, 8))
    person["hand_left_keypoints_2d"] = _hand(body[KP["left_wrist"], :2], rng)
    face = np.zeros((70, 3))
    face[:, :2] = np.array([256, 78]) + rng.uniform(-20, 20, size=(70, 2))
    face[:, 2] = 1.0
    face[[9, 10, 69]] = 0.0  # hidden: absent
    person["face_keypoints_2d"] = [float(v) for v in face.reshape(-1)]
    return new_frame(512, 512, [person])


def _parts(person):
    keys = (*HANDS, "face_keypoints_2d")
    return {k: np.asarray(person[k], dtype=np.float64).reshape(-1, 3) for k in keys}


# ---------------------------------------------------------------------------------------------- mapping


def test_face_map_has_openpose_70_points_from_mesh_indices():
    assert len(wb.FACE_FROM_MESH) == 70
    assert all(0 <= i < 478 for idx in wb.FACE_FROM_MESH for i in idx)
    assert wb.FACE_FROM_MESH[68] == (468,) and wb.FACE_FROM_MESH[69] == (473,)  # pupils = iris centres
    # eye corners: MediaPipe 33 / 133 (subject's right eye), 362 / 263 (left): iBUG 36, 39, 42, 45
    assert [wb.FACE_FROM_MESH[i] for i in (36, 39, 42, 45)] == [(33,), (133,), (362,), (263,)]


def test_face_from_mesh_takes_means_and_drops_hidden_points():
    mesh = np.zeros((478, 3))
    mesh[:, 0] = np.arange(478)
    mesh[:, 1] = 2 * np.arange(478)
    visible = np.ones(478, dtype=bool)
    visible[58] = False  # used by iBUG 3 (132, 58) and 4 (58, 172)
    face = wb.face_from_mesh(mesh, visible)
    assert face.shape == (70, 3)
    assert face[0].tolist() == [127.0, 254.0, 1.0]
    assert face[27].tolist() == [(168 + 6) / 2, 168 + 6, 1.0]  # mean of two mesh points
    assert face[3].tolist() == [0.0, 0.0, 0.0] and face[4].tolist() == [0.0, 0.0, 0.0]
    assert np.count_nonzero(face[:, 2]) == 68


def _sphere_mesh(n=12):
    """Points on a sphere (radius 100 px, centre (0, 0, 0)) with a triangulated latitude/longitude grid."""
    lat = np.linspace(0.2, np.pi - 0.2, n)
    lon = np.linspace(0, 2 * np.pi, 2 * n, endpoint=False)
    pts = (
        np.array([(np.sin(a) * np.cos(b), np.sin(a) * np.sin(b), np.cos(a)) for a in lat for b in lon]) * 100
    )
    edges = set()
    m = len(lon)
    for i in range(n - 1):
        for j in range(m):
            a, b, c, d = i * m + j, i * m + (j + 1) % m, (i + 1) * m + j, (i + 1) * m + (j + 1) % m
            for u, v in ((a, b), (a, c), (b, c), (b, d), (c, d)):
                edges.add((min(u, v), max(u, v)))
    return pts, edges


def test_mesh_visibility_hides_the_far_side_of_a_closed_surface():
    pts, edges = _sphere_mesh()
    tris = wb.orient_triangles(edges)
    # consistent orientation: every edge shared by two triangles is run in opposite directions
    directed = [(t[k], t[(k + 1) % 3]) for t in tris for k in range(3)]
    assert len(set(directed)) == len(directed)
    visible = wb.mesh_visibility(pts, tris)
    near = pts[:, 2] < -20  # z smaller = nearer the camera
    far = pts[:, 2] > 20
    assert visible[near].all() and not visible[far].any()
    # flipping the triangles' orientation must not change the answer (outward side found by majority)
    assert np.array_equal(wb.mesh_visibility(pts, tris[:, ::-1]), visible)


def test_hand_search_and_match_follow_the_wrist():
    body = _body()
    centre, length = wb.hand_search(body, "right")
    wrist, elbow = body[KP["right_wrist"], :2], body[KP["right_elbow"], :2]
    assert length == pytest.approx(wb.HAND_PER_FOREARM * np.hypot(*(wrist - elbow)))
    assert np.hypot(*(centre - wrist)) == pytest.approx(length / 2)
    assert np.dot(centre - wrist, wrist - elbow) > 0  # beyond the wrist, along the forearm
    near = np.zeros((21, 2)) + wrist + (5, 5)
    far = np.zeros((21, 2)) + wrist + (0, 0.61 * length)
    assert wb.match_hand([far, near], wrist, length) is near
    assert wb.match_hand([far], wrist, length) is None
    other = wrist + (6, 6)  # another wrist nearer to that hand: the hand is not this wrist's
    assert wb.match_hand([far, near], wrist, length, [other]) is None
    no_elbow = body.copy()
    no_elbow[KP["right_elbow"]] = 0.0  # then the hand's size comes from the shoulders, centred on the wrist
    centre, length = wb.hand_search(no_elbow, "right")
    assert centre.tolist() == wrist.tolist() and length == pytest.approx(100 * 0.108 / 0.259)
    body[KP["right_wrist"]] = 0.0
    assert wb.hand_search(body, "right") is None  # no wrist: no hand is looked for


def test_crop_square_pads_with_zeros_outside_the_image():
    img = np.full((10, 10, 3), 7, dtype=np.uint8)
    crop, origin = wb.crop_square(img, 0, 0, 40)
    assert crop.shape == (40, 40, 3) and origin.tolist() == [-20.0, -20.0]
    assert crop[20:30, 20:30].min() == 7 and crop[:20].max() == 0


# ---------------------------------------------------------------------------------------------- round trips


def _assert_parts_equal(a, b, shift=(0.0, 0.0)):
    pa, pb = _parts(a), _parts(b)
    for key in pa:
        on = pa[key][:, 2] > 0
        assert np.array_equal(on, pb[key][:, 2] > 0), key
        np.testing.assert_allclose(pb[key][on, :2], pa[key][on, :2] + shift, atol=1e-9, err_msg=key)
        assert (pb[key][~on] == 0).all(), key


def test_pose_keypoint_json_round_trip_keeps_every_hand_and_face_point():
    frame = _whole_frame()
    back = load_pose_keypoint_json(dump_pose_keypoint_json(frame))[0]
    _assert_parts_equal(frame["people"][0], back["people"][0])


def test_body25_json_round_trip_keeps_every_hand_and_face_point():
    frame = _whole_frame()
    text = json.dumps(frame_to_openpose_json(frame))
    back = frame_from_openpose_json(text)
    _assert_parts_equal(frame["people"][0], back["people"][0])


def test_pad_shifts_every_hand_and_face_point():
    frame = _whole_frame()
    out = pad(frame, 64, 32, 0, 128)
    _assert_parts_equal(frame["people"][0], out["people"][0], shift=(64, 32))


def test_complete_legs_keeps_hands_and_face():
    frame = _whole_frame()
    out = complete_legs(frame)
    assert out["people"][0]["inferred_keypoints"], "the legs were completed"
    _assert_parts_equal(frame["people"][0], out["people"][0])


def test_moving_a_forearm_moves_its_hand_only():
    frame = _whole_frame()
    out = move_limb(frame, 0, "left_forearm", 30, -10)
    before, after = frame["people"][0], out["people"][0]
    pa, pb = _parts(before), _parts(after)
    on = pa["hand_left_keypoints_2d"][:, 2] > 0
    np.testing.assert_allclose(
        pb["hand_left_keypoints_2d"][on, :2], pa["hand_left_keypoints_2d"][on, :2] + (30, -10)
    )
    assert np.array_equal(pa["hand_right_keypoints_2d"], pb["hand_right_keypoints_2d"])
    assert np.array_equal(pa["face_keypoints_2d"], pb["face_keypoints_2d"])


def test_turning_an_arm_turns_its_hand_rigidly_and_keeps_missing_points_missing():
    frame = _whole_frame()
    out = rotate_limb(frame, 0, "right_arm", 40)
    pa, pb = _parts(frame["people"][0]), _parts(out["people"][0])
    ha, hb = pa["hand_right_keypoints_2d"], pb["hand_right_keypoints_2d"]
    on = ha[:, 2] > 0
    assert np.array_equal(on, hb[:, 2] > 0) and (hb[~on] == 0).all()
    shoulder = np.array(
        out["people"][0]["pose_keypoints_2d"][3 * KP["right_shoulder"] : 3 * KP["right_shoulder"] + 2]
    )
    np.testing.assert_allclose(np.hypot(*(hb[on, :2] - shoulder).T), np.hypot(*(ha[on, :2] - shoulder).T))
    wrist = np.array(out["people"][0]["pose_keypoints_2d"][3 * KP["right_wrist"] : 3 * KP["right_wrist"] + 2])
    np.testing.assert_allclose(hb[0, :2], wrist)  # the hand's wrist follows the body's wrist
    assert not np.allclose(hb[on, :2], ha[on, :2])


def test_scaling_the_head_scales_the_face_and_setting_a_wrist_moves_its_hand():
    frame = _whole_frame()
    out = scale_limb(frame, 0, "head", 1.5)
    fa, fb = _parts(frame["people"][0])["face_keypoints_2d"], _parts(out["people"][0])["face_keypoints_2d"]
    neck = np.array([256.0, 140.0])
    on = fa[:, 2] > 0
    np.testing.assert_allclose(fb[on, :2], neck + 1.5 * (fa[on, :2] - neck))
    moved = set_point(frame, 0, "left_wrist", 400, 310)
    ha = _parts(frame["people"][0])["hand_left_keypoints_2d"]
    hb = _parts(moved["people"][0])["hand_left_keypoints_2d"]
    np.testing.assert_allclose(hb[:, :2], ha[:, :2] + (400 - 332, 310 - 300))


# ---------------------------------------------------------------------------------------------- render


def test_render_draws_hands_and_face_exactly_as_controlnet_aux():
    from repaint_extend.pose.detect import import_controlnet_aux

    util = import_controlnet_aux("open_pose.util")
    Keypoint = import_controlnet_aux("open_pose.body").Keypoint
    frame = _whole_frame()
    person = frame["people"][0]
    ours = render(frame, draw_body=False, draw_feet=False)
    expected = np.zeros((512, 512, 3), dtype=np.uint8)
    for key, fn in (
        ("hand_left_keypoints_2d", util.draw_handpose),
        ("hand_right_keypoints_2d", util.draw_handpose),
        ("face_keypoints_2d", util.draw_facepose),
    ):
        arr = np.asarray(person[key]).reshape(-1, 3)
        # controlnet_aux's own hand detector marks a missing point as (0, 0), which its drawers skip
        expected = fn(expected, [Keypoint(x / 512, y / 512) if c > 0 else Keypoint(0, 0) for x, y, c in arr])
    assert expected.any()
    assert np.array_equal(ours, expected)
    assert not render(frame, draw_body=False, draw_feet=False, draw_hands=False, draw_face=False).any()


# ---------------------------------------------------------------------------------------------- real models


@pytest.fixture(scope="module")
def astronaut():
    import skimage.data

    return skimage.data.astronaut()


def test_astronaut_face_gives_70_points_inside_her_head(astronaut):
    from repaint_extend.pose import detect

    frame = detect(astronaut, face=True)
    person = frame["people"][0]
    face = np.asarray(person["face_keypoints_2d"]).reshape(-1, 3)
    assert face.shape == (70, 3) and (face[:, 2] == 1.0).all(), "a frontal face: every point visible"
    body = np.asarray(person["pose_keypoints_2d"]).reshape(-1, 3)
    eyes = body[[KP["right_eye"], KP["left_eye"]], :2]
    # pupils within half an eye's width (about 25 px here) of MediaPipe Pose's own eye points
    assert np.hypot(*(face[68:70, :2] - eyes).T).max() < 12
    ears = body[[KP["right_ear"], KP["left_ear"]], 0]
    assert ears.min() - 15 < face[:, 0].min() and face[:, 0].max() < ears.max() + 15
    assert face[36, 0] < face[39, 0] < face[42, 0] < face[45, 0]  # eye corners in order, right to left
    assert face[8, 1] > face[57, 1] > face[51, 1] > face[30, 1]  # chin, lower lip, upper lip, nose tip
    assert (
        person["hand_left_keypoints_2d"] is None
        and detect(astronaut)["people"][0]["face_keypoints_2d"] is None
    )


def test_camera_man_in_three_quarter_view_loses_his_far_cheek():
    import skimage.data

    from repaint_extend.pose import detect

    image = np.repeat(skimage.data.camera()[:, :, None], 3, axis=2)
    face = np.asarray(detect(image, face=True)["people"][0]["face_keypoints_2d"]).reshape(-1, 3)
    # he looks to the image's right: his left jaw (iBUG 10..16) is turned away; his right jaw is seen
    assert (face[10:17, 2] == 0).all() and (face[0:6, 2] == 1).all()


def test_drawn_hand_at_the_wrist_is_found_and_assigned_to_that_wrist():
    import skimage.data
    from support.drawn_hand import paste_hand

    from repaint_extend.pose import detect

    camera = np.repeat(skimage.data.camera()[:, :, None], 3, axis=2)
    image, marks = paste_hand(camera, (262, 225), side=128)  # a hand about 85 px long, on his right glove
    person = detect(image, hands=True)["people"][0]
    hand = np.asarray(person["hand_right_keypoints_2d"]).reshape(-1, 3)
    assert hand.shape == (21, 3) and (hand[:, 2] == 1).all()
    wrist = np.asarray(person["pose_keypoints_2d"]).reshape(-1, 3)[KP["right_wrist"], :2]
    assert np.hypot(*(hand[0, :2] - wrist)) < wb.HAND_MATCH * 85
    errors = [np.hypot(*(hand[k, :2] - np.asarray(xy))) for k, xy in marks.items()]
    assert np.mean(errors) < 30, errors  # wrist and five tips, against the drawing's own points
    assert person["hand_left_keypoints_2d"] is None  # the gloved left hand is not found: never guessed


def test_two_drawn_hands_go_to_the_two_wrists_they_continue():
    from support.drawn_hand import BACKGROUND, paste_hand

    canvas = np.zeros((320, 640, 3), np.uint8) + np.array(BACKGROUND, np.uint8)
    image, marks_a = paste_hand(canvas, (160, 230), side=140)
    image, marks_b = paste_hand(image, (470, 230), side=140)
    people = []
    for wrist in ((160, 230), (470, 230)):  # a pose of our own making: forearm straight down to the wrist
        pts = np.zeros((N_POINTS, 3))
        pts[KP["right_wrist"]] = (*wrist, 1.0)
        pts[KP["right_elbow"]] = (wrist[0], wrist[1] + 125, 1.0)
        people.append(person_from_points(pts))
    out = wb.add_hands_face(image, people, hands=True, face=False)
    for person, marks in zip(out, (marks_a, marks_b)):
        hand = np.asarray(person["hand_right_keypoints_2d"]).reshape(-1, 3)
        errors = [np.hypot(*(hand[k, :2] - np.asarray(xy))) for k, xy in marks.items()]
        assert np.mean(errors) < 15, errors  # each person has its own hand, not the other one's
        assert person["hand_left_keypoints_2d"] is None and person["face_keypoints_2d"] is None
    assert people[0]["hand_right_keypoints_2d"] is None  # the input is not modified


def test_a_hand_is_found_whichever_way_the_detected_forearm_points():
    """The crop (3 hand lengths, half a hand beyond the wrist) holds every point within one hand length of
    the wrist, so a wrong forearm direction from the body detector does not lose the hand: a drawn hand
    whose forearm points straight down, with the elbow put sideways or even beyond the fingertips."""
    from support.drawn_hand import BACKGROUND, paste_hand

    canvas = np.zeros((512, 512, 3), np.uint8) + np.array(BACKGROUND, np.uint8)
    image, marks = paste_hand(canvas, (256, 300), side=128)  # forearm straight down from the wrist
    length = 0.67 * 128
    for elbow_dir in ((1, 0), (-1, 0), (0, -1)):  # sideways; up along the fingers (offset the wrong way)
        pts = np.zeros((N_POINTS, 3))
        pts[KP["right_wrist"]] = (256, 300, 1.0)
        pts[KP["right_elbow"]] = (*(np.array([256, 300]) + np.array(elbow_dir) * length / 0.74), 1.0)
        person = wb.add_hands_face(image, [person_from_points(pts)], face=False)[0]
        hand = np.asarray(person["hand_right_keypoints_2d"]).reshape(-1, 3)
        errors = [np.hypot(*(hand[k, :2] - np.asarray(xy))) for k, xy in marks.items()]
        # found and matched; the fingertips move with the crop by up to about 25 px (6 to 24 px mean over
        # 8 directions x 3 sizes, the right direction included), so the bound is the camera test's
        assert errors[0] < 10 and np.mean(errors) < 30, (elbow_dir, errors)

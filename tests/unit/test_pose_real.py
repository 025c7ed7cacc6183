"""Detection + completion on real photos shipped in registry packages (issue 3, section 9).

camera.png (CC0) and astronaut.png from scikit-image, grace_hopper.jpg from matplotlib. Writes a
contact sheet (photo + skeleton before and after completion) to pytest's temporary folder
(``pose_contact_sheet.png``; pass ``--basetemp DIR`` to keep it).
"""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from repaint_extend.pose import (
    auto_padding,
    complete_legs,
    detect,
    leg_ratios,
    overlay,
    pad,
    pad_image_mask,
    render,
)
from repaint_extend.pose.keypoints import INFERRED_KEY, KP, person_from_points, person_points

# anthropometric range: the table's ratio to the torso (Winter 2009, Fig. 4.1, written out: shoulder
# 0.818 H, hip 0.530 H, knee 0.285 H, ankle 0.039 H) +- 20 % (population spread and 2-D foreshortening)
TORSO, THIGH, SHANK = 0.818 - 0.530, 0.530 - 0.285, 0.285 - 0.039
RANGE = (0.8, 1.2)


def _photos():
    import matplotlib.cbook
    import skimage.data

    cam = skimage.data.camera()
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as fh:
        grace = np.asarray(Image.open(fh).convert("RGB"))
    return {
        "camera": np.repeat(cam[:, :, None], 3, axis=2),
        "astronaut": skimage.data.astronaut(),
        "grace_hopper": grace,
    }


@pytest.fixture(scope="module")
def results():
    out = {}
    for name, img in _photos().items():
        det = detect(img)
        comp = complete_legs(det)
        out[name] = (img, det, comp)
    return out


def test_detects_one_person_with_torso_in_every_photo(results):
    for name, (img, det, _) in results.items():
        assert len(det["people"]) == 1, name
        assert (det["canvas_width"], det["canvas_height"]) == (img.shape[1], img.shape[0])
        p = person_points(det["people"][0])
        for k in ("nose", "neck", "right_shoulder", "left_shoulder"):
            x, y, c = p[KP[k]]
            assert c == 1.0 and 0 <= x < img.shape[1] and 0 <= y < img.shape[0], (name, k)
        assert p[KP["right_shoulder"], 0] < p[KP["left_shoulder"], 0]  # facing the camera: right on the left


def test_camera_completed_ankles_lie_below_the_frame(results):
    img, det, comp = results["camera"]
    p_det, p = person_points(det["people"][0]), person_points(comp["people"][0])
    assert p_det[KP["right_hip"], 2] == 1 and p_det[KP["left_hip"], 2] == 1  # hips visible
    for side in ("left", "right"):
        assert p_det[KP[f"{side}_ankle"], 2] == 0  # cut off
        assert p[KP[f"{side}_ankle"], 1] > img.shape[0]
        for f in ("big_toe", "heel"):
            assert p[KP[f"{side}_{f}"], 1] > img.shape[0]
    inferred = comp["people"][0][INFERRED_KEY]
    assert {KP["left_ankle"], KP["right_ankle"]} <= set(inferred)
    vis = p_det[:, 2] > 0
    np.testing.assert_array_equal(p[vis], p_det[vis])  # detected points kept


@pytest.mark.parametrize("name", ["camera", "astronaut", "grace_hopper"])
def test_leg_lengths_in_anthropometric_range(results, name):
    _, _, comp = results[name]
    r = leg_ratios(comp)
    assert set(r) == {"left_thigh", "left_shank", "right_thigh", "right_shank"}
    for seg, v in r.items():
        ref = (THIGH if seg.endswith("thigh") else SHANK) / TORSO
        assert RANGE[0] * ref <= v <= RANGE[1] * ref, (name, seg, v)
    p = person_points(comp["people"][0])
    for side in ("left", "right"):  # legs go down: hip above knee above ankle above the toes
        ys = [p[KP[f"{side}_{j}"], 1] for j in ("hip", "knee", "ankle")]
        assert ys[0] < ys[1] < ys[2] < p[KP[f"{side}_big_toe"], 1]


def _turn_points(xy, k, width):
    """Points ``[..., 2]`` px of a ``width`` px wide image as they lie in ``np.rot90(image, k)``."""
    xy = np.array(xy, dtype=np.float64)
    for _ in range(k):
        xy = np.stack([xy[..., 1], (width - 1) - xy[..., 0]], axis=-1)
    return xy


def _turn_frame(frame, k):
    """A square canvas's frame turned like ``np.rot90(image, k)`` (present points only)."""
    from repaint_extend.pose import new_frame, person_from_points

    people = []
    for person in frame["people"]:
        p = person_points(person)
        p[p[:, 2] > 0, :2] = _turn_points(p[p[:, 2] > 0, :2], k, frame["canvas_width"])
        people.append(person_from_points(p))
    return new_frame(frame["canvas_width"], frame["canvas_height"], people)


def _along_axis(p):
    """Ankles' distance beyond the hip midpoint along the neck -> hips axis, in torso lengths."""
    neck, hips = p[KP["neck"], :2], (p[KP["right_hip"], :2] + p[KP["left_hip"], :2]) / 2
    torso = float(np.hypot(*(hips - neck)))
    axis = (hips - neck) / torso
    return np.array([(p[KP[f"{s}_ankle"], :2] - hips) @ axis / torso for s in ("right", "left")])


@pytest.mark.parametrize("k", [1, 2, 3])
def test_completion_turns_with_the_person(results, k):
    """legs along the body axis; the camera's detection turned by k x 90 degrees completes to
    the upright completion turned the same way (the model has no preferred image direction)."""
    _, det, comp = results["camera"]
    det = {**det, "people": [{"pose_keypoints_2d": det["people"][0]["pose_keypoints_2d"]}]}  # no prior
    upright = person_points(complete_legs(det)["people"][0])
    turned = person_points(complete_legs(_turn_frame(det, k))["people"][0])
    np.testing.assert_allclose(turned[:, :2], _turn_points(upright[:, :2], k, 512), atol=1e-6)


@pytest.fixture(scope="module")
def held_out_ankle_error(results):
    """On the upright camera photo, hold out the detected right knee, complete without the detector's
    guesses, and measure the knee's error in torso lengths; scaled to the ankle (hip -> ankle is
    (0.245 + 0.246) / 0.245 hip -> knee lengths) it is the tolerance of an ankle's reach."""
    _, det, _ = results["camera"]
    p = person_points(det["people"][0])
    assert p[KP["right_knee"], 2] == 1
    held = p.copy()
    held[KP["right_knee"]] = 0
    frame = {**det, "people": [person_from_points(held)]}
    q = person_points(complete_legs(frame, use_prior=False)["people"][0])
    neck, hips = q[KP["neck"], :2], (q[KP["right_hip"], :2] + q[KP["left_hip"], :2]) / 2
    knee_error = np.hypot(*(q[KP["right_knee"], :2] - p[KP["right_knee"], :2])) / np.hypot(*(hips - neck))
    return float(knee_error) * (THIGH + SHANK) / THIGH


@pytest.mark.parametrize("k, side", [(1, "right"), (2, "top")])
def test_turned_photo_completes_along_the_body_and_pads_that_side(results, held_out_ankle_error, k, side):
    """camera.png turned by 90 / 180 degrees (the man lying / upside down): the completed
    ankles lie beyond the hips along the body axis, as far as on the upright photo within the
    held-out error, and auto padding grows the side the legs point to."""
    img, _, comp = results["camera"]
    turned = complete_legs(detect(np.ascontiguousarray(np.rot90(img, k))))
    reach = _along_axis(person_points(turned["people"][0]))
    upright = _along_axis(person_points(comp["people"][0]))
    assert np.all(reach > 0.5)  # beyond the hips, away from the head
    np.testing.assert_array_less(np.abs(reach - upright), held_out_ankle_error)
    pads = dict(zip(("left", "top", "right", "bottom"), auto_padding(turned)))
    assert pads[side] > 0 and pads["bottom"] == 0  # today: legs hang down, bottom padded


def _panel(img, frame, label, height=360):
    ov = overlay(img, render(frame))
    im = Image.fromarray(ov)
    im = im.resize((max(1, round(im.width * height / im.height)), height), Image.BILINEAR)
    ImageDraw.Draw(im).text((6, 6), label, fill=(255, 255, 0))
    return im


def test_contact_sheet(results, tmp_path):
    rows = []
    for name, (img, det, comp) in results.items():
        pads = auto_padding(comp)
        assert pads[3] > 0 and (img.shape[0] + pads[1] + pads[3]) % 64 == 0
        assert (img.shape[1] + pads[0] + pads[2]) % 64 == 0
        img_p, mask = pad_image_mask(img, None, *pads, mode="constant", fill=96)
        comp_p = pad(comp, *pads)
        pts = person_points(comp_p["people"][0])
        assert pts[pts[:, 2] > 0, 1].max() < comp_p["canvas_height"]  # feet inside the padded canvas
        assert mask[-1].min() == 1.0 and mask[: img.shape[0]].max() == 0.0
        rows.append(
            [
                _panel(img, det, f"{name}: detected"),
                _panel(img_p, comp_p, f"{name}: completed, padded {pads}"),
            ]
        )
    W = max(sum(p.width for p in r) + 10 * len(r) for r in rows)
    sheet = Image.new("RGB", (W, sum(r[0].height + 10 for r in rows)), (40, 40, 40))
    y = 0
    for r in rows:
        x = 0
        for p in r:
            sheet.paste(p, (x, y))
            x += p.width + 10
        y += r[0].height + 10
    path = tmp_path / "pose_contact_sheet.png"
    sheet.save(path)
    assert path.stat().st_size > 10_000

"""Every person in the photo (issue 20): wide strips, a person in a wide photo, small photos.

The group photos are built by bench/group_photos.py from the single-person photos of scikit-image and
matplotlib (the benchmark bench/bench_people.py measures the same photos and more)."""

import importlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from repaint_extend.pose import MAX_PEOPLE, detect, detect_people
from repaint_extend.pose.keypoints import KP, person_from_points, person_points

ROOT = Path(__file__).resolve().parents[2]


def _group_photos():
    from bench import group_photos

    return group_photos


@pytest.fixture(scope="module")
def photos():
    return _group_photos()


def _module():
    return importlib.import_module("repaint_extend.pose.detect")


def test_a_wide_strip_of_eight_people_has_all_eight_found(photos):
    """a 1451 x 300 strip of 8 people: "No person detected" with the runner's check (one person
    on the whole image); the workflow's settings find every one, left to right, one per column."""
    strip, present = photos.strip(8)
    assert strip.shape == (300, 1451, 3) and present == 8
    people = detect_people(strip)["people"]
    assert len(people) == 8
    necks = [person_points(p)[KP["neck"]] for p in people]
    columns = [int(n[0] // (1451 / 8)) for n in necks]
    assert columns == list(range(8))
    assert detect_people(strip, max_people=1)["people"]  # the check with max_people 1 finds someone too


def test_one_person_in_a_wide_photo_is_found_once(photos):
    """one person, the photo widened to 1110 x 370: nobody found (640 and 740 px wide passed)."""
    wide, _ = photos.widened()
    assert wide.shape == (370, 1110, 3)
    for max_people in (1, MAX_PEOPLE):
        people = detect(wide, num_poses=max_people)["people"]
        assert len(people) == 1, max_people
        neck = person_points(people[0])[KP["neck"]]
        assert neck[2] == 1 and 400 < neck[0] < 710  # on the person, in the middle third


def test_windows_cover_any_aspect_ratio_up_to_the_largest_photo():
    """A 16384 x 300 strip (intake.MAX_SIDE wide): the first window size alone covers every column (today
    the budget dropped every window and only the whole image, 300 px tall in a 224 px input, was tried)."""
    windows = _module().detection_windows
    for h, w in ((300, 16384), (16384, 300), (300, 1451), (512, 512), (70, 200)):
        covered = np.zeros((h, w), bool)
        for x, y, ww, hh in windows(h, w)[1:] or windows(h, w):
            covered[y : y + hh, x : x + ww] = True
        assert covered.all(), (h, w)
    assert len(windows(300, 16384)) > 100


def test_small_photos_give_landmarks_in_their_own_pixels(photos):
    """A photo below the landmarker's 256 px (upscaled for detection only when nobody is found in it): the
    landmarks come back in the photo's own pixels, where the full-size photo puts them, and the photo
    itself is not changed."""
    from PIL import Image

    full = photos.sources()["astronaut"]
    small = np.asarray(Image.fromarray(full).resize((140, 140), Image.LANCZOS))
    before = small.copy()
    lms_small = _module().upscaled_landmarks(small)
    lms_full = _module().upscaled_landmarks(full)
    np.testing.assert_array_equal(small, before)
    assert len(lms_small) == 1 and len(lms_full) == 1
    shoulders = [11, 12, 0]  # MediaPipe: shoulders, nose
    error = np.abs(lms_small[0, shoulders, :2] * 512 / 140 - lms_full[0, shoulders, :2]).max()
    assert error < 0.05 * 512


def test_an_ankle_on_its_knee_is_not_taken_as_detected():
    """on a small photo cut at the knees the landmarker put the feet at the bottom edge, where the
    knees are. An ankle closer to its knee than half the thigh is dropped (kept as the prior) so that
    Complete Legs places it."""
    dm = _module()
    pts = np.zeros((24, 3))
    pts[KP["right_hip"]] = (50, 60, 1)
    pts[KP["right_knee"]] = (50, 100, 1)
    pts[KP["right_ankle"]] = (50, 108, 1)  # 8 px below a 40 px thigh
    pts[KP["right_heel"]] = (48, 110, 1)
    pts[KP["left_hip"]] = (70, 60, 1)
    pts[KP["left_knee"]] = (70, 100, 1)
    pts[KP["left_ankle"]] = (70, 138, 1)  # a real shank
    dm._drop_short_shanks(pts)
    assert pts[KP["right_ankle"], 2] == 0 and pts[KP["right_heel"], 2] == 0
    assert pts[KP["left_ankle"], 2] == 1 and pts[KP["right_knee"], 2] == 1
    person_from_points(pts)  # still a valid person


def test_a_pattern_with_its_nose_on_its_shoulders_is_no_person():
    dm = _module()
    lms = np.zeros((33, 3))
    lms[11, :2], lms[12, :2] = (60, 100), (40, 100)
    lms[23, :2], lms[24, :2] = (58, 160), (42, 160)
    lms[0, :2] = (50, 98)  # 2 px from the shoulders' midpoint, torso 60 px
    assert not dm._plausible(lms)
    lms[0, :2] = (50, 80)
    assert dm._plausible(lms)


def test_a_photo_without_a_person_has_nobody_found():
    """The windows must not turn a pattern into a person: scikit-image's coffee.png (a cup on a saucer)
    has nobody, with the workflow's settings and with one person."""
    import skimage.data

    coffee = skimage.data.coffee()
    assert detect_people(coffee)["people"] == []
    assert detect_people(coffee, max_people=1)["people"] == []

"""Detection: input checks, MediaPipe landmark mapping, optional detectors never download."""

import sys

import numpy as np
import pytest

from repaint_extend.pose import detect, detect_dwpose, detect_openpose
from repaint_extend.pose.detect import DEFAULT_TASK, MP_FROM_OURS, import_controlnet_aux, landmarks_to_person
from repaint_extend.pose.keypoints import INFERRED_KEY, KP, PRIOR_KEY, person_points


def test_bundle_ships_with_the_package():
    import zipfile

    with zipfile.ZipFile(DEFAULT_TASK) as z:
        assert sorted(z.namelist()) == ["pose_detector.tflite", "pose_landmarks_detector.tflite"]


@pytest.mark.parametrize(
    "bad, exc, msg",
    [
        ([[0]], TypeError, "numpy uint8"),
        (np.zeros((8, 8, 3), np.float32), ValueError, "uint8"),
        (np.zeros((8, 8), np.uint8), ValueError, r"\[H, W, 3\]"),
    ],
)
def test_detect_rejects_bad_images(bad, exc, msg):
    with pytest.raises(exc, match=msg):
        detect(bad)


def test_blank_image_gives_no_people():
    f = detect(np.zeros((64, 96, 3), np.uint8))
    assert f == {"people": [], "canvas_width": 96, "canvas_height": 64}


def test_landmark_mapping_neck_feet_and_priors():
    lms = np.zeros((33, 3))
    lms[:, 2] = 0.9
    lms[:, 0] = np.arange(33) * 3.0
    lms[:, 1] = np.arange(33) * 2.0
    lms[11, :2], lms[12, :2] = (120, 50), (80, 50)  # left / right shoulder
    lms[23, :2], lms[24, :2] = (110, 150), (90, 150)  # left / right hip
    lms[27] = (110, 260, 0.1)  # left ankle: low visibility -> missing, kept as prior
    lms[28] = (90, 240, 0.95)  # right ankle: below the 200 px canvas -> not detected
    lms[30], lms[32] = (85, 195, 0.9), (95, 198, 0.9)  # right heel, right foot index (inside)
    p = landmarks_to_person(lms, 200, 200)
    pts = person_points(p)
    np.testing.assert_allclose(pts[KP["neck"]], [100, 50, 1])  # shoulder midpoint
    assert pts[KP["left_shoulder"], 0] == 120 and pts[KP["right_shoulder"], 0] == 80
    for ours, m in MP_FROM_OURS.items():
        if pts[ours, 2] > 0:
            np.testing.assert_allclose(pts[ours, :2], lms[m, :2])
    assert pts[KP["left_ankle"], 2] == 0 and pts[KP["right_ankle"], 2] == 0
    prior = np.array(p[PRIOR_KEY]).reshape(24, 3)
    np.testing.assert_allclose(prior[KP["left_ankle"]], [110, 260, 0.1])
    # small toe derived from heel + big toe, outward (right foot: towards -x), marked inferred
    assert pts[KP["right_small_toe"], 2] == 1 and KP["right_small_toe"] in p[INFERRED_KEY]
    assert pts[KP["right_small_toe"], 0] < pts[KP["right_big_toe"], 0]
    assert p["keypoint_scores"][KP["left_ankle"]] == pytest.approx(0.1)


def test_optional_detectors_say_which_file_goes_where(tmp_path):
    img = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(FileNotFoundError, match="body_pose_model.pth.*ComfyUI/models"):
        detect_openpose(img, str(tmp_path / "nope.pth"))
    with pytest.raises(FileNotFoundError, match="yolox_l_8x8_300e_coco"):
        detect_dwpose(img, str(tmp_path / "a.pth"), str(tmp_path / "b.pth"))
    det = tmp_path / "yolox.pth"
    det.write_bytes(b"x")
    with pytest.raises(FileNotFoundError, match="dw-ll_ucoco_384.pth"):
        detect_dwpose(img, str(det), None)


def test_controlnet_aux_imports_next_to_numpy2_mediapipe_without_touching_shared_modules():
    """the import hid ``mediapipe`` process-wide (sys.modules["mediapipe"] = None) while it
    ran; another thread importing mediapipe then failed. Now nothing shared changes."""
    import threading

    import mediapipe

    from repaint_extend.pose.detect import PRIVATE_CONTROLNET_AUX

    for name in [n for n in sys.modules if n.startswith(PRIVATE_CONTROLNET_AUX + ".")]:
        del sys.modules[name]  # import afresh, so that the watcher sees a whole import
    real_before = {n for n in sys.modules if n == "controlnet_aux" or n.startswith("controlnet_aux.")}
    seen, stop = set(), threading.Event()

    def watch():  # another thread, importing mediapipe while controlnet_aux loads
        while not stop.is_set():
            try:
                seen.add(id(__import__("mediapipe")))
            except ImportError:
                seen.add("ImportError")

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        util = import_controlnet_aux("open_pose.util")
        body = import_controlnet_aux("open_pose.body")
    finally:
        stop.set()
        watcher.join()
    assert hasattr(util, "draw_bodypose") and hasattr(body, "Keypoint")
    assert seen == {id(mediapipe)}  # the other thread always got the real module
    assert sys.modules["mediapipe"] is mediapipe and hasattr(mediapipe, "tasks")
    real_after = {n for n in sys.modules if n == "controlnet_aux" or n.startswith("controlnet_aux.")}
    assert real_after == real_before  # the real package was not half-imported by us


def test_core_package_never_imports_the_host():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "repaint_extend" / "pose"
    pat = re.compile(r"^\s*(import|from)\s+(comfy\w*|nodes|folder_paths|server|execution)\b", re.M)
    offenders = [str(p) for p in root.rglob("*.py") if pat.search(p.read_text())]
    assert offenders == []

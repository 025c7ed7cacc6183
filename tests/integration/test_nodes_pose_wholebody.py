"""Pose Detect's ``hands`` and ``face`` inputs (issue 23) through ComfyUI's real executor: each one changes
the POSE_KEYPOINT output, and Pose Render draws what they found."""

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="module")
def hand_png(comfy):
    """scikit-image's camera man with a drawn hand on his right glove (tests/support/drawn_hand.py)."""
    import folder_paths
    import skimage.data
    from PIL import Image
    from support.drawn_hand import paste_hand

    camera = np.repeat(skimage.data.camera()[:, :, None], 3, axis=2)
    image, _ = paste_hand(camera, (262, 225), side=128)
    Image.fromarray(image).save(Path(folder_paths.get_input_directory()) / "camera_drawn_hand.png")
    return "camera_drawn_hand.png"


def _detect(comfy, image_name, hands, face):
    from comfy_execution.graph_utils import GraphBuilder

    g = GraphBuilder(prefix="")
    image = g.node("LoadImage", image=image_name)
    detect = g.node(
        "PoseDetectMediaPipe", image=image.out(0), max_people=1, visibility=0.5, hands=hands, face=face
    )
    render = g.node("PoseRender", pose=detect.out(0), body=False, feet=False, hands=True, face=True)
    g.node("PreviewImage", images=render.out(0))
    result = comfy.run_graph(g.finalize())
    return result.output(detect.id)[0]["people"][0], result.output(render.id)


def test_hands_input_adds_the_hand_at_the_wrist(comfy, hand_png):
    without, hint_without = _detect(comfy, hand_png, hands=False, face=False)
    with_hands, hint = _detect(comfy, hand_png, hands=True, face=False)
    assert without["hand_right_keypoints_2d"] is None
    hand = np.asarray(with_hands["hand_right_keypoints_2d"]).reshape(-1, 3)
    assert hand.shape == (21, 3) and (hand[:, 2] == 1.0).all()
    assert with_hands["face_keypoints_2d"] is None  # face not asked for
    assert not hint_without.any() and hint.max() > 0.5  # the hint now has the hand (and nothing else)


def test_face_input_adds_70_face_points(comfy, camera_input):
    camera = camera_input(name="camera.png")
    without, _ = _detect(comfy, camera, hands=False, face=False)
    with_face, hint = _detect(comfy, camera, hands=False, face=True)
    assert without["face_keypoints_2d"] is None
    face = np.asarray(with_face["face_keypoints_2d"]).reshape(-1, 3)
    assert face.shape == (70, 3) and (face[:, 2] == 1.0).sum() >= 40
    assert with_face["hand_right_keypoints_2d"] is None
    white = (hint[0] > 0.99).all(dim=-1)  # controlnet_aux draws face points white
    assert white.any()


@pytest.mark.parametrize("whole_body", [False, True])
def test_extend_legs_can_send_an_openpose_full_hint(comfy, camera_input, whole_body):
    from support import graphs

    prompt, ids = graphs.extend_legs(
        image=camera_input(128, 128),
        ckpt_name=None,
        controlnet_name=None,
        seed=5,
        steps=2,
        jump_length=1,
        jump_n_sample=1,
        tile=64,
        overlap=16,
        feather=8,
        margin=8,
        multiple=8,
        color_match_band=8,
        save_prefix="extend_whole_body",
        control=False,  # the hint is still drawn (for the saved overlay); the tiny ControlNet adds nothing here
        whole_body=whole_body,
    )
    result = comfy.run_graph(prompt)
    face = result.output(ids["pad"], 2)[0]["people"][0]["face_keypoints_2d"]
    assert face is not None  # Pose Detect's face is on in both (its default)
    white = (result.output(ids["hint"])[0] == 1.0).all(dim=-1)  # controlnet_aux's face dots are white
    assert bool(white.any()) == whole_body

"""Pose nodes through ComfyUI's real executor, on scikit-image's camera.png (a man cut off at the thighs)."""

import json
import shutil
from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="module")
def camera_png(camera_input):
    return camera_input(name="camera.png")


def _pose_graph(image_name):
    import graphs
    from comfy_execution.graph_utils import GraphBuilder

    g = GraphBuilder(prefix="")
    image = g.node("LoadImage", image=image_name)
    detect, complete, padded = graphs.detect_complete_pad(g, image.out(0))
    render = g.node("PoseRender", pose=padded.out(2), body=True, feet=True, hands=True, face=True)
    g.node("PreviewImage", images=render.out(0))
    g.node("PreviewImage", images=padded.out(0))
    save = g.node("PoseSaveJSON", pose=padded.out(2), filename_prefix="pose/camera")
    return g.finalize(), {
        "image": image.id,
        "detect": detect.id,
        "complete": complete.id,
        "pad": padded.id,
        "render": render.id,
        "save": save.id,
    }


def test_detect_complete_pad_render_graph(comfy, camera_png):
    prompt, ids = _pose_graph(camera_png)
    result = comfy.run_graph(prompt)
    image = result.output(ids["image"])
    _, h, w, _ = image.shape
    completed = result.output(ids["complete"])[0]["people"][0]
    ankles = [completed["pose_keypoints_2d"][3 * i + 1] for i in (10, 13)]  # COCO-18 right/left ankle y
    assert all(y > h for y in ankles), "completed ankles of camera.png lie below the frame"
    assert completed.get("inferred_keypoints"), "inferred points are marked"

    padded_image = result.output(ids["pad"], 0)
    mask = result.output(ids["pad"], 1)
    left, top, right, bottom = (result.output(ids["pad"], k) for k in range(3, 7))
    assert bottom > 0 and bottom % 64 == 0
    assert padded_image.shape[1:3] == (h + top + bottom, w + left + right)
    assert torch.equal(padded_image[:, top : top + h, left : left + w], image)  # old pixels untouched
    assert mask[:, top : top + h, left : left + w].eq(0).all() and mask[:, top + h :].eq(1).all()

    padded_pose = result.output(ids["pad"], 2)[0]
    assert (padded_pose["canvas_width"], padded_pose["canvas_height"]) == (
        padded_image.shape[2],
        padded_image.shape[1],
    )
    feet = padded_pose["people"][0]["foot_keypoints_2d"]
    assert all(feet[3 * i + 1] < padded_image.shape[1] for i in range(6)), "padding contains the feet"

    hint = result.output(ids["render"])
    assert hint.shape == padded_image.shape
    below = hint[:, top + h :]
    assert below.max() > 0.5, "legs are drawn in the new area"

    saved = result.ui[ids["save"]]["openpose_json"][0]
    assert json.loads(saved)[0]["people"][0]["foot_keypoints_2d"] == feet


def test_save_then_load_json_round_trip(comfy, camera_png, tmp_path):
    import folder_paths
    from comfy_execution.graph_utils import GraphBuilder

    prompt, ids = _pose_graph(camera_png)
    result = comfy.run_graph(prompt)
    frames = result.output(ids["pad"], 2)
    out_dir = Path(folder_paths.get_output_directory()) / "pose"
    saved = sorted(out_dir.glob("camera_*.json"))[-1]
    shutil.copy(saved, Path(folder_paths.get_input_directory()) / "roundtrip.json")

    g = GraphBuilder(prefix="")
    load = g.node("PoseLoadJSON", file="roundtrip.json", coordinates="auto")
    render = g.node("PoseRender", pose=load.out(0), body=True, feet=True, hands=True, face=True)
    g.node("PreviewImage", images=render.out(0))
    loaded = comfy.run_graph(g.finalize()).output(load.id)
    person, original = loaded[0]["people"][0], frames[0]["people"][0]
    for key in ("pose_keypoints_2d", "foot_keypoints_2d"):
        assert person[key] == pytest.approx(original[key], abs=1e-3)


def test_load_json_refuses_paths_outside_input(comfy):
    import nodes

    with pytest.raises(ValueError, match="outside"):
        nodes.NODE_CLASS_MAPPINGS["PoseLoadJSON"].execute("../../etc/passwd", "auto")


def test_pad_rejects_a_pose_of_another_canvas(comfy):
    import nodes

    pose = [{"people": [], "canvas_width": 10, "canvas_height": 10}]
    with pytest.raises(ValueError, match="does not match"):
        nodes.NODE_CLASS_MAPPINGS["PosePadImageMaskPose"].execute(
            torch.zeros(1, 20, 20, 3), pose, "manual", 0, 0, 0, 8, 32, 64, "edge", 0, 0
        )


@pytest.mark.parametrize("detector, missing", [("openpose_body", "body_pose_model.pth"), ("dwpose", "dw")])
def test_weight_based_detectors_name_the_missing_file_and_its_folder(comfy, detector, missing):
    import nodes

    with pytest.raises(FileNotFoundError) as info:
        nodes.NODE_CLASS_MAPPINGS["PoseDetectControlNetAux"].execute(torch.zeros(1, 64, 64, 3), detector)
    assert missing in str(info.value) and "controlnet_aux" in str(info.value)

"""The Pose Editor node through ComfyUI's real executor: edits applied on their own input only, the input and
background sent to the widget, an empty canvas without a pose."""

import json

import pytest


def _graph(edits="", pose=True, image=True, width=512, height=512):
    from comfy_execution.graph_utils import GraphBuilder

    g = GraphBuilder(prefix="")
    extra = {}
    if image:
        extra["image"] = g.node("EmptyImage", width=96, height=64, batch_size=1, color=0x336699).out(0)
    if pose:
        extra["pose"] = g.node("PoseLoadJSON", file="editor_pose.json", coordinates="pixels").out(0)
    editor = g.node("PoseEditor", width=width, height=height, edits=edits, **extra)
    g.node("PoseSaveJSON", pose=editor.out(0), filename_prefix="editor/out")
    return g.finalize(), editor.id


@pytest.fixture(scope="module")
def pose_file(comfy):
    import folder_paths
    import numpy as np

    from repaint_extend.pose import dump_pose_keypoint_json, new_frame, person_from_points

    pts = np.zeros((24, 3))
    pts[12], pts[13] = (50, 40, 1), (50, 60, 1)
    frames = [new_frame(96, 64, [person_from_points(pts, inferred=[13])])]
    with open(f"{folder_paths.get_input_directory()}/editor_pose.json", "w") as fh:
        fh.write(dump_pose_keypoint_json(frames))
    return frames


def test_no_edits_pass_the_pose_through_and_send_input_and_background(comfy, pose_file):
    from repaint_extend.pose import input_key

    prompt, editor = _graph()
    result = comfy.run_graph(prompt)
    assert result.output(editor) == pose_file
    message = result.ui[editor]["pose_editor"][0]
    assert message["input"] == input_key(pose_file) and message["status"] == "none"
    assert message["frames"] == pose_file
    (background,) = message["backgrounds"]
    assert background["type"] == "temp" and background["filename"].endswith(".png")


def test_edits_apply_to_their_input_only(comfy, pose_file):
    from repaint_extend.pose import input_key

    edits = json.dumps({"version": 1, "input": input_key(pose_file), "points": [[0, 0, 13, -12.5, 90]]})
    result = comfy.run_graph(_graph(edits)[0])
    (frame,) = result.output(_graph()[1])
    assert frame["people"][0]["pose_keypoints_2d"][39:42] == [-12.5, 90.0, 1.0]
    assert frame["people"][0]["inferred_keypoints"] == []
    stale = edits.replace(input_key(pose_file), "0" * 16)
    result = comfy.run_graph(_graph(stale)[0])
    assert result.output(_graph()[1]) == pose_file
    assert result.ui[_graph()[1]]["pose_editor"][0]["status"] == "stale"


def test_without_a_pose_the_canvas_is_width_by_height(comfy):
    from repaint_extend.pose import blank_frames, input_key

    prompt, editor = _graph(pose=False, image=False, width=320, height=200)
    result = comfy.run_graph(prompt)
    assert result.output(editor) == blank_frames(320, 200)
    message = result.ui[editor]["pose_editor"][0]
    assert message["backgrounds"] == [] and message["input"] == input_key(blank_frames(320, 200))
    # a person added in the editor on the empty canvas
    edits = json.dumps({"version": 1, "input": message["input"], "points": [[0, 0, 0, 160, 20]]})
    (frame,) = comfy.run_graph(_graph(edits, pose=False, image=False, width=320, height=200)[0]).output(
        editor
    )
    assert frame["people"][0]["pose_keypoints_2d"][:3] == [160.0, 20.0, 1.0]


def test_a_bad_edits_value_is_a_clear_error(comfy, pose_file):
    with pytest.raises(comfy.GraphError, match=r"edits\.points\[0\]"):
        comfy.run_graph(_graph(json.dumps({"input": "k", "points": [[0, 0, 136, 1, 1]]}))[0])


def test_background_batch_sets_the_frame_count_without_a_pose(comfy):
    from comfy_execution.graph_utils import GraphBuilder

    g = GraphBuilder(prefix="")
    image = g.node("EmptyImage", width=32, height=16, batch_size=2, color=0)
    editor = g.node("PoseEditor", width=40, height=30, edits="", image=image.out(0))
    g.node("PoseSaveJSON", pose=editor.out(0), filename_prefix="editor/batch")
    result = comfy.run_graph(g.finalize())
    assert len(result.output(editor.id)) == 2 and isinstance(result.output(editor.id), list)
    assert len(result.ui[editor.id]["pose_editor"][0]["backgrounds"]) == 2

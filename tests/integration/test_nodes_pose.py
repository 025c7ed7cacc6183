"""Pose nodes through ComfyUI's real executor, on scikit-image's camera.png (a man cut off at the thighs)."""

import json
import os
import shutil
from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="module")
def camera_png(camera_input):
    return camera_input(name="camera.png")


def _pose_graph(image_name):
    from comfy_execution.graph_utils import GraphBuilder
    from support import graphs

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

    with pytest.raises(ValueError, match="file: .* not inside ComfyUI's input folder"):
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


def _small_pose(width=64, height=48):
    body = [0.0] * 54
    body[0:3] = [20.0, 10.0, 1.0]  # a nose
    return [{"people": [{"pose_keypoints_2d": body}], "canvas_width": width, "canvas_height": height}]


def _load_save_graph(file, prefix):
    from comfy_execution.graph_utils import GraphBuilder

    g = GraphBuilder(prefix="")
    load = g.node("PoseLoadJSON", file=file, coordinates="pixels")
    g.node("PoseSaveJSON", pose=load.out(0), filename_prefix=prefix)
    return g.finalize(), load.id


def _put_input_json(name, frames):
    import folder_paths

    (Path(folder_paths.get_input_directory()) / name).write_text(json.dumps(frames))
    return name


def test_save_json_never_overwrites(comfy):
    """the numbered name had no trailing '_', so ComfyUI's counter never advanced."""
    import folder_paths

    prompt, _ = _load_save_graph(_put_input_json("small_pose.json", _small_pose()), "pose/never_twice")
    comfy.run_graph(prompt)
    out = Path(folder_paths.get_output_directory()) / "pose"
    first = sorted(out.glob("never_twice_*.json"))
    assert [p.name for p in first] == ["never_twice_00001_.json"]
    first[0].write_text("[]")  # the user's edit must survive the next save
    comfy.run_graph(prompt)
    saved = sorted(out.glob("never_twice_*.json"))
    assert [p.name for p in saved] == ["never_twice_00001_.json", "never_twice_00002_.json"]
    assert saved[0].read_text() == "[]"
    assert json.loads(saved[1].read_text())[0]["canvas_width"] == 64


def test_save_json_creates_nothing_outside_output_through_a_symlink(comfy, tmp_path):
    import folder_paths

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    link = Path(folder_paths.get_output_directory()) / "link_out"
    link.symlink_to(outside, target_is_directory=True)
    try:
        prompt, _ = _load_save_graph(_put_input_json("small_pose.json", _small_pose()), "link_out/sub/pose")
        with pytest.raises(comfy.GraphError, match="filename_prefix.*not inside ComfyUI's output folder"):
            comfy.run_graph(prompt)
        assert list(outside.iterdir()) == []  # no folder made through the link
    finally:
        link.unlink()


def test_load_json_refuses_a_huge_canvas(comfy):
    """a 10**9 px canvas is refused at load (limit: ComfyUI's MAX_RESOLUTION, 16384 px a side)."""
    prompt, _ = _load_save_graph(_put_input_json("huge_pose.json", _small_pose(10**9, 48)), "pose/huge")
    with pytest.raises(comfy.GraphError, match=r"canvas_width: 1000000000 px .* 16384"):
        comfy.run_graph(prompt)
    ok, _ = _load_save_graph(_put_input_json("largest_pose.json", _small_pose(16384, 48)), "pose/largest")
    comfy.run_graph(ok)  # the limit itself is accepted


@pytest.fixture(scope="module")
def collage_png(comfy):
    """astronaut | camera | grace_hopper side by side (scikit-image, matplotlib), 3 x 512 x 512 px."""
    import folder_paths
    import matplotlib.cbook
    import numpy as np
    import skimage.data
    from PIL import Image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as fh:
        grace = np.asarray(Image.open(fh).convert("RGB").resize((512, 512)))
    camera = np.repeat(skimage.data.camera()[:, :, None], 3, axis=2)
    collage = np.concatenate([skimage.data.astronaut(), camera, grace], axis=1)
    Image.fromarray(collage).save(Path(folder_paths.get_input_directory()) / "collage3.png")
    return "collage3.png"


def _people_graph(image_name, max_people):
    from comfy_execution.graph_utils import GraphBuilder
    from support import graphs

    g = GraphBuilder(prefix="")
    image = g.node("LoadImage", image=image_name)
    detect, _, pad = graphs.detect_complete_pad(g, image.out(0), margin=16, max_people=max_people)
    g.node("PreviewImage", images=pad.out(0))
    return g.finalize(), detect.id, pad.id


def test_several_people_detected_left_to_right_completed_and_padded(comfy, collage_png):
    """max_people > 1 gave exactly one person on a collage."""
    from repaint_extend.pose import person_points

    prompt, detect_id, pad_id = _people_graph(collage_png, 3)
    result = comfy.run_graph(prompt)
    people = result.output(detect_id)[0]["people"]
    assert len(people) == 3
    necks = [person_points(p)[1] for p in people]
    assert all(n[2] == 1 for n in necks)
    assert [int(n[0] // 512) for n in necks] == [0, 1, 2]  # one per photo, left to right
    padded = result.output(pad_id, 2)[0]
    height = padded["canvas_height"]
    assert result.output(pad_id, 6) > 0  # bottom pad
    for person in padded["people"]:
        pts = person_points(person)
        assert pts[10, 2] == 1 and pts[13, 2] == 1  # every person has completed ankles ...
        assert pts[pts[:, 2] > 0, 1].max() < height  # ... inside the one padded canvas
    two = comfy.run_graph(_people_graph(collage_png, 2)[0]).output(detect_id)[0]["people"]
    assert len(two) == 2 and person_points(two[0])[1, 0] < person_points(two[1])[1, 0]


def test_lying_person_padded_on_the_side_the_legs_point_to(comfy):
    """camera.png turned by 90 degrees (counter-clockwise: the man lies, feet to the right)
    through Detect -> Complete Legs -> Pad (auto): the legs go right, and so does the padding."""
    import folder_paths
    import numpy as np
    import skimage.data
    from PIL import Image

    lying = np.ascontiguousarray(np.rot90(np.repeat(skimage.data.camera()[:, :, None], 3, axis=2)))
    Image.fromarray(lying).save(Path(folder_paths.get_input_directory()) / "camera_lying.png")
    prompt, _, pad_id = _people_graph("camera_lying.png", 1)
    result = comfy.run_graph(prompt)
    left, top, right, bottom = (result.output(pad_id, k) for k in range(3, 7))
    assert right > 0 and bottom == 0 and left == 0  # today: bottom padded, legs hanging down
    pose = result.output(pad_id, 2)[0]
    body, feet = pose["people"][0]["pose_keypoints_2d"], pose["people"][0]["foot_keypoints_2d"]
    hips_x = max(body[3 * 8], body[3 * 11])  # COCO-18 right / left hip
    assert min(feet[3 * i] for i in range(6)) > hips_x  # every foot right of the hips, along the body
    assert max(feet[3 * i] for i in range(6)) > 512  # and beyond the photo's right edge


# --- every input changes the output: the pose nodes called directly, one input changed at a time ---------


def _node(name):
    import nodes

    return nodes.NODE_CLASS_MAPPINGS[name]


def _same(a, b):
    """Node outputs (tuples of tensors, frames and ints) equal, tensors bit for bit."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _sweep(node, base, changes):
    """Run ``node`` on ``base`` and on ``base`` with each change; every change must change the output.
    Returns {name: output}."""
    reference = node.execute(**base).result
    outputs = {}
    for name, value in changes:
        out = node.execute(**{**base, name: value}).result
        assert not _same(out, reference), f"{node.__name__} ignores {name}"
        outputs[name] = out
    return outputs


def _person(points, **extra):
    """A person from ``{keypoint name: (x, y)}`` (px), every other point missing."""
    import numpy as np

    from repaint_extend.pose.keypoints import KP, person_from_points

    pts = np.zeros((24, 3))
    for name, (x, y) in points.items():
        pts[KP[name]] = (x, y, 1.0)
    return {**person_from_points(pts), **extra}


TORSO = {"neck": (32, 10), "right_shoulder": (26, 10), "left_shoulder": (38, 10)}
HIPS = {"right_hip": (28, 30), "left_hip": (36, 30)}
LEGS = {"right_knee": (28, 45), "left_knee": (36, 45), "right_ankle": (28, 60), "left_ankle": (36, 60)}


def test_complete_legs_node_passes_every_option(comfy):
    from repaint_extend.pose import complete_legs
    from repaint_extend.pose.keypoints import KP

    w, h = 64, 48
    angled = _person({**TORSO, **HIPS, "right_knee": (28, 42), "left_knee": (44, 42)})  # stance decides
    one_ankle = _person(
        {**TORSO, **HIPS, "right_knee": (28, 42), "left_knee": (36, 42), "right_ankle": (24, 47)}
    )
    prior = [0.0] * 72
    prior[3 * KP["left_knee"] : 3 * KP["left_knee"] + 3] = (40, 42, 0.3)  # a plausible detector guess
    prior[3 * KP["left_hip"] : 3 * KP["left_hip"] + 3] = (36, 30, 0.9)
    guessed = _person({**TORSO, **HIPS}, prior_keypoints_2d=prior)
    frames = [{"people": [p], "canvas_width": w, "canvas_height": h} for p in (angled, one_ankle, guessed)]
    base = dict(pose=frames, stance="straight", symmetry=True, use_detector_guess=True, feet=True)
    changes = [
        ("stance", "follow_thighs"),
        ("symmetry", False),
        ("use_detector_guess", False),
        ("feet", False),
    ]
    outputs = _sweep(_node("PoseCompleteLegs"), base, changes)
    core = {"stance": "stance", "symmetry": "symmetry", "use_detector_guess": "use_prior", "feet": "feet"}
    for name, value in changes:
        options = {core[k]: v for k, v in base.items() if k != "pose"} | {core[name]: value}
        assert outputs[name][0] == [complete_legs(f, **options) for f in frames]


def test_pad_node_passes_every_option(comfy):
    from repaint_extend.pose import pad_all

    w, h = 48, 64
    frame = {
        "people": [_person({**TORSO, **HIPS, "right_ankle": (24, 70)})],
        "canvas_width": w,
        "canvas_height": h,
    }
    image = torch.rand(1, h, w, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(1, h, w)
    mask[:, 20:30, 20:30] = 1
    base = dict(
        image=image, pose=[frame], padding="manual", left=8, top=8, right=8, bottom=16,
        margin=8, multiple=16, fill="edge", grow=0, feather=0,
    )  # fmt: skip
    manual = [
        ("padding", "auto"),
        ("left", 16),
        ("top", 16),
        ("right", 16),
        ("bottom", 24),
        ("fill", "constant"),
    ]
    manual += [("fill", "reflect"), ("grow", 4), ("feather", 4), ("mask", mask)]
    node = _node("PosePadImageMaskPose")
    _sweep(node, base, manual)
    auto = _sweep(node, {**base, "padding": "auto"}, [("margin", 40), ("multiple", 32)])
    for name, value in (("margin", 40), ("multiple", 32)):
        options = {"margin": 8, "multiple": 16, name: value}
        pads = pad_all(image, None, [frame], padding="auto", **options)[3]
        assert tuple(auto[name][3:]) == pads


def test_render_node_passes_every_part(comfy):
    from repaint_extend.pose import render

    hand = [v for i in range(21) for v in (20 + i % 5, 30 + i // 5, 1.0)]
    face = [v for i in range(70) for v in (28 + i % 10, 4 + i // 10, 1.0)]
    feet = {"left_big_toe": (40, 62), "left_heel": (34, 61), "left_small_toe": (42, 60)}
    person = _person({**TORSO, **HIPS, **LEGS, **feet, "nose": (32, 6)})
    person.update(hand_left_keypoints_2d=hand, hand_right_keypoints_2d=hand, face_keypoints_2d=face)
    frame = {"people": [person], "canvas_width": 64, "canvas_height": 64}
    base = dict(pose=[frame], body=True, feet=True, hands=True, face=True)
    changes = [("body", False), ("feet", False), ("hands", False), ("face", False)]
    outputs = _sweep(_node("PoseRender"), base, changes)
    for name, _ in changes:
        flags = {f"draw_{k}": k != name for k in ("body", "feet", "hands", "face")}
        expected = torch.from_numpy(render(frame, **flags)).float()[None] / 255.0
        assert torch.equal(outputs[name][0], expected)


def test_load_json_node_reads_the_coordinates_it_is_told(comfy):
    import folder_paths

    normalised = {"people": [_person({"neck": (0.5, 0.25)})], "canvas_width": 64, "canvas_height": 48}
    pixels = {"people": [_person({"neck": (32, 12)})], "canvas_width": 64, "canvas_height": 48}
    for name, frame in (("coords_normalised.json", normalised), ("coords_pixels.json", pixels)):
        (Path(folder_paths.get_input_directory()) / name).write_text(json.dumps([frame]))
    node = _node("PoseLoadJSON")

    def neck(file, coordinates):
        return node.execute(file, coordinates).result[0][0]["people"][0]["pose_keypoints_2d"][3:5]

    assert neck("coords_normalised.json", "auto") == neck("coords_normalised.json", "normalized") == [32, 12]
    assert neck("coords_normalised.json", "pixels") == [0.5, 0.25]
    assert neck("coords_pixels.json", "auto") == neck("coords_pixels.json", "pixels") == [32, 12]
    assert neck("coords_pixels.json", "normalized") == [32 * 64, 12 * 48]


def test_edit_node_passes_every_input(comfy):
    from repaint_extend.pose import move_limb, rotate_limb, scale_limb, set_point

    people = [_person({**TORSO, **HIPS, **LEGS}), _person({**TORSO, **HIPS, **LEGS})]
    frames = [{"people": people, "canvas_width": 64, "canvas_height": 64}]
    base = dict(
        pose=frames, operation="set_point", person=0, point="left_ankle", limb="left_shank", x=10.0, y=20.0
    )
    base["value"] = 1.5
    node = _node("PoseEdit")
    point = _sweep(node, base, [("person", 1), ("point", "right_ankle"), ("x", 11.0), ("y", 21.0)])
    assert point["person"][0] == [set_point(frames[0], 1, "left_ankle", 10.0, 20.0)]
    moved = _sweep(
        node, {**base, "operation": "move_limb"}, [("limb", "right_shank"), ("x", 11.0), ("y", 21.0)]
    )
    assert moved["limb"][0] == [move_limb(frames[0], 0, "right_shank", 10.0, 20.0)]
    scaled = _sweep(node, {**base, "operation": "scale_limb"}, [("value", 2.0)])
    assert scaled["value"][0] == [scale_limb(frames[0], 0, "left_shank", 2.0)]
    rotated = _sweep(node, {**base, "operation": "rotate_limb"}, [("value", 30.0)])
    assert rotated["value"][0] == [rotate_limb(frames[0], 0, "left_shank", 30.0)]
    operations = _sweep(node, base, [("operation", op) for op in ("move_limb", "scale_limb", "rotate_limb")])
    assert operations["operation"][0] == [rotate_limb(frames[0], 0, "left_shank", 1.5)]  # the last one run


def test_detect_node_passes_visibility(comfy):
    import numpy as np
    import skimage.data
    from PIL import Image

    from repaint_extend.pose import detect

    camera = np.asarray(Image.fromarray(skimage.data.camera()).convert("RGB").resize((128, 128)))
    image = torch.from_numpy(camera)[None].float() / 255.0
    base = dict(image=image, max_people=1, visibility=0.5)
    outputs = _sweep(_node("PoseDetectMediaPipe"), base, [("visibility", 0.9)])
    assert outputs["visibility"][0] == [detect(camera, num_poses=1, visibility=0.9, face=True)]  # face: on


@pytest.mark.parametrize(
    "detector, files",
    [
        ("openpose_body", ["body_pose_model.pth"]),
        ("dwpose", ["dwpose/yolox_l_8x8", "dwpose/dw-ll_ucoco_384.pth"]),
    ],
)
def test_missing_detector_weights_are_named_before_anything_runs(comfy, detector, files):
    """ComfyUI's validation (shown on the node in the browser) names the weights, their folder and the
    MediaPipe detector that needs none."""
    import json

    import folder_paths
    from comfy_execution.graph_utils import GraphBuilder

    g = GraphBuilder(prefix="")
    image = g.node("EmptyImage", width=64, height=64, batch_size=1, color=0)
    detect = g.node("PoseDetectControlNetAux", image=image.out(0), detector=detector)
    g.node("PoseSaveJSON", pose=detect.out(0), filename_prefix="never")
    ok, _, _, node_errors = comfy.validate(g.finalize())
    text = json.dumps(node_errors)
    assert not ok and all(name in text for name in files)
    assert os.path.join(folder_paths.models_dir, "controlnet_aux") in text and "MediaPipe" in text

"""Pose nodes: detect (MediaPipe, offline, with feet), complete legs, pad image/mask/pose, render,
load/save POSE_KEYPOINT JSON, numeric edits.

Thin wrappers: each ``execute`` converts ComfyUI types and calls the core package ``pose``.
Node IDs and input names are frozen once shipped (saved workflows refer to them).
POSE_KEYPOINT is comfyui_controlnet_aux's type: a list with one frame per image, pixel coordinates;
feet in each person's ``"foot_keypoints_2d"``, inferred points listed in ``"inferred_keypoints"``.
"""

from __future__ import annotations

import json
import os

import folder_paths
import numpy as np
import torch
from comfy_api.latest import io

from ..checks import confined_path, missing_model_message
from ..outpaint import to_uint8
from ..pose import (
    KEYPOINT_NAMES,
    LIMBS,
    complete_legs,
    detect,
    detect_dwpose,
    detect_openpose,
    dump_pose_keypoint_json,
    load_pose_keypoint_json,
    move_limb,
    pad_all,
    render,
    rotate_limb,
    scale_limb,
    set_point,
    validate_frame,
)
from ..pose.detect import MAX_PEOPLE

_CATEGORY = "image/pose"
PoseKeypoint = io.Custom("POSE_KEYPOINT")


def _frames(pose) -> list[dict]:
    if isinstance(pose, dict):
        pose = [pose]
    if not isinstance(pose, (list, tuple)) or not pose:
        raise ValueError("pose: expected a POSE_KEYPOINT (a non-empty list of frames)")
    for i, f in enumerate(pose):
        validate_frame(f, name=f"pose[{i}]")
    return list(pose)


def _rgb_uint8(image: torch.Tensor) -> list[np.ndarray]:
    """ComfyUI IMAGE ``[B, H, W, C]`` -> one uint8 ``[H, W, 3]`` array per image (rounded to nearest)."""
    return list(to_uint8(image[..., :3]).cpu().numpy())


class PoseDetectMediaPipe(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="PoseDetectMediaPipe",
            display_name="Pose Detect (MediaPipe, feet)",
            category=_CATEGORY,
            description="Body + feet keypoints (COCO-18 + 6 feet) with the MediaPipe Pose model shipped in the pack; "
            "runs offline. Legs beyond the frame are left missing (MediaPipe's guesses are kept as a prior for "
            "Complete Legs).",
            inputs=[
                io.Image.Input("image"),
                io.Int.Input(
                    "max_people",
                    default=1,
                    min=1,
                    max=MAX_PEOPLE,
                    tooltip="Most people to find, ordered left to right. Above 1 the detector also scans square "
                    "windows of the image (slower: about 0.1 s per window).",
                ),
                io.Float.Input(
                    "visibility",
                    default=0.5,
                    min=0.0,
                    max=1.0,
                    step=0.01,
                    tooltip="MediaPipe visibility from which a point counts as detected.",
                ),
                io.Boolean.Input(
                    "hands",
                    default=False,
                    optional=True,
                    tooltip="Also detect each person's hands (21 points, MediaPipe Hand Landmarker, shipped) "
                    "near the detected wrists, for openpose_full hints.",
                ),
                io.Boolean.Input(
                    "face",
                    default=True,
                    optional=True,
                    tooltip="Also detect each person's face (OpenPose's 70 points from MediaPipe's 478-point "
                    "Face Mesh, shipped). On by default: it adds about 10-30 % to the body's time; hands "
                    "(off by default) add up to 100 %.",
                ),
            ],
            outputs=[PoseKeypoint.Output(display_name="pose")],
        )

    @classmethod
    def execute(cls, image, max_people, visibility, hands=False, face=True) -> io.NodeOutput:
        return io.NodeOutput(
            [
                detect(img, num_poses=max_people, visibility=visibility, hands=hands, face=face)
                for img in _rgb_uint8(image)
            ]
        )


ANNOTATOR_FILES = {
    "openpose_body": ("body_pose_model.pth",),
    "dwpose": ("dwpose/yolox_l_8x8_300e_coco_20211126_140236-d3bd2b23.pth", "dwpose/dw-ll_ucoco_384.pth"),
}
"""Weights the controlnet_aux detectors read, relative to ``ComfyUI/models/controlnet_aux/``."""


class PoseDetectControlNetAux(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="PoseDetectControlNetAux",
            display_name="Pose Detect (OpenPose / DWPose weights)",
            category=_CATEGORY,
            description="controlnet_aux's OpenPose body model (no feet) or DWPose (body + feet), from weights you "
            "put in ComfyUI/models/controlnet_aux/: body_pose_model.pth, or dwpose/yolox_l_8x8_300e_coco_"
            "20211126_140236-d3bd2b23.pth and dwpose/dw-ll_ucoco_384.pth. Nothing is downloaded.",
            inputs=[
                io.Image.Input("image"),
                io.Combo.Input("detector", options=list(ANNOTATOR_FILES), default="openpose_body"),
            ],
            outputs=[PoseKeypoint.Output(display_name="pose")],
        )

    @classmethod
    def validate_inputs(cls, detector) -> bool | str:
        """Before anything runs: weights that are not there are named with the folder they belong in."""
        if detector not in ANNOTATOR_FILES:
            return f"detector: {detector!r} is not one of {sorted(ANNOTATOR_FILES)}"
        folder = os.path.join(folder_paths.models_dir, "controlnet_aux")
        missing = [n for n in ANNOTATOR_FILES[detector] if not os.path.isfile(os.path.join(folder, n))]
        if not missing:
            return True
        source = {"openpose_body": "lllyasviel/Annotators", "dwpose": "yzd-v/DWPose"}[detector]
        return missing_model_message(
            ", ".join(missing),
            [folder],
            f"put {source}'s {' and '.join(ANNOTATOR_FILES[detector])} there (relative to that folder), or use "
            "Pose Detect (MediaPipe), which needs no download",
        )

    @classmethod
    def execute(cls, image, detector) -> io.NodeOutput:
        folder = os.path.join(folder_paths.models_dir, "controlnet_aux")
        paths = [os.path.join(folder, name) for name in ANNOTATOR_FILES[detector]]
        run = {"openpose_body": detect_openpose, "dwpose": detect_dwpose}[detector]
        return io.NodeOutput([run(img, *paths) for img in _rgb_uint8(image)])


class PoseCompleteLegs(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="PoseCompleteLegs",
            display_name="Pose Complete Legs",
            category=_CATEGORY,
            description="Infer missing hips, knees, ankles and feet (e.g. below the frame) from the visible torso "
            "with anthropometric segment ratios (Drillis & Contini 1966, Winter). Visible points are kept.",
            inputs=[
                PoseKeypoint.Input("pose"),
                io.Combo.Input("stance", options=["straight", "follow_thighs"], default="straight"),
                io.Boolean.Input("symmetry", default=True, tooltip="Mirror the other leg's detected points."),
                io.Boolean.Input(
                    "use_detector_guess",
                    default=True,
                    tooltip="Use the detector's own out-of-frame estimate where plausible.",
                ),
                io.Boolean.Input("feet", default=True),
            ],
            outputs=[PoseKeypoint.Output(display_name="pose")],
        )

    @classmethod
    def execute(cls, pose, stance, symmetry, use_detector_guess, feet) -> io.NodeOutput:
        return io.NodeOutput(
            [
                complete_legs(f, stance=stance, symmetry=symmetry, use_prior=use_detector_guess, feet=feet)
                for f in _frames(pose)
            ]
        )


class PosePadImageMaskPose(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="PosePadImageMaskPose",
            display_name="Pose Pad Image/Mask/Pose",
            category=_CATEGORY,
            description="Pad image, mask and pose by the same offsets. auto: just enough to contain every person's legs "
            "and feet (completed beyond the frame) plus the margin, each side rounded up to a multiple; heads, arms "
            "and hands never pad. The mask marks new area 1.0.",
            inputs=[
                io.Image.Input("image"),
                PoseKeypoint.Input("pose"),
                io.Combo.Input("padding", options=["auto", "manual"], default="auto"),
                io.Int.Input("left", default=0, min=0, max=8192, step=8),
                io.Int.Input("top", default=0, min=0, max=8192, step=8),
                io.Int.Input("right", default=0, min=0, max=8192, step=8),
                io.Int.Input("bottom", default=0, min=0, max=8192, step=8),
                io.Int.Input(
                    "margin",
                    default=32,
                    min=0,
                    max=1024,
                    tooltip="auto: pixels beyond the outermost leg or foot point.",
                ),
                io.Int.Input(
                    "multiple",
                    default=64,
                    min=1,
                    max=512,
                    tooltip="auto: round each pad up to this; an odd-sized canvas is completed to a multiple of it.",
                ),
                io.Combo.Input("fill", options=["edge", "constant", "reflect"], default="edge"),
                io.Int.Input(
                    "grow",
                    default=0,
                    min=0,
                    max=512,
                    tooltip="Also repaint this many pixels of the old image.",
                ),
                io.Int.Input("feather", default=0, min=0, max=512),
                io.Mask.Input("mask", optional=True),
            ],
            outputs=[
                io.Image.Output(display_name="image"),
                io.Mask.Output(display_name="mask"),
                PoseKeypoint.Output(display_name="pose"),
                io.Int.Output(display_name="left"),
                io.Int.Output(display_name="top"),
                io.Int.Output(display_name="right"),
                io.Int.Output(display_name="bottom"),
            ],
        )

    @classmethod
    def execute(
        cls, image, pose, padding, left, top, right, bottom, margin, multiple, fill, grow, feather, mask=None
    ) -> io.NodeOutput:
        img, m, frames, pads = pad_all(
            image,
            mask,
            _frames(pose),
            left,
            top,
            right,
            bottom,
            padding=padding,
            margin=int(margin),
            multiple=int(multiple),
            mode=fill,
            fill=0.5,
            grow=grow,
            feather=feather,
        )
        return io.NodeOutput(img, m if m.ndim == 3 else m.unsqueeze(0), frames, *pads)


class PoseRender(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="PoseRender",
            display_name="Pose Render (OpenPose + feet)",
            category=_CATEGORY,
            description="OpenPose control image as ControlNet-openpose was trained on (controlnet_aux's drawing), "
            "with feet. Points outside the canvas are drawn clipped.",
            inputs=[
                PoseKeypoint.Input("pose"),
                io.Boolean.Input("body", default=True),
                io.Boolean.Input("feet", default=True),
                io.Boolean.Input("hands", default=True),
                io.Boolean.Input("face", default=True),
            ],
            outputs=[io.Image.Output(display_name="image")],
        )

    @classmethod
    def execute(cls, pose, body, feet, hands, face) -> io.NodeOutput:
        frames = _frames(pose)
        sizes = {(f["canvas_width"], f["canvas_height"]) for f in frames}
        if len(sizes) > 1:
            raise ValueError(
                f"pose: frames have different canvas sizes {sorted(sizes)}; an IMAGE batch needs one"
            )
        imgs = [render(f, draw_body=body, draw_feet=feet, draw_hands=hands, draw_face=face) for f in frames]
        return io.NodeOutput(torch.from_numpy(np.stack(imgs)).float() / 255.0)


class PoseLoadJSON(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        files = (
            sorted(f for f in os.listdir(folder_paths.get_input_directory()) if f.lower().endswith(".json"))
            if os.path.isdir(folder_paths.get_input_directory())
            else []
        )
        return io.Schema(
            node_id="PoseLoadJSON",
            display_name="Pose Load JSON",
            category=_CATEGORY,
            description="Load POSE_KEYPOINT JSON (comfyui_controlnet_aux / this pack; pixel or normalised) from "
            "ComfyUI's input directory.",
            inputs=[
                io.Combo.Input("file", options=files or [""]),
                io.Combo.Input("coordinates", options=["auto", "pixels", "normalized"], default="auto"),
            ],
            outputs=[PoseKeypoint.Output(display_name="pose")],
        )

    @classmethod
    def execute(cls, file, coordinates) -> io.NodeOutput:
        if not file:
            raise ValueError("file: put a POSE_KEYPOINT .json file in ComfyUI's input directory and pick it")
        path = confined_path(folder_paths.get_input_directory(), file, "file", "input")
        with open(path, encoding="utf-8") as fh:
            return io.NodeOutput(load_pose_keypoint_json(fh.read(), coords=coordinates))


class PoseSaveJSON(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="PoseSaveJSON",
            display_name="Pose Save JSON",
            category=_CATEGORY,
            description="Save POSE_KEYPOINT as JSON (pixels, feet in foot_keypoints_2d) in ComfyUI's output directory.",
            inputs=[
                PoseKeypoint.Input("pose"),
                io.String.Input("filename_prefix", default="pose/PoseKeypoint"),
            ],
            outputs=[],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, pose, filename_prefix) -> io.NodeOutput:
        frames = _frames(pose)
        path = save_json_path(filename_prefix, frames[0]["canvas_width"], frames[0]["canvas_height"])
        with open(path, "x", encoding="utf-8") as fh:  # "x": never replaces a file
            fh.write(dump_pose_keypoint_json(frames, indent=1))
        return io.NodeOutput(ui={"openpose_json": [json.dumps(frames)]})


def save_json_path(filename_prefix: str, width: int, height: int) -> str:
    """A new file ``<prefix>_<counter:05>_.json`` in ComfyUI's output directory, as SaveImage names its
    files (``folder_paths.get_save_image_path``: the counter continues after the highest
    ``<prefix>_NNNNN_`` file, so the trailing ``_`` matters; ``%width%`` etc. are expanded).

    The prefix's folder is checked against the output directory with symbolic links resolved *before*
    ComfyUI creates it, so that nothing is ever created outside ``output/``. A counter already taken
    (another save in between) moves on to the next free one. Raises ValueError naming
    ``filename_prefix`` when it leads outside the output directory.
    """
    out_dir = folder_paths.get_output_directory()
    folder = os.path.dirname(os.path.normpath(filename_prefix))
    confined_path(out_dir, folder, "filename_prefix", "output", folder_itself=True)
    full, name, counter, _, _ = folder_paths.get_save_image_path(filename_prefix, out_dir, width, height)
    confined_path(out_dir, full, "filename_prefix", "output", folder_itself=True)
    while os.path.lexists(path := os.path.join(full, f"{name}_{counter:05}_.json")):
        counter += 1
    return path


class PoseEdit(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="PoseEdit",
            display_name="Pose Edit",
            category=_CATEGORY,
            description="Numeric edit of one person in every frame: set a point (x, y px), or move (x, y px), "
            "scale (value = factor) or rotate (value = degrees clockwise) a limb about its root joint.",
            inputs=[
                PoseKeypoint.Input("pose"),
                io.Combo.Input("operation", options=["set_point", "move_limb", "scale_limb", "rotate_limb"]),
                io.Int.Input("person", default=0, min=0, max=64),
                io.Combo.Input("point", options=list(KEYPOINT_NAMES), default="left_ankle"),
                io.Combo.Input("limb", options=list(LIMBS), default="left_shank"),
                io.Float.Input("x", default=0.0, min=-16384.0, max=16384.0, step=1.0),
                io.Float.Input("y", default=0.0, min=-16384.0, max=16384.0, step=1.0),
                io.Float.Input("value", default=0.0, min=-360.0, max=360.0, step=0.01),
            ],
            outputs=[PoseKeypoint.Output(display_name="pose")],
        )

    @classmethod
    def execute(cls, pose, operation, person, point, limb, x, y, value) -> io.NodeOutput:
        ops = {
            "set_point": lambda f: set_point(f, person, point, x, y),
            "move_limb": lambda f: move_limb(f, person, limb, x, y),
            "scale_limb": lambda f: scale_limb(f, person, limb, value),
            "rotate_limb": lambda f: rotate_limb(f, person, limb, value),
        }
        return io.NodeOutput([ops[operation](f) for f in _frames(pose)])


NODES = [
    PoseDetectMediaPipe,
    PoseDetectControlNetAux,
    PoseCompleteLegs,
    PosePadImageMaskPose,
    PoseRender,
    PoseLoadJSON,
    PoseSaveJSON,
    PoseEdit,
]

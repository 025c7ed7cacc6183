"""The pose editor node: a POSE_KEYPOINT edited by hand in the node's own widget (``web/pose_editor.js``).

Thin: the edits (the ``edits`` widget's JSON value) are applied by :func:`pose.apply_edits`; this file
converts types and sends the node's input pose and background to the widget as its UI output.
"""

from __future__ import annotations

import logging

from comfy_api.latest import io, ui

from ..pose import apply_edits, blank_frames, input_key
from .pose import PoseKeypoint, _frames

PoseEdits = io.Custom("POSE_EDITS")
"""The editor widget's type: a JSON string (see :mod:`pose.editor`), drawn by ``web/pose_editor.js``."""


class PoseEditor(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="PoseEditor",
            display_name="Pose Editor",
            category="image/pose",
            description="Edit a POSE_KEYPOINT by hand on its background: drag joints, limbs and feet (also "
            "outside the image), add, delete, add a person. Run the workflow once to see the input here. "
            "Edits are kept for the input they were made on; when the input changes they are not applied "
            "until you keep or discard them in the editor. Without a pose: an empty canvas of width x height.",
            inputs=[
                io.Int.Input("width", default=512, min=1, max=16384, tooltip="Canvas width without a pose."),
                io.Int.Input(
                    "height", default=512, min=1, max=16384, tooltip="Canvas height without a pose."
                ),
                PoseEdits.Input(
                    "edits",
                    tooltip="The editor's edits (JSON), saved with the workflow.",
                    extra_dict={"default": "", "socketless": True},
                ),
                PoseKeypoint.Input("pose", optional=True),
                io.Image.Input("image", optional=True, tooltip="Background, e.g. the padded photo."),
            ],
            outputs=[PoseKeypoint.Output(display_name="pose")],
            # an output node: ComfyUI sends its UI output (the pose and background the widget shows) on
            # every run, also when nothing changed and its result comes from the cache (e.g. the first Run
            # after opening a saved workflow); a cached node that is not an output gets no message
            is_output_node=True,
        )

    @classmethod
    def execute(cls, width, height, edits, pose=None, image=None) -> io.NodeOutput:
        if pose is not None:
            frames = _frames(pose)
        else:
            frames = blank_frames(width, height, 1 if image is None else image.shape[0])
        edited, status = apply_edits(frames, edits)
        if status == "stale":
            logging.warning(
                "Pose Editor: its edits were made on another input pose and are NOT applied; "
                "keep or discard them in the editor"
            )
        backgrounds = []
        if image is not None:
            backgrounds = ui.ImageSaveHelper.save_images(
                image, "PoseEditor_background", io.FolderType.temp, None, compress_level=1
            )
        message = {"input": input_key(frames), "frames": frames, "status": status, "backgrounds": backgrounds}
        return io.NodeOutput(edited, ui={"pose_editor": [message]})


NODES = [PoseEditor]

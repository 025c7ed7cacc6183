"""ControlNet nodes for pose-driven inpainting: Pose ControlNet Apply (an OpenPose ControlNet with the
rendered pose as its hint, optionally chained with SD1.5's inpaint ControlNet) and the inpaint
ControlNet's preprocessor.

Built on ComfyUI's own CONTROL_NET objects: load them with ControlNetLoader; the checks and the chaining
are ``adapters/control.py``. Node IDs and inputs are frozen.
"""

from __future__ import annotations

from comfy_api.latest import io

from ..adapters.control import apply_pose_controlnets
from ..outpaint import inpaint_control_hint

_CATEGORY = "conditioning/controlnet"


class InpaintControlNetPreprocessor(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="InpaintControlNetPreprocessor",
            display_name="Inpaint ControlNet Preprocessor",
            category=_CATEGORY,
            description="Hint for SD1.5's control_v11p_sd15_inpaint: the image with its masked pixels set to -1.",
            inputs=[io.Image.Input("image"), io.Mask.Input("mask")],
            outputs=[io.Image.Output(display_name="hint")],
        )

    @classmethod
    def execute(cls, image, mask) -> io.NodeOutput:
        return io.NodeOutput(inpaint_control_hint(image, mask))


class PoseControlNetApply(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="PoseControlNetApply",
            display_name="Pose ControlNet Apply (Inpaint)",
            category=_CATEGORY,
            description="Applies an OpenPose ControlNet with the rendered pose as its hint and, optionally, SD1.5's "
            "inpaint ControlNet with the image whose masked pixels are -1. Works with plain and 9-channel inpaint "
            "checkpoints (put InpaintModelConditioning before or after).",
            inputs=[
                io.Conditioning.Input("positive"),
                io.Conditioning.Input("negative"),
                io.ControlNet.Input("control_net", tooltip="An OpenPose ControlNet (ControlNetLoader)."),
                io.Image.Input("pose_image", tooltip="The pose drawn by Pose Render, on the image's canvas."),
                io.Float.Input("strength", default=1.0, min=0.0, max=10.0, step=0.01),
                io.Float.Input("start_percent", default=0.0, min=0.0, max=1.0, step=0.001),
                io.Float.Input("end_percent", default=1.0, min=0.0, max=1.0, step=0.001),
                io.ControlNet.Input(
                    "inpaint_control_net", optional=True, tooltip="e.g. control_v11p_sd15_inpaint."
                ),
                io.Image.Input(
                    "image", optional=True, tooltip="The image to inpaint (for the inpaint ControlNet)."
                ),
                io.Mask.Input("mask", optional=True, tooltip="1 = generate (for the inpaint ControlNet)."),
                io.Float.Input("inpaint_strength", default=1.0, min=0.0, max=10.0, step=0.01, optional=True),
                io.Vae.Input(
                    "vae",
                    optional=True,
                    tooltip="Needed by ControlNets that take latent hints (not SD1.5's).",
                ),
            ],
            outputs=[
                io.Conditioning.Output(display_name="positive"),
                io.Conditioning.Output(display_name="negative"),
            ],
        )

    @classmethod
    def execute(
        cls,
        positive,
        negative,
        control_net,
        pose_image,
        strength,
        start_percent,
        end_percent,
        inpaint_control_net=None,
        image=None,
        mask=None,
        inpaint_strength=1.0,
        vae=None,
    ) -> io.NodeOutput:
        return io.NodeOutput(
            *apply_pose_controlnets(
                positive,
                negative,
                control_net,
                pose_image,
                strength,
                start_percent,
                end_percent,
                inpaint_control_net,
                image,
                mask,
                inpaint_strength,
                vae,
            )
        )


NODES = [PoseControlNetApply, InpaintControlNetPreprocessor]

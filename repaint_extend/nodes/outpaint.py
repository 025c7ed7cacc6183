"""Outpainting nodes: Outpaint (Tiled) samples the unknown area tile by tile at the model's native size,
outward from the known pixels; Outpaint Composite puts the known pixels back bit-exact, optionally after
matching the generated colours to the known band. The tiling is ``outpaint/`` (pure torch); the
per-tile sampling is ``adapters/outpaint.py``. Node IDs and inputs are frozen.
"""

from __future__ import annotations

import comfy.samplers
from comfy_api.latest import io

from ..adapters.outpaint import outpaint_tiled
from ..outpaint import composite_known, match_color_to_known, to_uint8
from ..outpaint.settings import DEFAULTS as D
from ..outpaint.settings import MODES, OutpaintSettings
from .caption import BlipModelType

_CATEGORY = "image/outpaint"


class OutpaintTiled(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="OutpaintTiled",
            display_name="Outpaint (Tiled)",
            category=_CATEGORY,
            description="Fills the masked area of an image of any size with windows of the model's native size "
            "(with overlap). mode joint: one sampling run over the canvas, the model called on every window and the "
            "predictions blended with Gaussian weights (no seams); coarse: the whole canvas at the model's size "
            "first, then refined jointly; sequential: tile by tile outward from the known pixels, seams feathered. "
            "RePaint by default (any SAMPLER); the pose hint is cropped to each window when a ControlNet is given. "
            "Known pixels stay bit-exact. Optionally each tile gets its "
            "own prompt (a line of tile_prompt, and/or a BLIP caption of the tile's known and generated pixels), "
            "added to the positive prompt.",
            inputs=[
                io.Model.Input("model"),
                io.Vae.Input("vae"),
                io.Conditioning.Input("positive"),
                io.Conditioning.Input("negative"),
                io.Image.Input("image", tooltip="The padded photo."),
                io.Mask.Input("mask", tooltip="1 = generate (e.g. from Pose Pad Image/Mask/Pose)."),
                io.Int.Input(
                    "seed", default=D.seed, min=0, max=0xFFFFFFFFFFFFFFFF, control_after_generate=True
                ),
                io.Int.Input("steps", default=D.steps, min=1, max=10000),
                io.Float.Input("cfg", default=D.cfg, min=0.0, max=100.0, step=0.1, round=0.01),
                io.Combo.Input("scheduler", options=comfy.samplers.SCHEDULER_NAMES, default=D.scheduler),
                io.Int.Input(
                    "tile_width",
                    default=D.tile_width,
                    min=16,
                    max=4096,
                    step=8,
                    tooltip="The model's native width.",
                ),
                io.Int.Input("tile_height", default=D.tile_height, min=16, max=4096, step=8),
                io.Int.Input("overlap", default=D.overlap, min=8, max=1024, step=8),
                io.Int.Input(
                    "feather",
                    default=D.feather,
                    min=0,
                    max=1024,
                    tooltip="sequential mode: px of each tile's ramp into the tiles before it (regenerated in part); "
                    "at most overlap.",
                ),
                io.Sampler.Input("sampler", optional=True, tooltip="Default: RePaint Sampler (10, 10)."),
                io.ControlNet.Input("control_net", optional=True, tooltip="e.g. an OpenPose ControlNet."),
                io.Image.Input(
                    "control_image", optional=True, tooltip="The pose hint on the image's canvas."
                ),
                io.Float.Input(
                    "control_strength",
                    default=D.control_strength,
                    min=0.0,
                    max=10.0,
                    step=0.01,
                    optional=True,
                ),
                io.Float.Input(
                    "control_start", default=D.control_start, min=0.0, max=1.0, step=0.001, optional=True
                ),
                io.Float.Input(
                    "control_end", default=D.control_end, min=0.0, max=1.0, step=0.001, optional=True
                ),
                io.Clip.Input("clip", optional=True, tooltip="Encodes the per-tile prompts."),
                io.String.Input(
                    "tile_prompt",
                    default=D.tile_prompt,
                    multiline=True,
                    dynamic_prompts=False,  # the front end would turn {caption} into "caption"
                    optional=True,
                    tooltip="One line per tile in sampling order, the last line repeats; {caption} = the BLIP "
                    "caption of the tile's known and generated pixels. Added to the positive prompt. Empty "
                    "with a caption_model: {caption}.",
                ),
                BlipModelType.Input(
                    "caption_model", optional=True, tooltip="Load BLIP (captioning), for {caption}."
                ),
                io.Combo.Input(
                    "mode",
                    options=list(MODES),
                    default=D.mode,
                    optional=True,
                    tooltip="sequential: tile after tile (feather blends them); joint: one sampling run, the model "
                    "called per window and the predictions blended (no seams); coarse: the whole canvas at the "
                    "model's size first, then refined jointly (a figure spanning many tiles); auto: coarse above "
                    "2 tiles per side, else joint.",
                ),
                io.Sigmas.Input(
                    "sigmas",
                    optional=True,
                    tooltip="A schedule that replaces steps and scheduler, e.g. Power Scheduler (RePaint) with "
                    "Langevin Inpaint Sampler. The coarse mode's refinement keeps its steps from where denoise 0.6 would start.",
                ),
            ],
            outputs=[
                io.Image.Output(display_name="image"),
                io.Int.Output(display_name="tiles"),
                io.Int.Output(display_name="nfe"),
                io.String.Output(display_name="prompts", tooltip="Each tile's prompt, one line per tile."),
            ],
        )

    @classmethod
    def execute(
        cls,
        model,
        vae,
        positive,
        negative,
        image,
        mask,
        sampler=None,
        control_net=None,
        control_image=None,
        clip=None,
        caption_model=None,
        sigmas=None,
        **settings,
    ) -> io.NodeOutput:
        """The objects go as they are; every widget goes into one :class:`OutpaintSettings` (checked once)."""
        image_out, tiles, nfe, prompts = outpaint_tiled(
            model,
            vae,
            positive,
            negative,
            image,
            mask,
            OutpaintSettings(**settings),
            sampler=sampler,
            control_net=control_net,
            control_image=control_image,
            clip=clip,
            caption_model=caption_model,
            sigmas=sigmas,
        )
        return io.NodeOutput(image_out, tiles, nfe, prompts)


class OutpaintComposite(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="OutpaintComposite",
            display_name="Outpaint Composite (exact known pixels)",
            category=_CATEGORY,
            description="Final composite in pixel space: the generated image, quantised to 8 bits, with every known "
            "pixel (mask 0) copied from the original, so a saved PNG keeps them bit-identical. Optionally matches "
            "the generated colours to a band of known pixels first (Reinhard et al. 2001).",
            inputs=[
                io.Image.Input("original"),
                io.Image.Input("generated"),
                io.Mask.Input("mask", tooltip="1 = generated, 0 = known."),
                io.Int.Input(
                    "color_match_band",
                    default=0,
                    min=0,
                    max=1024,
                    tooltip="px of known pixels to match colours to; 0 = off.",
                ),
            ],
            outputs=[io.Image.Output(display_name="image")],
        )

    @classmethod
    def execute(cls, original, generated, mask, color_match_band) -> io.NodeOutput:
        if color_match_band > 0:
            generated = match_color_to_known(generated, mask, band=color_match_band)
        exact = composite_known(to_uint8(original), generated, mask)
        return io.NodeOutput(exact.float() / 255.0)


NODES = [OutpaintTiled, OutpaintComposite]

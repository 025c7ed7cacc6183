"""Captioning nodes (optional automatic prompts): Load BLIP reads a BLIP captioning model (Li et al. 2022)
from ``ComfyUI/models/blip/<name>/``; Caption Image (BLIP) captions each image of a batch. Outpaint (Tiled)
takes the same BLIP_MODEL for per-tile prompts.

Thin wrappers over ``caption/`` (host-independent) and ``adapters/caption.py``. Node IDs and inputs are frozen.
"""

from __future__ import annotations

import comfy.model_management
import comfy.utils
from comfy_api.latest import io

from ..adapters.caption import blip_model_folder, blip_model_names, load_blip_model

_CATEGORY = "image/caption"
BlipModelType = io.Custom("BLIP_MODEL")


class CaptionLoadBLIP(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="CaptionLoadBLIP",
            display_name="Load BLIP (captioning)",
            category="loaders",
            description="Loads a BLIP captioning model (transformers' BlipForConditionalGeneration, e.g. "
            "Salesforce/blip-image-captioning-base) from its folder in ComfyUI/models/blip/. Nothing is downloaded: "
            "put the model's files (config.json, model.safetensors, preprocessor_config.json, tokenizer files) in "
            "ComfyUI/models/blip/<name>/.",
            inputs=[
                io.Combo.Input(
                    "model_name",
                    options=blip_model_names() or [""],
                    tooltip="A sub-folder of ComfyUI/models/blip/.",
                ),
            ],
            outputs=[BlipModelType.Output(display_name="blip_model")],
        )

    @classmethod
    def validate_inputs(cls, model_name) -> bool | str:
        """Before anything runs: a model folder that is not there is named with where it belongs."""
        try:
            blip_model_folder(model_name)
        except (FileNotFoundError, ValueError) as error:
            return str(error).removeprefix("model_name: ")
        return True

    @classmethod
    def execute(cls, model_name) -> io.NodeOutput:
        return io.NodeOutput(load_blip_model(model_name))


class CaptionImageBLIP(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="CaptionImageBLIP",
            display_name="Caption Image (BLIP)",
            category=_CATEGORY,
            description="One caption per image of the batch (one line each), deterministic (beam search). With a "
            "prefix the caption continues it (conditional captioning). With a mask, only the bounding box of the "
            "known pixels (mask < 0.5) is captioned, e.g. the photo without its padding.",
            inputs=[
                BlipModelType.Input("blip_model"),
                io.Image.Input("image"),
                io.String.Input("prefix", default="", tooltip='e.g. "a photo of"; empty: none.'),
                io.Int.Input(
                    "max_new_tokens", default=20, min=1, max=256, tooltip="Longest caption, in tokens."
                ),
                io.Int.Input("num_beams", default=3, min=1, max=16, tooltip="1 = greedy."),
                io.Mask.Input("mask", optional=True, tooltip="1 = unknown; the known part is captioned."),
            ],
            outputs=[io.String.Output(display_name="captions")],
        )

    @classmethod
    def execute(cls, blip_model, image, prefix, max_new_tokens, num_beams, mask=None) -> io.NodeOutput:
        pbar = comfy.utils.ProgressBar(image.shape[0])

        def progress(done, total):
            pbar.update_absolute(done, total)
            comfy.model_management.throw_exception_if_processing_interrupted()

        captions = blip_model.caption(
            image,
            prompt=prefix,
            mask=mask,
            max_new_tokens=max_new_tokens,
            num_beams=num_beams,
            progress=progress,
        )
        return io.NodeOutput("\n".join(captions))


NODES = [CaptionLoadBLIP, CaptionImageBLIP]

"""Pixel-space model nodes: Load ADM Pixel Model (guided-diffusion / RePaint checkpoints, and the demo
models embedded in the pack) -> MODEL, VAE (identity) and an empty CONDITIONING.

Node IDs and input names are frozen (saved workflows refer to them); see tests/node_schema.json.
"""

from __future__ import annotations

import os

import folder_paths
from comfy_api.latest import io

from ..adapters.pixel import IdentityVAE, empty_conditioning, load_adm_model
from ..checks import missing_model_message
from ..pixel import RANDOM_CLASS

FOLDER = "pixel_diffusion"
"""ComfyUI models folder of pixel-space checkpoints: ``ComfyUI/models/pixel_diffusion/``."""

_WEIGHTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pixel", "weights")
EMBEDDED = {
    "[embedded] photos 64x64": os.path.join(_WEIGHTS, "photos64_ddpm.safetensors"),
    "[embedded] digits 16x16": os.path.join(_WEIGHTS, "digits_ddpm.safetensors"),
}
"""Demo models shipped with the pack (pixel/weights), listed before the user's checkpoints."""

if FOLDER not in folder_paths.folder_names_and_paths:
    folder_paths.add_model_folder_path(FOLDER, os.path.join(folder_paths.models_dir, FOLDER))


class LoadADMPixelModel(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="LoadADMPixelModel",
            display_name="Load ADM Pixel Model",
            category="loaders",
            description="Loads a pixel-space guided-diffusion / RePaint checkpoint (.pt or .safetensors, e.g. "
            "celeba256_250000.pt, places256_300000.pt, 256x256_diffusion.pt, 256x256_diffusion_uncond.pt) from "
            "ComfyUI/models/pixel_diffusion/, or a demo model embedded in the pack. Outputs the MODEL, an identity "
            "VAE (latents are the image in [-1, 1]) and an empty CONDITIONING for the sampler's prompts.",
            inputs=[
                io.Combo.Input("ckpt_name", options=[*EMBEDDED, *folder_paths.get_filename_list(FOLDER)]),
                io.Int.Input(
                    "num_head_channels",
                    default=64,
                    min=-1,
                    max=1024,
                    tooltip="Only for checkpoints "
                    "without a stored config (guided-diffusion .pt): 64 for the published 256 px models; -1 to use "
                    "num_heads. The weights cannot tell the head width: the value set here is used for any file "
                    "(a warning is logged when it differs from the published model whose layout the file has).",
                ),
                io.Int.Input(
                    "num_heads", default=4, min=1, max=64, tooltip="Used when num_head_channels is -1."
                ),
                io.Int.Input(
                    "class_label",
                    default=RANDOM_CLASS,
                    min=RANDOM_CLASS,
                    max=999,
                    tooltip="Class-conditional models only (ImageNet 256x256_diffusion.pt): the ImageNet class of "
                    "every image, or -1 for a random class per image drawn from the sampler's seed, as RePaint "
                    "does. Ignored by unconditional models.",
                    optional=True,
                ),
            ],
            outputs=[io.Model.Output(), io.Vae.Output(), io.Conditioning.Output()],
        )

    @classmethod
    def validate_inputs(cls, ckpt_name) -> bool | str:
        """Before anything runs: a file that is not there is named with the folder it belongs in."""
        if ckpt_name in EMBEDDED or folder_paths.get_full_path(FOLDER, ckpt_name or ""):
            return True
        return missing_model_message(
            ckpt_name,
            folder_paths.get_folder_paths(FOLDER),
            "put a guided-diffusion / RePaint checkpoint there (e.g. celeba256_250000.pt, places256_300000.pt, "
            "256x256_diffusion.pt from RePaint's download script) or pick '[embedded] photos 64x64', the demo "
            "model that needs no download",
        )

    @classmethod
    def execute(cls, ckpt_name, num_head_channels, num_heads, class_label=RANDOM_CLASS) -> io.NodeOutput:
        path = EMBEDDED.get(ckpt_name) or folder_paths.get_full_path(FOLDER, ckpt_name)
        if path is None or not os.path.isfile(path):
            raise FileNotFoundError(
                f"ckpt_name: {ckpt_name!r} not found; put pixel-space checkpoints in "
                f"{os.path.join(folder_paths.models_dir, FOLDER)}"
            )
        model = load_adm_model(path, num_head_channels, num_heads, class_label)
        return io.NodeOutput(model, IdentityVAE(), empty_conditioning())


NODES = [LoadADMPixelModel]

"""latent-diffusion inpainting nodes: Load LDM Inpainting Checkpoint (CompVis ``inpainting_big``
``last.ckpt`` -> MODEL, VAE) and LDM Inpaint Conditioning (the model's concat conditioning and a LATENT
with its noise_mask), for any sampler, RePaint's included.

Node IDs and input names are frozen (saved workflows refer to them); see tests/node_schema.json.
"""

from __future__ import annotations

import os

import folder_paths
from comfy_api.latest import io

from ..adapters.ldm import MULTIPLE, ldm_inpaint_conditioning, load_ldm_inpaint
from ..checks import missing_model_message

FOLDER = "ldm_inpainting"
"""ComfyUI models folder of latent-diffusion inpainting checkpoints: ``ComfyUI/models/ldm_inpainting/``."""

if FOLDER not in folder_paths.folder_names_and_paths:
    folder_paths.add_model_folder_path(FOLDER, os.path.join(folder_paths.models_dir, FOLDER))


class LoadLDMInpaintCheckpoint(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="LoadLDMInpaintCheckpoint",
            display_name="Load LDM Inpainting Checkpoint",
            category="loaders",
            description="Loads CompVis latent-diffusion's inpainting model (models/ldm/inpainting_big/last.ckpt, or a "
            "safetensors file of its state_dict) from ComfyUI/models/ldm_inpainting/: the UNet (EMA weights when the "
            "file has them) as a MODEL and the VQ-f4 first stage as a VAE. Use it with LDM Inpaint Conditioning.",
            inputs=[io.Combo.Input("ckpt_name", options=folder_paths.get_filename_list(FOLDER))],
            outputs=[
                io.Model.Output(),
                io.Vae.Output(),
                io.String.Output("weights", tooltip="Which UNet weights were loaded (EMA or not) and why."),
            ],
        )

    @classmethod
    def validate_inputs(cls, ckpt_name) -> bool | str:
        """Before anything runs: a file that is not there is named with the folder it belongs in."""
        if folder_paths.get_full_path(FOLDER, ckpt_name or ""):
            return True
        return missing_model_message(
            ckpt_name,
            folder_paths.get_folder_paths(FOLDER),
            "put latent-diffusion's inpainting_big checkpoint there as last.ckpt (CompVis/latent-diffusion, "
            "models/ldm/inpainting_big/last.ckpt)",
        )

    @classmethod
    def execute(cls, ckpt_name) -> io.NodeOutput:
        path = folder_paths.get_full_path(FOLDER, ckpt_name)
        if path is None or not os.path.isfile(path):
            raise FileNotFoundError(
                f"ckpt_name: {ckpt_name!r} not found; put latent-diffusion's inpainting_big last.ckpt in "
                f"{os.path.join(folder_paths.models_dir, FOLDER)}"
            )
        try:
            model, vae, note = load_ldm_inpaint(path)
        except ValueError as e:
            raise ValueError(f"ckpt_name: {ckpt_name!r}: {e}") from e
        return io.NodeOutput(model, vae, note)


class LDMInpaintConditioning(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="LDMInpaintConditioning",
            display_name="LDM Inpaint Conditioning",
            category="conditioning/inpaint",
            description="The conditioning of latent-diffusion's inpainting model, as its scripts/inpaint.py builds it: "
            "mask thresholded at 0.5, holes of the image set to -1, the masked image encoded by the VQ-f4 encoder "
            "(not quantised), the mask as -1/+1 resized by nearest neighbour. Outputs it as positive and negative "
            "(cfg 1: the model has no unconditional mode), the masked image's LATENT (zero in the hole: what was "
            "there never reaches the output) with a noise_mask, so that any sampler keeps the known region, and the "
            "thresholded mask: paste the known pixels back after decoding with that mask for bit-exact pixels.",
            inputs=[
                io.Vae.Input("vae", tooltip="The VAE of Load LDM Inpainting Checkpoint."),
                io.Image.Input(
                    "pixels", tooltip=f"Sides multiples of {MULTIPLE} px (512x512 for inpainting_big)."
                ),
                io.Mask.Input("mask", tooltip="1 = fill; thresholded at 0.5."),
            ],
            outputs=[
                io.Conditioning.Output("positive"),
                io.Conditioning.Output("negative"),
                io.Latent.Output("latent"),
                io.Mask.Output(
                    "thresholded_mask",
                    display_name="mask (0/1)",
                    tooltip="The mask thresholded at 0.5 (1 = filled), the one the model was conditioned on: "
                    "composite the decoded image with it.",
                ),
            ],
        )

    @classmethod
    def execute(cls, vae, pixels, mask) -> io.NodeOutput:
        conditioning, latent, binary = ldm_inpaint_conditioning(vae, pixels, mask)
        return io.NodeOutput(conditioning, conditioning, latent, binary)


NODES = [LoadLDMInpaintCheckpoint, LDMInpaintConditioning]

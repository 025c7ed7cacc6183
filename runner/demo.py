"""Demo mode: a workflow that needs a Stable Diffusion checkpoint, rewired to run on the pack's embedded
pixel-space demo model (no ControlNet, tiles of the model's size, about 20 model calls a window)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
from PIL import Image

from . import intake

DEMO_MODELS = (  # (ckpt_name in Load ADM Pixel Model, native size px), best first
    ("[embedded] photos 64x64", 64),
    ("[embedded] digits 16x16", 16),
)


DEMO_SAMPLING = {"steps": 12, "jump_length": 4, "jump_n_sample": 2, "cfg": 1.0, "corrector_steps": 2}
"""Demo-mode sampling, set on every node with such a widget: about 20 model calls a tile or window. RePaint
(12 steps, jump_length 4, jump_n_sample 2): 20; Langevin Inpaint Sampler with 2 corrector steps on
:data:`DEMO_SCHEDULE_STEPS` levels: 19 (at 20 model calls 2 corrector steps beat 0, 1, 4 and 8, and
RePaint, on the exact-Gaussian benchmark: bench/bench_conditional.py --budgets 20)."""


DEMO_SCHEDULE_STEPS = {"RePaintPowerScheduler": 7}
"""Steps of the schedulers that set a sampler's levels, in demo mode (instead of ``steps`` above)."""
DEMO_POWER = {"RePaintPowerScheduler": 2.5}
"""Their power in demo mode: at about 20 model calls the family benchmark's worst case is lower at 2.5
than at the shipped 3.0 (215 % vs 295 % of the conditional's spread; ``bench/results/family_tune.log``)."""


DEMO_MAX_SIDE = 512
"""Demo mode's working size, px on the longer side: a 12-MP photo would otherwise take ~2,300 64-px tiles
of the embedded demo model. Larger photos are scaled down first (and the report says so)."""


def _relink_to_demo(inputs: dict, loaders: list[str], encoders: set[str], controls: set[str]) -> None:
    """Point one node's links at the demo loader: text conditionings become its empty CONDITIONING
    (slot 2), its MODEL stays slot 0 and its VAE moves from slot 2 to 1; ControlNet links are dropped."""
    for name, value in list(inputs.items()):
        if not isinstance(value, list):
            continue
        if value[0] in encoders:
            inputs[name] = [loaders[0], 2]
        elif value[0] in loaders:
            inputs[name] = [value[0], {0: 0, 2: 1}[value[1]]]
        elif value[0] in controls:
            del inputs[name]


def _demo_settings(class_type: str, inputs: dict, tile: int) -> None:
    """Demo-model settings of one node: Outpaint (Tiled) without per-tile prompts or ControlNet, tiles of
    the model's size; Pose Pad to half a tile; :data:`DEMO_SAMPLING` where a node has those widgets and
    :data:`DEMO_SCHEDULE_STEPS` and :data:`DEMO_POWER` on schedulers."""
    if class_type == "OutpaintTiled":  # no CLIP and no ControlNet in demo mode
        for name in ("clip", "tile_prompt", "caption_model", "control_image", "control_strength"):
            inputs.pop(name, None)
        for name in ("control_start", "control_end"):
            inputs.pop(name, None)
        inputs.update(tile_width=tile, tile_height=tile, overlap=max(8, tile // 4), feather=max(0, tile // 8))
    if class_type == "PosePadImageMaskPose":
        inputs["multiple"] = tile // 2
    for name, value in DEMO_SAMPLING.items():
        if name in inputs and not isinstance(inputs[name], list):
            inputs[name] = value
    if class_type in DEMO_SCHEDULE_STEPS:
        inputs["steps"] = DEMO_SCHEDULE_STEPS[class_type]
        inputs["power"] = DEMO_POWER[class_type]


def use_demo_model(prompt: dict, ckpt_name: str, tile: int) -> dict:
    """Rewrite an API graph that loads a Stable Diffusion checkpoint to run on a pixel-space demo model:
    CheckpointLoaderSimple becomes Load ADM Pixel Model (MODEL, identity VAE, empty CONDITIONING), text
    prompts become that empty conditioning, Outpaint (Tiled)'s per-tile prompts and ControlNets are dropped,
    tiles take the model's size. Returns a new prompt (``prompt`` is not modified)."""
    prompt = json.loads(json.dumps(prompt))
    loaders = [k for k, n in prompt.items() if n["class_type"] == "CheckpointLoaderSimple"]
    encoders = {k for k, n in prompt.items() if n["class_type"] == "CLIPTextEncode"}
    controls = {k for k, n in prompt.items() if n["class_type"] == "ControlNetLoader"}
    for key in loaders:
        prompt[key] = {
            "class_type": "LoadADMPixelModel",
            "inputs": {"ckpt_name": ckpt_name, "num_head_channels": 64, "num_heads": 4},
        }
    for key in encoders | controls:
        del prompt[key]
    for node in prompt.values():
        _demo_settings(node["class_type"], node["inputs"], tile)  # first: drops the CLIP link
        _relink_to_demo(node["inputs"], loaders, encoders, controls)
    return prompt


def demo_working_photo(photo: intake.Photo) -> intake.Photo:
    """``photo``, or in demo mode a copy scaled (Lanczos) to at most :data:`DEMO_MAX_SIDE` px on its longer
    side, with a printed note; the report then compares known pixels against this working copy and gives
    its size as ``working_size``."""
    width, height = photo.size
    if max(width, height) <= DEMO_MAX_SIDE:
        return photo
    scale = DEMO_MAX_SIDE / max(width, height)
    size = (max(8, round(width * scale)), max(8, round(height * scale)))
    print(
        f"NOTE: demo mode works at most {DEMO_MAX_SIDE} px on a side: the photo ({width}x{height}) is "
        f"scaled to {size[0]}x{size[1]} first; known pixels are those of the scaled copy."
    )
    rgb = np.asarray(Image.fromarray(photo.rgb).resize(size, Image.LANCZOS))
    alpha = (
        None if photo.alpha is None else np.asarray(Image.fromarray(photo.alpha).resize(size, Image.LANCZOS))
    )
    return dataclasses.replace(photo, rgb=rgb, alpha=alpha)

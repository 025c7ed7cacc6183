"""ComfyUI glue for BLIP captioning: the ``blip`` models folder, loading on ComfyUI's devices, and moving
the model to the GPU only while it captions (as ComfyUI's upscale-model node does).

The captioning itself is ``caption/`` (host-independent).
"""

from __future__ import annotations

import os

import comfy.model_management
import folder_paths
import torch

from ..caption import INSTALL_HINT, BlipCaptioner, caption_images, check_blip_folder, load_blip
from ..checks import confined_path
from .cache import cache_one

FOLDER = "blip"
"""ComfyUI models folder of BLIP captioning models, one sub-folder each: ``ComfyUI/models/blip/<name>/``."""

if FOLDER not in folder_paths.folder_names_and_paths:
    folder_paths.add_model_folder_path(FOLDER, os.path.join(folder_paths.models_dir, FOLDER))

_CACHE: dict = {}


def blip_model_names() -> list[str]:
    """The sub-folders of every registered ``blip`` models folder, sorted, each name once."""
    names = set()
    for base in folder_paths.get_folder_paths(FOLDER):
        if os.path.isdir(base):
            names.update(n for n in os.listdir(base) if os.path.isdir(os.path.join(base, n)))
    return sorted(names)


def blip_model_folder(name: str) -> str:
    """The folder of the BLIP model ``name`` (a sub-folder of a ``blip`` models folder).

    Raises:
        FileNotFoundError: no such sub-folder; the message names the folders searched and what to put there.
        ValueError: ``name`` points outside the models folder.
    """
    bases = folder_paths.get_folder_paths(FOLDER)
    for base in bases if name else ():
        path = confined_path(base, name, "model_name", FOLDER)
        if os.path.isdir(path):
            return path
    raise FileNotFoundError(
        f"model_name: no BLIP model folder {name or '<name>'!r} in ComfyUI's {FOLDER} models folder "
        f"({', '.join(bases)}). {INSTALL_HINT}."
    )


class BlipModel:
    """What a ``BLIP_MODEL`` carries: a :class:`caption.BlipCaptioner` kept on ComfyUI's offload device and
    moved to the compute device only while it captions."""

    def __init__(self, captioner: BlipCaptioner, load_device: torch.device, offload_device: torch.device):
        self.captioner = captioner
        self.load_device = load_device
        self.offload_device = offload_device

    def caption(self, images: torch.Tensor, **kwargs) -> list[str]:
        """:func:`caption.caption_images` on the compute device; same arguments, returns and errors."""
        model = self.captioner.model
        if self.load_device != self.offload_device:
            size = comfy.model_management.module_size(model)
            comfy.model_management.free_memory(size * 1.5, self.load_device)
        model.to(self.load_device)
        try:
            return caption_images(self.captioner, images, **kwargs)
        finally:
            model.to(self.offload_device)


def load_blip_model(name: str) -> BlipModel:
    """Load (or reuse) the BLIP model in ``ComfyUI/models/blip/<name>/``: float16 where the compute device
    supports it, float32 on the CPU. One model is kept (:func:`adapters.cache.cache_one`), while its files are
    unchanged.

    Raises:
        FileNotFoundError / ValueError: see :func:`blip_model_folder` and :func:`caption.check_blip_folder`.
    """
    path = check_blip_folder(blip_model_folder(name))
    stamp = tuple(
        os.path.getmtime(os.path.join(path, f)) for f in sorted(os.listdir(path)) if not f.startswith(".")
    )

    def build() -> BlipModel:
        load_device = comfy.model_management.get_torch_device()
        offload_device = comfy.model_management.unet_offload_device()
        use_fp16 = load_device.type != "cpu" and comfy.model_management.should_use_fp16(load_device)
        captioner = load_blip(path, device=offload_device, dtype=torch.float16 if use_fp16 else torch.float32)
        return BlipModel(captioner, load_device, offload_device)

    return cache_one(_CACHE, (path, stamp), build)

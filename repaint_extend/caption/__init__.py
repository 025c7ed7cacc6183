"""Host-independent image captioning core (torch + transformers; never imports ComfyUI).

BLIP (Li et al. 2022), the captioning model, loaded from a local folder with ``transformers``: used
for automatic prompts, e.g. one per outpainting tile from its known and already generated pixels.

Conventions: images ``[B, H, W, C]`` float in [0, 1] (ComfyUI IMAGE); masks ``[B, H, W]`` or
``[H, W]`` (ComfyUI MASK), 1 = unknown, 0 = known.

Public API::

    captioner = load_blip("ComfyUI/models/blip/blip-image-captioning-base")   # local files only
    captions = caption_images(captioner, images, prompt="a photo of", mask=None)  # list[str], one per image
"""

from .blip import (
    EXAMPLE_MODEL,
    INSTALL_HINT,
    REQUIRED_FILES,
    BlipCaptioner,
    caption_images,
    check_blip_folder,
    load_blip,
)

__all__ = [
    "EXAMPLE_MODEL",
    "INSTALL_HINT",
    "REQUIRED_FILES",
    "BlipCaptioner",
    "caption_images",
    "check_blip_folder",
    "load_blip",
]

"""ControlNet hints for inpainting and outpainting (pure torch)."""

from __future__ import annotations

import torch

from ..checks import check_image, check_mask

__all__ = ["inpaint_control_hint"]


def inpaint_control_hint(image: torch.Tensor, mask: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """The hint of SD1.5's inpaint ControlNet (``control_v11p_sd15_inpaint``): the image with every
    masked pixel set to -1, the value that ControlNet 1.1's "inpaint" preprocessor writes there
    (lllyasviel, ControlNet v1.1 release notes, section "ControlNet 1.1 Inpaint").

    Args:
        image: ``[B, H, W, C]`` float in [0, 1] (ComfyUI IMAGE).
        mask: ``[H, W]`` or ``[B, H, W]``, 1 = to generate; pixels with ``mask > threshold`` become -1.
        threshold: in [0, 1).

    Returns:
        A new ``[B, H, W, C]`` tensor: known pixels as in ``image``, masked pixels -1.

    Raises:
        ValueError: bad shapes (a mask of another size than the image) or threshold.
    """
    check_image(image, "image")
    m = check_mask(mask, image, "mask")
    if not 0.0 <= threshold < 1.0:
        raise ValueError(f"threshold must be in [0, 1), got {threshold}")
    return torch.where((m > threshold)[..., None], torch.full_like(image, -1.0), image)

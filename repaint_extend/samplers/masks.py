"""RePaint's mask presets and checks of a sampling mask (pure torch + PIL drawing).

Convention: as ComfyUI's MASK and ``noise_mask``, a value of 1 marks a pixel to generate (unknown)
and 0 a pixel to keep (known). RePaint's paper writes m for the known region, i.e. ``1 - mask``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image, ImageDraw

from ..checks import check_int

__all__ = ["MASK_PRESETS", "repaint_mask", "check_noise_mask"]

MASK_PRESETS = ("thin", "thick", "every_second_line", "super_resolve_2x", "expand", "half")
"""The mask kinds of RePaint's evaluation (Lugmayr et al., CVPR 2022, section 5, Fig. 5 and Table 1):
LaMa's narrow ("thin") and wide ("thick") free-form masks, alternating lines, super-resolution 2x,
expand (only the centre is known) and half (the left half is unknown)."""


def _strokes(height: int, width: int, rng: np.random.Generator, thick: bool) -> np.ndarray:
    """Random free-form strokes in the manner of LaMa's mask generator (Suvorov et al., WACV 2022,
    section 3.3 "Masks generation"): polylines of random vertices and widths; the wide setting adds
    boxes. Widths are fractions of the shorter side: thin 2-6 %, thick 8-18 %."""
    side = min(height, width)
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    lo, hi = (0.08, 0.18) if thick else (0.02, 0.06)
    for _ in range(int(rng.integers(2, 6))):
        x, y = float(rng.uniform(0, width)), float(rng.uniform(0, height))
        stroke = max(1, int(rng.uniform(lo, hi) * side))
        points = [(x, y)]
        for _ in range(int(rng.integers(3, 9))):
            angle = rng.uniform(0, 2 * math.pi)
            length = rng.uniform(0.1, 0.35) * side
            x = float(np.clip(x + length * math.cos(angle), 0, width - 1))
            y = float(np.clip(y + length * math.sin(angle), 0, height - 1))
            points.append((x, y))
        draw.line(points, fill=255, width=stroke, joint="curve")
        for px, py in points:
            r = stroke / 2
            draw.ellipse((px - r, py - r, px + r, py + r), fill=255)
    if thick:
        for _ in range(int(rng.integers(0, 3))):
            w, h = rng.uniform(0.1, 0.4) * width, rng.uniform(0.1, 0.4) * height
            x0, y0 = rng.uniform(0, width - w), rng.uniform(0, height - h)
            draw.rectangle((x0, y0, x0 + w, y0 + h), fill=255)
    return np.asarray(canvas) > 0


def repaint_mask(preset: str, height: int, width: int, batch_size: int = 1, seed: int = 0) -> torch.Tensor:
    """One of RePaint's mask presets, 1 = generate, 0 = keep.

    Args:
        preset: one of :data:`MASK_PRESETS`.
            ``every_second_line``: odd rows unknown. ``super_resolve_2x``: only pixels with even row and
            even column are known (1 in 4). ``expand``: only the centre half-width x half-height box is
            known. ``half``: the left half is unknown. ``thin`` / ``thick``: random strokes (seeded).
        height, width: size in pixels (>= 2).
        batch_size: number of masks (>= 1); random presets differ per item.
        seed: seed of the random presets.

    Returns:
        float32 ``[batch_size, height, width]`` with values in {0, 1}.

    Raises:
        ValueError: unknown preset, or a size or batch out of range. TypeError: a size or batch that is
        not an int.
    """
    if preset not in MASK_PRESETS:
        raise ValueError(f"preset must be one of {MASK_PRESETS}, got {preset!r}")
    height, width = check_int("height (px)", height, 2), check_int("width (px)", width, 2)
    batch_size = check_int("batch_size", batch_size, 1)
    mask = torch.zeros(batch_size, height, width)
    if preset == "every_second_line":
        mask[:, 1::2, :] = 1.0
    elif preset == "super_resolve_2x":
        mask[:] = 1.0
        mask[:, 0::2, 0::2] = 0.0
    elif preset == "expand":
        mask[:] = 1.0
        top, left = height // 4, width // 4
        mask[:, top : top + max(1, height // 2), left : left + max(1, width // 2)] = 0.0
    elif preset == "half":
        mask[:, :, : width // 2] = 1.0
    else:
        rng = np.random.default_rng(seed)
        for i in range(batch_size):
            strokes = _strokes(height, width, rng, thick=preset == "thick")
            if not strokes.any():  # a degenerate draw still has to mask something
                strokes[height // 2, width // 2] = True
            mask[i] = torch.from_numpy(strokes.astype(np.float32))
    return mask


def check_noise_mask(
    mask: torch.Tensor | None, latent_shape: tuple[int, ...], name: str = "noise_mask"
) -> None:
    """Check a sampling mask against the latent it applies to; raise a clear error otherwise.

    Args:
        mask: ``[H, W]``, ``[B, H, W]`` or ``[B, 1, H, W]``, values in [0, 1] (1 = generate), in pixel
            or latent resolution; or None.
        latent_shape: ``[B, C, h, w]`` of the latent being sampled.
        name: the input's name, used in messages.

    Raises:
        ValueError: no mask; a batch that is neither 1 nor B; a size that is not the latent's size
            times one integer factor on both axes (the cause: image sizes that are not a multiple of the
            VAE's 8x downscale); an empty mask (nothing to generate); an all-ones mask (nothing known
            for RePaint to condition on).
    """
    if mask is None:
        raise ValueError(
            f"RePaint needs a {name}: give the LATENT a mask with SetLatentNoiseMask, "
            "VAEEncodeForInpaint or InpaintModelConditioning"
        )
    if mask.ndim == 2:
        mask = mask[None]
    if mask.ndim == 4:
        mask = mask[:, 0]
    if mask.ndim != 3:
        raise ValueError(f"{name} must be [B, H, W], got shape {tuple(mask.shape)}")
    batch, (lh, lw) = latent_shape[0], latent_shape[-2:]
    if mask.shape[0] not in (1, batch):
        raise ValueError(
            f"{name} has a batch of {mask.shape[0]} but the latent has {batch}: give one mask, "
            f"or one per latent"
        )
    mh, mw = mask.shape[-2:]
    fh, fw = mh / lh, mw / lw
    if not (fh == fw and fh.is_integer() and fh >= 1):
        raise ValueError(
            f"{name} is {mw}x{mh} pixels but the latent is {lw}x{lh} "
            f"({lw * 8}x{lh * 8} pixels at the usual 8x): the image was cropped when it was encoded. "
            "Use image and mask sizes that are multiples of 8 (crop or pad both the same way)"
        )
    if not bool((mask > 0).any()):
        raise ValueError(f"{name} is empty (all 0): there is nothing to inpaint; paint the area to generate")
    if bool((mask >= 1).all()):
        raise ValueError(
            f"{name} is all 1: no pixel is known, so RePaint has nothing to condition on; "
            "use a plain KSampler, or keep part of the image"
        )

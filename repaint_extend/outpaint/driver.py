"""The tiled outpainting loop: plan, then for each tile crop, sample (a callback), blend back."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..checks import check_image, check_int, check_mask
from .blend import blend_tile, tile_inputs
from .tiles import MAX_SIDE, Tile, plan_tiles

__all__ = ["SampleTile", "outpaint"]

SampleTile = Callable[[torch.Tensor, torch.Tensor, Tile], torch.Tensor]
"""``sample_tile(tile_image [B, h, w, C], tile_noise_mask [B, h, w], tile) -> tile_result [B, h, w, C]``:
samples one tile (float in [0, 1], px). The host encodes, samples with any SAMPLER (RePaint by default)
and ControlNet (crop the pose hint with :func:`crop_to_tile`), decodes, and returns the tile's image."""


def outpaint(
    canvas: torch.Tensor,
    mask: torch.Tensor,
    sample_tile: SampleTile,
    tile: int | Sequence[int] = (512, 512),
    overlap: int = 64,
    feather: int = 32,
    progress: Callable[[int, int, Tile], None] | None = None,
    multiple: int = 8,
    max_side: int = MAX_SIDE,
    plan: Sequence[Tile] | None = None,
) -> torch.Tensor:
    """Fill every unknown pixel of a canvas tile by tile, outward from the known region.

    For each tile of :func:`plan_tiles` (in order): :func:`tile_inputs` crops the current canvas
    (known pixels and pixels generated so far are the context) and builds the noise_mask (> 0 only on
    pixels still unknown); ``sample_tile`` samples it; :func:`blend_tile` writes the result back with
    a ``feather``-px ramp into pixels generated earlier, never over known pixels. Finally, pixels with
    a soft mask value m in (0, 1) become ``canvas * (1 - m) + generated * m``.

    Memory: besides the input and the returned canvas, the loop holds one tile's tensors (its crop,
    noise_mask, weight, result and a tile-sized distance map) and no canvas-sized scratch; the plan's
    own scratch is a 1/``multiple``² block grid. So the sampler's peak memory is set by the tile size.

    Args:
        canvas: ``[B, H, W, C]`` float in [0, 1] (ComfyUI IMAGE), e.g. the padded photo; not modified.
            H, W: multiples of ``multiple``, at most ``max_side`` px.
        mask: ``[H, W]`` or ``[B, H, W]`` (ComfyUI MASK): 0 = known (kept bit-exact), > 0 = generate
            (soft values blend with the canvas). Not modified.
        sample_tile: see :data:`SampleTile`; called once per tile, with copies.
        tile: the model's native size, px (int or ``(h, w)``): 512 for SD1.5, 1024 for SDXL.
        overlap: px shared by neighbouring tiles (and known context around the unknown area).
        feather: px of the seam ramp into already generated pixels, ``0 <= feather <= overlap``.
        progress: ``progress(done, total, tile)`` after each tile (e.g. a host's progress bar).
        multiple: alignment of tiles (8 for SD latents).
        max_side: the largest canvas or tile side accepted, px.
        plan: a plan from :func:`plan_tiles` for this canvas and mask (default: planned here).

    Returns:
        a new ``[B, H, W, C]`` canvas: known pixels bit-identical to ``canvas``, every unknown pixel
        filled. Quantise and composite with :func:`composite_known` for a bit-exact uint8 image.

    Raises:
        ValueError naming the input: see :func:`plan_tiles` (sizes, overlap, nothing to outpaint) and
        :func:`blend_tile` (a result of the wrong size); a feather outside ``[0, overlap]``; a mask of
        another size than the canvas. TypeError naming the input: a feather, tile, overlap or multiple
        that is not an int.
    """
    check_image(canvas, "canvas")
    m = check_mask(mask, canvas, "mask")
    feather = check_int("feather (px, at most the overlap)", feather, 0, overlap)
    if not callable(sample_tile):
        raise ValueError("sample_tile must be a callable (tile_image, tile_noise_mask, tile) -> tile_result")
    H, W = canvas.shape[1:3]
    if plan is None:
        plan = plan_tiles((H, W), m, tile, overlap, multiple, "outward", max_side)
    elif any(t.canvas != (H, W) for t in plan):
        raise ValueError(f"plan was made for another canvas size, not {W}x{H}: plan again with plan_tiles")

    work = canvas.clone()
    plan = list(plan)
    boxes = np.array([t.box for t in plan], dtype=np.int64).reshape(-1, 4)  # y0, x0, y1, x1
    for i, t in enumerate(plan):
        y0, x0, y1, x1 = t.box
        before = boxes[:i]
        near = np.nonzero(
            (before[:, 0] < y1) & (before[:, 2] > y0) & (before[:, 1] < x1) & (before[:, 3] > x0)
        )[0]
        inputs = tile_inputs(work, m, [plan[j] for j in near], t, feather)  # the earlier tiles it overlaps
        result = sample_tile(inputs.image, inputs.noise_mask, t)
        blend_tile(work, result, t, inputs.weight, out=work)
        del inputs, result
        if progress is not None:
            progress(i + 1, len(plan), t)

    # soft mask values: blend the generated layer with the canvas, one tile-sized block at a time
    bh, bw = (plan[0].h, plan[0].w) if plan else (H, W)
    for y in range(0, H, bh):
        for x in range(0, W, bw):
            ms = m[:, y : y + bh, x : x + bw][..., None]
            soft = (ms > 0) & (ms < 1)
            if bool(soft.any()):
                w = work[:, y : y + bh, x : x + bw]
                w.copy_(torch.where(soft, canvas[:, y : y + bh, x : x + bw] * (1 - ms) + w * ms, w))
    return work

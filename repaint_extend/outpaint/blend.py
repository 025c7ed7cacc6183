"""Per-tile context, noise_mask and feathered write-back (torch; scipy for the distance transform).

The canvas holds, at every pixel, the known image where the mask is 0 and the generated layer where
it is > 0 (the pixels generated so far; before that, whatever the padding filled in). A tile is
sampled on its crop of that canvas with a noise_mask that is > 0 only on pixels still to generate;
its result is written back with a weight that is 1 on those pixels and ramps down over ``feather`` px
into the already generated neighbours, and is 0 on known pixels, which are never written.

Shapes: canvas ``[B, H, W, C]`` float in [0, 1] (ComfyUI IMAGE), mask ``[B, H, W]`` or ``[H, W]``
(ComfyUI MASK, > 0 = unknown), tile tensors ``[B, h, w, C]`` / ``[B, h, w]``; all sizes in px.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
from scipy import ndimage

from ..checks import check_image, check_int, check_mask
from .tiles import Tile, crop_to_tile

__all__ = [
    "TileInputs",
    "tile_inputs",
    "feather_weight",
    "distance_to",
    "blend_tile",
]


class TileInputs(NamedTuple):
    """What a tile is sampled on, and how its result is written back (all tile-sized, px).

    image: ``[B, h, w, C]`` float, a copy of the canvas crop: known pixels and pixels generated so far
        are the context; not-yet-generated pixels hold whatever the canvas has there (padding).
    noise_mask: ``[B, h, w]`` float in [0, 1]: the mask's value on pixels still unknown (not known and
        not yet generated); on already generated pixels the feather ramp of ``weight`` (so the tile
        regenerates the seam strip in part); 0 on known pixels and on generated pixels beyond the
        feather (ComfyUI's ``noise_mask``: 1 = generate).
    weight: ``[B, h, w]`` float in [0, 1]: write-back weight for :func:`blend_tile`.
    """

    image: torch.Tensor
    noise_mask: torch.Tensor
    weight: torch.Tensor


def _generated_in_tile(generated, tile: Tile, batch: int, device) -> torch.Tensor:
    """Bool ``[1 or B, h, w]``: pixels of the tile marked generated (before intersecting with unknown)."""
    if isinstance(generated, torch.Tensor):
        g = generated[None] if generated.ndim == 2 else generated
        if g.ndim != 3 or tuple(g.shape[1:]) != tile.canvas or g.shape[0] not in (1, batch):
            raise ValueError(
                f"generated must be a [H, W] or [B, H, W] mask of the canvas size {tile.canvas[1]}x{tile.canvas[0]}, "
                f"got shape {list(generated.shape)}"
            )
        return crop_to_tile(g, tile, "BHW").to(device) > 0
    out = torch.zeros(1, tile.h, tile.w, dtype=torch.bool, device=device)
    for t in generated:  # a sequence of earlier tiles: their rectangles are generated
        if not isinstance(t, Tile):
            raise ValueError(
                f"generated must be a mask tensor or a sequence of Tile, got an item {type(t).__name__}"
            )
        y0, x0 = max(t.y, tile.y), max(t.x, tile.x)
        y1, x1 = min(t.y + t.h, tile.y + tile.h), min(t.x + t.w, tile.x + tile.w)
        if y0 < y1 and x0 < x1:
            out[:, y0 - tile.y : y1 - tile.y, x0 - tile.x : x1 - tile.x] = True
    return out


def distance_to(fresh: torch.Tensor, reach: int) -> torch.Tensor:
    """Euclidean distance (px) from every pixel to the nearest ``True`` pixel of ``fresh``
    (``scipy.ndimage.distance_transform_edt``, exact: the correctly rounded square root of an integer
    squared distance), per ``[h, w]`` slice; a slice with no ``True`` pixel gets ``reach + 1``
    everywhere. Callers read it up to ``reach``: every value above ``reach`` means "out of reach".

    Args:
        fresh: bool ``[..., h, w]`` (any device; the transform runs on the CPU).
        reach: int >= 0, px.
    Returns:
        float32 of ``fresh``'s shape, on its device.
    """
    f = fresh.detach().cpu().numpy().reshape(-1, *fresh.shape[-2:])
    out = np.full(f.shape, float(reach + 1), dtype=np.float32)
    for i, plane in enumerate(f):
        if plane.any():
            out[i] = ndimage.distance_transform_edt(~plane)
    return torch.from_numpy(out.reshape(fresh.shape)).to(fresh.device)


def feather_weight(
    fresh: torch.Tensor,
    generated: torch.Tensor,
    feather: int,
    open_sides: tuple[bool, bool, bool, bool] = (False, False, False, False),
) -> torch.Tensor:
    """Write-back weight of a tile: 1 on fresh pixels, a linear ramp into generated ones, 0 elsewhere.

    On a generated pixel at Euclidean distance d (px) from the nearest fresh pixel the weight is
    ``max(0, 1 - d / (feather + 1))`` (the same ramp as :func:`pose.pad_image_mask`'s ``feather``:
    feather = 3 gives 0.75, 0.5, 0.25), further limited by the same ramp measured from each tile side
    in ``open_sides`` (top, left, bottom, right: sides inside the canvas), so the blend fades out before
    the tile's edge instead of cutting off there. Known pixels (neither fresh nor generated) get 0.
    Distances: :func:`distance_to`, on the generated pixels' bounding box grown by ``feather + 1`` px
    (the seam's size, at most the tile's).

    Args:
        fresh, generated: bool ``[B, h, w]``, disjoint.
        feather: ramp length, px (>= 0; 0 = hard edge at the fresh pixels).
        open_sides: which tile sides lie inside the canvas.

    Returns:
        float32 ``[B, h, w]`` in [0, 1].
    """
    out = fresh.to(torch.float32)
    if feather <= 0 or not bool(generated.any()) or not bool(fresh.any()):
        return out
    _, h, w = fresh.shape
    reach = feather + 1  # beyond this distance the ramp is 0
    # any fresh pixel within `reach` of a generated one lies in the generated bbox grown by `reach`
    rows = torch.nonzero(generated.any(dim=0).any(dim=1))[:, 0]
    cols = torch.nonzero(generated.any(dim=0).any(dim=0))[:, 0]
    y0, y1 = max(0, int(rows[0]) - reach), min(h, int(rows[-1]) + 1 + reach)
    x0, x1 = max(0, int(cols[0]) - reach), min(w, int(cols[-1]) + 1 + reach)
    ramp = (1.0 - distance_to(fresh[:, y0:y1, x0:x1], reach) / reach).clamp_(0.0, 1.0)
    ys = torch.arange(y0, y1, dtype=torch.float32, device=out.device)[:, None] + 1.0  # 1 = the top row
    xs = torch.arange(x0, x1, dtype=torch.float32, device=out.device)[None, :] + 1.0
    top, left, bottom, right = open_sides
    for open_, dist in ((top, ys), (left, xs), (bottom, h + 1.0 - ys), (right, w + 1.0 - xs)):
        if open_:
            ramp = torch.minimum(ramp, (dist / reach).clamp(0.0, 1.0))
    region = out[:, y0:y1, x0:x1]
    region.copy_(torch.where(generated[:, y0:y1, x0:x1], ramp, region))
    return out


def tile_inputs(
    canvas: torch.Tensor,
    mask: torch.Tensor,
    generated: torch.Tensor | Sequence[Tile],
    tile: Tile,
    feather: int = 32,
) -> TileInputs:
    """The crop, noise_mask and write-back weight of one tile.

    Args:
        canvas: ``[B, H, W, C]`` float in [0, 1]: known pixels, pixels generated so far, and padding
            on pixels not yet generated.
        mask: ``[H, W]`` or ``[B, H, W]``, > 0 = unknown (soft values are kept in the noise_mask).
        generated: pixels generated so far, either a ``[H, W]`` / ``[B, H, W]`` mask (> 0 = generated),
            or the tiles already sampled (their unknown pixels are generated; :func:`outpaint` passes
            these, so it holds no canvas-sized scratch mask).
        tile: from :func:`plan_tiles` for this canvas.
        feather: px of the ramp into already generated pixels (see :func:`feather_weight`); keep it
            at most the plan's overlap.

    Returns:
        :class:`TileInputs` (copies: the sampler may modify them freely).

    Raises:
        ValueError: a canvas or mask of the wrong shape or size, a tile of another canvas, a negative
        feather. TypeError: a feather that is not an int.
    """
    check_image(canvas, "canvas")
    m = check_mask(mask, canvas, "mask")
    if tuple(canvas.shape[1:3]) != tile.canvas:
        raise ValueError(
            f"the tile belongs to a {tile.canvas[1]}x{tile.canvas[0]} canvas, not {canvas.shape[2]}x{canvas.shape[1]}"
        )
    feather = check_int("feather (px)", feather, 0)
    B = canvas.shape[0]
    image = crop_to_tile(canvas, tile).clone()
    m_t = crop_to_tile(m, tile, "BHW")
    unknown = m_t > 0
    gen = _generated_in_tile(generated, tile, B, canvas.device) & unknown
    fresh = unknown & ~gen
    H, W = tile.canvas
    sides = (tile.y > 0, tile.x > 0, tile.y + tile.h < H, tile.x + tile.w < W)
    weight = feather_weight(fresh, gen, int(feather), sides)
    # fresh pixels: the mask's value; the feather strip of generated pixels: the ramp, so the tile
    # regenerates it in part (a sampler that keeps noise_mask-0 pixels, as RePaint does, would
    # otherwise return them unchanged and the feather would do nothing); known pixels: 0
    noise_mask = torch.where(fresh, m_t, torch.where(gen, weight, torch.zeros_like(m_t)))
    return TileInputs(image, noise_mask.expand(B, -1, -1).clone(), weight.expand(B, -1, -1).clone())


def blend_tile(
    canvas: torch.Tensor,
    tile_result: torch.Tensor,
    tile: Tile,
    weight: torch.Tensor,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Write a tile's result back: ``canvas + weight * (result - canvas)`` on the tile's pixels where
    ``weight > 0``; every other pixel (known pixels have weight 0) is left bit-identical.

    Args:
        canvas: ``[B, H, W, C]`` float; not modified (unless it is ``out``).
        tile_result: ``[B, h, w, C]`` (or batch 1), the sampler's output for the tile, in [0, 1];
            converted to the canvas's dtype and device.
        tile: the tile.
        weight: ``[B or 1, h, w]`` in [0, 1], from :func:`tile_inputs`.
        out: where to write; None = a new tensor (a copy of the canvas). The driver passes its own
            working canvas here to avoid a canvas-sized copy per tile.

    Returns:
        the blended canvas (``out`` when given).

    Raises:
        ValueError: a result or weight whose shape is not the tile's.
    """
    check_image(canvas, "canvas")
    if tuple(canvas.shape[1:3]) != tile.canvas:
        raise ValueError(
            f"the tile belongs to a {tile.canvas[1]}x{tile.canvas[0]} canvas, not {canvas.shape[2]}x{canvas.shape[1]}"
        )
    B, C = canvas.shape[0], canvas.shape[3]
    if (
        not isinstance(tile_result, torch.Tensor)
        or tile_result.ndim != 4
        or tuple(tile_result.shape[1:]) != (tile.h, tile.w, C)
        or tile_result.shape[0] not in (1, B)
    ):
        got = list(tile_result.shape) if isinstance(tile_result, torch.Tensor) else type(tile_result).__name__
        raise ValueError(
            f"tile_result must be [B, {tile.h}, {tile.w}, {C}] (the tile's IMAGE), got {got}: the sampler must "
            "return the tile's size (decode the latent; do not resize)"
        )
    if weight.ndim != 3 or tuple(weight.shape[1:]) != (tile.h, tile.w) or weight.shape[0] not in (1, B):
        raise ValueError(f"weight must be [B, {tile.h}, {tile.w}], got {list(weight.shape)}")
    result = tile_result.to(device=canvas.device, dtype=canvas.dtype)
    if out is None:
        out = canvas.clone()
    elif out.shape != canvas.shape:
        raise ValueError(f"out must have the canvas's shape {list(canvas.shape)}, got {list(out.shape)}")
    region = crop_to_tile(canvas, tile)
    w = weight.to(device=canvas.device, dtype=canvas.dtype)[..., None]
    blended = torch.lerp(region, result.expand_as(region), w.expand_as(region))
    target = crop_to_tile(out, tile)
    target.copy_(torch.where(w > 0, blended, region))
    return out

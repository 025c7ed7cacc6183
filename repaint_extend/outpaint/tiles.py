"""Tile plans for outpainting beyond the model's native resolution (pure torch + numpy + scipy).

A plan is a list of :class:`Tile` rectangles (pixels) of the model's native size that together cover
every unknown pixel of the canvas, each overlapping its neighbours, ordered outward from the known
region so that a tile is sampled only after the tiles between it and the known pixels.

Conventions (as ComfyUI): images are ``[B, H, W, C]``, masks ``[B, H, W]`` or ``[H, W]``, mask value
> 0 = unknown (to generate), 0 = known (kept bit-exact). All coordinates and sizes are pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage

from ..checks import check_int, check_mask_size

__all__ = ["MAX_SIDE", "ORDERS", "Tile", "plan_tiles", "plan_windows", "crop_to_tile", "check_canvas_hw"]

MAX_SIDE = 16384
"""Largest canvas side (px) accepted by default: ComfyUI's ``MAX_RESOLUTION``."""

ORDERS = ("outward", "raster")
"""``outward``: by distance from the known region (then top-to-bottom, left-to-right);
``raster``: top-to-bottom, left-to-right (for comparison; not for sampling)."""


@dataclass(frozen=True)
class Tile:
    """One tile of a plan, in pixels of the canvas.

    Attributes:
        index: position in the sampling order (0 = sampled first).
        row, col: position in the plan's grid (for per-tile prompts), counted from the top-left.
        y, x: top-left corner (px), multiples of the plan's ``multiple``.
        h, w: size (px); the model's tile size, or the canvas side where the canvas is smaller.
        distance: distance (px) from the tile's nearest unknown pixel to the known region, measured
            between ``multiple``-px blocks (0: the tile holds known pixels); 0 for ``order="raster"``.
        canvas: ``(H, W)`` of the canvas the tile belongs to (px), so crops can check their input.
    """

    index: int
    row: int
    col: int
    y: int
    x: int
    h: int
    w: int
    distance: float
    canvas: tuple[int, int]

    @property
    def rows(self) -> slice:
        """Row slice ``y : y + h`` of the canvas."""
        return slice(self.y, self.y + self.h)

    @property
    def cols(self) -> slice:
        """Column slice ``x : x + w`` of the canvas."""
        return slice(self.x, self.x + self.w)

    @property
    def box(self) -> tuple[int, int, int, int]:
        """``(y0, x0, y1, x1)``, end exclusive (px)."""
        return (self.y, self.x, self.y + self.h, self.x + self.w)


def check_canvas_hw(
    canvas_hw: Sequence[int], multiple: int = 8, max_side: int = MAX_SIDE, name: str = "canvas"
) -> tuple[int, int]:
    """Check a canvas size ``(H, W)`` in px: positive ints, multiples of ``multiple``, at most
    ``max_side``. Returns ``(H, W)`` as ints.

    Raises:
        ValueError naming ``name`` and the fix; TypeError naming it for a side that is not an int.
    """
    if len(canvas_hw) != 2:
        raise ValueError(f"{name}: expected a size (H, W) in pixels, got {canvas_hw!r}")
    h, w = (check_int(f"{name} size (H, W)", v) for v in canvas_hw)
    if h < 1 or w < 1:
        raise ValueError(f"{name} is {w}x{h} pixels: it is empty")
    if max(h, w) > max_side:
        raise ValueError(
            f"{name} is {w}x{h} pixels, larger than the limit of {max_side} px per side: "
            "pad less, or downscale the image first"
        )
    if h % multiple or w % multiple:
        raise ValueError(
            f"{name} is {w}x{h} pixels, not a multiple of {multiple} (SD latents are 1/8 of the image): "
            f"pad or crop image and mask to {w + (-w) % multiple}x{h + (-h) % multiple}"
        )
    return h, w


def _as_mask_tensor(
    mask: torch.Tensor | np.ndarray, canvas_hw: tuple[int, int], name: str = "mask"
) -> torch.Tensor:
    """A ``[H, W]`` / ``[B, H, W]`` mask (torch or numpy) as a CPU tensor ``[B, H, W]`` (a view where
    possible). Raises ValueError for a wrong rank or a size other than ``canvas_hw`` (see
    :func:`checks.check_mask_size`)."""
    m = check_mask_size(mask, canvas_hw, name).detach().cpu()
    if m.dtype == torch.bool:
        m = m.to(torch.uint8)
    return m


def _axis_origins(lo: int, hi: int, length: int, size: int, overlap: int, multiple: int) -> list[int]:
    """Tile origins along one axis (px) covering the unknown extent ``[lo, hi)`` plus ``overlap`` px
    of context on each side (clipped to ``[0, length)``), with overlaps of at least ``overlap`` px,
    spread evenly and rounded down to multiples of ``multiple``."""
    if size >= length:
        return [0]
    a = max(0, lo - overlap)
    a -= a % multiple
    b = min(length, hi + overlap)
    b += (-b) % multiple
    span = b - a
    if span <= size:  # one tile: centre it on the extent, then shift it inside the canvas
        centre = (a + b) // 2
        o = min(max(0, centre - size // 2), length - size)
        return [o - o % multiple]
    n = math.ceil((span - size) / (size - overlap)) + 1
    last = b - size
    q = (last - a) / (n - 1)
    origins = [a + int(math.floor(q * i / multiple)) * multiple for i in range(n - 1)] + [last]
    return sorted(set(origins))


def _check_plan_args(canvas_hw, tile, overlap, multiple, order, max_side) -> tuple[int, int, int, int]:
    """Validate :func:`plan_tiles`' sizes; returns ``(H, W, th, tw)`` in px (tile not yet clipped)."""
    multiple = check_int("multiple (8 for SD latents)", multiple, 1)
    H, W = check_canvas_hw(canvas_hw, multiple, max_side)
    th, tw = (check_int("tile", v) for v in ((tile, tile) if np.ndim(tile) == 0 else tuple(tile)))
    if th < multiple or tw < multiple or th % multiple or tw % multiple:
        raise ValueError(f"tile must be a size in px that is a positive multiple of {multiple}, got {tile!r}")
    if max(th, tw) > max_side:
        raise ValueError(f"tile {tw}x{th} is larger than the limit of {max_side} px per side")
    if check_int("overlap", overlap) <= 0 or overlap % multiple:
        raise ValueError(
            f"overlap must be a positive multiple of {multiple} px (each tile needs context from its "
            f"neighbours), got {overlap!r}"
        )
    if overlap >= min(th, tw):
        raise ValueError(
            f"overlap ({overlap} px) must be smaller than the tile ({tw}x{th} px); try {min(th, tw) // 8}"
        )
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    return H, W, int(th), int(tw)


def _block_grids(unknown_mask, H: int, W: int, multiple: int) -> tuple[np.ndarray, np.ndarray]:
    """Bool block grids ``[H / multiple, W / multiple]``: blocks holding an unknown pixel, and blocks
    holding a known pixel. Reductions over a view: no canvas-sized scratch.

    Raises:
        ValueError: nothing unknown, or nothing known.
    """
    m = _as_mask_tensor(unknown_mask, (H, W), "unknown_mask")
    mu = m[0] if m.shape[0] == 1 else m.amax(0)  # unknown in any batch item
    cells = mu.reshape(H // multiple, multiple, W // multiple, multiple)
    blocks = (cells.amax(dim=(1, 3)) > 0).numpy()
    sources = (cells.amin(dim=(1, 3)) <= 0).numpy()
    if not blocks.any():
        raise ValueError(
            "unknown_mask is empty (all 0): there is nothing to outpaint; pad the image "
            "(a padding of 0 adds no area) or paint the area to generate"
        )
    if not sources.any():
        raise ValueError(
            "unknown_mask is all unknown: no pixel is known, so there is nothing to extend from; "
            "keep part of the image (mask 0 there)"
        )
    return blocks, sources


def _grid_candidates(blocks, sources, H, W, th, tw, overlap, multiple, outward):
    """Every grid tile holding an unknown block, as ``(distance, y, x, row, col)`` sorted ascending.

    The grid covers the unknown blocks' bounding box grown by ``overlap`` (see :func:`_axis_origins`);
    distance: Euclidean px (``scipy.ndimage.distance_transform_edt``, between block centres) from the
    tile's nearest unknown block to a block with a known pixel (0 for ``outward=False``)."""
    dist = ndimage.distance_transform_edt(~sources) * multiple
    rows_any, cols_any = np.nonzero(blocks.any(axis=1))[0], np.nonzero(blocks.any(axis=0))[0]
    ys = _axis_origins(
        int(rows_any[0]) * multiple, (int(rows_any[-1]) + 1) * multiple, H, th, overlap, multiple
    )
    xs = _axis_origins(
        int(cols_any[0]) * multiple, (int(cols_any[-1]) + 1) * multiple, W, tw, overlap, multiple
    )
    out = []
    for r, y in enumerate(ys):
        for c, x in enumerate(xs):
            by, bx = slice(y // multiple, (y + th) // multiple), slice(x // multiple, (x + tw) // multiple)
            sub = blocks[by, bx]
            if sub.any():
                out.append((float(dist[by, bx][sub].min()) if outward else 0.0, y, x, r, c))
    return sorted(out)


def _order_with_context(candidates, blocks, sources, th, tw, multiple, H, W, need_context) -> list[Tile]:
    """Pick tiles in the candidates' order, skipping those whose unknown blocks earlier tiles already
    generated; with ``need_context``, a tile with neither a known nor an already generated block waits
    until an earlier tile gives it one (it is taken right after that tile)."""
    covered = np.zeros_like(blocks)  # unknown blocks generated so far
    plan: list[Tile] = []
    waiting: list[tuple] = []

    def blocks_of(y, x):
        return slice(y // multiple, (y + th) // multiple), slice(x // multiple, (x + tw) // multiple)

    def take(cand) -> bool | None:
        """True: taken; None: redundant (dropped); False: no context yet."""
        d, y, x, r, c = cand
        by, bx = blocks_of(y, x)
        fresh = blocks[by, bx] & ~covered[by, bx]
        if not fresh.any():
            return None
        if need_context and not (sources[by, bx].any() or covered[by, bx].any()):
            return False
        covered[by, bx] |= blocks[by, bx]
        plan.append(Tile(len(plan), r, c, y, x, th, tw, d, (H, W)))
        return True

    for cand in candidates:
        if take(cand) is False:
            waiting.append(cand)
            continue
        progress = True
        while waiting and progress:  # tiles that waited for context, in their own order
            states = [take(w) for w in waiting]
            progress = any(s is not False for s in states)
            waiting = [w for w, s in zip(waiting, states, strict=True) if s is False]
    if waiting:  # cannot happen: the tile nearest the known region always holds a known block
        raise AssertionError(f"{len(waiting)} tiles have no context")
    return plan


def plan_tiles(
    canvas_hw: Sequence[int],
    unknown_mask: torch.Tensor | np.ndarray,
    tile: int | Sequence[int] = (512, 512),
    overlap: int = 64,
    multiple: int = 8,
    order: str = "outward",
    max_side: int = MAX_SIDE,
) -> list[Tile]:
    """Plan tiles of the model's native size that cover every unknown pixel, ordered for sampling.

    The grid covers the bounding box of the unknown pixels grown by ``overlap`` px of context on each
    side (within the canvas). Along each axis the fewest tiles with overlaps of at least ``overlap``
    px are spread evenly (origins rounded down to multiples of ``multiple``), so every tile lies fully
    inside the canvas and no near-duplicate last tile appears (the even spread replaces the usual
    "shift the last row back inside"). **Neighbouring tiles overlap by at least ``overlap`` px** (what
    ``feather <= overlap`` relies on). A single tile along an axis is centred on the unknown extent
    and then shifted inside the canvas, so it takes as much known context as fits. **Where the canvas
    is smaller than the tile on an axis, the tile is clipped to the canvas side on that axis** (the
    model then samples a smaller image). Tiles with no unknown pixel are skipped, and so are tiles
    whose unknown pixels are all covered by tiles sampled before them.

    ``order="outward"``: tiles sorted by :attr:`Tile.distance`, the Euclidean distance from the
    tile's nearest unknown pixel to the known region, computed with
    ``scipy.ndimage.distance_transform_edt`` (exact EDT) on ``multiple``-px blocks (a block is unknown
    if any of its pixels is unknown, and a source if any is known), then by (y, x); a tile that would
    come first without any known or generated pixel (a pad on the left or top at least a tile wide)
    waits until a neighbour has been sampled. The planning scratch is this block grid,
    1/``multiple``² of the canvas. Invariant (tested): every tile, when sampled, contains known pixels
    or pixels generated by an earlier tile.

    Args:
        canvas_hw: ``(H, W)`` of the canvas, px; multiples of ``multiple``, at most ``max_side``.
        unknown_mask: ``[H, W]`` or ``[B, H, W]`` (ComfyUI MASK), > 0 = unknown; the plan covers the
            union over the batch.
        tile: the model's native tile size, px: an int (square) or ``(h, w)``; multiples of
            ``multiple``, at most ``max_side``.
        overlap: px shared by neighbouring tiles and the context taken around the unknown area; a
            multiple of ``multiple``, ``0 < overlap < min(tile)``.
        multiple: alignment of every origin and size (8 for SD latents).
        order: one of :data:`ORDERS`.
        max_side: the largest canvas or tile side accepted (px).

    Returns:
        list of :class:`Tile`, ``index`` = position in the list.

    Raises:
        ValueError naming the input: sizes that are not multiples of ``multiple`` or exceed
        ``max_side``; a bad overlap; a mask of another size; nothing to outpaint (no unknown pixel,
        e.g. padding of 0); no known pixel (nothing to extend from). TypeError naming the input: a
        size, tile, overlap or multiple that is not an int.
    """
    H, W, th, tw = _check_plan_args(canvas_hw, tile, overlap, multiple, order, max_side)
    blocks, sources = _block_grids(unknown_mask, H, W, multiple)
    th, tw = min(th, H), min(tw, W)
    outward = order == "outward"
    candidates = _grid_candidates(blocks, sources, H, W, th, tw, overlap, multiple, outward)
    return _order_with_context(candidates, blocks, sources, th, tw, multiple, H, W, outward)


def plan_windows(
    canvas_hw: Sequence[int],
    unknown_mask: torch.Tensor | np.ndarray,
    tile: int | Sequence[int] = (512, 512),
    overlap: int = 64,
    multiple: int = 8,
    max_side: int = MAX_SIDE,
) -> list[Tile]:
    """The windows of joint sampling: every tile of :func:`plan_tiles`' grid that holds an unknown
    pixel (none dropped as redundant: all are denoised together at every model call), top-to-bottom,
    left-to-right. Same arguments, checks and errors as :func:`plan_tiles`; every unknown pixel lies in
    a window, and neighbouring windows overlap by at least ``overlap`` px."""
    H, W, th, tw = _check_plan_args(canvas_hw, tile, overlap, multiple, "raster", max_side)
    blocks, sources = _block_grids(unknown_mask, H, W, multiple)
    th, tw = min(th, H), min(tw, W)
    candidates = _grid_candidates(blocks, sources, H, W, th, tw, overlap, multiple, True)
    candidates.sort(key=lambda c: (c[1], c[2]))
    return [Tile(i, r, c, y, x, th, tw, d, (H, W)) for i, (d, y, x, r, c) in enumerate(candidates)]


LAYOUTS = ("BHWC", "BHW", "HWC", "HW", "BCHW")


def crop_to_tile(tensor: torch.Tensor | np.ndarray, tile: Tile, layout: str = "BHWC", scale: int = 1):
    """Crop a canvas-sized tensor to a tile: IMAGE, MASK, a ControlNet hint, or a latent.

    Args:
        tensor: canvas-sized, in ``layout``: ``BHWC`` (ComfyUI IMAGE, e.g. the rendered pose hint),
            ``BHW`` (MASK), ``HWC`` / ``HW`` (a single image or mask, numpy or torch), ``BCHW``
            (a latent or a ControlNet ``cond_hint``).
        tile: from :func:`plan_tiles`.
        layout: one of ``"BHWC", "BHW", "HWC", "HW", "BCHW"``.
        scale: downscale of the tensor relative to the canvas (8 for SD latents): the crop is
            ``tile / scale``; the tile must be aligned to it (it is, for ``scale <= multiple``).

    Returns:
        a view (no copy) of the crop, ``tile.h / scale`` x ``tile.w / scale`` spatially.

    Raises:
        ValueError: unknown layout; a tensor whose size is not the canvas size / ``scale`` (e.g. a pose
        canvas whose size differs from the image: render the pose on the padded canvas); a tile not
        aligned to ``scale``. TypeError: a ``scale`` that is not an int.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if len(tensor.shape) != len(layout):
        raise ValueError(f"expected a {layout} tensor of rank {len(layout)}, got shape {list(tensor.shape)}")
    if check_int("scale", scale) < 1 or tile.y % scale or tile.x % scale or tile.h % scale or tile.w % scale:
        raise ValueError(f"scale must be a positive int dividing the tile's origin and size, got {scale!r}")
    hi, wi = layout.index("H"), layout.index("W")
    H, W = tile.canvas
    if (tensor.shape[hi] * scale, tensor.shape[wi] * scale) != (H, W):
        raise ValueError(
            f"the tensor is {tensor.shape[wi]}x{tensor.shape[hi]} but the canvas is {W}x{H}"
            + (f" (/{scale} = {W // scale}x{H // scale})" if scale > 1 else "")
            + ": crop only inputs of the canvas's size (render the pose / hint on the padded canvas)"
        )
    index = [slice(None)] * len(layout)
    index[hi] = slice(tile.y // scale, (tile.y + tile.h) // scale)
    index[wi] = slice(tile.x // scale, (tile.x + tile.w) // scale)
    return tensor[tuple(index)]

"""Exact known pixels and colour matching (pure torch + numpy + scipy).

Bit-exact known pixels. The final image is composited in pixel space with the known pixels copied,
never recomputed. The order matters for the saved PNG:

1. quantise the generated image to uint8 (:func:`to_uint8`),
2. then composite: known pixels are the original uint8 values (:func:`composite_known` with a uint8
   original does both steps in this order).

Compositing in float and quantising afterwards is also exact for images that ComfyUI loaded and saves
itself (LoadImage stores ``uint8 / 255`` in float32; SaveImage writes ``uint8(clip(255 * x))``, which
returns each of the 256 values exactly: checked in the tests), but any resampling, colour conversion
or arithmetic on the known float pixels breaks that; copying uint8 values after quantisation does not.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage

from ..checks import check_image, check_int, check_mask

__all__ = ["to_uint8", "composite_known", "known_band", "match_color", "match_color_to_known", "COLOR_SPACES"]

COLOR_SPACES = ("lab", "rgb")
"""``lab``: Reinhard et al.'s l-alpha-beta space (Ruderman et al. 1998), as in the paper;
``rgb``: the channels as given."""


def to_uint8(image, rounding: str = "round"):
    """Float image in [0, 1] -> uint8, clipping first.

    Args:
        image: float torch tensor or numpy array, any shape.
        rounding: ``"round"`` (nearest, ties to even) or ``"floor"`` (as ComfyUI's SaveImage:
            ``uint8(clip(255 * x, 0, 255))``).
    Returns:
        uint8 of the same kind (torch / numpy) and shape.
    Raises:
        ValueError: unknown rounding.
    """
    if rounding not in ("round", "floor"):
        raise ValueError(f"rounding must be 'round' or 'floor', got {rounding!r}")
    if isinstance(image, torch.Tensor):
        v = image.to(torch.float32).clamp(0, 1) * 255.0
        v = torch.round(v) if rounding == "round" else torch.floor(v)
        return v.to(torch.uint8)
    v = np.clip(np.asarray(image, dtype=np.float32), 0, 1) * np.float32(255.0)
    v = np.round(v) if rounding == "round" else np.floor(v)
    return v.astype(np.uint8)


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def composite_known(original, result, mask, rounding: str = "round"):
    """Final composite in pixel space: every known pixel is the original, bit for bit.

    ``out = original * (1 - m) + result * m`` on pixels with mask m > 0 (soft masks blend), and
    ``out = original`` exactly where m == 0. For a uint8 original the blend is quantised with
    :func:`to_uint8` first and the known uint8 values are copied afterwards (max |delta| = 0 on uint8).

    Args:
        original: ``[B, H, W, C]`` or ``[H, W, C]``; uint8 (0-255) or float in [0, 1]; torch or numpy.
        result: the generated image, same shape as ``original`` (batch 1 broadcasts), float in [0, 1].
        mask: ``[H, W]`` or ``[B, H, W]`` (``[H, W]`` for an ``[H, W, C]`` original), > 0 = generated.
        rounding: for a uint8 original, see :func:`to_uint8`.

    Returns:
        the composite, of the original's kind (torch / numpy), dtype and shape; inputs unchanged.

    Raises:
        ValueError: shapes or sizes that differ; a float original outside a floating dtype.
    """
    is_torch = isinstance(original, torch.Tensor)
    orig = _np(original)
    res = _np(result).astype(np.float32, copy=False)
    m = _np(mask).astype(np.float32, copy=False)
    if orig.ndim not in (3, 4):
        raise ValueError(f"original must be [B, H, W, C] or [H, W, C], got shape {list(orig.shape)}")
    batched = orig.ndim == 4
    o4 = orig if batched else orig[None]
    r4 = res if res.ndim == 4 else res[None]
    m3 = m if m.ndim == 3 else m[None]
    if r4.ndim != 4 or r4.shape[1:] != o4.shape[1:] or r4.shape[0] not in (1, o4.shape[0]):
        raise ValueError(f"result {list(res.shape)} must have the original's shape {list(orig.shape)}")
    if m3.ndim != 3 or m3.shape[1:] != o4.shape[1:3] or m3.shape[0] not in (1, o4.shape[0]):
        raise ValueError(
            f"mask {list(m.shape)} must be [H, W] or [B, H, W] of the image's size "
            f"{o4.shape[2]}x{o4.shape[1]}: pad or crop image and mask together"
        )
    mw = m3[..., None]
    if o4.dtype == np.uint8:
        blend = (o4.astype(np.float32) / np.float32(255.0)) * (1 - mw) + r4 * mw
        out = np.where(mw > 0, to_uint8(blend, rounding), o4)
    elif np.issubdtype(o4.dtype, np.floating):
        blend = (o4 * (1 - mw) + r4 * mw).astype(o4.dtype)
        out = np.where(mw > 0, blend, o4)
    else:
        raise ValueError(f"original must be uint8 or float in [0, 1], got {o4.dtype}")
    # np.where broadcasts to the original's full shape: a new, writable array
    out = out if batched else out[0]
    if is_torch:
        return torch.from_numpy(out).to(original.device)
    return out


def known_band(mask, band: int) -> torch.Tensor:
    """Known pixels within ``band`` px (Euclidean, ``scipy.ndimage.distance_transform_edt``) of an
    unknown pixel: the reference for :func:`match_color_to_known`.

    Args:
        mask: ``[H, W]`` or ``[B, H, W]``, > 0 = unknown.
        band: band width, px (>= 1).
    Returns:
        bool ``[B, H, W]`` (B = 1 for a ``[H, W]`` mask).
    Raises:
        ValueError: band < 1. TypeError: a band that is not an int.
    """
    band = check_int("band (px)", band, 1)
    m = _np(mask)
    m = m[None] if m.ndim == 2 else m
    out = np.zeros(m.shape, dtype=bool)
    for b in range(m.shape[0]):
        known = m[b] <= 0
        if known.all() or not known.any():
            continue
        d = ndimage.distance_transform_edt(known)  # distance of each known pixel to the unknown
        out[b] = known & (d <= band)
    return torch.from_numpy(out)


# Reinhard, Ashikhmin, Gooch & Shirley 2001, "Color Transfer between Images", IEEE CG&A 21(5):34-41,
# section 2: RGB -> LMS (their combined RGB->XYZ->LMS matrix), log10, then l-alpha-beta
# (Ruderman, Cronin & Chiao 1998). The inverse uses the exact matrix inverse rather than the paper's
# rounded one, so a transfer with equal statistics is the identity up to float error.
_RGB2LMS = torch.tensor(
    [[0.3811, 0.5783, 0.0402], [0.1967, 0.7244, 0.0782], [0.0241, 0.1288, 0.8444]], dtype=torch.float64
)
_LMS2LAB = torch.diag(torch.tensor([3**-0.5, 6**-0.5, 2**-0.5], dtype=torch.float64)) @ torch.tensor(
    [[1.0, 1.0, 1.0], [1.0, 1.0, -2.0], [1.0, -1.0, 0.0]], dtype=torch.float64
)
_RGB_FLOOR = 1.0 / 255.0  # keeps log10 finite on black, as in common implementations


def _to_lab(rgb: torch.Tensor) -> torch.Tensor:
    lms = rgb.to(torch.float64).clamp_min(_RGB_FLOOR) @ _RGB2LMS.T
    return torch.log10(lms) @ _LMS2LAB.T


def _from_lab(lab: torch.Tensor) -> torch.Tensor:
    lms = torch.pow(10.0, lab @ torch.linalg.inv(_LMS2LAB).T)
    return lms @ torch.linalg.inv(_RGB2LMS).T


def _stats(x: torch.Tensor, w: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel (weighted) mean and standard deviation of ``[N, C]`` pixels."""
    if w is None:
        return x.mean(0), x.std(0, unbiased=False)
    w = w.to(x.dtype)[:, None]
    total = w.sum()
    mean = (w * x).sum(0) / total
    var = (w * (x - mean) ** 2).sum(0) / total
    return mean, var.sqrt()


def match_color(
    generated: torch.Tensor,
    reference: torch.Tensor,
    space: str = "lab",
    strength: float = 1.0,
    weights: torch.Tensor | None = None,
    eps: float = 1e-6,
) -> torch.Tensor:
    """Move the per-channel mean and standard deviation of ``generated`` to those of ``reference``.

    Reinhard et al. 2001, "Color Transfer between Images" (IEEE CG&A 21(5)), section 3:
    ``x' = (x - mean_g) * std_r / std_g + mean_r`` per channel, in their l-alpha-beta space
    (``space="lab"``) or directly on RGB (``space="rgb"``, any channel count). The result is clipped
    to [0, 1]; ``strength`` blends between the input (0) and the full transfer (1).

    Args:
        generated: ``[..., C]`` pixels, float in [0, 1] (any leading shape, e.g. ``[N, C]``).
        reference: ``[..., C]`` pixels, float in [0, 1] (at least 2).
        space: one of :data:`COLOR_SPACES`; ``lab`` needs C == 3.
        strength: in [0, 1].
        weights: optional ``[...]`` (generated's leading shape) weights of each generated pixel in
            its statistics (a soft mask); None = equal.
        eps: floor of std_g, so a flat region is shifted, not blown up.

    Returns:
        float32 tensor of ``generated``'s shape.

    Raises:
        ValueError: channel counts that differ, lab on C != 3, empty inputs, bad strength or space.
    """
    if space not in COLOR_SPACES:
        raise ValueError(f"space must be one of {COLOR_SPACES}, got {space!r}")
    if not 0.0 <= float(strength) <= 1.0:
        raise ValueError(f"strength must be in [0, 1], got {strength!r}")
    C = generated.shape[-1]
    if reference.shape[-1] != C:
        raise ValueError(f"generated has {C} channels but reference has {reference.shape[-1]}")
    if space == "lab" and C != 3:
        raise ValueError(f"space='lab' needs RGB pixels (3 channels), got {C}; use space='rgb'")
    g = generated.reshape(-1, C)
    r = reference.reshape(-1, C)
    if g.shape[0] < 1 or r.shape[0] < 2:
        raise ValueError(
            f"match_color needs generated pixels and at least 2 reference pixels, got {g.shape[0]} and {r.shape[0]}"
        )
    w = None if weights is None else weights.reshape(-1)
    if w is not None and w.shape[0] != g.shape[0]:
        raise ValueError(f"weights must have one value per generated pixel ({g.shape[0]}), got {w.shape[0]}")
    to, back = (_to_lab, _from_lab) if space == "lab" else (lambda x: x.to(torch.float64), lambda x: x)
    gs, rs = to(g), to(r)
    mg, sg = _stats(gs, w)
    mr, sr = _stats(rs)
    moved = (gs - mg) * (sr / sg.clamp_min(eps)) + mr
    out = back(moved).clamp(0, 1)
    out = g.to(torch.float64) + float(strength) * (out - g.to(torch.float64))
    return out.to(torch.float32).reshape(generated.shape)


def match_color_to_known(
    image: torch.Tensor, mask: torch.Tensor, band: int = 32, space: str = "lab", strength: float = 1.0
) -> torch.Tensor:
    """Match the colour of the generated region to the band of known pixels around it.

    Per batch item: the statistics of the pixels with mask > 0 (weighted by the mask) are moved to
    those of the known pixels within ``band`` px of them (:func:`known_band`), with
    :func:`match_color`; each generated pixel is then ``x + m * (x' - x)`` for its mask value m, and
    known pixels are copied unchanged (bit-exact).

    Args:
        image: ``[B, H, W, C]`` float in [0, 1] (ComfyUI IMAGE); not modified.
        mask: ``[H, W]`` or ``[B, H, W]``, > 0 = generated.
        band: reference band width, px.
        space, strength: see :func:`match_color`.

    Returns:
        a new ``[B, H, W, C]`` tensor.

    Raises:
        ValueError: a mask of another size; band < 1; nothing generated or no known pixel (no band).
    """

    check_image(image, "image")
    m = check_mask(mask, image, "mask").cpu()
    ref = known_band(m, band)
    out = image.clone()
    for b in range(image.shape[0]):
        mb, rb = m[min(b, m.shape[0] - 1)], ref[min(b, ref.shape[0] - 1)]
        gen = mb > 0
        if not bool(gen.any()) or int(rb.sum()) < 2:
            raise ValueError(
                f"image {b}: colour matching needs generated pixels (mask > 0) and known pixels around them "
                "(mask 0); the mask is all 0 or all 1"
            )
        px = image[b].cpu()
        moved = match_color(px[gen], px[rb], space=space, strength=strength, weights=mb[gen])
        new = px[gen] + mb[gen][:, None] * (moved - px[gen])
        ob = out[b]
        ob[gen.to(ob.device)] = new.to(ob.dtype).to(ob.device)
    return out

"""Joint sampling over a window plan (Mixture of Diffusers, Jiménez 2023; MultiDiffusion, Bar-Tal et al.
2023), the coarse pass, and noise streams (pure torch).

Joint sampling runs ONE sampler over the whole canvas latent. At every model call the latent is split
into the windows of :func:`plan_windows`, the model is called on each window, and the predictions are
averaged with per-pixel weights (MultiDiffusion, eq. 5: the least-squares fusion of the windows'
predictions, ``sum_k w_k * F_k(x_k) / sum_k w_k``); the weights are Gaussian in each window
(Mixture of Diffusers, section 3), so a window's prediction fades out smoothly towards its edges and
no seam is drawn. The sampler (RePaint) is unchanged and replaces the known region as usual, so known
pixels stay exact.

Shapes: latents ``[B, C, h, w]``; windows are :class:`Tile` in canvas px; ``scale`` = canvas px per
latent px (8 for SD's VAE, 1 for pixel-space models).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ..checks import check_int
from .tiles import Tile

__all__ = [
    "MIXTURE_VARIANCE",
    "window_weight",
    "blend_windows",
    "working_box",
    "coarse_size",
    "stream_seed",
    "SEED_RANGE",
]

MIXTURE_VARIANCE = 0.01
"""Variance of the Gaussian window weight in units of the window side (σ = 0.1 side): the value used
by Mixture of Diffusers (Jiménez 2023, section 3, "Gaussian weights ... variance 0.01")."""


def window_weight(h: int, w: int, variance: float = MIXTURE_VARIANCE, device=None) -> torch.Tensor:
    """Gaussian weight of one window, ``[h, w]`` float32 in (0, 1], 1 at the centre.

    ``exp(-((y - cy)² / h² + (x - cx)² / w²) / (2 · variance))`` with ``cy = (h - 1) / 2``,
    ``cx = (w - 1) / 2`` (Mixture of Diffusers, section 3). At the window's edge it is
    ``exp(-0.25 / (2 · 0.01)) ≈ 3.7e-6``: positive, so every covered pixel has a weight.

    Raises:
        ValueError: non-positive sizes or variance.
    """
    if h < 1 or w < 1 or not variance > 0:
        raise ValueError(f"window_weight needs h, w >= 1 and variance > 0, got {h}, {w}, {variance}")
    ys = (torch.arange(h, dtype=torch.float32, device=device) - (h - 1) / 2) / h
    xs = (torch.arange(w, dtype=torch.float32, device=device) - (w - 1) / 2) / w
    return torch.exp(-(ys[:, None] ** 2 + xs[None, :] ** 2) / (2 * variance))


def _latent_box(t: Tile, scale: int) -> tuple[slice, slice]:
    if t.y % scale or t.x % scale or t.h % scale or t.w % scale:
        raise ValueError(f"window {t.box} is not aligned to the latent scale {scale}")
    return slice(t.y // scale, (t.y + t.h) // scale), slice(t.x // scale, (t.x + t.w) // scale)


def blend_windows(
    x: torch.Tensor,
    windows: Sequence[Tile],
    call: Callable[[int, torch.Tensor], torch.Tensor],
    scale: int = 1,
    variance: float = MIXTURE_VARIANCE,
) -> torch.Tensor:
    """One joint model call: ``sum_k w_k · call(k, x_k) / sum_k w_k`` (MultiDiffusion eq. 5 with
    Gaussian ``w_k``, :func:`window_weight`). A model-function wrapper for any k-diffusion-style
    sampler: ``lambda x, s, **kw: blend_windows(x, windows, lambda k, xk: model(xk, s, **kw))``.

    Args:
        x: ``[B, C, h, w]`` the canvas latent (``h = H / scale``).
        windows: from :func:`plan_windows` on the canvas.
        call: ``call(k, x_k)`` -> the prediction on window k's crop ``[B, C, h_k, w_k]`` (same shape).
        scale: canvas px per latent px.
    Returns:
        ``[B, C, h, w]``; pixels outside every window are 0 (the sampler replaces them when known).
    Raises:
        ValueError: a window not aligned to ``scale``, or a prediction of another shape.
    """
    out = torch.zeros_like(x)
    total = torch.zeros(x.shape[-2:], dtype=x.dtype, device=x.device)
    for k, t in enumerate(windows):
        rows, cols = _latent_box(t, scale)
        xk = x[..., rows, cols]
        pred = call(k, xk)
        if pred.shape != xk.shape:
            raise ValueError(f"window {k}: the prediction is {list(pred.shape)}, not {list(xk.shape)}")
        wk = window_weight(xk.shape[-2], xk.shape[-1], variance, x.device).to(x.dtype)
        out[..., rows, cols] += wk * pred
        total[rows, cols] += wk
    return out / total.clamp_min(torch.finfo(x.dtype).tiny)


def working_box(windows: Sequence[Tile]) -> tuple[int, int, int, int]:
    """``(y0, x0, y1, x1)`` px, end exclusive: the bounding box of the windows (the part of the canvas
    that joint sampling encodes, samples and decodes; the rest is left untouched).

    Raises:
        ValueError: no window.
    """
    if not windows:
        raise ValueError("working_box needs at least one window")
    return (
        min(t.y for t in windows),
        min(t.x for t in windows),
        max(t.y + t.h for t in windows),
        max(t.x + t.w for t in windows),
    )


def coarse_size(canvas_hw: Sequence[int], tile_hw: Sequence[int], multiple: int = 8) -> tuple[int, int]:
    """``(h, w)`` px of the coarse pass: the canvas scaled down (aspect kept) to fit in one tile,
    each side rounded to a multiple of ``multiple`` (at least ``multiple``); the canvas itself when it
    already fits."""
    H, W = canvas_hw
    th, tw = tile_hw
    s = min(1.0, th / H, tw / W)
    h = max(multiple, int(round(H * s / multiple)) * multiple)
    w = max(multiple, int(round(W * s / multiple)) * multiple)
    return min(h, th), min(w, tw)


SEED_RANGE = 1 << 62
"""Stream seeds lie in ``[0, 2^62)``: a host may add small offsets (ComfyUI's seed + 1, the RePaint
sampler's + 2 and + 3) and stay within torch's 64-bit seed range."""

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15  # splitmix64's increment, 2^64 / golden ratio (Steele, Lea & Flood 2014)


def stream_seed(seed: int, index: int) -> int:
    """An independent seed for noise stream ``index`` (a tile) of a run seeded with ``seed``.

    splitmix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators", the
    ``mix64`` finaliser of state ``seed + (index + 1) · γ`` mod 2^64), reduced to :data:`SEED_RANGE`.
    Any 64-bit ``seed`` (e.g. ComfyUI's 0..2^64 - 1) works: nothing overflows, and streams do not
    repeat each other the way ``seed + index`` does (tile i's ``seed + i + 2`` was tile i + 2's
    ``seed + i + 2``).

    Raises:
        ValueError: a negative index. TypeError: an index that is not an int.
    """
    index = check_int("index", index, 0)
    z = (int(seed) + (int(index) + 1) * _GOLDEN) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    z ^= z >> 31
    return z % SEED_RANGE

"""A host-independent known-region wrapper, so that :func:`samplers.sample_repaint` can inpaint with a
plain denoiser (benchmarks, scripts, pixel-space models). Inside ComfyUI the host's own
``KSamplerX0Inpaint`` plays this part."""

from __future__ import annotations

from collections.abc import Callable

import torch

from .repaint import ScaleFn, seeded_noise_sampler, ve_scales

__all__ = ["KnownRegionDenoiser"]


class KnownRegionDenoiser:
    """Wrap a k-diffusion denoiser so that it conditions on known pixels as RePaint does.

    Before each call the known region of x is replaced by a fresh forward-noised copy of the known
    image, ``a(sigma) * x0_known + b(sigma) * z`` (RePaint, Algorithm 1, lines 4-5 and 8); after the call
    the estimate's known region is the known image itself, so the last step (sigma -> 0) returns the
    known pixels exactly.

    Args:
        model: ``model(x, sigma, **extra_args) -> x0_hat``, ``[B, C, ...]`` and ``[B]``.
        known: the known image x0, broadcastable to x's shape; its values in the unknown region are
            ignored.
        denoise_mask: 1 = generate, 0 = known; broadcastable to x's shape, values in [0, 1].
        scales: the model's noise convention (see :mod:`samplers.repaint`); default x = x0 + sigma*eps.
        seed: seed of the known region's noise (torch's global generator when None).
        fixed_noise: draw the known region's noise once, at the first call, and reuse it at every
            level (as ComfyUI's ``KSamplerX0Inpaint`` does); needed by
            :func:`samplers.sample_langevin_pc`. False (default): fresh noise at every call (RePaint).

    Raises:
        ValueError: ``known`` and ``denoise_mask`` do not broadcast together.
    """

    def __init__(
        self,
        model: Callable,
        known: torch.Tensor,
        denoise_mask: torch.Tensor,
        scales: ScaleFn | None = None,
        seed: int | None = None,
        fixed_noise: bool = False,
    ):
        try:
            torch.broadcast_shapes(known.shape, denoise_mask.shape)
        except RuntimeError as error:
            raise ValueError(
                f"known {tuple(known.shape)} and denoise_mask {tuple(denoise_mask.shape)} do not broadcast"
            ) from error
        self.model = model
        self.known = known
        self.denoise_mask = denoise_mask
        self.scales = scales or ve_scales
        self.seed = seed
        self.fixed_noise = fixed_noise
        self._draw = None
        self._noise = None

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor, **extra_args) -> torch.Tensor:
        if self._draw is None:
            self._draw = seeded_noise_sampler(x, self.seed)
        a, b = self.scales(sigma.reshape(-1))
        view = (-1,) + (1,) * (x.ndim - 1)
        if self._noise is None or not self.fixed_noise:
            self._noise = self._draw(sigma, None)
        noisy_known = a.view(view) * self.known + b.view(view) * self._noise
        keep = 1.0 - self.denoise_mask
        x_in = x * self.denoise_mask + noisy_known * keep
        return self.model(x_in, sigma, **extra_args) * self.denoise_mask + self.known * keep

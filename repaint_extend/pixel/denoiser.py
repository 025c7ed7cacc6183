"""k-diffusion-convention denoiser around an epsilon-predicting ADM UNet.

``ADMDenoiser(model)(x, sigma) -> x0_hat`` with ``x = x0 + sigma * eps`` (EPS/VE convention,
Karras et al. 2022, "EDM", Table 1 and eq. 7 with c_skip = 1, c_out = -sigma,
c_in = 1 / sqrt(1 + sigma^2)), which is what ``samplers.sample_repaint`` calls as
``model(x, sigma * s_in, **extra_args)``.
"""

from __future__ import annotations

import torch
from torch import nn

from .schedule import DiscreteSchedule

__all__ = ["ADMDenoiser"]


class ADMDenoiser(nn.Module):
    """Wrap an epsilon-prediction network ``net(x_t, t, y=None)`` (DDPM scaling) as a sigma denoiser.

    For each batch element: ``t = schedule.sigma_to_t(sigma)`` (fractional, or rounded with
    ``quantize``), ``eps = net(x / sqrt(1 + sigma^2), t)``, keeping only the first C output channels
    when the net outputs 2C (learned sigma, Nichol & Dhariwal 2021, §3.1: epsilon then the variance
    interpolation v, which this deterministic wrapper does not use), and
    ``x0_hat = x - sigma * eps`` (Ho et al. 2020, eq. 4 solved for x0, in VE scaling).

    Args:
        model: an :class:`pixel.adm_unet.ADMUNet` or any module with that forward signature and
            attributes ``in_channels``/``out_channels`` (otherwise ``learn_sigma`` must be given).
        schedule: the model's training schedule; default linear beta, T = 1000.
        quantize: round t to the nearest integer step (the nets were trained on integer steps).
        learn_sigma: override the detection of a 2C-channel output.

    Attributes:
        sigmas: ``[T]`` float32, the model's discrete sigmas, increasing (k-diffusion convention).
        sigma_min, sigma_max: floats.
    """

    def __init__(
        self,
        model: nn.Module,
        schedule: DiscreteSchedule | None = None,
        *,
        quantize: bool = False,
        learn_sigma: bool | None = None,
    ):
        super().__init__()
        self.inner_model = model
        self.schedule = schedule or DiscreteSchedule()
        self.quantize = quantize
        if learn_sigma is None:
            learn_sigma = getattr(model, "out_channels", None) == 2 * getattr(model, "in_channels", -1)
        self.learn_sigma = bool(learn_sigma)
        self.register_buffer("sigmas", self.schedule.sigmas.to(torch.float32), persistent=False)
        self.register_buffer("log_sigmas", self.schedule.log_sigmas.to(torch.float32), persistent=False)

    @property
    def sigma_min(self) -> float:
        return self.schedule.sigma_min

    @property
    def sigma_max(self) -> float:
        return self.schedule.sigma_max

    def sigma_to_t(self, sigma: torch.Tensor) -> torch.Tensor:
        """Fractional timestep of each sigma, on sigma's device (no host sync): the float32 form of
        :meth:`pixel.schedule.DiscreteSchedule.sigma_to_t` (linear in log sigma between the two
        neighbouring steps, clamped to [0, T-1]), rounded when ``quantize``."""
        ls = self.log_sigmas.to(sigma.device)
        log_s = sigma.float().clamp(self.sigma_min, self.sigma_max).log()
        hi = torch.searchsorted(ls, log_s.reshape(-1).contiguous()).clamp(1, ls.numel() - 1)
        lo = hi - 1
        w = (log_s.reshape(-1) - ls[lo]) / (ls[hi] - ls[lo])
        t = (lo.float() + w).clamp(0, ls.numel() - 1).reshape(sigma.shape)
        return t.round() if self.quantize else t

    def get_eps(self, x: torch.Tensor, sigma: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The network's epsilon estimate at ``x = x0 + sigma * eps``; shapes as :meth:`forward`."""
        sigma = torch.as_tensor(sigma, device=x.device, dtype=torch.float32)
        if sigma.ndim == 0:
            sigma = sigma.expand(x.shape[0])
        if sigma.shape != (x.shape[0],):
            raise ValueError(
                f"sigma must be a scalar or have shape [B] = [{x.shape[0]}], got {tuple(sigma.shape)}"
            )
        c_in = torch.rsqrt(1.0 + sigma * sigma).to(x.dtype)[:, None, None, None]
        t = self.sigma_to_t(sigma)
        out = self.inner_model(x * c_in, t, y=y) if y is not None else self.inner_model(x * c_in, t)
        c = x.shape[1]
        if self.learn_sigma:
            if out.shape[1] != 2 * c:
                raise ValueError(f"learned-sigma model must output {2 * c} channels, got {out.shape[1]}")
            out = out[:, :c]
        elif out.shape[1] != c:
            raise ValueError(f"model outputs {out.shape[1]} channels for a {c}-channel input")
        return out.to(x.dtype)

    def forward(
        self, x: torch.Tensor, sigma: torch.Tensor, y: torch.Tensor | None = None, **kwargs
    ) -> torch.Tensor:
        """Denoise.

        Args:
            x: ``[B, C, H, W]``, the VE state ``x0 + sigma * eps`` (x0 in [-1, 1]).
            sigma: ``[B]`` or scalar, >= 0, in the model's sigma units (about 0.01 .. 157 for the
                linear T = 1000 schedule; values outside are clamped for the timestep only).
            y: ``[B]`` class labels for class-conditional models.
            **kwargs: other sampler extra_args (e.g. ``seed``) are ignored.

        Returns:
            ``[B, C, H, W]`` x0_hat in x's dtype (not clipped).
        """
        eps = self.get_eps(x, sigma, y)
        s = torch.as_tensor(sigma, device=x.device, dtype=x.dtype)
        s = s.expand(x.shape[0]) if s.ndim == 0 else s
        return x - s[:, None, None, None] * eps

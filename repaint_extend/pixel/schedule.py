"""The discrete DDPM noise schedule of the ADM/RePaint models, and its k-diffusion sigma form.

Forward process (Ho et al. 2020, "Denoising Diffusion Probabilistic Models", eq. 4):
``x_t = sqrt(abar_t) * x0 + sqrt(1 - abar_t) * eps`` with ``abar_t = prod_{s<=t} (1 - beta_s)``,
t = 0 .. T-1 in code indices (the paper's t = 1 .. T).

Dividing by ``sqrt(abar_t)`` gives the variance-exploding (EPS/VE) form used by k-diffusion and by
``samplers.sample_repaint`` (Karras et al. 2022, "EDM", Table 1, "VP" row and §2):
``x = x0 + sigma_t * eps`` with ``sigma_t = sqrt((1 - abar_t) / abar_t)``, and the network sees
``x / sqrt(1 + sigma_t^2) = sqrt(abar_t) * x_VE``.

All tensors here are float64 unless stated; the functions are pure torch.
"""

from __future__ import annotations

import torch

from ..checks import check_int

__all__ = [
    "linear_betas",
    "alphas_cumprod_from_betas",
    "sigmas_from_alphas_cumprod",
    "space_timesteps",
    "DiscreteSchedule",
]


def linear_betas(num_timesteps: int = 1000) -> torch.Tensor:
    """The linear beta schedule of Ho et al. 2020 (§4: beta_1 = 1e-4 to beta_T = 0.02, T = 1000),
    extended to any T as guided-diffusion's ``get_named_beta_schedule("linear", T)``
    (``guided_diffusion/gaussian_diffusion.py``): both ends are scaled by ``1000 / T``.

    Args:
        num_timesteps: T >= 1.

    Returns:
        ``[T]`` float64, evenly spaced from ``1e-4 * 1000/T`` to ``0.02 * 1000/T`` inclusive.

    Raises:
        ValueError: if T < 1 or the scaled beta_T reaches 1 (T < 21). TypeError: T not an int.
    """
    num_timesteps = check_int("num_timesteps", num_timesteps, 1)
    scale = 1000.0 / num_timesteps
    if 0.02 * scale >= 1.0:
        raise ValueError(f"linear schedule undefined for T = {num_timesteps}: beta_T = {0.02 * scale} >= 1")
    return torch.linspace(1e-4 * scale, 0.02 * scale, num_timesteps, dtype=torch.float64)


def alphas_cumprod_from_betas(betas: torch.Tensor) -> torch.Tensor:
    """``abar_t = prod_{s<=t} (1 - beta_s)`` (Ho et al. 2020, §2, notation before eq. 4); ``[T]`` float64,
    strictly decreasing for betas in (0, 1)."""
    return torch.cumprod(1.0 - betas.to(torch.float64), dim=0)


def sigmas_from_alphas_cumprod(alphas_cumprod: torch.Tensor) -> torch.Tensor:
    """``sigma_t = sqrt((1 - abar_t) / abar_t)`` (Karras et al. 2022, Table 1, VP: sigma(t) for
    discrete steps); ``[T]`` float64, increasing."""
    ac = alphas_cumprod.to(torch.float64)
    return ((1.0 - ac) / ac).sqrt()


def space_timesteps(num_timesteps: int, count: int) -> list[int]:
    """Evenly spaced original timesteps for a respaced sampler, as guided-diffusion's
    ``space_timesteps(T, "count")`` with one section (``guided_diffusion/respace.py``; RePaint's
    ``timestep_respacing: '250'``): ``round(i * (T - 1) / (count - 1))`` for i = 0 .. count-1, the
    stride accumulated in floating point and Python's round-half-to-even.

    Returns:
        Sorted increasing list of ``count`` distinct indices in [0, T-1].

    Raises:
        ValueError: if count is not in [1, T].
    """
    if not 1 <= count <= num_timesteps:
        raise ValueError(f"cannot take {count} steps out of {num_timesteps}")
    stride = 1.0 if count <= 1 else (num_timesteps - 1) / (count - 1)
    steps, cur = [], 0.0
    for _ in range(count):
        steps.append(round(cur))
        cur += stride
    return steps


class DiscreteSchedule:
    """A discrete DDPM schedule and its mapping to and from k-diffusion sigmas.

    Args:
        alphas_cumprod: ``[T]`` decreasing in (0, 1); default: the linear schedule of
            :func:`linear_betas` with T = 1000 (all RePaint / guided-diffusion 256 px models).

    Attributes:
        alphas_cumprod, sigmas, log_sigmas: ``[T]`` float64 (CPU).
        sigma_min, sigma_max: floats, ``sigmas[0]`` and ``sigmas[-1]``.
    """

    def __init__(self, alphas_cumprod: torch.Tensor | None = None):
        if alphas_cumprod is None:
            alphas_cumprod = alphas_cumprod_from_betas(linear_betas(1000))
        ac = torch.as_tensor(alphas_cumprod, dtype=torch.float64).detach().cpu().reshape(-1)
        if ac.numel() < 2 or not bool(((ac > 0) & (ac < 1)).all()) or not bool((ac[1:] < ac[:-1]).all()):
            raise ValueError("alphas_cumprod must hold >= 2 strictly decreasing values in (0, 1)")
        self.alphas_cumprod = ac
        self.sigmas = sigmas_from_alphas_cumprod(ac)
        self.log_sigmas = self.sigmas.log()
        self.num_timesteps = ac.numel()

    @property
    def sigma_min(self) -> float:
        return float(self.sigmas[0])

    @property
    def sigma_max(self) -> float:
        return float(self.sigmas[-1])

    def sigma_to_t(self, sigma: torch.Tensor) -> torch.Tensor:
        """Fractional timestep of each sigma, by linear interpolation of t in log sigma between the
        two neighbouring discrete steps (as k-diffusion's ``DiscreteSchedule.sigma_to_t``).

        Args:
            sigma: any shape, >= 0; values outside ``[sigma_min, sigma_max]`` are clamped (so 0 maps to
                t = 0).

        Returns:
            Tensor of the same shape, float32 on sigma's device, in [0, T-1]; exactly ``i`` at
            ``sigmas[i]`` up to rounding.
        """
        sigma = torch.as_tensor(sigma)
        device = sigma.device
        log_s = sigma.detach().to("cpu", torch.float64).clamp(self.sigma_min, self.sigma_max).log()
        ls = self.log_sigmas
        hi = torch.searchsorted(ls, log_s.reshape(-1)).clamp(1, ls.numel() - 1).reshape(log_s.shape)
        lo = hi - 1
        w = (log_s - ls[lo]) / (ls[hi] - ls[lo])
        t = (lo.to(torch.float64) + w).clamp(0, ls.numel() - 1)
        return t.to(device=device, dtype=torch.float32)

    def t_to_sigma(self, t: torch.Tensor) -> torch.Tensor:
        """Sigma at fractional timesteps, interpolating log sigma linearly (inverse of
        :meth:`sigma_to_t`). ``t`` any shape in [0, T-1] (clamped); returns float32 on t's device."""
        t = torch.as_tensor(t)
        device = t.device
        tt = t.detach().to("cpu", torch.float64).clamp(0, self.num_timesteps - 1)
        lo = tt.floor().long().clamp(max=self.num_timesteps - 2)
        w = tt - lo
        log_s = (1 - w) * self.log_sigmas[lo] + w * self.log_sigmas[lo + 1]
        return log_s.exp().to(device=device, dtype=torch.float32)

    def sigmas_for_timesteps(self, timesteps, append_zero: bool = True) -> torch.Tensor:
        """Decreasing sigma schedule for the sampler from a set of integer timesteps.

        Args:
            timesteps: iterable of ints in [0, T-1] (any order; duplicates removed), e.g.
                :func:`space_timesteps` ``(1000, 250)`` for RePaint's ``timestep_respacing: '250'``.
                Respacing in guided-diffusion recomputes betas from the kept ``abar`` values
                (``respace.py``), which is the same as keeping these sigmas.
            append_zero: end with sigma = 0 (the sampler's final clean state).

        Returns:
            ``[n (+1)]`` float32, decreasing.
        """
        ts = sorted(set(int(t) for t in timesteps), reverse=True)
        if not ts or ts[0] >= self.num_timesteps or ts[-1] < 0:
            raise ValueError(f"timesteps must be in [0, {self.num_timesteps - 1}]")
        s = self.sigmas[ts].to(torch.float32)
        if append_zero:
            s = torch.cat([s, s.new_zeros(1)])
        return s

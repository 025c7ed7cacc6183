"""The RePaint sampler in k-diffusion form (Lugmayr et al., CVPR 2022, Algorithm 1).

``sample_repaint`` has the calling convention of k-diffusion's samplers, which ComfyUI wraps as a
``KSAMPLER``: ``model(x, sigma * s_in, **extra_args)`` returns the denoised estimate x0_hat, and
``sigmas`` is a decreasing 1-D tensor ending at 0. Masks, known-region handling, CFG and conditioning
are the caller's model wrapper (in ComfyUI: ``KSamplerX0Inpaint``); this module is pure torch.

Noise convention. A state at noise level sigma is ``x = a(sigma) * x0 + b(sigma) * eps``. A plain
callable model is taken to follow the EPS/VE convention a = 1, b = sigma (k-diffusion; Karras et al.
2022, "EDM", Table 1); flow models (rectified flow, ComfyUI's CONST) have a = 1 - sigma, b = sigma.
:func:`scales_from_noise_scaling` reads a and b off any host object with a ``noise_scaling`` method.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from tqdm.auto import tqdm

from .schedule import jump_schedule, schedule_moves

__all__ = [
    "ScaleFn",
    "ve_scales",
    "flow_scales",
    "scales_from_noise_scaling",
    "denoise_step",
    "renoise_jump",
    "sample_repaint",
    "seeded_noise_sampler",
]

ScaleFn = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
"""Maps sigmas ``[N]`` to the signal and noise scales ``(a, b)``, each ``[N]``."""


def ve_scales(sigmas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """EPS/VE convention x = x0 + sigma * eps: a = 1, b = sigma (Karras et al. 2022, Table 1)."""
    return torch.ones_like(sigmas), sigmas


def flow_scales(sigmas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rectified-flow convention x = (1 - sigma) * x0 + sigma * eps, sigma in [0, 1]
    (Liu et al. 2022; Esser et al. 2024, "SD3", eq. 1 with t = sigma)."""
    return 1.0 - sigmas, sigmas


def scales_from_noise_scaling(noise_scaling: Callable) -> ScaleFn:
    """Build a :data:`ScaleFn` from a host's ``noise_scaling(sigma, noise, latent_image)``.

    ComfyUI's ``model_sampling.noise_scaling`` is linear in ``noise`` and ``latent_image``, so
    a = noise_scaling(sigma, 0, 1) and b = noise_scaling(sigma, 1, 0). This covers EPS, V-prediction
    (a = 1, b = sigma) and CONST/flow (a = 1 - sigma, b = sigma) without naming them.
    """

    def scales(sigmas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        sigmas = sigmas.reshape(-1)
        zeros, ones = torch.zeros_like(sigmas), torch.ones_like(sigmas)
        a = noise_scaling(sigmas, zeros.clone(), ones.clone())
        b = noise_scaling(sigmas, ones.clone(), zeros.clone())
        return a.reshape(-1), b.reshape(-1)

    return scales


def denoise_step(
    x: torch.Tensor,
    denoised: torch.Tensor,
    a_hi: torch.Tensor,
    b_hi: torch.Tensor,
    a_lo: torch.Tensor,
    b_lo: torch.Tensor,
    eta: float,
    noise: torch.Tensor | None,
) -> torch.Tensor:
    """One reverse step from noise level hi to lo, given the model's x0 estimate.

    ``x_lo = a_lo * x0_hat + b_lo * (sqrt(1 - c^2) * eps_hat + c * z)`` with
    ``eps_hat = (x_hi - a_hi * x0_hat) / b_hi`` and ``c = min(1, eta * sqrt(1 - rho^2))``,
    ``rho = (b_lo / a_lo) / (b_hi / a_hi)``. With eta = 1 this is the DDPM posterior q(x_lo | x_hi, x0)
    that RePaint's Algorithm 1 (line 6) samples (Ho et al. 2020, eq. 6-7); with eta = 0 it is DDIM
    (Song et al. 2021, eq. 12 and 16, whose sigma_t(eta) is ``a_lo * b_lo/a_lo * c``).

    Args:
        x: the state at level hi, ``[B, C, ...]``.
        denoised: x0_hat, same shape.
        a_hi, b_hi, a_lo, b_lo: 0-dim tensors, the signal and noise scales at both levels; b_hi > 0.
        eta: 0 (deterministic) .. 1 (ancestral DDPM); larger values are clamped to c = 1.
        noise: z ~ N(0, I), shape of x; may be None when eta == 0 or b_lo == 0.

    Returns:
        The state at level lo, a new tensor.
    """
    if float(b_lo) == 0.0:
        return denoised.clone()
    eps_hat = (x - a_hi * denoised) / b_hi
    rho = (b_lo * a_hi) / (a_lo * b_hi)
    c = torch.clamp(eta * torch.sqrt(torch.clamp(1.0 - rho * rho, min=0.0)), max=1.0)
    out = a_lo * denoised + b_lo * torch.sqrt(1.0 - c * c) * eps_hat
    if float(c) > 0.0:
        out = out + (b_lo * c) * noise
    return out


def renoise_jump(
    x: torch.Tensor,
    a_lo: torch.Tensor,
    b_lo: torch.Tensor,
    a_hi: torch.Tensor,
    b_hi: torch.Tensor,
    noise: torch.Tensor,
) -> torch.Tensor:
    """Re-noise ("undo", RePaint Algorithm 1 line 9) from level lo up to level hi in one draw.

    ``x_hi = k * x_lo + sqrt(b_hi^2 - k^2 * b_lo^2) * z`` with ``k = a_hi / a_lo``: the forward process
    q(x_hi | x_lo), which equals any chain of single re-noising steps between the two levels, since a
    composition of Gaussian transitions is Gaussian (Ho et al. 2020, eq. 4 applied twice).

    Args:
        x: the state at level lo, ``[B, C, ...]``.
        a_lo, b_lo, a_hi, b_hi: 0-dim tensors, the scales at both levels, a_lo > 0, b_hi >= b_lo * k.
        noise: z ~ N(0, I), shape of x.

    Returns:
        The state at level hi, a new tensor.
    """
    k = a_hi / a_lo
    std = torch.sqrt(torch.clamp(b_hi * b_hi - k * k * b_lo * b_lo, min=0.0))
    return k * x + std * noise


def seeded_noise_sampler(x: torch.Tensor, seed: int | None) -> Callable:
    """``noise_sampler(sigma, sigma_next) -> z ~ N(0, I)`` shaped like ``x``, from a generator seeded
    with ``seed`` on x's device (torch's global generator when ``seed`` is None)."""
    if seed is None:
        return lambda sigma, sigma_next: torch.randn_like(x)
    generator = torch.Generator(device=x.device)
    generator.manual_seed(int(seed))
    return lambda sigma, sigma_next: torch.randn(
        x.shape, dtype=x.dtype, layout=x.layout, device=x.device, generator=generator
    )


@torch.no_grad()
def sample_repaint(
    model: Callable,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    extra_args: dict | None = None,
    callback: Callable[[dict], None] | None = None,
    disable: bool | None = None,
    *,
    jump_length: int = 10,
    jump_n_sample: int = 10,
    eta: float = 1.0,
    start_percent: float = 0.0,
    end_percent: float = 1.0,
    scales: ScaleFn | None = None,
    noise_sampler: Callable | None = None,
) -> torch.Tensor:
    """RePaint resampling (Lugmayr et al., CVPR 2022, Algorithm 1) over any sigma schedule.

    The walk follows :func:`samplers.jump_schedule` over the ``T = len(sigmas) - 1`` steps: time index
    t has noise level ``sigmas[T - 1 - t]`` (index -1 is ``sigmas[-1]``, normally 0). Each decrease is
    one model call and one :func:`denoise_step`; each jump back is one :func:`renoise_jump` and no
    model call. The known region is the model wrapper's business: it must re-noise the known pixels
    at the level it is called with (RePaint Algorithm 1, lines 4-5 and 8).

    Args:
        model: ``model(x, sigma * s_in, **extra_args) -> x0_hat``, shapes ``[B, C, ...]`` and ``[B]``.
        x: the starting state at ``sigmas[0]``, ``[B, C, ...]`` (noise already scaled by the caller).
        sigmas: ``[T + 1]``, decreasing, in the model's sigma units; normally ends at 0.
        extra_args: passed to the model; its ``"seed"`` (int) seeds the default noise sampler.
        callback: called once per model call with ``{"x", "i", "sigma", "sigma_hat", "denoised",
            "nfe"}``: ``i`` counts model calls from 0, ``nfe`` is their total.
        disable: disables the tqdm progress bar (which counts model calls).
        jump_length, jump_n_sample, start_percent, end_percent: see :func:`samplers.jump_schedule`.
        eta: noise of each reverse step, 0 (DDIM) .. 1 (DDPM posterior, the paper's choice).
        scales: maps sigmas to the model's signal and noise scales (a, b); defaults to
            :func:`ve_scales` (x = x0 + sigma * eps).
        noise_sampler: ``noise_sampler(sigma, sigma_next) -> z`` with the shape of x; defaults to a
            generator seeded from ``extra_args["seed"]`` (or torch's global generator if none).

    Returns:
        The final state at ``sigmas[-1]``, ``[B, C, ...]``.

    Raises:
        ValueError, TypeError: bad schedule parameters (see :func:`samplers.jump_schedule`) or a
            ``sigmas`` that is not 1-D.
    """
    if sigmas.ndim != 1:
        raise ValueError(f"sigmas must be 1-D, got shape {tuple(sigmas.shape)}")
    extra_args = {} if extra_args is None else extra_args
    steps = len(sigmas) - 1
    if steps < 1:
        return x
    if eta < 0:
        raise ValueError(f"eta must be >= 0, got {eta}")
    moves = schedule_moves(jump_schedule(steps, jump_length, jump_n_sample, start_percent, end_percent))
    nfe = sum(1 for t_from, t_to in moves if t_to < t_from)
    a_all, b_all = (scales or ve_scales)(sigmas)
    if noise_sampler is None:
        noise_sampler = seeded_noise_sampler(x, extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])

    i = 0
    with tqdm(total=nfe, disable=disable) as pbar:
        for t_from, t_to in moves:
            k_from, k_to = steps - 1 - t_from, steps - 1 - t_to  # positions in sigmas
            if t_to < t_from:
                sigma, sigma_next = sigmas[k_from], sigmas[k_to]
                denoised = model(x, sigma * s_in, **extra_args)
                if callback is not None:
                    callback(
                        {"x": x, "i": i, "sigma": sigma, "sigma_hat": sigma, "denoised": denoised, "nfe": nfe}
                    )
                noise = noise_sampler(sigma, sigma_next) if eta > 0 and float(b_all[k_to]) > 0 else None
                x = denoise_step(
                    x, denoised, a_all[k_from], b_all[k_from], a_all[k_to], b_all[k_to], eta, noise
                )
                i += 1
                pbar.update(1)
            else:
                noise = noise_sampler(sigmas[k_from], sigmas[k_to])
                x = renoise_jump(x, a_all[k_from], b_all[k_from], a_all[k_to], b_all[k_to], noise)
    return x

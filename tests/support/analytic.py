"""Analytic Gaussian denoisers and schedules for the sampler tests (no host, no weights)."""

import math

import torch

RHO = 0.95
COV = torch.tensor([[1.0, RHO], [RHO, 1.0]], dtype=torch.float64)


def gaussian_denoiser(scales, cov=COV):
    """Exact E[x0 | x] for x0 ~ N(0, cov) and x = a x0 + b eps: a cov (a^2 cov + b^2 I)^-1 x."""

    def model(x, sigma, **kwargs):
        a, b = scales(sigma[:1])
        a, b = a.double(), b.double()
        eye = torch.eye(cov.shape[0], dtype=torch.float64)
        gain = a * cov @ torch.linalg.inv(a * a * cov + b * b * eye)
        return (x.double() @ gain.T).to(x.dtype)

    return model


def ve_sigmas(steps, sigma_max=80.0, sigma_min=0.002):
    sigmas = torch.exp(torch.linspace(math.log(sigma_max), math.log(sigma_min), steps, dtype=torch.float64))
    return torch.cat([sigmas, sigmas.new_zeros(1)])


def flow_sigmas(steps):
    return torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64)


def start_noise(n, sigmas, scales, seed=0):
    a, b = scales(sigmas[:1])
    z = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return b * z  # the prior's own signal part is negligible (VE) or zero (flow, a = 0)

"""The RePaint sampler with analytic denoisers (no host): model-call count, step maths, determinism,
and inpainting quality on a Gaussian prior whose true conditional is known."""

import pytest
import torch
from support.analytic import COV, RHO, flow_sigmas, gaussian_denoiser, start_noise, ve_sigmas  # noqa: F401

from repaint_extend.samplers import (
    KnownRegionDenoiser,
    denoise_step,
    flow_scales,
    renoise_jump,
    sample_repaint,
    scales_from_noise_scaling,
    schedule_nfe,
    ve_scales,
)


class Counter:
    def __init__(self, model):
        self.model, self.calls = model, 0

    def __call__(self, x, sigma, **kwargs):
        self.calls += 1
        return self.model(x, sigma, **kwargs)


@pytest.mark.parametrize("steps, j, r", [(20, 3, 2), (30, 10, 4), (12, 5, 1)])
def test_one_model_call_per_decrease(steps, j, r):
    model = Counter(gaussian_denoiser(ve_scales))
    calls_seen = []
    sigmas = ve_sigmas(steps)
    sample_repaint(
        model,
        start_noise(8, sigmas, ve_scales),
        sigmas,
        callback=lambda d: calls_seen.append((d["i"], d["nfe"])),
        jump_length=j,
        jump_n_sample=r,
        disable=True,
    )
    nfe = schedule_nfe(steps, j, r)
    assert model.calls == nfe
    assert calls_seen == [(i, nfe) for i in range(nfe)]


def test_deterministic_for_a_seed_and_different_across_seeds():
    sigmas = ve_sigmas(10)
    x = start_noise(4, sigmas, ve_scales)
    run = lambda seed: sample_repaint(  # noqa: E731
        gaussian_denoiser(ve_scales), x, sigmas, {"seed": seed}, jump_length=3, jump_n_sample=3, disable=True
    )
    assert torch.equal(run(5), run(5))
    assert not torch.allclose(run(5), run(6))


def test_renoise_jump_has_the_forward_process_moments():
    """One closed-form jump equals the forward process q(x_hi | x_lo): mean k x_lo, var b_hi^2 - k^2 b_lo^2."""
    n = 200_000
    gen = torch.Generator().manual_seed(0)
    x_lo = torch.full((n,), 0.7, dtype=torch.float64)
    for scales in (ve_scales, flow_scales):
        s = torch.tensor([0.3, 0.8], dtype=torch.float64)
        (a_lo, a_hi), (b_lo, b_hi) = scales(s)
        x_hi = renoise_jump(x_lo, a_lo, b_lo, a_hi, b_hi, torch.randn(n, generator=gen, dtype=torch.float64))
        k = a_hi / a_lo
        assert x_hi.mean().item() == pytest.approx((k * 0.7).item(), abs=5e-3)
        assert x_hi.var().item() == pytest.approx((b_hi**2 - k**2 * b_lo**2).item(), rel=2e-2)


def test_denoise_step_is_the_ddpm_posterior_in_vp_terms():
    """With eta = 1 the step's variance is the DDPM posterior variance (Ho et al. 2020, eq. 7),
    beta_tilde = (1 - abar_lo) / (1 - abar_hi) * (1 - abar_hi / abar_lo), once mapped to VP scaling."""
    sigma_hi, sigma_lo = torch.tensor(2.0, dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64)
    abar_hi, abar_lo = 1 / (1 + sigma_hi**2), 1 / (1 + sigma_lo**2)
    x, x0 = torch.tensor([1.3], dtype=torch.float64), torch.tensor([0.2], dtype=torch.float64)
    one = torch.tensor(1.0, dtype=torch.float64)
    mean = denoise_step(x, x0, one, sigma_hi, one, sigma_lo, 1.0, torch.zeros(1, dtype=torch.float64))
    unit = denoise_step(x, x0, one, sigma_hi, one, sigma_lo, 1.0, torch.ones(1, dtype=torch.float64)) - mean
    beta_tilde = (1 - abar_lo) / (1 - abar_hi) * (1 - abar_hi / abar_lo)
    assert (unit**2 * abar_lo).item() == pytest.approx(beta_tilde.item(), rel=1e-12)
    # DDPM posterior mean (Ho et al. eq. 7) in VP terms, mapped back by 1 / sqrt(abar_lo)
    alpha = abar_hi / abar_lo
    x_vp = x * abar_hi.sqrt()
    mu = (abar_lo.sqrt() * (1 - alpha) / (1 - abar_hi)) * x0 + (
        alpha.sqrt() * (1 - abar_lo) / (1 - abar_hi)
    ) * x_vp
    assert (mean * abar_lo.sqrt()).item() == pytest.approx(mu.item(), rel=1e-12)


def test_eta_zero_is_deterministic_ddim():
    one, s_hi, s_lo = (torch.tensor(v, dtype=torch.float64) for v in (1.0, 2.0, 0.5))
    x, x0 = torch.tensor([1.3], dtype=torch.float64), torch.tensor([0.2], dtype=torch.float64)
    out = denoise_step(x, x0, one, s_hi, one, s_lo, 0.0, None)
    assert out.item() == pytest.approx((x0 + s_lo * (x - x0) / s_hi).item(), rel=1e-12)


def test_scales_from_noise_scaling_reads_eps_and_flow_conventions():
    sig = torch.tensor([0.0, 0.5, 1.0])
    eps_like = lambda sigma, noise, latent: noise * sigma.view(-1) + latent  # noqa: E731
    flow_like = lambda sigma, noise, latent: sigma.view(-1) * noise + (1 - sigma.view(-1)) * latent  # noqa: E731
    for host, ref in ((eps_like, ve_scales), (flow_like, flow_scales)):
        a, b = scales_from_noise_scaling(host)(sig)
        ra, rb = ref(sig)
        assert torch.equal(a, ra) and torch.equal(b, rb)


@pytest.mark.parametrize("convention", ["ve", "flow"])
def test_inpainting_a_gaussian_matches_the_true_conditional(convention):
    """x0 ~ N(0, [[1, .95], [.95, 1]]), first coordinate known = 1.5: the true conditional of the second is
    N(1.425, 0.0975). RePaint's resampling must get close; plain replacement (r = 1) at the same schedule
    must be clearly worse, which is what the paper's resampling is for (section 4.2)."""
    scales = ve_scales if convention == "ve" else flow_scales
    sigmas = ve_sigmas(50) if convention == "ve" else flow_sigmas(50)
    n = 4000
    known = torch.tensor([[1.5, 0.0]], dtype=torch.float64)
    mask = torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    true_mean, true_var = RHO * 1.5, 1 - RHO**2

    def run(r):
        model = KnownRegionDenoiser(gaussian_denoiser(scales), known, mask, scales=scales, seed=1)
        out = sample_repaint(
            model,
            start_noise(n, sigmas, scales),
            sigmas,
            {"seed": 2},
            jump_length=5,
            jump_n_sample=r,
            scales=scales,
            disable=True,
        )
        assert torch.equal(out[:, 0], known[:, 0].expand(n))  # the known coordinate comes back exactly
        return out[:, 1].mean().item(), out[:, 1].var().item()

    mean_r, var_r = run(10)
    mean_1, _ = run(1)
    assert abs(mean_r - true_mean) < 0.05, (mean_r, true_mean)
    assert var_r == pytest.approx(true_var, rel=0.2)
    assert abs(mean_1 - true_mean) > 3 * abs(mean_r - true_mean), (mean_1, mean_r)


def test_bad_inputs():
    x = torch.zeros(2, 2)
    with pytest.raises(ValueError, match="sigmas must be 1-D"):
        sample_repaint(gaussian_denoiser(ve_scales), x, torch.zeros(2, 3))
    with pytest.raises(ValueError, match="eta"):
        sample_repaint(gaussian_denoiser(ve_scales), x, ve_sigmas(5), eta=-1.0, jump_length=2)
    with pytest.raises(ValueError, match="jump_length"):
        sample_repaint(gaussian_denoiser(ve_scales), x, ve_sigmas(5), jump_length=5, jump_n_sample=2)
    with pytest.raises(ValueError, match="broadcast"):
        KnownRegionDenoiser(gaussian_denoiser(ve_scales), torch.zeros(3, 2), torch.zeros(4, 2))


def test_input_not_modified_in_place():
    sigmas = ve_sigmas(8)
    x = start_noise(4, sigmas, ve_scales)
    x_copy, sigmas_copy = x.clone(), sigmas.clone()
    sample_repaint(gaussian_denoiser(ve_scales), x, sigmas, jump_length=2, jump_n_sample=2, disable=True)
    assert torch.equal(x, x_copy) and torch.equal(sigmas, sigmas_copy)

"""The kinetic-Langevin predictor-corrector sampler with analytic denoisers (no host): the corrector's
stationary law at a fixed level, inpainting a Gaussian in the VE and flow conventions, model-call
count, determinism and bad input."""

import pytest
import torch
from support.analytic import RHO, flow_sigmas, gaussian_denoiser, start_noise, ve_sigmas

from repaint_extend.samplers import (
    KnownRegionDenoiser,
    flow_scales,
    kinetic_langevin_step,
    langevin_nfe,
    sample_langevin_pc,
    ve_scales,
)

COV3 = torch.tensor([[1.0, 0.9, 0.6], [0.9, 1.0, 0.8], [0.6, 0.8, 1.0]], dtype=torch.float64)


def noisy_conditional(cov, s, known_idx, unknown_idx, known_value):
    """Mean and covariance of x_unknown given x_known = known_value under x = x0 + s eps, x0 ~ N(0, cov)."""
    c = cov + s * s * torch.eye(cov.shape[0], dtype=torch.float64)
    c_uk = c[unknown_idx][:, known_idx]
    gain = c_uk @ torch.linalg.inv(c[known_idx][:, known_idx])
    return gain @ known_value, c[unknown_idx][:, unknown_idx] - gain @ c_uk.T


@pytest.mark.parametrize("step_size, friction", [(1.5, 0.5), (0.7, 2.0)])
def test_corrector_samples_the_noisy_conditional_at_a_fixed_level(step_size, friction):
    """At sigma = 0.6 with coordinate 0 held at 1.2, the chain's unknown coordinates must have the
    closed-form law of x_unknown | x_known under the NOISY joint N(0, cov + sigma^2 I) (BAOAB samples a
    Gaussian's positions exactly; Leimkuhler & Matthews 2013). The clean conditional p(x0_u | x0_k),
    which a wrong target would give, is far from it."""
    s, n, burn, keep = 0.6, 2000, 100, 100
    known = torch.tensor([1.2], dtype=torch.float64)
    model = gaussian_denoiser(ve_scales, COV3)
    sigma = torch.full((n,), s, dtype=torch.float64)

    def denoise(u):
        u = u.clone()
        u[:, 0] = known  # the known coordinate is held fixed (the wrapper's job)
        return model(u, sigma)

    gen = torch.Generator().manual_seed(0)
    u = torch.zeros(n, 3, dtype=torch.float64)
    u[:, 0] = known
    v = s * torch.randn(n, 3, generator=gen, dtype=torch.float64)
    force = denoise(u) - u
    samples = []
    for it in range(burn + keep):
        noise = torch.randn(n, 3, generator=gen, dtype=torch.float64)
        u, v, force, _ = kinetic_langevin_step(u, v, force, denoise, s, step_size, friction, noise)
        u[:, 0] = known
        if it >= burn and it % 5 == 0:
            samples.append(u[:, 1:].clone())
    got = torch.cat(samples)
    mean, cov = noisy_conditional(COV3, s, [0], [1, 2], known)
    assert torch.allclose(got.mean(0), mean, atol=0.03), (got.mean(0), mean)
    assert torch.allclose(torch.cov(got.T), cov, atol=0.03), (torch.cov(got.T), cov)
    clean_mean, clean_cov = noisy_conditional(COV3, 0.0, [0], [1, 2], known)
    assert (clean_cov.diagonal() - cov.diagonal()).abs().min() > 0.2  # the test can tell them apart


@pytest.mark.parametrize("convention", ["ve", "flow"])
def test_inpainting_a_gaussian_matches_the_true_conditional(convention):
    """x0 ~ N(0, [[1, .95], [.95, 1]]), first coordinate known = 1.5: the second's true conditional is
    N(1.425, 0.0975). With correctors the sampler must get close, closer than the predictor alone."""
    scales = ve_scales if convention == "ve" else flow_scales
    sigmas = ve_sigmas(30) if convention == "ve" else flow_sigmas(30) ** 2  # more steps at low noise
    n = 4000
    known = torch.tensor([[1.5, 0.0]], dtype=torch.float64)
    mask = torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    true_mean, true_var = RHO * 1.5, 1 - RHO**2

    def run(k):
        model = KnownRegionDenoiser(
            gaussian_denoiser(scales), known, mask, scales=scales, seed=1, fixed_noise=True
        )
        out = sample_langevin_pc(
            model,
            start_noise(n, sigmas, scales),
            sigmas,
            {"seed": 2},
            corrector_steps=k,
            scales=scales,
            disable=True,
        )
        assert torch.equal(out[:, 0], known[:, 0].expand(n))  # the known coordinate comes back exactly
        return out[:, 1].mean().item(), out[:, 1].var().item()

    mean_k, var_k = run(4)
    mean_0, _ = run(0)
    assert abs(mean_k - true_mean) < 0.03, (mean_k, true_mean)
    assert var_k == pytest.approx(true_var, rel=0.15)
    assert abs(mean_0 - true_mean) > 3 * abs(mean_k - true_mean), (mean_0, mean_k)


def test_one_callback_per_model_call_and_nfe_in_the_closed_form():
    calls, seen = [], []
    model = gaussian_denoiser(ve_scales)

    def counted(x, sigma, **kwargs):
        calls.append(float(sigma[0]))
        return model(x, sigma)

    sigmas = ve_sigmas(7)
    sample_langevin_pc(
        counted,
        start_noise(3, sigmas, ve_scales),
        sigmas,
        {"seed": 0},
        callback=seen.append,
        corrector_steps=3,
        disable=True,
    )
    assert len(calls) == len(seen) == langevin_nfe(sigmas, 3) == 7 + 3 * 6
    assert [c["i"] for c in seen] == list(range(len(calls)))
    assert all(c["nfe"] == len(calls) for c in seen)


def test_deterministic_for_a_seed_and_different_across_seeds():
    sigmas = ve_sigmas(6)
    x = start_noise(5, sigmas, ve_scales)

    def run(seed):
        return sample_langevin_pc(gaussian_denoiser(ve_scales), x, sigmas, {"seed": seed}, disable=True)

    assert torch.equal(run(3), run(3))
    assert not torch.equal(run(3), run(4))


def test_known_region_noise_is_fixed_on_request():
    seen = []

    def spy(x, sigma, **kwargs):
        seen.append(x[:, 0].clone())
        return torch.zeros_like(x)

    model = KnownRegionDenoiser(spy, torch.zeros(1, 2), torch.tensor([[0.0, 1.0]]), seed=0, fixed_noise=True)
    model(torch.zeros(4, 2), torch.full((4,), 2.0))
    model(torch.zeros(4, 2), torch.full((4,), 1.0))
    assert torch.equal(seen[0] / 2.0, seen[1])  # the same z, scaled by sigma


def test_bad_inputs_and_no_in_place_change():
    x, sigmas = torch.zeros(2, 2), ve_sigmas(4)
    model = gaussian_denoiser(ve_scales)
    with pytest.raises(ValueError, match="sigmas must be 1-D"):
        sample_langevin_pc(model, x, torch.zeros(2, 3))
    with pytest.raises(ValueError, match="step_size"):
        sample_langevin_pc(model, x, sigmas, step_size=2.0)
    with pytest.raises(ValueError, match="corrector_steps"):
        sample_langevin_pc(model, x, sigmas, corrector_steps=-1)
    with pytest.raises(ValueError, match="friction"):
        sample_langevin_pc(model, x, sigmas, friction=-0.1)
    x = start_noise(4, sigmas, ve_scales)
    x_copy, sigmas_copy = x.clone(), sigmas.clone()
    sample_langevin_pc(model, x, sigmas, disable=True)
    assert torch.equal(x, x_copy) and torch.equal(sigmas, sigmas_copy)

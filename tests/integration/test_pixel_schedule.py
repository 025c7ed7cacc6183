"""The linear DDPM schedule, its sigmas, and the sigma <-> timestep mapping."""

import math

import pytest
import torch

from repaint_extend.pixel import (
    DiscreteSchedule,
    alphas_cumprod_from_betas,
    linear_betas,
    sigmas_from_alphas_cumprod,
    space_timesteps,
)


def test_linear_betas_ho_et_al():
    b = linear_betas(1000)
    assert b.dtype == torch.float64 and b.shape == (1000,)
    assert b[0].item() == pytest.approx(1e-4, abs=1e-15) and b[-1].item() == pytest.approx(0.02, abs=1e-15)
    assert torch.allclose(b[1:] - b[:-1], torch.full((999,), (0.02 - 1e-4) / 999, dtype=torch.float64))
    b250 = linear_betas(250)  # guided-diffusion scales both ends by 1000 / T
    assert b250[0].item() == pytest.approx(4e-4) and b250[-1].item() == pytest.approx(0.08)
    with pytest.raises(ValueError):
        linear_betas(10)


def test_alphas_cumprod_and_sigma_extremes():
    ac = alphas_cumprod_from_betas(linear_betas(1000))
    assert bool((ac[1:] < ac[:-1]).all()) and 0 < ac[-1] < ac[0] < 1
    # Independent computation in Python floats: abar_T = prod (1 - beta_i).
    p = 1.0
    for i in range(1000):
        p *= 1.0 - (1e-4 + i * (0.02 - 1e-4) / 999)
    assert ac[-1].item() == pytest.approx(p, rel=1e-10)
    assert p == pytest.approx(4.0358e-5, rel=1e-4)
    s = sigmas_from_alphas_cumprod(ac)
    assert bool((s[1:] > s[:-1]).all())
    assert s[0].item() == pytest.approx(math.sqrt(1e-4 / (1 - 1e-4)), rel=1e-12)  # 0.0100005
    assert s[-1].item() == pytest.approx(math.sqrt((1 - p) / p), rel=1e-9)  # 157.407
    assert s[-1].item() == pytest.approx(157.4073, rel=1e-5)
    sched = DiscreteSchedule()
    assert sched.sigma_min == pytest.approx(0.0100005, rel=1e-5)
    assert sched.sigma_max == pytest.approx(157.4073, rel=1e-5)


def test_sigma_to_t_inverts_the_grid_and_interpolates_in_log_sigma():
    sched = DiscreteSchedule()
    t = sched.sigma_to_t(sched.sigmas.float())
    assert torch.allclose(t, torch.arange(1000, dtype=torch.float32), atol=2e-3)
    # Geometric mean of two neighbouring sigmas is half-way in log sigma.
    mid = (sched.sigmas[10] * sched.sigmas[11]).sqrt().float()
    assert sched.sigma_to_t(mid).item() == pytest.approx(10.5, abs=1e-3)
    # Round trip at fractional t, monotone, clamped outside the range.
    tt = torch.linspace(0, 999, 517)
    assert torch.allclose(sched.sigma_to_t(sched.t_to_sigma(tt)), tt, atol=2e-3)
    s = torch.logspace(-3, 3, 200)
    ts = sched.sigma_to_t(s)
    assert bool((ts[1:] >= ts[:-1]).all())
    assert ts[0].item() == 0.0 and ts[-1].item() == 999.0
    assert sched.sigma_to_t(torch.tensor(0.0)).item() == 0.0
    assert sched.sigma_to_t(torch.zeros(2, 3)).shape == (2, 3)


def test_space_timesteps_like_guided_diffusion_respacing():
    s = space_timesteps(1000, 250)
    assert len(s) == 250 and len(set(s)) == 250 and s[0] == 0 and s[-1] == 999
    assert s[:4] == [0, 4, 8, 12] and s[124] == 497  # round(124 * 999 / 249) = round(497.49)
    assert space_timesteps(1000, 1000) == list(range(1000))
    assert space_timesteps(1000, 1) == [0]
    with pytest.raises(ValueError):
        space_timesteps(10, 11)


def test_sigmas_for_timesteps():
    sched = DiscreteSchedule()
    sig = sched.sigmas_for_timesteps(space_timesteps(1000, 50))
    assert sig.shape == (51,) and sig[-1] == 0 and bool((sig[1:] < sig[:-1]).all())
    assert sig[0].item() == pytest.approx(sched.sigma_max, rel=1e-6)
    assert sig[-2].item() == pytest.approx(sched.sigma_min, rel=1e-6)
    with pytest.raises(ValueError):
        sched.sigmas_for_timesteps([1000])


def test_schedule_rejects_bad_alphas():
    with pytest.raises(ValueError):
        DiscreteSchedule(torch.tensor([0.5, 0.7]))
    with pytest.raises(ValueError):
        DiscreteSchedule(torch.tensor([1.0, 0.5]))


def test_schedule_and_denoiser_agree_with_the_hosts_model_sampling(comfy):
    """pixel/schedule.py and pixel/denoiser.py re-implement, for use without ComfyUI, the schedule that
    ComfyUI runs the pixel models with: ModelSamplingDiscrete, ``sqrt_linear`` (linear in beta, 1e-4 ..
    2e-2, T = 1000), EPS. Checked against the MODEL that Load ADM Pixel Model returns."""
    import nodes
    from comfy.model_sampling import EPS, ModelSamplingDiscrete

    from repaint_extend.pixel import ADMDenoiser

    loader = nodes.NODE_CLASS_MAPPINGS["LoadADMPixelModel"]
    model = loader.execute("[embedded] digits 16x16", 64, 4).result[0]
    host = model.get_model_object("model_sampling")
    assert isinstance(host, ModelSamplingDiscrete) and isinstance(host, EPS) and host.num_timesteps == 1000
    assert (host.linear_start, host.linear_end) == (1e-4, 2e-2)
    ours = DiscreteSchedule()
    torch.testing.assert_close(ours.sigmas.float(), host.sigmas, rtol=1e-6, atol=0)
    # sigma <-> t: both interpolate log sigma linearly between integer steps
    t = torch.linspace(0, 999, 37, dtype=torch.float64)
    torch.testing.assert_close(ours.t_to_sigma(t).float(), host.sigma(t.float()), rtol=1e-5, atol=0)
    grid = host.sigmas[::37]
    assert torch.equal(ours.sigma_to_t(grid.double()).round().long(), host.timestep(grid))
    # the denoiser: the same x0 as ComfyUI's model call (which rounds t to the nearest step)
    net = model.model.diffusion_model.unet
    denoiser = ADMDenoiser(net, quantize=True)
    x = torch.randn(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    sigma = torch.tensor([0.05, 1.3, 40.0])
    x_in = x * torch.sqrt(1 + sigma**2)[:, None, None, None]
    with torch.no_grad():
        expected = model.model.apply_model(x_in, sigma)
        torch.testing.assert_close(denoiser(x_in, sigma), expected, rtol=1e-4, atol=1e-4)

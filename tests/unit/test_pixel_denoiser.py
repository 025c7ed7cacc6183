"""ADMDenoiser: the k-diffusion EPS/VE wrapper (x = x0 + sigma * eps) around an epsilon network."""

import pytest
import torch

from repaint_extend.pixel import ADMDenoiser, ADMUNet, DiscreteSchedule, published_config, space_timesteps

torch.set_num_threads(1)


class Recorder(torch.nn.Module):
    """A stub epsilon net: returns fixed channels and records what it was called with."""

    def __init__(self, out, in_channels=3):
        super().__init__()
        self.out, self.in_channels, self.out_channels = out, in_channels, out.shape[1]
        self.calls = []

    def forward(self, x, t, y=None):
        self.calls.append((x.clone(), t.clone(), y))
        return self.out.clone()


def test_learned_sigma_uses_the_eps_half_and_ve_scaling():
    eps = torch.randn(2, 3, 4, 4)
    junk = torch.full((2, 3, 4, 4), 1e3)
    net = Recorder(torch.cat([eps, junk], dim=1))
    den = ADMDenoiser(net)
    assert den.learn_sigma
    x = torch.randn(2, 3, 4, 4)
    sched = DiscreteSchedule()
    sigma = sched.sigmas[[10, 700]].float()
    out = den(x, sigma, seed=5)  # sampler extra_args such as seed are ignored
    assert out.shape == x.shape
    assert torch.allclose(out, x - sigma[:, None, None, None] * eps, atol=1e-5)
    x_in, t_in, y_in = net.calls[-1]
    assert torch.allclose(x_in, x / (1 + sigma[:, None, None, None] ** 2).sqrt(), atol=1e-6)
    assert torch.allclose(t_in, torch.tensor([10.0, 700.0]), atol=2e-3)
    assert y_in is None
    # Scalar sigma broadcasts; quantize rounds the timestep.
    ADMDenoiser(net, quantize=True)(x, torch.tensor(0.5))
    t_q = net.calls[-1][1]
    assert t_q.shape == (2,) and torch.equal(t_q, t_q.round())


def test_channel_mismatch_is_an_error():
    den = ADMDenoiser(Recorder(torch.zeros(1, 5, 4, 4)), learn_sigma=False)
    with pytest.raises(ValueError, match="channels"):
        den(torch.zeros(1, 3, 4, 4), torch.tensor([1.0]))
    with pytest.raises(ValueError, match="sigma"):
        den(torch.zeros(1, 3, 4, 4), torch.ones(2))


def test_exact_eps_gives_exact_x0_at_every_level():
    """An oracle net for a point mass x0 = c in DDPM scaling; the wrapper must recover c."""
    sched = DiscreteSchedule()
    c = torch.linspace(-1, 1, 3 * 8 * 8).reshape(1, 3, 8, 8)

    class Oracle(torch.nn.Module):
        in_channels = out_channels = 3

        def forward(self, x_t, t, y=None):
            a = sched.alphas_cumprod[t.round().long()].float()[:, None, None, None]
            return (x_t - a.sqrt() * c) / (1 - a).sqrt()

    den = ADMDenoiser(Oracle())
    for i in [0, 1, 250, 999]:
        sigma = sched.sigmas[i].float()
        noise = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(i))
        x = c + sigma * noise
        assert torch.allclose(
            den(x, sigma.expand(2)), c.expand(2, -1, -1, -1), atol=2e-4 * max(1.0, sigma.item())
        )


def test_tiny_adm_denoiser_ignores_the_variance_half():
    torch.manual_seed(0)
    model = ADMUNet(
        **published_config("celeba256", model_channels=16, num_head_channels=8, norm_groups=8)
    ).eval()
    with torch.no_grad():
        model.out[2].weight.normal_(0, 0.1)
        model.out[2].bias.normal_(0, 0.1)
    den = ADMDenoiser(model)
    x = torch.randn(2, 3, 32, 32)
    sigma = torch.tensor([0.3, 20.0])
    with torch.no_grad():
        a = den(x, sigma)
        model.out[2].weight[3:].mul_(-5)  # the v channels
        model.out[2].bias[3:].add_(1)
        b = den(x, sigma)
        model.out[2].weight[:3].mul_(-5)  # the epsilon channels
        c = den(x, sigma)
    assert a.shape == x.shape
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_k_diffusion_style_sampling_loop_runs():
    """DDIM (Euler in sigma) over a respaced schedule with the tiny model: finite, right shape."""
    torch.manual_seed(0)
    model = ADMUNet(
        **published_config("imagenet256", model_channels=16, num_head_channels=8, norm_groups=8)
    ).eval()
    den = ADMDenoiser(model)
    sigmas = den.schedule.sigmas_for_timesteps(space_timesteps(1000, 5))
    x = torch.randn(1, 3, 32, 32) * sigmas[0]
    s_in = x.new_ones(1)
    extra_args = {"y": torch.tensor([3]), "seed": 0}
    with torch.no_grad():
        for s, s_next in zip(sigmas[:-1], sigmas[1:], strict=True):
            d = (x - den(x, s * s_in, **extra_args)) / s
            x = x + d * (s_next - s)
    assert x.shape == (1, 3, 32, 32) and torch.isfinite(x).all()


def test_device_side_sigma_to_t_matches_the_float64_schedule():
    den = ADMDenoiser(Recorder(torch.zeros(1, 3, 1, 1)))
    sigma = torch.cat([torch.logspace(-3, 3, 300), den.sigmas, torch.zeros(1)])
    assert torch.allclose(den.sigma_to_t(sigma), den.schedule.sigma_to_t(sigma), atol=1e-3)

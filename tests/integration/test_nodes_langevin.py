"""Langevin Inpaint Sampler through ComfyUI's real executor with tiny randomly initialised models."""

import pytest
import torch

STEPS = 4
DEFAULTS = {"corrector_steps": 2, "step_size": 1.5, "friction": 0.02, "eta": 1.0}


def _run(comfy, kind="eps", scheduler="karras", noise_seed=5, **inputs):
    from comfy_execution.graph_utils import GraphBuilder

    g = GraphBuilder(prefix="")
    ckpt = g.node("TinyCheckpointLoader", kind=kind, size="tiny", seed=0)
    pos = g.node("CLIPTextEncode", clip=ckpt.out(1), text="a photo")
    neg = g.node("CLIPTextEncode", clip=ckpt.out(1), text="")
    image = g.node("EmptyImage", width=64, height=64, batch_size=1, color=0x406080)
    encoded = g.node("VAEEncode", pixels=image.out(0), vae=ckpt.out(2))
    mask = g.node("RePaintMask", preset="half", width=64, height=64, batch_size=1, seed=0)
    latent = g.node("SetLatentNoiseMask", samples=encoded.out(0), mask=mask.out(0))
    sampler = g.node("LangevinInpaintSampler", **{**DEFAULTS, **inputs})
    sigmas = g.node("BasicScheduler", model=ckpt.out(0), scheduler=scheduler, steps=STEPS, denoise=1.0)
    out = g.node(
        "SamplerCustom",
        model=ckpt.out(0),
        add_noise=True,
        noise_seed=noise_seed,
        cfg=2.0,
        positive=pos.out(0),
        negative=neg.out(0),
        sampler=sampler.out(0),
        sigmas=sigmas.out(0),
        latent_image=latent.out(0),
    )
    g.node("PreviewAny", source=out.out(0))
    result = comfy.run_graph(g.finalize())
    return result, result.output(latent.id), result.output(out.id)


def _known(mask, latent):
    import comfy.sampler_helpers

    return comfy.sampler_helpers.prepare_mask(mask, latent.shape, "cpu") == 0


@pytest.fixture(scope="module")
def base(comfy):
    return _run(comfy)


@pytest.mark.parametrize("kind", ["eps", "v", "flow"])
def test_known_region_kept_and_unknown_generated(comfy, base, kind):
    _, latent_in, latent_out = base if kind == "eps" else _run(comfy, kind, scheduler="simple")
    before, after = latent_in["samples"], latent_out["samples"]
    known = _known(latent_in["noise_mask"], before)
    # Through SamplerCustom the host scales latents in and out: equal up to an ulp (as for RePaint Sampler).
    torch.testing.assert_close(after[known], before[known], rtol=1e-6, atol=1e-6)
    assert torch.isfinite(after).all()
    assert (after[~known] - before[~known]).abs().mean() > 1e-3


def test_progress_counts_model_calls(base):
    result = base[0]
    nfe = STEPS + DEFAULTS["corrector_steps"] * (STEPS - 1)
    assert [v for v, t, _ in result.progress if t == nfe][-1] == nfe


def test_every_input_changes_the_output_and_a_seed_repeats(comfy, base):
    base = base[2]
    _, _, again = _run(comfy)
    assert torch.equal(base["samples"], again["samples"])
    for name, value in {"corrector_steps": 0, "step_size": 0.5, "friction": 2.0, "eta": 0.0}.items():
        _, _, other = _run(comfy, **{name: value})
        assert not torch.allclose(other["samples"], base["samples"], atol=1e-4), name


def test_bad_step_size_is_refused_naming_the_input(comfy):
    from repaint_extend.adapters.langevin import LangevinKSampler

    with pytest.raises(ValueError, match="step_size"):
        LangevinKSampler(step_size=2.5)


def test_seed_at_the_widgets_maximum_samples(comfy):
    """The step-noise stream is (seed + 2) mod 2**64: no "Overflow when unpacking long" at 2**64 - 1."""
    top = _run(comfy, noise_seed=2**64 - 1)[2]["samples"]
    low = _run(comfy, noise_seed=2**64 - 2)[2]["samples"]
    assert torch.isfinite(top).all()
    assert not torch.equal(top, low)  # neighbouring seeds still differ

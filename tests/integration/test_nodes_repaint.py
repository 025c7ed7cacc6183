"""RePaint nodes through ComfyUI's real executor with tiny randomly initialised models."""

import copy

import pytest
import torch

STEPS, JUMP_LENGTH, JUMP_N_SAMPLE = 8, 3, 2
NFE = STEPS + (JUMP_N_SAMPLE - 1) * JUMP_LENGTH * 2  # ceil((8 - 3) / 3) = 2 jump points


def _known(mask, latent):
    import comfy.sampler_helpers

    return comfy.sampler_helpers.prepare_mask(mask, latent.shape, "cpu") == 0


def _run_inpaint(comfy, graphs, **kwargs):
    kwargs = {"steps": STEPS, "jump_length": JUMP_LENGTH, "jump_n_sample": JUMP_N_SAMPLE, **kwargs}
    prompt, ids = graphs.repaint_inpaint(**kwargs)
    result = comfy.run_graph(prompt)
    latent_in = result.output(*ids["latent"])
    return result, ids, latent_in, result.output(ids["sampler"])


@pytest.mark.parametrize("kind", ["eps", "v", "flow", "inpaint"])
def test_known_latent_region_is_preserved_exactly(comfy, graphs, kind):
    result, ids, latent_in, latent_out = _run_inpaint(comfy, graphs, kind=kind, preset="half", cfg=2.0)
    before, after = latent_in["samples"], latent_out["samples"]
    known = _known(latent_in["noise_mask"], before)
    assert known.any() and (~known).any()
    assert torch.equal(after[known], before[known])
    assert torch.isfinite(after).all()
    assert (after[~known] - before[~known]).abs().mean() > 1e-3  # the unknown half was generated
    assert "noise_mask" in latent_out  # the mask travels on, as KSampler's output does
    # Pixel composite: the known half of the saved image is the input image.
    image, composite = result.output(ids["image"]), result.output(ids["composite"])
    assert torch.equal(composite[:, :, 32:], image[:, :, 32:])


def test_progress_counts_model_calls_and_carries_previews(comfy, graphs):
    result, ids, _, _ = _run_inpaint(comfy, graphs, kind="flow")
    sampler_updates = [(value, total, preview) for value, total, preview in result.progress if total == NFE]
    assert [value for value, _, _ in sampler_updates] == list(range(1, NFE + 1))
    assert all(preview for _, _, preview in sampler_updates)


def test_deterministic_for_a_seed(comfy, graphs):
    first = _run_inpaint(comfy, graphs, kind="eps", seed=7)[3]["samples"]
    again = _run_inpaint(comfy, graphs, kind="eps", seed=7)[3]["samples"]
    other = _run_inpaint(comfy, graphs, kind="eps", seed=8)[3]["samples"]
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


SEED_MAX = 0xFFFFFFFFFFFFFFFF  # the seed widget's maximum, 2**64 - 1


@pytest.mark.parametrize("known_noise", ["fresh", "random", "fixed"])
def test_seed_at_the_widgets_maximum_samples(comfy, graphs, known_noise):
    """seed + stream offsets overflowed torch's generator ("Overflow when unpacking long")."""
    top = _run_inpaint(comfy, graphs, kind="eps", seed=SEED_MAX, known_noise=known_noise, steps=4)[3]
    low = _run_inpaint(comfy, graphs, kind="eps", seed=SEED_MAX - 1, known_noise=known_noise, steps=4)[3]
    assert torch.isfinite(top["samples"]).all()
    assert not torch.equal(top["samples"], low["samples"])  # neighbouring seeds still differ


def test_random_known_noise_is_comfys_draw_without_overflow(comfy):
    from repaint_extend.adapters.sampler import random_known_noise
    from repaint_extend.samplers import derive_seed

    noise = torch.zeros(1, 4, 8, 8, dtype=torch.float16)
    comfys = torch.randn(noise.shape, generator=torch.manual_seed(7 + 1)).to(noise.dtype)
    assert torch.equal(random_known_noise(noise, 7), comfys)  # ordinary seeds: results unchanged
    wrapped = torch.randn(noise.shape, generator=torch.manual_seed(0)).to(noise.dtype)
    assert torch.equal(random_known_noise(noise, SEED_MAX), wrapped)  # (2**64 - 1) + 1 mod 2**64 = 0
    assert derive_seed(SEED_MAX, 3) == 2 and derive_seed(5, 2) == 7
    with pytest.raises(TypeError, match="seed"):
        derive_seed(True, 1)


@pytest.mark.parametrize("known_noise", ["fresh", "random", "fixed"])
def test_batch_and_cfg(comfy, graphs, known_noise):
    _, _, latent_in, latent_out = _run_inpaint(
        comfy, graphs, kind="v", batch_size=2, cfg=4.0, preset="expand", known_noise=known_noise
    )
    before, after = latent_in["samples"], latent_out["samples"]
    assert after.shape == before.shape and after.shape[0] == 2
    known = _known(latent_in["noise_mask"], before)
    assert torch.equal(after[known], before[known])
    assert not torch.equal(after[0], after[1])  # each batch item has its own noise


def _sampler_graph(
    how="custom",
    *,
    sampler_inputs=None,
    model_seed=0,
    positive="a photo",
    negative="",
    color=0x406080,
    record=False,
):
    """Tiny eps model, a 64x64 image with a thick-stroke RePaint mask, then RePaint through ``how``:
    "custom" (SamplerCustom + RePaint Sampler + BasicScheduler karras), "advanced" (SamplerCustomAdvanced)
    or "ksampler" (KSampler (RePaint), scheduler normal). ``sampler_inputs`` override the RePaint inputs
    (jump_length, jump_n_sample, eta, known_noise, start/end_percent; for "ksampler" also seed, steps, cfg,
    scheduler, denoise); ``record`` puts the harness's RecordModelCalls on the MODEL.

    Returns ``(prompt, ids)`` with ids ``latent`` (SetLatentNoiseMask), ``out`` (the sampler node),
    ``model`` (the MODEL output the sampler gets)."""
    from comfy_execution.graph_utils import GraphBuilder
    from support import graphs

    g = GraphBuilder(prefix="")
    ckpt = g.node("TinyCheckpointLoader", kind="eps", size="tiny", seed=model_seed)
    model, model_id = ckpt.out(0), ckpt.id
    if record:
        recorder = g.node("RecordModelCalls", model=model)
        model, model_id = recorder.out(0), recorder.id
    pos = g.node("CLIPTextEncode", clip=ckpt.out(1), text=positive)
    neg = g.node("CLIPTextEncode", clip=ckpt.out(1), text=negative)
    image = g.node("EmptyImage", width=64, height=64, batch_size=1, color=color)
    encoded = g.node("VAEEncode", pixels=image.out(0), vae=ckpt.out(2))
    mask = g.node("RePaintMask", preset="thick", width=64, height=64, batch_size=1, seed=3)
    latent = g.node("SetLatentNoiseMask", samples=encoded.out(0), mask=mask.out(0))
    inputs = dict(jump_length=JUMP_LENGTH, jump_n_sample=JUMP_N_SAMPLE, eta=1.0, known_noise="fresh")
    inputs.update(sampler_inputs or {})
    if how == "ksampler":
        inputs = {"seed": 11, "steps": STEPS, "cfg": 3.0, **inputs}
        out = graphs.ksampler_repaint(g, model, pos.out(0), neg.out(0), latent.out(0), **inputs)
    else:
        sampler = g.node("RePaintSampler", **inputs)
        sigmas = g.node("BasicScheduler", model=model, scheduler="karras", steps=STEPS, denoise=1.0)
        common = dict(sampler=sampler.out(0), sigmas=sigmas.out(0), latent_image=latent.out(0))
        if how == "advanced":
            noise = g.node("RandomNoise", noise_seed=11)
            guider = g.node("CFGGuider", model=model, positive=pos.out(0), negative=neg.out(0), cfg=3.0)
            out = g.node("SamplerCustomAdvanced", noise=noise.out(0), guider=guider.out(0), **common)
        else:
            out = g.node(
                "SamplerCustom",
                model=model,
                add_noise=True,
                noise_seed=11,
                cfg=3.0,
                positive=pos.out(0),
                negative=neg.out(0),
                **common,
            )
    g.node("PreviewAny", source=out.out(0))
    return g.finalize(), {"latent": latent.id, "out": out.id, "model": model_id}


@pytest.mark.parametrize("how", ["custom", "advanced"])
def test_repaint_sampler_in_sampler_custom(comfy, how):
    prompt, ids = _sampler_graph(how)
    result = comfy.run_graph(prompt)
    latent_in, latent_out = result.output(ids["latent"]), result.output(ids["out"])
    before, after = latent_in["samples"], latent_out["samples"]
    known = _known(latent_in["noise_mask"], before)
    # Through SamplerCustom the host scales latents in and out (x * 0.18215 / 0.18215): equal up to an ulp.
    torch.testing.assert_close(after[known], before[known], rtol=1e-6, atol=1e-6)
    assert (after[~known] - before[~known]).abs().mean() > 1e-3
    assert [t for _, t, _ in result.progress if t == NFE], "the progress bar must count NFE"


# --- every input changes the output -------------------------------------------------------------------

# Input -> (changed value, NFE). Base: STEPS = 8, j = 3, r = 2: jump points t = 0 and t = 3, at progress
# (T - 1 - t) / T = 7/8 and 4/8, NFE 8 + 3 * 2 = 14. start_percent 0.6 keeps t = 0 only, end_percent 0.6
# keeps t = 3 only: 8 + 3 = 11 each. jump_length 4: t = 0 only, 8 + 4 = 12. jump_n_sample 3: 8 + 2 * 6 = 20.
# steps 9: t = 0, 3, 9 + 6 = 15.
_SAMPLER_SWEEP = {
    "jump_length": (4, 12),
    "jump_n_sample": (3, 20),
    "eta": (0.5, NFE),
    "known_noise": ("random", NFE),
    "start_percent": (0.6, 11),
    "end_percent": (0.6, 11),
}
_KSAMPLER_SWEEP = {
    **_SAMPLER_SWEEP,
    "seed": (12, NFE),
    "steps": (9, 15),
    "cfg": (1.5, NFE),
    "scheduler": ("karras", NFE),
    "denoise": (0.7, NFE),
}
_GRAPH_SWEEP = {  # inputs fed by other nodes: what changes upstream
    "model": ({"model_seed": 1}, NFE),
    "positive": ({"positive": "legs"}, NFE),
    "negative": ({"negative": "blurry"}, NFE),
    "latent_image": ({"color": 0x204060}, NFE),
}
_SWEEP = [("ksampler", name, *v) for name, v in {**_KSAMPLER_SWEEP, **_GRAPH_SWEEP}.items()] + [
    ("custom", name, *v) for name, v in _SAMPLER_SWEEP.items()
]


def _sampler_progress(result):
    return [(value, total) for value, total, _ in result.progress]


@pytest.fixture(scope="module")
def sweep_base(comfy):
    base = {}
    for how in ("ksampler", "custom"):
        result = comfy.run_graph(_sampler_graph(how)[0])
        assert _sampler_progress(result) == [(i, NFE) for i in range(1, NFE + 1)]
        base[how] = result.output(_sampler_graph(how)[1]["out"])["samples"]
    return base


@pytest.mark.parametrize("how, name, value, nfe", _SWEEP, ids=[f"{h}-{n}" for h, n, *_ in _SWEEP])
def test_every_input_changes_the_output(comfy, sweep_base, how, name, value, nfe):
    """KSampler (RePaint) and RePaint Sampler, one input changed at a time: the result differs from the
    base run, the model is called exactly as often as the jump schedule says, known latent stays."""
    kwargs = value if name in _GRAPH_SWEEP else {"sampler_inputs": {name: value}}
    prompt, ids = _sampler_graph(how, **kwargs)
    result = comfy.run_graph(prompt)
    latent_in, after = result.output(ids["latent"]), result.output(ids["out"])["samples"]
    assert _sampler_progress(result) == [(i, nfe) for i in range(1, nfe + 1)]
    assert not torch.equal(after, sweep_base[how])
    known = _known(latent_in["noise_mask"], latent_in["samples"])
    torch.testing.assert_close(after[known], latent_in["samples"][known], rtol=1e-6, atol=1e-6)


def test_known_noise_modes_renoise_the_known_region_as_documented(comfy):
    """What the UNet sees in the known region at each call is latent + sigma * n (EPS). ``fixed``: n is the
    sampling noise (seed) at every call; ``random``: one noise from seed + 1 at every call (ComfyUI's
    inpaint_options random); ``fresh``: a new N(0, I) draw at every call (RePaint Algorithm 1, line 4)."""
    from comfy.sample import prepare_noise

    noises = {}
    for mode in ("fixed", "random", "fresh"):
        prompt, ids = _sampler_graph("ksampler", sampler_inputs={"known_noise": mode}, record=True)
        result = comfy.run_graph(prompt)
        latent_in = result.output(ids["latent"])
        model = result.output(ids["model"])
        calls = model.model_options["model_function_wrapper"].calls
        assert len(calls) == NFE
        known = _known(latent_in["noise_mask"], latent_in["samples"])
        clean = model.model.process_latent_in(latent_in["samples"])
        noises[mode] = [((x[:1] - clean) / sigma[:1].reshape(-1, 1, 1, 1))[known] for x, sigma in calls]
    shape = latent_in["samples"].shape
    sampling_noise = prepare_noise(latent_in["samples"], 11)[known]
    seed_plus_one = torch.randn(shape, generator=torch.manual_seed(11 + 1))[known]
    for n in noises["fixed"]:
        torch.testing.assert_close(n, sampling_noise, rtol=0, atol=1e-3)
    for n in noises["random"]:
        torch.testing.assert_close(n, seed_plus_one, rtol=0, atol=1e-3)
    fresh = noises["fresh"]
    for i, n in enumerate(fresh):
        for other in [sampling_noise, seed_plus_one, *fresh[:i]]:
            assert (n - other).abs().max() > 0.5  # a new draw at every call
    everything = torch.cat(fresh)
    assert 0.8 < float(everything.std()) < 1.2 and abs(float(everything.mean())) < 0.2  # N(0, I)


# --- bad input: a clear error, and nothing modified in place ---------------------------------------------


def _node(name):
    import nodes

    return nodes.NODE_CLASS_MAPPINGS[name]


@pytest.fixture(scope="module")
def tiny_eps(comfy):
    from support import tiny_models

    model, clip, vae = tiny_models.build("eps", "tiny", 0)
    tokens = clip.tokenize("a photo")
    cond = [[clip.encode_from_tokens(tokens), {}]]
    return model, cond


def _latent(batch=1, h=8, w=8, mask=None):
    samples = torch.randn(batch, 4, h, w, generator=torch.Generator().manual_seed(0))
    out = {"samples": samples}
    if mask is not None:
        out["noise_mask"] = mask
    return out


def _ksampler(model, cond, latent, steps=STEPS, jump_length=JUMP_LENGTH, jump_n_sample=JUMP_N_SAMPLE):
    return _node("KSamplerRePaint").execute(
        model, 0, steps, 1.0, "normal", cond, cond, latent, 1.0, jump_length, jump_n_sample, 1.0, "fresh"
    )


def _half_mask(batch=1, h=64, w=64):
    mask = torch.zeros(batch, h, w)
    mask[:, :, : w // 2] = 1.0
    return mask


@pytest.mark.parametrize(
    "latent_kwargs, sampler_kwargs, message",
    [
        (dict(mask=_half_mask()), dict(steps=5, jump_length=5), "jump_length"),
        (dict(mask=_half_mask()), dict(jump_n_sample=0), "jump_n_sample"),
        (dict(mask=_half_mask(h=48)), {}, "multiples of 8"),
        (dict(mask=_half_mask(h=60, w=60), h=7, w=7), {}, "multiples of 8"),
        (dict(mask=_half_mask(batch=3), batch=2), {}, "batch"),
        (dict(mask=torch.zeros(1, 64, 64)), {}, "empty"),
        (dict(mask=torch.ones(1, 64, 64)), {}, "all 1"),
        (dict(), {}, "SetLatentNoiseMask"),
    ],
    ids=[
        "jump_length>=steps",
        "jump_n_sample<1",
        "mask-size",
        "not-multiple-of-8",
        "mask-batch",
        "empty-mask",
        "all-ones-mask",
        "no-mask",
    ],
)
def test_bad_input_raises_a_clear_error_and_changes_nothing(tiny_eps, latent_kwargs, sampler_kwargs, message):
    model, cond = tiny_eps
    latent = _latent(**latent_kwargs)
    snapshot = copy.deepcopy(latent)
    with pytest.raises(ValueError, match=message):
        _ksampler(model, cond, latent, **sampler_kwargs)
    assert latent.keys() == snapshot.keys()
    assert all(torch.equal(latent[k], snapshot[k]) for k in latent)


def test_success_changes_nothing_in_place(tiny_eps):
    model, cond = tiny_eps
    latent = _latent(mask=_half_mask())
    snapshot = copy.deepcopy(latent)
    out = _ksampler(model, cond, latent).result[0]
    assert all(torch.equal(latent[k], snapshot[k]) for k in latent)
    assert out["samples"] is not latent["samples"]


def test_bad_widget_values_fail_validation_naming_the_input(comfy, graphs):
    prompt, ids = graphs.repaint_inpaint(steps=STEPS, jump_length=JUMP_LENGTH, jump_n_sample=0)
    with pytest.raises(comfy.GraphError) as info:
        comfy.run_graph(prompt)
    assert "jump_n_sample" in str(info.value.details)


def test_repaint_mask_node_presets(comfy):
    node = _node("RePaintMask")
    half = node.execute("half", 16, 8, 2, 0).result[0]
    assert half.shape == (2, 8, 16) and half[:, :, :8].eq(1).all() and half[:, :, 8:].eq(0).all()
    thin_a = node.execute("thin", 64, 64, 1, 5).result[0]
    thin_b = node.execute("thin", 64, 64, 1, 5).result[0]
    thick = node.execute("thick", 64, 64, 1, 5).result[0]
    assert torch.equal(thin_a, thin_b) and 0 < thin_a.mean() < thick.mean() < 1
    assert not torch.equal(thin_a, node.execute("thin", 64, 64, 1, 6).result[0])  # the seed draws the strokes
    sized = node.execute("half", 64, 64, 1, 0, size_from=torch.zeros(3, 24, 40, 3)).result[0]
    assert sized.shape == (1, 24, 40)  # size_from's height and width, not the widgets'


@pytest.mark.parametrize("kind, power", [("eps", 2.5), ("flow", 1.5)])
def test_power_scheduler_sigmas_drive_sampler_custom(comfy, kind, power):
    from comfy_execution.graph_utils import GraphBuilder

    g = GraphBuilder(prefix="")
    ckpt = g.node("TinyCheckpointLoader", kind=kind, size="tiny", seed=0)
    cond = g.node("CLIPTextEncode", clip=ckpt.out(1), text="")
    image = g.node("EmptyImage", width=64, height=64, batch_size=1, color=0x406080)
    encoded = g.node("VAEEncode", pixels=image.out(0), vae=ckpt.out(2))
    mask = g.node("RePaintMask", preset="half", width=64, height=64, batch_size=1, seed=0)
    latent = g.node("SetLatentNoiseMask", samples=encoded.out(0), mask=mask.out(0))
    sigmas = g.node("RePaintPowerScheduler", model=ckpt.out(0), steps=6, power=power)
    sampler = g.node("RePaintSampler", jump_length=2, jump_n_sample=2, eta=1.0, known_noise="fresh")
    out = g.node(
        "SamplerCustom",
        model=ckpt.out(0),
        add_noise=True,
        noise_seed=1,
        cfg=1.0,
        positive=cond.out(0),
        negative=cond.out(0),
        sampler=sampler.out(0),
        sigmas=sigmas.out(0),
        latent_image=latent.out(0),
    )
    g.node("PreviewAny", source=out.out(0))
    result = comfy.run_graph(g.finalize())
    s = result.output(sigmas.id)
    model_sampling = result.output(ckpt.id, 0).get_model_object("model_sampling")
    sigma_max = float(model_sampling.sigma_max)
    assert s.shape == ((7,) if kind == "eps" else (6,))  # flow: sigma(t = 0) is already 0
    assert s[-1] == 0 and torch.all(s[:-1] > s[1:])
    assert float(s[0]) == pytest.approx(sigma_max, rel=1e-4)
    # sigma(t_k) at t_k = t_max * (k / 5) ** power, k = 5 .. 0: the steps and the power reach the sigmas
    t_max = float(model_sampling.timestep(model_sampling.sigma_max))
    timesteps = [t_max * (k / 5) ** power for k in range(5, -1, -1)]
    expected = model_sampling.sigma(torch.tensor(timesteps)).float()
    assert torch.equal(s[:6], expected)
    if kind == "eps":  # the middle step sits well below the middle of an even placement
        assert float(s[3]) / sigma_max < 0.5
    assert torch.isfinite(result.output(out.id)["samples"]).all()

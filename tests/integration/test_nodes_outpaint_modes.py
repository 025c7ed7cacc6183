"""Outpaint (Tiled)'s modes (sequential, joint, coarse, auto) on tiny stand-in models: known pixels, model
calls, per-window conditioning (area, Gaussian weight, pose hint, prompt), noise streams, feather, pads."""

import pytest
import torch


@pytest.fixture(scope="module")
def tiny(comfy):
    from support import tiny_models

    model, clip, vae = tiny_models.build("eps", "tiny", 0)
    net = tiny_models.build_controlnet("tiny", 3)
    return model, clip, vae, net


def _inputs(h=160, w=64, known=(0, 64, 0, 64)):
    """A random canvas [1, h, w, 3] and a mask with the rectangle ``known`` = (y0, y1, x0, x1) at 0."""
    g = torch.Generator().manual_seed(0)
    image = torch.rand(1, h, w, 3, generator=g)
    mask = torch.ones(1, h, w)
    y0, y1, x0, x1 = known
    mask[:, y0:y1, x0:x1] = 0
    return image, mask


def _run(tiny, image, mask, mode, seed=0, feather=8, overlap=16, sampler=None, **extra):
    import nodes

    model, clip, vae, _ = tiny
    cond = nodes.CLIPTextEncode().encode(clip, "legs")[0]
    # the node's own class (ComfyUI loads the pack under its own module name)
    if sampler is None:
        sampler = nodes.NODE_CLASS_MAPPINGS["RePaintSampler"].execute(2, 2, 1.0, "fresh").result[0]
    return nodes.NODE_CLASS_MAPPINGS["OutpaintTiled"].execute(model=model, vae=vae, positive=cond, negative=cond, image=image, mask=mask, seed=seed, steps=3, cfg=2.0, scheduler="normal", tile_width=64, tile_height=64, overlap=overlap, feather=feather,
        sampler=sampler, mode=mode, **extra,
    ).result  # fmt: skip


def test_modes_keep_known_pixels_and_count_model_calls(tiny):
    from repaint_extend.adapters.sampler import count_nfe
    from repaint_extend.outpaint import plan_tiles, plan_windows

    image, mask = _inputs()
    per = count_nfe(3, {"jump_length": 2, "jump_n_sample": 2})
    tiles, windows = len(plan_tiles((160, 64), mask, 64, 16)), len(plan_windows((160, 64), mask, 64, 16))
    expected = {"sequential": (tiles, per * tiles), "joint": (windows, per * windows)}
    expected["coarse"] = (1 + windows, per * (1 + windows))  # one coarse window, then the windows
    outs = {}
    for mode, (n, nfe) in expected.items():
        out, n_out, nfe_out, _ = _run(tiny, image, mask, mode)
        assert (n_out, nfe_out) == (n, nfe), mode
        assert torch.equal(out[0][mask[0] == 0], image[0][mask[0] == 0]), mode  # bit-exact
        assert (out[0][mask[0] > 0] - image[0][mask[0] > 0]).abs().mean() > 0.01, mode  # generated
        outs[mode] = out
    assert not torch.equal(outs["joint"], outs["sequential"]) and not torch.equal(
        outs["coarse"], outs["joint"]
    )
    # auto: 160 / 64 = 2.5 tiles on a side -> coarse
    assert torch.equal(_run(tiny, image, mask, "auto")[0], outs["coarse"])
    from repaint_extend.outpaint.settings import pick_mode

    assert (
        pick_mode("auto", (96, 64), (64, 64)) == "joint"
        and pick_mode("auto", (192, 64), (64, 64)) == "coarse"
    )
    assert pick_mode("sequential", (4096, 4096), (64, 64)) == "sequential"
    with pytest.raises(ValueError, match="mode must be one of"):
        _run(tiny, image, mask, "spiral")


def test_langevin_sampler_model_calls_are_counted_exactly(tiny):
    """The Langevin sampler makes steps + corrector_steps * (steps - 1) model calls a run (its node's
    documented count), and Outpaint (Tiled) reports exactly that per tile / window, not one per step."""
    import nodes

    from repaint_extend.outpaint import plan_tiles, plan_windows

    sampler = nodes.NODE_CLASS_MAPPINGS["LangevinInpaintSampler"].execute(2, 1.5, 0.02, 1.0).result[0]
    image, mask = _inputs()
    per = 3 + 2 * (3 - 1)  # 3 steps, 2 corrector steps at every level but the last
    tiles, windows = len(plan_tiles((160, 64), mask, 64, 16)), len(plan_windows((160, 64), mask, 64, 16))
    for mode, n in (("sequential", tiles), ("joint", windows)):
        out, n_out, nfe_out, _ = _run(tiny, image, mask, mode, sampler=sampler)
        assert (n_out, nfe_out) == (n, per * n), mode
        assert torch.equal(out[0][mask[0] == 0], image[0][mask[0] == 0]), mode


def test_every_tile_gets_its_own_noise_stream_and_any_64_bit_seed_works(tiny, monkeypatch):
    import comfy.sample as comfy_sample

    from repaint_extend.outpaint import stream_seed

    seeds = []
    prepare = comfy_sample.prepare_noise

    def recording(latent, seed, *args, **kwargs):
        seeds.append(seed)
        return prepare(latent, seed, *args, **kwargs)

    monkeypatch.setattr(comfy_sample, "prepare_noise", recording)
    image, mask = _inputs()
    top = 2**64 - 1  # ComfyUI's largest seed: + offsets used to overflow torch's seed
    _, tiles, _, _ = _run(tiny, image, mask, "sequential", seed=top)
    assert tiles >= 2 and seeds == [stream_seed(top, i) for i in range(tiles)]
    assert len(set(seeds)) == tiles
    seeds.clear()
    _run(tiny, image, mask, "joint", seed=top)
    assert seeds == [stream_seed(top, 0)]


def test_feather_changes_the_sequential_output(tiny):
    image, mask = _inputs()
    outs = [_run(tiny, image, mask, "sequential", feather=f, overlap=32)[0] for f in (0, 16)]
    assert not torch.equal(outs[0], outs[1])
    for out in outs:
        assert torch.equal(out[0][mask[0] == 0], image[0][mask[0] == 0])
    for mode in ("sequential", "joint"):  # the node's settings refuse it in every mode, before any work
        with pytest.raises(ValueError, match=r"feather .*\[0, 32\]"):
            _run(tiny, image, mask, mode, feather=33, overlap=32)


@pytest.mark.parametrize("mode", ["sequential", "joint"])
def test_a_left_and_top_pad_wider_than_a_tile_runs(tiny, mode):
    # the photo at the bottom right: 96 px of pad on the left and on top (the old plan started with a
    # tile of pad only: "noise_mask is all 1")
    image, mask = _inputs(160, 160, known=(96, 160, 96, 160))
    out = _run(tiny, image, mask, mode)[0]
    assert torch.equal(out[0][mask[0] == 0], image[0][mask[0] == 0])
    assert (out[0, :96, :96] - image[0, :96, :96]).abs().mean() > 0.01


def test_joint_windows_carry_their_area_weight_hint_and_prompt(tiny, monkeypatch):
    import comfy.sample as comfy_sample
    import nodes

    from repaint_extend.outpaint import plan_windows, window_weight

    model, clip, vae, net = tiny
    seen = {}

    def fake_sample(model, noise, cfg, sampler, sigmas, positive, negative, latent, **kwargs):
        seen.update(positive=positive, negative=negative, latent=latent, mask=kwargs["noise_mask"])
        return latent

    monkeypatch.setattr(comfy_sample, "sample_custom", fake_sample)
    image, mask = _inputs()
    hint = torch.rand(1, 160, 64, 3)
    out, n, _, prompts = _run(
        tiny, image, mask, "joint", control_net=net, control_image=hint, clip=clip, tile_prompt="legs\nfeet"
    )
    windows = plan_windows((160, 64), mask, 64, 16)
    y0 = windows[0].y  # the working box starts at the first window (the canvas above is left alone)
    assert n == len(windows) == len(seen["positive"]) == len(seen["negative"]) == 2
    assert seen["latent"].shape[-2:] == ((160 - y0) // 8, 64 // 8)
    assert prompts == "legs\nfeet"
    legs = nodes.CLIPTextEncode().encode(clip, "legs")[0][0][0]
    for k, (t, (cond, options)) in enumerate(zip(windows, seen["positive"], strict=True)):
        assert options["area"] == (8, 8, (t.y - y0) // 8, t.x // 8)
        weight = options["mask"][0]
        assert weight.shape == seen["latent"].shape[-2:] and float(weight.sum()) > 0
        rows = slice((t.y - y0) // 8, (t.y - y0 + t.h) // 8)
        assert torch.equal(weight[rows], window_weight(8, 8)) and float(weight.sum()) == float(
            weight[rows].sum()
        )
        control = options["control"]
        assert torch.equal(control.cond_hint_original, hint[:, t.y : t.y + t.h].movedim(-1, 1))
        assert (
            seen["negative"][k][1]["control"] is control and seen["negative"][k][1]["mask"] is options["mask"]
        )
        assert torch.equal(cond[:, 77:], legs) == (k == 0)
    assert torch.equal(out[0][mask[0] == 0], image[0][mask[0] == 0])


def test_given_sigmas_replace_steps_and_scheduler_and_the_refinement_keeps_their_low_noise_steps(tiny):
    """``sigmas`` (Power Scheduler (RePaint) with Langevin Inpaint Sampler, the shipped workflows' pair):
    every window runs on them (steps and scheduler no longer matter); the coarse refinement keeps the steps
    at or below KSampler's denoise-0.6 start; the model calls are counted exactly."""
    import nodes

    from repaint_extend.adapters.outpaint import REFINE_DENOISE
    from repaint_extend.outpaint import plan_windows

    model, clip, vae, _ = tiny
    sampler = nodes.NODE_CLASS_MAPPINGS["LangevinInpaintSampler"].execute(2, 1.5, 0.02, 1.0).result[0]
    sigmas = nodes.NODE_CLASS_MAPPINGS["RePaintPowerScheduler"].execute(model, 5, 2.5).result[0]
    image, mask = _inputs()
    windows = len(plan_windows((160, 64), mask, 64, 16))
    cond = nodes.CLIPTextEncode().encode(clip, "legs")[0]

    def run(mode, steps=3, scheduler="normal", **extra):
        return nodes.NODE_CLASS_MAPPINGS["OutpaintTiled"].execute(model=model, vae=vae, positive=cond, negative=cond, image=image, mask=mask, seed=0, steps=steps, cfg=2.0, scheduler=scheduler, tile_width=64, tile_height=64, overlap=16, feather=8,
            sampler=sampler, mode=mode, **extra,
        ).result  # fmt: skip

    def calls(n_sigmas):  # the node's documented count: steps + corrector_steps * (steps - 1)
        return (n_sigmas - 1) + 2 * (n_sigmas - 2)

    out, n, nfe, _ = run("joint", sigmas=sigmas)
    assert (n, nfe) == (windows, calls(len(sigmas)) * windows)
    assert torch.equal(out[0][mask[0] == 0], image[0][mask[0] == 0])
    assert not torch.equal(out, run("joint")[0])  # the input changes the output
    assert torch.equal(out, run("joint", steps=7, scheduler="karras", sigmas=sigmas)[0])  # replaced
    start = float(model.get_model_object("model_sampling").percent_to_sigma(1.0 - REFINE_DENOISE))
    tail = int((sigmas <= start).sum())  # sigmas at or below the refinement's start
    assert 2 <= tail < len(sigmas)
    _, n, nfe, _ = run("coarse", sigmas=sigmas)
    assert (n, nfe) == (1 + windows, calls(len(sigmas)) + calls(tail) * windows)
    for bad, match in ((sigmas[:1], "at least 2"), (sigmas.flip(0), "must not increase")):
        with pytest.raises(ValueError, match=f"sigmas.*{match}"):
            run("joint", sigmas=bad)
    with pytest.raises(ValueError, match="no step"):  # a schedule that stops above the refinement's start
        run("coarse", sigmas=torch.tensor([float(sigmas[0]), start * 1.5]))


def test_sampling_inputs_reach_every_tile(tiny, monkeypatch):
    """cfg, scheduler and steps (the sigmas), both prompts, the tile's height and width (not square here)
    and the ControlNet's strength and window reach each tile's sampler run."""
    import comfy.sample as comfy_sample
    import comfy.samplers
    import nodes

    from repaint_extend.outpaint import plan_tiles

    model, clip, vae, net = tiny
    calls = []

    def fake_sample(model, noise, cfg, sampler, sigmas, positive, negative, latent, **kwargs):
        calls.append(dict(cfg=cfg, sigmas=sigmas, positive=positive, negative=negative, latent=latent))
        return latent

    monkeypatch.setattr(comfy_sample, "sample_custom", fake_sample)
    image, mask = _inputs(160, 96, known=(0, 64, 0, 96))
    legs, blurry = (nodes.CLIPTextEncode().encode(clip, text)[0] for text in ("legs", "blurry"))
    nodes.NODE_CLASS_MAPPINGS["OutpaintTiled"].execute(
        model=model, vae=vae, positive=legs, negative=blurry, image=image, mask=mask, seed=0, steps=3,
        cfg=3.5, scheduler="karras", tile_width=96, tile_height=64, overlap=16, feather=8,
        sampler=nodes.NODE_CLASS_MAPPINGS["RePaintSampler"].execute(2, 2, 1.0, "fresh").result[0],
        control_net=net, control_image=torch.rand(1, 160, 96, 3), control_strength=0.7, control_start=0.1,
        control_end=0.8, mode="sequential",
    )  # fmt: skip
    plan = plan_tiles((160, 96), mask, (64, 96), 16)
    sigmas = comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), "karras", 3).cpu()
    assert len(calls) == len(plan) >= 2
    for call, t in zip(calls, plan, strict=True):
        assert call["cfg"] == 3.5 and torch.equal(call["sigmas"], sigmas)
        assert call["latent"].shape[-2:] == (t.h // 8, t.w // 8) == (8, 12)
        ((pos, options),), ((neg, _),) = call["positive"], call["negative"]
        assert torch.equal(pos, legs[0][0]) and torch.equal(neg, blurry[0][0])
        assert options["control"].strength == 0.7
        assert options["control"].timestep_percent_range == (0.1, 0.8)

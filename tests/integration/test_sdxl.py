"""SDXL through ComfyUI's real executor, with tiny SDXL-shaped stand-ins (tests/support/tiny_models.py, family
"sdxl": ``comfy.model_base.SDXL`` UNet with ADM input, SDXL CLIP-L + CLIP-G, 9-channel inpaint UNet, SDXL
ControlNet): KSampler (RePaint), InpaintModelConditioning, Pose ControlNet Apply and Outpaint (Tiled)."""

import pytest
import torch

STEPS, JUMP_LENGTH, JUMP_N_SAMPLE = 6, 2, 2


def _builder():
    from comfy_execution.graph_utils import GraphBuilder

    return GraphBuilder(prefix="")


def _known(mask, latent):
    import comfy.sampler_helpers

    return comfy.sampler_helpers.prepare_mask(mask, latent.shape, "cpu") == 0


def _ksampler(g, model, positive, negative, latent, seed=1):
    from support import graphs

    return graphs.ksampler_repaint(
        g,
        model,
        positive,
        negative,
        latent,
        seed=seed,
        steps=STEPS,
        jump_length=JUMP_LENGTH,
        jump_n_sample=JUMP_N_SAMPLE,
    )


# --- the stand-ins themselves ---------------------------------------------------------------------------


def test_tiny_sdxl_models_have_sdxl_shapes(comfy):
    import comfy.model_base
    import comfy.supported_models
    from support import tiny_models

    model, clip, vae = tiny_models.build("inpaint", "tiny", 0, family="sdxl")
    assert type(model.model) is comfy.model_base.SDXL
    assert isinstance(model.model.model_config, comfy.supported_models.SDXL)
    assert model.model.latent_format.scale_factor == pytest.approx(0.13025)
    assert model.model.diffusion_model.input_blocks[0][0].in_channels == 9
    cond, pooled = clip.encode_from_tokens(clip.tokenize("legs"), return_pooled=True)
    assert cond.shape == (1, 77, 32 + 48) and pooled.shape == (1, 48)  # CLIP-L ++ CLIP-G, CLIP-G pooled
    adm = model.model.encode_adm(pooled_output=pooled, width=64, height=64)
    assert adm.shape == (1, 48 + 6 * 256)
    assert model.model.diffusion_model.label_emb[0][0].in_features == adm.shape[1]
    net = tiny_models.build_controlnet("tiny", 3, family="sdxl")
    assert net.control_model.label_emb[0][0].in_features == adm.shape[1]
    assert net.control_model.input_blocks[0][0].in_channels == 4  # the noisy latent only, as for SDXL
    with pytest.raises(ValueError, match="family"):
        tiny_models.build("eps", "tiny", 0, family="sd3")
    with pytest.raises(ValueError, match="kind"):
        tiny_models.build_model("flow", "tiny", 0, family="sdxl")
    with pytest.raises(ValueError, match="size"):
        tiny_models.build_model("eps", "sd15", 0, family="sdxl")
    sd15 = tiny_models.build_model("eps", "tiny", 0)  # the default family is still SD1.5
    assert type(sd15.model) is comfy.model_base.BaseModel


# --- KSampler (RePaint) ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["eps", "v"])
def test_ksampler_repaint_on_sdxl_keeps_known_latent_exactly(comfy, graphs, kind):
    prompt, ids = graphs.repaint_inpaint(
        family="sdxl",
        kind=kind,
        preset="half",
        cfg=2.0,
        steps=STEPS,
        jump_length=JUMP_LENGTH,
        jump_n_sample=JUMP_N_SAMPLE,
        prompt="a photo of legs",
    )
    result = comfy.run_graph(prompt)
    latent_in, latent_out = result.output(*ids["latent"]), result.output(ids["sampler"])
    before, after = latent_in["samples"], latent_out["samples"]
    known = _known(latent_in["noise_mask"], before)
    assert known.any() and (~known).any()
    assert torch.equal(after[known], before[known])  # bit-exact
    assert torch.isfinite(after).all()
    assert (after[~known] - before[~known]).abs().mean() > 1e-3  # the unknown half was generated
    image, composite = result.output(ids["image"]), result.output(ids["composite"])
    assert torch.equal(composite[:, :, 32:], image[:, :, 32:])
    # It was the SDXL stand-in, conditioned through CLIPTextEncode with CLIP-G's pooled output.
    loader = next(k for k, v in prompt.items() if v["class_type"] == "TinyCheckpointLoader")
    assert type(result.output(loader, 0).model).__name__ == "SDXL"
    positive = result.output(prompt[ids["sampler"]]["inputs"]["positive"][0])
    assert positive[0][0].shape == (1, 77, 80) and positive[0][1]["pooled_output"].shape == (1, 48)


def _eps_graph(*, size: int | None = None, strength: float | None = None):
    """Tiny SDXL eps model, grey image, VAEEncode + SetLatentNoiseMask (half), KSampler (RePaint).

    ``size``: encode the positive prompt with CLIPTextEncodeSDXL at width = height = target = ``size``
    (else CLIPTextEncode, whose ADM size defaults to 768). ``strength``: apply Pose ControlNet Apply with
    the SDXL ControlNet as both pose and inpaint ControlNet at this strength (else no ControlNet).
    Returns ``(prompt, ids)`` with ids ``latent``, ``sampler``, ``applied``."""
    from support import graphs

    g = _builder()
    ckpt = g.node("TinyCheckpointLoader", kind="eps", size="tiny", seed=0, family="sdxl")
    if size is None:
        pos = g.node("CLIPTextEncode", clip=ckpt.out(1), text="legs")
    else:
        pos = g.node(
            "CLIPTextEncodeSDXL",
            clip=ckpt.out(1),
            width=size,
            height=size,
            crop_w=0,
            crop_h=0,
            target_width=size,
            target_height=size,
            text_g="legs",
            text_l="legs",
        )
    neg = g.node("CLIPTextEncode", clip=ckpt.out(1), text="")
    image = g.node("EmptyImage", width=64, height=64, batch_size=1, color=0x8090A0)
    encoded = g.node("VAEEncode", pixels=image.out(0), vae=ckpt.out(2))
    mask = g.node("RePaintMask", preset="half", width=64, height=64, batch_size=1, seed=0)
    latent = g.node("SetLatentNoiseMask", samples=encoded.out(0), mask=mask.out(0))
    positive, negative, applied = pos.out(0), neg.out(0), None
    if strength is not None:
        applied = graphs.pose_control(
            g, positive, negative, family="sdxl", strength=strength, inpaint=(image.out(0), mask.out(0))
        )
        positive, negative = applied.out(0), applied.out(1)
    sampler = _ksampler(g, ckpt.out(0), positive, negative, latent.out(0))
    g.node("PreviewAny", source=sampler.out(0))
    return g.finalize(), {"latent": latent.id, "sampler": sampler.id, "applied": applied and applied.id}


def test_sdxl_size_conditioning_reaches_the_unet(comfy):
    """Same text, same noise; only CLIPTextEncodeSDXL's size (the ADM input ``y``) differs."""
    outputs = []
    for size in (1024, 64):
        prompt, ids = _eps_graph(size=size)
        result = comfy.run_graph(prompt)
        latent_in, samples = result.output(ids["latent"]), result.output(ids["sampler"])["samples"]
        known = _known(latent_in["noise_mask"], latent_in["samples"])
        assert torch.equal(samples[known], latent_in["samples"][known])
        outputs.append(samples)
    assert not torch.equal(outputs[0], outputs[1])


# --- InpaintModelConditioning on a 9-channel SDXL inpaint model -------------------------------------------


def _inpaint_graph(latent_color: int, cond_color: int, control: bool = False, strength: float = 1.0):
    """Tiny SDXL inpaint model; the sampler's latent comes from InpaintModelConditioning on an image of
    ``latent_color``, its conditioning (concat latent + mask) from one on an image of ``cond_color``;
    optionally Pose ControlNet Apply (SDXL ControlNet) before InpaintModelConditioning."""
    from support import graphs

    g = _builder()
    ckpt = g.node("TinyCheckpointLoader", kind="inpaint", size="tiny", seed=0, family="sdxl")
    pos = g.node("CLIPTextEncode", clip=ckpt.out(1), text="legs")
    neg = g.node("CLIPTextEncode", clip=ckpt.out(1), text="")
    mask = g.node("RePaintMask", preset="half", width=64, height=64, batch_size=1, seed=0)
    images = {
        color: g.node("EmptyImage", width=64, height=64, batch_size=1, color=color)
        for color in {latent_color, cond_color}
    }
    positive, negative = pos.out(0), neg.out(0)
    if control:
        applied = graphs.pose_control(g, positive, negative, family="sdxl", strength=strength)
        positive, negative = applied.out(0), applied.out(1)

    def conditioning(color):
        return g.node(
            "InpaintModelConditioning",
            positive=positive,
            negative=negative,
            vae=ckpt.out(2),
            pixels=images[color].out(0),
            mask=mask.out(0),
            noise_mask=True,
        )

    latent_node = conditioning(latent_color)
    cond_node = latent_node if cond_color == latent_color else conditioning(cond_color)
    sampler = _ksampler(g, ckpt.out(0), cond_node.out(0), cond_node.out(1), latent_node.out(2))
    g.node("PreviewAny", source=sampler.out(0))
    return g.finalize(), latent_node.id, sampler.id


def test_inpaint_model_conditioning_on_sdxl_inpaint_model(comfy):
    prompt, latent_id, sampler_id = _inpaint_graph(0x8090A0, 0x8090A0)
    result = comfy.run_graph(prompt)
    latent_in = result.output(latent_id, 2)
    before, after = latent_in["samples"], result.output(sampler_id)["samples"]
    known = _known(latent_in["noise_mask"], before)
    assert known.any() and (~known).any()
    assert torch.equal(after[known], before[known])
    assert (after[~known] - before[~known]).abs().mean() > 1e-3
    # Same latent, same noise; only the conditioning image (the 9-channel UNet's concat input) differs.
    other_prompt, _, other_sampler = _inpaint_graph(0x8090A0, 0x204060)
    other = comfy.run_graph(other_prompt).output(other_sampler)["samples"]
    assert torch.equal(other[known], before[known])
    assert not torch.equal(other[~known], after[~known])


# --- Pose ControlNet Apply with an SDXL ControlNet --------------------------------------------------------


def test_pose_controlnet_apply_with_sdxl_controlnet_changes_the_result(comfy):
    """Plain SDXL model: Pose ControlNet Apply (pose + inpaint ControlNet, both the SDXL stand-in) at
    strength 1 vs 0 (ComfyUI leaves the conditioning untouched at 0)."""
    runs = {}
    for strength in (1.0, 0.0):
        prompt, ids = _eps_graph(strength=strength)
        result = comfy.run_graph(prompt)
        runs[strength] = (
            result.output(ids["latent"]),
            result.output(ids["sampler"])["samples"],
            result.output(ids["applied"], 0),
        )
    latent_in, with_control, positive = runs[1.0]
    _, without, plain = runs[0.0]
    assert positive[0][1]["control"].previous_controlnet is not None  # pose, then inpaint ControlNet
    assert "control" not in plain[0][1]
    known = _known(latent_in["noise_mask"], latent_in["samples"])
    assert torch.equal(with_control[known], latent_in["samples"][known])
    assert not torch.equal(with_control[~known], without[~known])


def test_pose_controlnet_with_sdxl_9_channel_inpaint_model(comfy):
    """Pose ControlNet Apply before InpaintModelConditioning on the 9-channel SDXL model."""
    prompt, latent_id, sampler_id = _inpaint_graph(0x8090A0, 0x8090A0, control=True)
    result = comfy.run_graph(prompt)
    before, after = result.output(latent_id, 2)["samples"], result.output(sampler_id)["samples"]
    assert torch.equal(after[..., 4:], before[..., 4:])  # half mask: latent columns 4.. are known
    plain_prompt, _, plain_sampler = _inpaint_graph(0x8090A0, 0x8090A0, control=True, strength=0.0)
    plain = comfy.run_graph(plain_prompt).output(plain_sampler)["samples"]
    assert torch.equal(plain[..., 4:], before[..., 4:])
    assert not torch.equal(after[..., :4], plain[..., :4])


# --- Outpaint (Tiled) with SDXL model + SDXL ControlNet ---------------------------------------------------


@pytest.fixture(scope="module")
def photo_name(camera_input):
    return camera_input(64, 48)


def _outpaint_graph(photo_name, control=True):
    from support import graphs

    g = _builder()
    ckpt = g.node("TinyCheckpointLoader", kind="eps", size="tiny", seed=0, family="sdxl")
    pos = g.node("CLIPTextEncode", clip=ckpt.out(1), text="legs and feet")
    neg = g.node("CLIPTextEncode", clip=ckpt.out(1), text="")
    photo = g.node("LoadImage", image=photo_name)
    pad = g.node("ImagePadForOutpaint", image=photo.out(0), left=0, top=0, right=16, bottom=16, feathering=0)
    control_inputs = {}
    if control:
        net = g.node("TinyControlNetLoader", size="tiny", seed=3, family="sdxl")
        control_inputs = dict(
            control_net=net.out(0),
            control_image=pad.out(0),  # any hint on the canvas: the padded photo itself
            control_strength=1.0,
            control_start=0.0,
            control_end=1.0,
        )
    tiled = graphs.outpaint_tiled(g, ckpt, pos.out(0), neg.out(0), pad, seed=5, **control_inputs)
    final = g.node(
        "OutpaintComposite", original=pad.out(0), generated=tiled.out(0), mask=pad.out(1), color_match_band=8
    )
    g.node("PreviewImage", images=final.out(0))
    return g.finalize(), {"photo": photo.id, "pad": pad.id, "tiled": tiled.id, "final": final.id}


def test_outpaint_tiled_with_sdxl_and_sdxl_controlnet(comfy, photo_name):
    prompt, ids = _outpaint_graph(photo_name)
    result = comfy.run_graph(prompt)
    photo, padded, mask = (
        result.output(ids["photo"]),
        result.output(ids["pad"], 0),
        result.output(ids["pad"], 1),
    )
    final = result.output(ids["final"])
    assert final.shape == padded.shape == (1, 64, 80, 3)  # 64x48 photo padded 16 px right and down
    known = mask == 0
    assert known.sum() == 48 * 64
    assert torch.equal(final[known], padded[known])  # bit-exact
    assert torch.equal(final[:, :48, :64], photo)  # the photo itself, untouched
    tiles, nfe = result.output(ids["tiled"], 1), result.output(ids["tiled"], 2)
    assert tiles == 2 and nfe == tiles * (4 + 2)  # RePaint 4 steps, j=2, r=2: 6 model calls per tile
    assert final[:, 48:].std() > 0.01 and final[:, :, 64:].std() > 0.01  # generated, not the grey fill
    plain_prompt, plain_ids = _outpaint_graph(photo_name, control=False)
    plain = comfy.run_graph(plain_prompt).output(plain_ids["tiled"])
    assert not torch.equal(plain, result.output(ids["tiled"]))  # the SDXL ControlNet took part

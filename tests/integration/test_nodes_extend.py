"""Extending a cropped photo through the real executor: pose -> pad -> render -> ControlNet -> tiled RePaint
outpainting -> exact composite, with tiny stand-in models (SD1.5-shaped UNet, VAE, CLIP and ControlNet)."""

import pytest
import torch


@pytest.fixture(scope="module")
def camera_name(camera_input):
    return camera_input(128, 128)


def _extend_graph(image_name, *, control=True, bottom=None):
    from support import graphs

    prompt, ids = graphs.extend_legs(
        image=image_name,
        ckpt_name=None,
        controlnet_name=None,
        control=control,
        bottom=bottom,
        seed=5,
        steps=4,
        cfg=2.0,
        jump_length=2,
        jump_n_sample=2,
        tile=64,
        overlap=16,
        feather=8,
        margin=8,
        multiple=8,
        color_match_band=8,
        save_prefix="extend",
        prompt="full-length photo of a man, legs and feet",
        negative_prompt="",
    )
    ids["image"] = ids["photo"]
    return prompt, ids


def test_extend_legs_graph_keeps_every_known_pixel(comfy, camera_name):
    prompt, ids = _extend_graph(camera_name)
    result = comfy.run_graph(prompt)
    image, padded, mask = (
        result.output(ids["image"]),
        result.output(ids["pad"], 0),
        result.output(ids["pad"], 1),
    )
    _, h, w, _ = image.shape
    left, top, bottom = (result.output(ids["pad"], k) for k in (3, 4, 6))
    final = result.output(ids["final"])
    assert final.shape == padded.shape and bottom > 0  # grown downwards to fit the completed feet
    known = mask[0] == 0
    assert torch.equal(final[0][known], padded[0][known])  # bit-exact
    assert torch.equal(final[0, top : top + h, left : left + w], image[0])  # the photo itself, untouched
    tiles, nfe = result.output(ids["tiled"], 1), result.output(ids["tiled"], 2)
    assert tiles >= 2 and nfe == tiles * (4 + 2)  # RePaint 4 steps, j=2, r=2: 6 model calls per tile
    new_area = final[0, top + h :]
    assert new_area.std() > 0.01  # generated, not left as the edge fill
    hint = result.output(ids["hint"])
    assert hint.shape == padded.shape and hint[0, top + h :].max() > 0.5  # the legs are drawn in the new area


def test_control_net_changes_the_result(comfy, camera_name):
    with_control = comfy.run_graph(_extend_graph(camera_name, control=True, bottom=32)[0])
    without = comfy.run_graph(_extend_graph(camera_name, control=False, bottom=32)[0])
    ids = _extend_graph(camera_name, bottom=32)[1]
    assert not torch.equal(with_control.output(ids["tiled"]), without.output(ids["tiled"]))


def test_pose_controlnet_apply_chains_pose_and_inpaint_controlnets(comfy):
    import nodes
    from support import tiny_models

    net = tiny_models.build_controlnet("tiny", 3)
    cond = [[torch.zeros(1, 77, 32), {}]]
    image, pose_image = torch.rand(1, 64, 64, 3), torch.zeros(1, 64, 64, 3)
    mask = torch.zeros(1, 64, 64)
    mask[:, 32:] = 1
    node = nodes.NODE_CLASS_MAPPINGS["PoseControlNetApply"]
    positive, negative = node.execute(
        cond, cond, net, pose_image, 0.8, 0.0, 1.0, net, image, mask, 0.5
    ).result
    inpaint_cn = positive[0][1]["control"]
    assert (
        inpaint_cn.previous_controlnet is not None
    )  # pose ControlNet first, inpaint ControlNet chained on it
    hint = inpaint_cn.cond_hint_original
    assert hint[:, :, 32:].eq(-1).all() and torch.equal(hint[:, :, :32], image.movedim(-1, 1)[:, :, :32])
    assert "control" not in cond[0][1]  # the input conditioning is not modified
    with pytest.raises(ValueError, match="same canvas"):
        node.execute(cond, cond, net, torch.zeros(1, 48, 64, 3), 1.0, 0.0, 1.0, None, image, mask, 1.0)
    with pytest.raises(ValueError, match="image and mask"):
        node.execute(cond, cond, net, pose_image, 1.0, 0.0, 1.0, net, None, None, 1.0)


def test_outpaint_bad_input(comfy, camera_name):
    import nodes
    from support import tiny_models

    model, clip, vae = tiny_models.build("eps", "tiny", 0)
    cond = [[torch.zeros(1, 77, 32), {}]]
    node = nodes.NODE_CLASS_MAPPINGS["OutpaintTiled"]
    image = torch.rand(1, 64, 64, 3)
    snapshot = image.clone()
    inputs = dict(
        model=model, vae=vae, positive=cond, negative=cond, image=image, seed=0, steps=12, cfg=1.0,
        scheduler="normal", tile_width=64, tile_height=64, overlap=16, feather=8,
    )  # fmt: skip
    with pytest.raises(ValueError, match="mask"):
        node.execute(mask=torch.ones(1, 32, 64), **inputs)
    with pytest.raises(ValueError, match="nothing to outpaint|no unknown"):
        node.execute(mask=torch.zeros(1, 64, 64), **inputs)
    with pytest.raises(ValueError, match="control_image"):
        node.execute(
            mask=torch.ones(1, 64, 64),
            control_net=tiny_models.build_controlnet("tiny", 3),
            control_image=torch.zeros(1, 32, 32, 3),
            **inputs,
        )
    assert torch.equal(image, snapshot)


def test_inpaint_preprocessor_node(comfy):
    import nodes

    image, mask = torch.rand(1, 8, 8, 3), torch.zeros(8, 8)
    mask[2:4, 2:4] = 1
    hint = nodes.NODE_CLASS_MAPPINGS["InpaintControlNetPreprocessor"].execute(image, mask).result[0]
    assert hint[0, 2:4, 2:4].eq(-1).all() and hint[0, 5:, 5:].equal(image[0, 5:, 5:])


def test_composite_node_uses_every_input(comfy):
    """Known pixels from ``original``, the rest from ``generated`` (both quantised to 8 bits), split by
    ``mask``; ``color_match_band`` > 0 first matches the generated colours to that band of known pixels."""
    import nodes

    from repaint_extend.outpaint import composite_known, match_color_to_known, to_uint8

    g = torch.Generator().manual_seed(0)
    original, generated = torch.rand(1, 64, 32, 3, generator=g), 0.5 * torch.rand(1, 64, 32, 3, generator=g)
    mask = torch.zeros(1, 64, 32)
    mask[:, 40:] = 1
    node = nodes.NODE_CLASS_MAPPINGS["OutpaintComposite"]
    plain = node.execute(original, generated, mask, 0).result[0]
    known = mask[0] == 0
    assert torch.equal(plain[0][known], to_uint8(original)[0][known].float() / 255.0)
    assert torch.equal(plain[0][~known], to_uint8(generated)[0][~known].float() / 255.0)
    matched = node.execute(original, generated, mask, 8).result[0]
    assert not torch.equal(matched, plain)
    expected = composite_known(to_uint8(original), match_color_to_known(generated, mask, band=8), mask)
    assert torch.equal(matched, expected.float() / 255.0)


def test_pose_controlnet_with_a_9_channel_inpaint_model(comfy):
    """Pose ControlNet + inpaint ControlNet + InpaintModelConditioning + KSampler (RePaint) on a 9-channel
    inpaint UNet: runs, keeps the known latent exactly, and the ControlNets change the result."""
    from comfy_execution.graph_utils import GraphBuilder
    from support import graphs

    def graph(control: bool):
        g = GraphBuilder(prefix="")
        ckpt = g.node("TinyCheckpointLoader", kind="inpaint", size="tiny", seed=0)
        pos = g.node("CLIPTextEncode", clip=ckpt.out(1), text="legs")
        neg = g.node("CLIPTextEncode", clip=ckpt.out(1), text="")
        image = g.node("EmptyImage", width=64, height=64, batch_size=1, color=0x8090A0)
        mask = g.node("RePaintMask", preset="half", width=64, height=64, batch_size=1, seed=0)
        positive, negative = pos.out(0), neg.out(0)
        if control:
            applied = graphs.pose_control(g, positive, negative, inpaint=(image.out(0), mask.out(0)))
            positive, negative = applied.out(0), applied.out(1)
        cond = g.node(
            "InpaintModelConditioning",
            positive=positive,
            negative=negative,
            vae=ckpt.out(2),
            pixels=image.out(0),
            mask=mask.out(0),
            noise_mask=True,
        )
        sampler = graphs.ksampler_repaint(g, ckpt.out(0), cond.out(0), cond.out(1), cond.out(2), seed=1)
        g.node("PreviewAny", source=sampler.out(0))
        return g.finalize(), cond.id, sampler.id

    prompt, cond_id, sampler_id = graph(control=True)
    result = comfy.run_graph(prompt)
    before, after = result.output(cond_id, 2)["samples"], result.output(sampler_id)["samples"]
    assert torch.equal(after[..., 4:], before[..., 4:])
    plain_prompt, _, plain_sampler = graph(control=False)
    plain = comfy.run_graph(plain_prompt).output(plain_sampler)["samples"]
    assert not torch.equal(after, plain)

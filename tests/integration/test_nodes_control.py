"""Pose ControlNet Apply through ComfyUI's real executor: every input reaches the ControlNets it sets."""

import pytest
import torch


def _apply_graph(**inputs):
    """Tiny SD1.5 ControlNet as pose and inpaint ControlNet, a 64x64 pose hint and image, half mask."""
    from comfy_execution.graph_utils import GraphBuilder

    g = GraphBuilder(prefix="")
    ckpt = g.node("TinyCheckpointLoader", kind="eps", size="tiny", seed=0)
    pos = g.node("CLIPTextEncode", clip=ckpt.out(1), text="legs")
    neg = g.node("CLIPTextEncode", clip=ckpt.out(1), text="")
    net = g.node("TinyControlNetLoader", size="tiny", seed=3)
    pose = g.node("EmptyImage", width=64, height=64, batch_size=1, color=0xFF00FF)
    image = g.node("EmptyImage", width=64, height=64, batch_size=1, color=0x406080)
    mask = g.node("RePaintMask", preset="half", width=64, height=64, batch_size=1, seed=0)
    values = {"strength": 0.8, "start_percent": 0.1, "end_percent": 0.7, "inpaint_strength": 0.5, **inputs}
    applied = g.node(
        "PoseControlNetApply",
        positive=pos.out(0),
        negative=neg.out(0),
        control_net=net.out(0),
        pose_image=pose.out(0),
        inpaint_control_net=net.out(0),
        image=image.out(0),
        mask=mask.out(0),
        vae=ckpt.out(2),
        **values,
    )
    g.node("PreviewAny", source=applied.out(0))
    g.node("PreviewAny", source=applied.out(1))
    ids = {"applied": applied.id, "pos": pos.id, "neg": neg.id, "pose": pose.id, "image": image.id}
    return g.finalize(), ids


def test_every_input_reaches_its_controlnet(comfy):
    result = comfy.run_graph(_apply_graph()[0])
    ids = _apply_graph()[1]
    pose_image, image = result.output(ids["pose"]), result.output(ids["image"])
    for index, text_node in ((0, "pos"), (1, "neg")):
        (cond, options), (plain, plain_options) = (
            result.output(ids["applied"], index)[0],
            result.output(ids[text_node])[0],
        )
        assert torch.equal(cond, plain) and "control" not in plain_options  # the input is not modified
        inpaint_cn = options["control"]
        pose_cn = inpaint_cn.previous_controlnet  # pose first, the inpaint ControlNet chained on it
        assert pose_cn is not None and pose_cn.previous_controlnet is None
        assert pose_cn.strength == 0.8 and inpaint_cn.strength == 0.5
        assert pose_cn.timestep_percent_range == inpaint_cn.timestep_percent_range == (0.1, 0.7)
        assert torch.equal(pose_cn.cond_hint_original, pose_image.movedim(-1, 1))
        hint = inpaint_cn.cond_hint_original
        assert hint[:, :, :, :32].eq(-1).all()  # the half mask's left half: generated
        assert torch.equal(hint[:, :, :, 32:], image.movedim(-1, 1)[:, :, :, 32:])


def test_vae_reaches_controlnets_with_latent_hints(comfy):
    """``vae`` is for ControlNets whose hint is a latent (``latent_format`` set): both ControlNets get it."""
    import comfy.latent_formats
    import nodes
    from support import tiny_models

    model, clip, vae = tiny_models.build("eps", "tiny", 0)
    net = tiny_models.build_controlnet("tiny", 3).copy()
    net.latent_format = comfy.latent_formats.SD15()
    cond = [[torch.zeros(1, 77, 32), {}]]
    image, mask = torch.rand(1, 64, 64, 3), torch.ones(1, 64, 64)
    node = nodes.NODE_CLASS_MAPPINGS["PoseControlNetApply"]
    positive, _ = node.execute(cond, cond, net, image, 1.0, 0.0, 1.0, net, image, mask, 1.0, vae).result
    inpaint_cn = positive[0][1]["control"]
    assert inpaint_cn.vae is vae and inpaint_cn.previous_controlnet.vae is vae


@pytest.mark.parametrize(
    "inputs, message",
    [(dict(start_percent=0.8, end_percent=0.2), "start_percent"), (dict(strength=-1.0), "strength")],
)
def test_bad_values_name_the_input(comfy, inputs, message):
    with pytest.raises(comfy.GraphError) as info:
        comfy.run_graph(_apply_graph(**inputs)[0])
    assert message in f"{info.value} {info.value.details}"


def test_pose_and_inpaint_controlnets_each_come_from_their_input(comfy):
    """Two different ControlNets: the pose hint goes to ``control_net``'s copy, the inpaint hint to
    ``inpaint_control_net``'s (a ControlNet's copy shares its model)."""
    import nodes
    from support import tiny_models

    pose_net, inpaint_net = tiny_models.build_controlnet("tiny", 3), tiny_models.build_controlnet("tiny", 4)
    cond = [[torch.zeros(1, 77, 32), {}]]
    image, pose_image, mask = torch.rand(1, 64, 64, 3), torch.zeros(1, 64, 64, 3), torch.ones(1, 64, 64)
    node = nodes.NODE_CLASS_MAPPINGS["PoseControlNetApply"]
    args = (cond, cond, pose_net, pose_image, 1.0, 0.0, 1.0, inpaint_net, image, mask, 1.0)
    inpaint_cn = node.execute(*args).result[0][0][1]["control"]
    pose_cn = inpaint_cn.previous_controlnet
    assert (
        pose_cn.control_model is pose_net.control_model
        and pose_cn.control_model is not inpaint_net.control_model
    )
    assert inpaint_cn.control_model is inpaint_net.control_model

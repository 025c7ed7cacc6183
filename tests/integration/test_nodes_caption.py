"""Captioning nodes and per-tile prompts through ComfyUI's real executor, with a tiny random BLIP saved in a
temporary ComfyUI/models/blip/<name>/ folder (tests/support/tiny_blip.py) and tests/support's tiny SD1.5-shaped
models."""

import json
from pathlib import Path

import pytest
import torch
from support import tiny_blip

ROOT = Path(__file__).resolve().parents[2]
WORDS = set(tiny_blip.WORDS)
PAD = 96  # px added below a 64 px photo: 3 tiles of 64 px, overlap 32


@pytest.fixture(scope="module")
def blip_name(comfy, tmp_path_factory):
    import folder_paths

    models = tmp_path_factory.mktemp("models") / "blip"
    tiny_blip.save_tiny_blip(models / "tiny-blip")
    (models / "broken").mkdir()
    (models / "broken" / "config.json").write_text('{"model_type": "blip"}')
    folder_paths.add_model_folder_path("blip", str(models))
    return "tiny-blip"


@pytest.fixture(scope="module")
def photo(camera_input):
    return camera_input(64, 64)


def _caption_graph(blip_name, prefix=""):
    from comfy_execution.graph_utils import GraphBuilder

    g = GraphBuilder(prefix="")
    blip = g.node("CaptionLoadBLIP", model_name=blip_name)
    dark = g.node("EmptyImage", width=48, height=40, batch_size=1, color=0x102030)
    light = g.node("EmptyImage", width=48, height=40, batch_size=1, color=0xF0E0A0)
    batch = g.node("ImageBatch", image1=dark.out(0), image2=light.out(0))
    caption = g.node(
        "CaptionImageBLIP",
        blip_model=blip.out(0),
        image=batch.out(0),
        prefix=prefix,
        max_new_tokens=12,
        num_beams=3,
    )
    g.node("PreviewAny", source=caption.out(0))
    return g.finalize(), {"blip": blip.id, "batch": batch.id, "caption": caption.id}


def test_load_blip_and_caption_a_batch(comfy, blip_name):
    from repaint_extend.caption import caption_images

    prompt, ids = _caption_graph(blip_name)
    result = comfy.run_graph(prompt)
    lines = result.output(ids["caption"]).split("\n")
    images = result.output(ids["batch"])
    assert len(lines) == 2 and all(lines) and lines[0] != lines[1]
    assert all(set(line.split()) <= WORDS for line in lines)
    blip_model = result.output(ids["blip"])
    assert lines == caption_images(blip_model.captioner, images, max_new_tokens=12)  # the node is the core
    assert (2, 2, False) in result.progress  # the batch's progress reached the UI
    prefixed = comfy.run_graph(_caption_graph(blip_name, prefix="A picture of")[0])
    assert all(line.startswith("a picture of ") for line in prefixed.output(ids["caption"]).split("\n"))
    # a mask captions the known part only: noise on the masked right half changes nothing
    import nodes

    noisy = images.clone()
    noisy[:, :, 24:] = torch.rand(2, 40, 24, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(40, 48)
    mask[:, 24:] = 1
    node = nodes.NODE_CLASS_MAPPINGS["CaptionImageBLIP"]
    masked = node.execute(blip_model, noisy, "", 12, 3, mask=mask).result[0]
    assert masked.split("\n") == caption_images(blip_model.captioner, images[:, :, :24], max_new_tokens=12)
    assert masked != node.execute(blip_model, noisy, "", 12, 3).result[0]
    # num_beams and max_new_tokens reach the search: greedy differs here, a 3-token limit cuts the captions
    greedy = node.execute(blip_model, images, "", 12, 1).result[0]
    assert greedy.split("\n") == caption_images(blip_model.captioner, images, max_new_tokens=12, num_beams=1)
    assert greedy != "\n".join(lines)
    short = node.execute(blip_model, images, "", 3, 3).result[0].split("\n")
    assert short == caption_images(blip_model.captioner, images, max_new_tokens=3)
    assert all(len(line.split()) <= 3 for line in short) and short != lines


def test_missing_blip_weights_give_a_clear_error(comfy, blip_name):
    import nodes

    loader = nodes.NODE_CLASS_MAPPINGS["CaptionLoadBLIP"]
    assert {"tiny-blip", "broken"} <= set(loader.INPUT_TYPES()["required"]["model_name"][1]["options"])
    with pytest.raises(FileNotFoundError, match="no-such-model") as error:
        loader.execute("no-such-model")
    assert "blip" in str(error.value) and "Salesforce/blip-image-captioning-base" in str(error.value)
    with pytest.raises(ValueError, match="model_name"):
        loader.execute("../checkpoints")
    # a folder without weights, through the executor: the error names the folder and the missing files
    prompt, _ = _caption_graph("broken")
    with pytest.raises(comfy.GraphError) as error:
        comfy.run_graph(prompt)
    message = str(error.value)
    assert "broken" in message and "model.safetensors" in message and "tokenizer" in message


def test_the_loaded_blip_is_kept_while_its_files_are_unchanged(comfy, blip_name):
    import os

    import folder_paths
    import nodes

    loader = nodes.NODE_CLASS_MAPPINGS["CaptionLoadBLIP"]
    first = loader.execute(blip_name).result[0]
    assert loader.execute(blip_name).result[0] is first  # reused, not loaded again
    (config,) = (
        os.path.join(base, blip_name, "config.json")
        for base in folder_paths.get_folder_paths("blip")
        if os.path.isdir(os.path.join(base, blip_name))
    )
    stat = os.stat(config)
    os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the file changed: load it again
    assert loader.execute(blip_name).result[0] is not first


def _outpaint_graph(photo, *, blip_name=None, clip=True, tile_prompt=None):
    from comfy_execution.graph_utils import GraphBuilder
    from support import graphs

    g = GraphBuilder(prefix="")
    ckpt = g.node("TinyCheckpointLoader", kind="eps", size="tiny", seed=0)
    image = g.node("LoadImage", image=photo)
    pad = g.node("ImagePadForOutpaint", image=image.out(0), left=0, top=0, right=0, bottom=PAD, feathering=0)
    positive = g.node("CLIPTextEncode", clip=ckpt.out(1), text="full-length photo of a man")
    negative = g.node("CLIPTextEncode", clip=ckpt.out(1), text="")
    extra = {}
    if clip:
        extra["clip"] = ckpt.out(1)
    if tile_prompt is not None:
        extra["tile_prompt"] = tile_prompt
    blip = None
    if blip_name is not None:
        blip = g.node("CaptionLoadBLIP", model_name=blip_name)
        extra["caption_model"] = blip.out(0)
    tiled = graphs.outpaint_tiled(
        g, ckpt, positive.out(0), negative.out(0), pad, seed=3, overlap=32, feather=16, **extra
    )
    g.node("PreviewImage", images=tiled.out(0))
    g.node("PreviewAny", source=tiled.out(3))
    ids = {"pad": pad.id, "positive": positive.id, "tiled": tiled.id, "blip": blip.id if blip else None}
    return g.finalize(), ids


def test_outpaint_tiled_with_a_caption_per_tile(comfy, blip_name, photo):
    from repaint_extend.caption import caption_images
    from repaint_extend.outpaint import plan_tiles, tile_inputs

    prompt, ids = _outpaint_graph(photo, blip_name=blip_name)
    result = comfy.run_graph(prompt)
    canvas, mask = result.output(ids["pad"], 0), result.output(ids["pad"], 1)
    image, tiles, prompts = (result.output(ids["tiled"], k) for k in (0, 1, 3))
    lines = prompts.split("\n")
    assert tiles == 3 and len(lines) == tiles
    assert all(line and set(line.split()) <= WORDS for line in lines)  # "{caption}" alone: pure captions
    # the first tile's caption is BLIP's caption of that tile's context: the photo's pixels in it
    first = plan_tiles(tuple(canvas.shape[1:3]), mask, (64, 64), 32, 8, "outward")[0]
    inputs = tile_inputs(canvas, mask, [], first, 16)
    captioner = result.output(ids["blip"]).captioner
    assert lines[0] == caption_images(captioner, inputs.image, mask=inputs.noise_mask)[0]
    known = mask[0] == 0
    assert torch.equal(image[0][known], canvas[0][known])  # known pixels bit-exact
    assert result.output(ids["positive"])[0][0].shape[1] == 77  # the input conditioning is not modified

    plain_prompt, plain_ids = _outpaint_graph(photo, clip=False)
    plain = comfy.run_graph(plain_prompt).output
    assert plain(plain_ids["tiled"], 3) == ""  # no per-tile prompts
    assert plain(plain_ids["tiled"], 1) == tiles
    assert not torch.equal(plain(plain_ids["tiled"], 0), image)  # the per-tile prompts changed the result


def test_tile_prompt_lines_map_to_tiles_in_order(comfy, blip_name, photo):
    """Line i is tile i's prompt (blank lines at the end dropped, a blank line adds nothing); {caption} is
    that tile's caption. That the last line repeats is checked below, without sampling."""
    prompt, ids = _outpaint_graph(photo, blip_name=blip_name, tile_prompt="legs, {caption}\r\n\n  shoes \n\n")
    lines = comfy.run_graph(prompt).output(ids["tiled"], 3).split("\n")
    assert len(lines) == 3 and lines[1:] == ["", "shoes"]
    caption = lines[0].removeprefix("legs, ")
    assert lines[0].startswith("legs, ") and caption and set(caption.split()) <= WORDS


def test_per_tile_prompts_need_clip_and_caption_needs_a_model(comfy, blip_name, photo):
    with pytest.raises(comfy.GraphError, match="clip"):
        comfy.run_graph(_outpaint_graph(photo, clip=False, tile_prompt="legs")[0])
    with pytest.raises(comfy.GraphError, match="clip"):
        comfy.run_graph(_outpaint_graph(photo, clip=False, blip_name=blip_name)[0])
    with pytest.raises(comfy.GraphError, match="caption_model"):
        comfy.run_graph(_outpaint_graph(photo, tile_prompt="legs, {caption}")[0])


def test_tile_prompt_is_concatenated_to_the_positive_and_control_is_kept(comfy, monkeypatch):
    """What the sampler receives per tile: the user's conditioning (with the ControlNet already applied to it)
    followed by the tile's text, then the tile's ControlNet hint on top."""
    import comfy.sample as comfy_sample
    import nodes
    from support import tiny_models

    model, clip, vae = tiny_models.build("eps", "tiny", 0)
    net = tiny_models.build_controlnet("tiny", 3)
    user = nodes.CLIPTextEncode().encode(clip, "a man")[0]
    user = nodes.ControlNetApplyAdvanced().apply_controlnet(
        user, user, net, torch.zeros(1, 64, 64, 3), 0.5, 0.0, 1.0, vae=vae
    )[0]
    before = [(c[0].clone(), dict(c[1])) for c in user]
    seen = []

    def fake_sample(model, noise, cfg, sampler, sigmas, positive, negative, latent, **kwargs):
        seen.append(positive)
        return latent

    monkeypatch.setattr(comfy_sample, "sample_custom", fake_sample)
    image = torch.rand(1, 160, 64, 3)
    mask = torch.zeros(1, 160, 64)
    mask[:, 64:] = 1
    out = nodes.NODE_CLASS_MAPPINGS["OutpaintTiled"].execute(model=model, vae=vae, positive=user, negative=user, image=image, mask=mask, seed=0, steps=12, cfg=1.0, scheduler="normal", tile_width=64, tile_height=64, overlap=32, feather=16,
        control_net=net, control_image=torch.ones(1, 160, 64, 3),
        clip=clip, tile_prompt="legs\nfeet", mode="sequential",
    ).result  # fmt: skip
    assert out[1] == 3 and out[3] == "legs\nfeet\nfeet"
    legs = nodes.CLIPTextEncode().encode(clip, "legs")[0][0][0]
    user_cond, user_control = user[0][0], user[0][1]["control"]
    for positive in seen:
        cond, options = positive[0]
        assert cond.shape[1] == 2 * 77 and torch.equal(cond[:, :77], user_cond)  # the user's prompt first
        tile_control = options["control"]
        assert tile_control is not user_control and tile_control.previous_controlnet is user_control
    assert torch.equal(seen[0][0][0][:, 77:], legs)
    assert not torch.equal(seen[1][0][0][:, 77:], legs)  # "feet"
    assert torch.equal(seen[1][0][0], seen[2][0][0])  # the last line repeats
    for (cond, options), (cond0, options0) in zip(user, before):  # the input is not modified
        assert torch.equal(cond, cond0) and options == options0


def test_saved_workflows_without_the_new_inputs_still_load(comfy):
    """A file saved before tile_prompt existed (tests/data: extend_legs.json as shipped then) gets its
    default (test_workflows.py runs it through ComfyUI's validation)."""
    from runner import workflow_format

    workflow = json.loads((ROOT / "tests" / "data" / "extend_legs_before_tile_prompt.json").read_text())
    node = next(n for n in workflow["nodes"] if n["type"] == "OutpaintTiled")
    assert len(node["outputs"]) == 3  # saved before the prompts output
    prompt = workflow_format.ui_to_api(workflow)
    tiled = prompt[str(node["id"])]["inputs"]
    assert tiled["tile_prompt"] == "" and "clip" not in tiled and "caption_model" not in tiled
    assert tiled["control_end"] == node["widgets_values"][-1]  # the saved values keep their places
    # the new inputs and output come last, so positional widget values and output links keep their places
    import nodes

    cls = nodes.NODE_CLASS_MAPPINGS["OutpaintTiled"]
    optional = cls.INPUT_TYPES()["optional"]
    assert list(optional)[-5:] == ["clip", "tile_prompt", "caption_model", "mode", "sigmas"]
    assert list(cls.RETURN_NAMES) == ["image", "tiles", "nfe", "prompts"]
    assert optional["tile_prompt"][1]["dynamicPrompts"] is False  # the front end keeps {caption} as typed


def test_a_missing_blip_folder_is_named_before_anything_runs(comfy, blip_name):
    """ComfyUI's validation names the model folder asked for, the blip folders searched and what to put
    there, instead of "Value not in list"."""
    import folder_paths

    prompt, ids = _caption_graph("blip-image-captioning-base")
    ok, _, _, node_errors = comfy.validate(prompt)
    text = json.dumps(node_errors)
    assert not ok and "'blip-image-captioning-base'" in text and "Value not in list" not in text
    assert all(folder in text for folder in folder_paths.get_folder_paths("blip"))
    assert "Salesforce/blip-image-captioning-base" in text
    prompt[ids["blip"]]["inputs"]["model_name"] = blip_name
    ok, _, _, node_errors = comfy.validate(prompt)
    assert ok and not node_errors, node_errors

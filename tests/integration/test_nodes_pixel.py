"""Pixel-space ADM models as ComfyUI MODELs: the embedded digits DDPM and a guided-diffusion-layout .pt
checkpoint, through the real executor with KSampler (RePaint), the identity VAE and a RePaint mask."""

import pytest
import torch


def _digit_png(comfy, name="digit.png"):
    import folder_paths
    from PIL import Image

    from training.digits import load_digits_split, upsample_digits

    split = load_digits_split()
    image = upsample_digits(split["x_test"][:1], size=16, channels=3)[0]  # [3, 16, 16] in [-1, 1]
    pixels = ((image + 1) / 2 * 255).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    Image.fromarray(pixels).save(f"{folder_paths.get_input_directory()}/{name}")
    return name


def _pixel_graph(ckpt_name, image_name, size=16, seed=3, **loader):
    from comfy_execution.graph_utils import GraphBuilder
    from support import graphs

    g = GraphBuilder(prefix="")
    load = g.node(
        "LoadADMPixelModel",
        ckpt_name=ckpt_name,
        num_head_channels=loader.get("num_head_channels", 64),
        num_heads=loader.get("num_heads", 4),
        **({"class_label": loader["class_label"]} if "class_label" in loader else {}),
    )
    image = g.node("LoadImage", image=image_name)
    encoded = g.node("VAEEncode", pixels=image.out(0), vae=load.out(1))
    mask = g.node("RePaintMask", preset="half", width=size, height=size, batch_size=1, seed=0)
    latent = g.node("SetLatentNoiseMask", samples=encoded.out(0), mask=mask.out(0))
    sampler = graphs.ksampler_repaint(
        g,
        load.out(0),
        load.out(2),
        load.out(2),
        latent.out(0),
        seed=seed,
        steps=loader.pop("steps", 20),
        cfg=1.0,
        jump_length=loader.pop("jump_length", 5),
    )
    decoded = g.node("VAEDecode", samples=sampler.out(0), vae=load.out(1))
    g.node("PreviewImage", images=decoded.out(0))
    return g.finalize(), {
        "image": image.id,
        "latent": latent.id,
        "sampler": sampler.id,
        "decoded": decoded.id,
    }


def test_embedded_digits_model_inpaints_a_real_digit(comfy):
    prompt, ids = _pixel_graph("[embedded] digits 16x16", _digit_png(comfy))
    result = comfy.run_graph(prompt)
    before, after = result.output(ids["latent"])["samples"], result.output(ids["sampler"])["samples"]
    assert before.shape == after.shape == (1, 3, 16, 16)  # identity VAE: the latent is the image
    assert torch.equal(after[..., 8:], before[..., 8:])  # known right half, bit-exact
    generated = after[..., :8]
    assert generated.std() > 0.1 and generated.abs().max() < 1.5  # a drawn stroke, not noise or a blank
    decoded, image = result.output(ids["decoded"]), result.output(ids["image"])
    torch.testing.assert_close(decoded[:, :, 8:], image[:, :, 8:], atol=1e-6, rtol=0)


def _tiny_adm(folder, name, **config):
    from repaint_extend.pixel import ADMUNet

    torch.manual_seed(0)
    unet = ADMUNet(
        image_size=16,
        in_channels=3,
        model_channels=32,
        out_channels=6,
        num_res_blocks=1,
        attention_resolutions=(2,),
        channel_mult=(1, 2),
        num_head_channels=16,
        use_scale_shift_norm=True,
        resblock_updown=True,
        **config,
    )
    with torch.no_grad():  # non-zero everywhere so that the label reaches the output
        for p in unet.parameters():
            p.add_(0.05 * torch.randn_like(p))
    torch.save(unet.state_dict(), folder / name)
    return unet


@pytest.fixture
def pixel_folder(comfy, tmp_path):
    """An empty folder registered as ComfyUI's ``pixel_diffusion`` models folder."""
    import folder_paths

    folder = tmp_path / "pixel_diffusion"
    folder.mkdir()
    folder_paths.add_model_folder_path("pixel_diffusion", str(folder))
    return folder


def test_guided_diffusion_pt_checkpoint_loads_from_the_models_folder(comfy, pixel_folder):
    _tiny_adm(pixel_folder, "tiny_uncond.pt")  # guided-diffusion stores a bare state dict
    prompt, ids = _pixel_graph("tiny_uncond.pt", _digit_png(comfy, "digit2.png"), num_head_channels=16)
    result = comfy.run_graph(prompt)
    after = result.output(ids["sampler"])["samples"]
    assert after.shape == (1, 3, 16, 16) and torch.isfinite(after).all()


def test_missing_checkpoint_names_the_folder(comfy):
    import nodes

    with pytest.raises(FileNotFoundError, match="pixel_diffusion"):
        nodes.NODE_CLASS_MAPPINGS["LoadADMPixelModel"].execute("nope.pt", 64, 4)


def test_class_conditional_checkpoint_samples_with_its_class_label(comfy, pixel_folder):
    """RePaint's ImageNet model (256x256_diffusion.pt) is class-conditional: the label reaches the UNet
    as ``y``; -1 (the default) draws one class per image from the seed, as RePaint's test.py does."""
    _tiny_adm(pixel_folder, "tiny_cond.pt", num_classes=10)
    digit = _digit_png(comfy, "digit3.png")

    def run(seed=3, **label):
        prompt, ids = _pixel_graph(
            "tiny_cond.pt", digit, seed=seed, num_head_channels=16, steps=3, jump_length=2, **label
        )
        return comfy.run_graph(prompt).output(ids["sampler"])["samples"]

    two, seven, random_ = run(class_label=2), run(class_label=7), run()
    assert torch.isfinite(two).all() and not torch.equal(two, seven)
    assert torch.equal(random_, run(class_label=-1))  # the default is -1
    assert torch.equal(random_, run())  # drawn from the seed: repeatable
    import nodes

    with pytest.raises(ValueError, match="class_label must be -1 .* or in \\[0, 9\\]"):
        nodes.NODE_CLASS_MAPPINGS["LoadADMPixelModel"].execute("tiny_cond.pt", 16, 4, 12)


def test_random_class_labels_follow_the_seed():
    from repaint_extend.pixel import class_labels

    a, b = class_labels(-1, 64, 1000, seed=1), class_labels(-1, 64, 1000, seed=2)
    assert a.dtype == torch.long and a.shape == (64,) and 0 <= a.min() and a.max() < 1000
    assert torch.equal(a, class_labels(-1, 64, 1000, seed=1)) and not torch.equal(a, b)
    assert len(set(a.tolist())) > 1  # one draw per image
    assert torch.equal(class_labels(5, 3, 1000), torch.tensor([5, 5, 5]))


def test_any_stated_head_width_loads_with_a_warning(comfy, pixel_folder, caplog):
    """Heads change no weight shape, so a file with the published 256 px layout but trained with
    other heads could not be loaded at all (its true num_head_channels, or -1 with num_heads, was refused).
    What the user states is used for every layout; a warning names the published model (class-conditional
    or unconditional, told apart by label_emb) and its value, or says the width cannot be checked."""
    import nodes

    from repaint_extend.pixel import check_published_heads, published_config, published_layouts
    from repaint_extend.pixel.adm_unet import ADMUNet

    with torch.device("meta"):
        conditional = ADMUNet(**published_config("imagenet256")).state_dict()
        unconditional = ADMUNet(**published_config("celeba256")).state_dict()
    assert published_layouts(conditional) == ["imagenet256"]
    assert published_layouts(unconditional) == ["celeba256", "places256", "imagenet256_uncond"]
    warning = check_published_heads(conditional, 16, 4)  # today: ADMCheckpointError
    assert "class-conditional imagenet256" in warning and "num_head_channels=64" in warning
    assert "num_head_channels=16 as set" in warning and "cannot be checked" in warning
    warning = check_published_heads(unconditional, -1, 8)
    assert "unconditional celeba256/places256/imagenet256_uncond" in warning
    assert "num_head_channels=-1, num_heads=8 as set" in warning
    assert check_published_heads(conditional, 64, 4) is None
    # a layout of no published model: the head width is the caller's, and cannot be checked
    tiny = _tiny_adm(pixel_folder, "tiny_heads.pt")
    assert "cannot be checked from the weights" in check_published_heads(tiny.state_dict(), 16, 4)
    with caplog.at_level("WARNING"):
        loaded = nodes.NODE_CLASS_MAPPINGS["LoadADMPixelModel"].execute("tiny_heads.pt", 16, 4).result[0]
    assert loaded.model.diffusion_model.unet.config["num_head_channels"] == 16
    assert "tiny_heads.pt" in caplog.text and "cannot be checked" in caplog.text


def test_num_heads_sets_the_heads_when_num_head_channels_is_minus_1(comfy, pixel_folder):
    """``num_heads`` is read only with ``num_head_channels = -1``: then it sets the attention heads, which
    change the UNet's output (same weights, another split of the attention channels)."""
    import nodes

    _tiny_adm(pixel_folder, "tiny_by_count.pt")
    loader = nodes.NODE_CLASS_MAPPINGS["LoadADMPixelModel"]
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    outputs = []
    for heads in (1, 4):
        unet = loader.execute("tiny_by_count.pt", -1, heads).result[0].model.diffusion_model.unet
        assert (unet.config["num_heads"], unet.config["num_head_channels"]) == (heads, -1)
        with torch.no_grad():
            outputs.append(unet(x, torch.tensor([500.0])))
    assert not torch.equal(*outputs)


def test_a_missing_checkpoint_is_named_with_its_folder_before_anything_runs(comfy):
    """ComfyUI's validation (what the browser shows on the node) names the file, the folder and the demo
    model, instead of "Value not in list"."""
    import json

    import folder_paths
    from comfy_execution.graph_utils import GraphBuilder

    g = GraphBuilder(prefix="")
    load = g.node("LoadADMPixelModel", ckpt_name="celeba256_250000.pt", num_head_channels=64, num_heads=4)
    latent = g.node("EmptyLatentImage", width=16, height=16, batch_size=1)
    g.node("PreviewImage", images=g.node("VAEDecode", samples=latent.out(0), vae=load.out(1)).out(0))
    prompt = g.finalize()
    ok, _, _, node_errors = comfy.validate(prompt)
    text = json.dumps(node_errors)
    assert not ok and "'celeba256_250000.pt' not found in" in text
    assert folder_paths.get_folder_paths("pixel_diffusion")[0] in text and "[embedded] photos 64x64" in text
    assert "Value not in list" not in text
    prompt[load.id]["inputs"]["ckpt_name"] = "[embedded] digits 16x16"
    ok, _, _, node_errors = comfy.validate(prompt)
    assert ok and not node_errors, node_errors

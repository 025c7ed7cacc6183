"""Pixel-space ADM models as ComfyUI MODELs: the embedded digits DDPM and a guided-diffusion-layout .pt
checkpoint, through the real executor with KSampler (RePaint), the identity VAE and a RePaint mask."""

import pytest
import torch


def _digit_png(comfy, name="digit.png"):
    import folder_paths
    from PIL import Image
    from repaint_extend.training.digits import load_digits_split, upsample_digits

    split = load_digits_split()
    image = upsample_digits(split["x_test"][:1], size=16, channels=3)[0]  # [3, 16, 16] in [-1, 1]
    pixels = ((image + 1) / 2 * 255).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    Image.fromarray(pixels).save(f"{folder_paths.get_input_directory()}/{name}")
    return name


def _pixel_graph(ckpt_name, image_name, size=16, **loader):
    import graphs
    from comfy_execution.graph_utils import GraphBuilder

    g = GraphBuilder(prefix="")
    load = g.node(
        "LoadADMPixelModel",
        ckpt_name=ckpt_name,
        num_head_channels=loader.get("num_head_channels", 64),
        num_heads=loader.get("num_heads", 4),
    )
    image = g.node("LoadImage", image=image_name)
    encoded = g.node("VAEEncode", pixels=image.out(0), vae=load.out(1))
    mask = g.node("RePaintMask", preset="half", width=size, height=size, batch_size=1, seed=0)
    latent = g.node("SetLatentNoiseMask", samples=encoded.out(0), mask=mask.out(0))
    sampler = graphs.ksampler_repaint(
        g, load.out(0), load.out(2), load.out(2), latent.out(0), seed=3, steps=20, cfg=1.0, jump_length=5
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


def test_guided_diffusion_pt_checkpoint_loads_from_the_models_folder(comfy, tmp_path):
    import folder_paths
    from repaint_extend.pixel import ADMUNet

    folder = tmp_path / "pixel_diffusion"
    folder.mkdir()
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
    )
    torch.save(unet.state_dict(), folder / "tiny_uncond.pt")  # guided-diffusion stores a bare state dict
    folder_paths.add_model_folder_path("pixel_diffusion", str(folder))
    prompt, ids = _pixel_graph("tiny_uncond.pt", _digit_png(comfy, "digit2.png"), num_head_channels=16)
    result = comfy.run_graph(prompt)
    after = result.output(ids["sampler"])["samples"]
    assert after.shape == (1, 3, 16, 16) and torch.isfinite(after).all()


def test_missing_checkpoint_names_the_folder(comfy):
    import nodes

    with pytest.raises(FileNotFoundError, match="pixel_diffusion"):
        nodes.NODE_CLASS_MAPPINGS["LoadADMPixelModel"].execute("nope.pt", 64, 4)

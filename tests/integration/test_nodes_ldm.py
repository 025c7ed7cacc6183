"""latent-diffusion inpainting (CompVis inpainting_big) in ComfyUI: a tiny random checkpoint in the exact
Lightning key layout (EMA copy, duplicate cond_stage keys, 12 schedule buffers) loads strictly through
Load LDM Inpainting Checkpoint, its VQ-f4 VAE quantises to codebook rows, LDM Inpaint Conditioning follows
scripts/inpaint.py, and ComfyUI's KSampler and KSampler (RePaint) inpaint with known pixels exact."""

from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="module")
def ldm(comfy, tmp_path_factory, camera_input):
    """A folder registered as ``ldm_inpainting`` with ``last.ckpt`` (EMA), ``no_ema.ckpt``, ``junk.ckpt``
    and an ADM checkpoint (``adm.ckpt``); returns ``(folder, state_dict of last.ckpt)``."""
    import folder_paths
    from support import tiny_models

    from repaint_extend.pixel import ADMUNet

    folder = tmp_path_factory.mktemp("ldm_inpainting")
    sd = tiny_models.save_ldm_inpaint_checkpoint(folder / "last.ckpt", seed=0, ema=True)
    no_ema = {k: v for k, v in sd.items() if not k.startswith("model_ema.")}
    torch.save({"state_dict": no_ema}, folder / "no_ema.ckpt")
    (folder / "junk.ckpt").write_bytes(b"not a checkpoint")
    adm = ADMUNet(16, 3, 32, 3, 1, [2], channel_mult=[1, 2], num_head_channels=16)
    torch.save(adm.state_dict(), folder / "adm.ckpt")
    folder_paths.add_model_folder_path("ldm_inpainting", str(folder))
    camera_input(64, 64, name="ldm_camera.png")
    return folder, sd


def _load(name):
    import nodes

    return nodes.NODE_CLASS_MAPPINGS["LoadLDMInpaintCheckpoint"].execute(name).result


def _prefixed(sd, prefix):
    return {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}


def test_checkpoint_splits_and_loads_strictly_preferring_ema(ldm):
    from repaint_extend.pixel.ldm_inpaint import ema_key

    _, sd = ldm
    model, vae, weights = _load("last.ckpt")
    assert weights.startswith("EMA")
    unet = model.model.diffusion_model.unet.state_dict()
    assert len(unet) == 416  # inpainting_big's UNet key count
    assert all(torch.equal(v, sd[ema_key(k)]) for k, v in unet.items())
    assert not torch.equal(unet["out.2.weight"], sd["model.diffusion_model.out.2.weight"])
    first = vae.first_stage_model.state_dict()
    assert first.keys() == _prefixed(sd, "first_stage_model.").keys()
    assert all(torch.equal(v, sd["first_stage_model." + k]) for k, v in first.items())

    model, _, weights = _load("no_ema.ckpt")
    assert weights.startswith("non-EMA")
    unet = model.model.diffusion_model.unet.state_dict()
    assert all(torch.equal(v, sd["model.diffusion_model." + k]) for k, v in unet.items())


def test_model_config_is_latent_diffusions(ldm):
    from repaint_extend.pixel.ldm_inpaint import linear_betas

    model, vae, _ = _load("last.ckpt")
    sampling = model.model.model_sampling
    alphas_cumprod = torch.cumprod(1 - linear_betas(), 0)
    expected = ((1 - alphas_cumprod) / alphas_cumprod).sqrt().float()  # sigma_t of VP -> VE
    torch.testing.assert_close(sampling.sigmas.float(), expected, rtol=1e-5, atol=0)
    assert model.model.model_type.name == "EPS"
    assert model.model.latent_format.latent_channels == 3 and model.model.latent_format.scale_factor == 1.0
    config = model.model.diffusion_model.unet.config
    assert (config["num_heads"], config["num_head_channels"], config["use_new_attention_order"]) == (
        8,
        -1,
        False,
    )
    assert config["in_channels"] == 7 and config["out_channels"] == 3
    assert vae.downscale_ratio == 4 and vae.latent_channels == 3


def test_vae_round_trip_quantises_to_codebook_rows(ldm):
    _, vae, _ = _load("last.ckpt")
    image = torch.rand(1, 32, 64, 3, generator=torch.Generator().manual_seed(0))
    latent = vae.encode(image)
    assert latent.shape == (1, 3, 8, 16)
    first = vae.first_stage_model
    codebook = first.quantize.embedding.weight
    rows = first.quantise(latent).movedim(1, -1).reshape(-1, 3)
    assert (rows[:, None, :] == codebook[None]).all(-1).any(-1).all()  # every vector is a codebook row
    nearest = codebook[torch.cdist(latent.movedim(1, -1).reshape(-1, 3), codebook).argmin(1)]
    assert torch.equal(rows, nearest)
    decoded = vae.decode(latent)
    assert decoded.shape == (1, 32, 64, 3) and 0 <= decoded.min() and decoded.max() <= 1
    with torch.no_grad():
        direct = first.decoder(first.post_quant_conv(nearest.reshape(1, 8, 16, 3).movedim(-1, 1)))
    torch.testing.assert_close(decoded, ((direct + 1) / 2).clamp(0, 1).movedim(1, -1))


def test_conditioning_follows_scripts_inpaint(ldm):
    import nodes

    _, vae, _ = _load("last.ckpt")
    image = torch.rand(1, 32, 64, 3, generator=torch.Generator().manual_seed(1))
    mask = torch.zeros(1, 32, 64)
    mask[:, 5:19, 10:30] = 0.7  # >= 0.5: fill
    mask[:, 22:30, 40:60] = 0.4  # < 0.5: known
    positive, negative, latent, binary = (
        nodes.NODE_CLASS_MAPPINGS["LDMInpaintConditioning"].execute(vae, image, mask).result
    )
    assert torch.equal(binary, (mask >= 0.5).float())  # the one thresholded mask, as a fourth output
    concat = positive[0][1]["noise_concat"]
    assert negative[0][1]["noise_concat"] is concat and concat.shape == (1, 4, 8, 16)
    fill = mask >= 0.5
    masked = image.movedim(-1, 1) * 2 - 1
    masked[fill[:, None].expand(-1, 3, -1, -1)] = -1.0  # holes are -1 in the encoder's input
    with torch.no_grad():
        c = vae.first_stage_model.encode(masked)
    torch.testing.assert_close(concat[:, :3], c, rtol=1e-5, atol=1e-5)
    small = fill[:, None, ::4, ::4]  # nearest to 8x16 picks every 4th pixel
    assert torch.equal(concat[:, 3:], torch.where(small, 1.0, -1.0))
    assert latent["noise_mask"].shape == (1, 1, 8, 16)
    blocks = fill.float().reshape(1, 8, 4, 16, 4).amax((2, 4))  # any fill pixel -> generate
    assert torch.equal(latent["noise_mask"][:, 0], blocks)
    # the LATENT: the masked image's code, zero where generated (not the whole image's encoding)
    torch.testing.assert_close(latent["samples"], c * (1 - blocks[:, None]), rtol=1e-5, atol=1e-5)
    assert latent["samples"][:, :, blocks[0] > 0].abs().max() == 0


@pytest.mark.parametrize("repaint", [False, True], ids=["ddim", "repaint"])
def test_inpaints_through_the_executor_keeping_known_pixels(comfy, graphs, ldm, repaint):
    sampler = "ksampler_repaint" if repaint else "ddim"
    prompt, ids = graphs.ldm_inpaint(image="ldm_camera.png", size=32, steps=3, sampler=sampler)
    if repaint:
        prompt[ids["sampler"]]["inputs"].update(jump_length=2, jump_n_sample=2)
    result = comfy.run_graph(prompt)
    image, mask = result.output(ids["image"]), result.output(ids["mask"])
    decoded, final = result.output(ids["decoded"]), result.output(ids["composite"])
    assert final.shape == image.shape == (1, 32, 32, 3)
    known = mask[0] == 0
    assert known.any() and (~known).any()
    assert torch.equal(final[0][known], image[0][known])
    assert torch.equal(final[0][~known], decoded[0][~known])
    assert torch.isfinite(decoded).all()
    assert result.output(ids["loader"], 2).startswith("EMA")


def test_sampling_without_its_conditioning_is_a_clear_error(comfy, ldm):
    from comfy_execution.graph_utils import GraphBuilder

    g = GraphBuilder(prefix="")
    load = g.node("LoadLDMInpaintCheckpoint", ckpt_name="last.ckpt")
    latent = g.node("EmptyLatentImage", width=16, height=16, batch_size=1)
    pixel = g.node(
        "LoadADMPixelModel", ckpt_name="[embedded] digits 16x16", num_head_channels=64, num_heads=4
    )
    sampler = g.node(
        "KSampler",
        model=load.out(0),
        seed=0,
        steps=1,
        cfg=1.0,
        sampler_name="ddim",
        scheduler="ddim_uniform",
        positive=pixel.out(2),
        negative=pixel.out(2),
        latent_image=latent.out(0),
        denoise=1.0,
    )
    g.node("PreviewImage", images=g.node("VAEDecode", samples=sampler.out(0), vae=load.out(1)).out(0))
    with pytest.raises(comfy.GraphError, match="LDM Inpaint Conditioning"):
        comfy.run_graph(g.finalize())


def test_missing_or_wrong_file_is_a_clear_error(ldm):
    with pytest.raises(FileNotFoundError, match="ckpt_name.*ldm_inpainting"):
        _load("absent.ckpt")
    with pytest.raises(ValueError, match="ckpt_name: 'junk.ckpt': cannot read junk.ckpt"):
        _load("junk.ckpt")
    with pytest.raises(ValueError, match="ckpt_name: 'adm.ckpt': not a latent-diffusion inpainting"):
        _load("adm.ckpt")


def test_conditioning_rejects_what_does_not_fit(ldm):
    import nodes

    node = nodes.NODE_CLASS_MAPPINGS["LDMInpaintConditioning"]
    _, vae, _ = _load("last.ckpt")
    image, mask = torch.rand(1, 64, 64, 3), torch.zeros(1, 64, 64)
    with pytest.raises(ValueError, match="pixels: 48x64 px.*multiples of 32"):
        node.execute(vae, image[:, :, :48], mask[:, :, :48])
    with pytest.raises(ValueError, match="mask is 64x32 pixels but the image is 64x64"):
        node.execute(vae, image, mask[:, :32])
    with pytest.raises(ValueError, match="vae: connect the VAE"):
        node.execute(object(), image, mask)


def _ldm_graph(image_name, mask_from_alpha=False):
    """LoadImage -> LDM Inpaint Conditioning (mask: RePaint Mask "thick", or the file's alpha) -> KSampler
    ddim / ddim_uniform (3 steps) -> decode and paste the known pixels back with the conditioning's mask."""
    from comfy_execution.graph_utils import GraphBuilder
    from support import graphs

    g = GraphBuilder(prefix="")
    load = g.node("LoadLDMInpaintCheckpoint", ckpt_name="last.ckpt")
    photo = g.node("LoadImage", image=image_name)
    if mask_from_alpha:
        mask = photo.out(1)
        keep = None  # the composite: the conditioning's thresholded mask
    else:
        mask = g.node(
            "RePaintMask", preset="thick", width=32, height=32, batch_size=1, seed=0, size_from=photo.out(0)
        ).out(0)
        keep = mask  # already 0 / 1
    cond = g.node("LDMInpaintConditioning", vae=load.out(1), pixels=photo.out(0), mask=mask)
    sampler = g.node(
        "KSampler", model=load.out(0), seed=5, steps=3, cfg=1.0, sampler_name="ddim", scheduler="ddim_uniform",
        positive=cond.out(0), negative=cond.out(1), latent_image=cond.out(2), denoise=1.0,
    )  # fmt: skip
    decoded, composite = graphs._decode_keeping_known(
        g, sampler.out(0), load.out(1), photo.out(0), keep or cond.out(3)
    )
    g.node("PreviewImage", images=composite.out(0))
    return g.finalize(), {"decoded": decoded.id, "composite": composite.id, "cond": cond.id, "mask": mask}


def test_what_was_in_the_hole_never_reaches_the_output(comfy, ldm):
    """The LATENT was the whole image's encoding and ddim_uniform starts below sigma_max, so about
    sqrt(alpha_bar) of the hole's old content survived (holes differed by up to 0.30 for different content).
    Two photos that differ only inside the hole give the same output, bit for bit."""
    import folder_paths
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    folder = Path(folder_paths.get_input_directory())
    Image.fromarray(base).save(folder / "ldm_hole_a.png")
    prompt, ids = _ldm_graph("ldm_hole_a.png")
    first = comfy.run_graph(prompt)
    hole = first.output(*ids["mask"])[0].numpy() > 0.5
    assert hole.any() and (~hole).any()
    other = base.copy()
    other[hole] = 255 - other[hole]  # different content inside the hole only
    Image.fromarray(other).save(folder / "ldm_hole_b.png")
    second = comfy.run_graph(_ldm_graph("ldm_hole_b.png")[0])
    assert torch.equal(first.output(ids["composite"]), second.output(ids["composite"]))
    assert torch.equal(first.output(ids["decoded"]), second.output(ids["decoded"]))


def test_a_soft_mask_is_thresholded_once_for_conditioning_and_composite(comfy, ldm):
    """the composite used the soft mask while the conditioning thresholded it at 0.5: pixels at
    mask 0.498 (known to the model) came out mixed 50/50 with the generation, holes at 0.502 kept half of
    the original. With one binary mask: 0.498 -> the original, exactly; 0.502 -> the generation, exactly."""
    import folder_paths
    import numpy as np
    from PIL import Image

    rgb = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    alpha = np.full((32, 32), 128, np.uint8)  # LoadImage's mask 1 - 128/255 = 0.498: known
    alpha[:, 16:] = 127  # 1 - 127/255 = 0.502: fill
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(
        Path(folder_paths.get_input_directory()) / "ldm_soft.png"
    )
    prompt, ids = _ldm_graph("ldm_soft.png", mask_from_alpha=True)
    result = comfy.run_graph(prompt)
    binary = result.output(ids["cond"], 3)
    assert torch.equal(binary[0, :, :16], torch.zeros(32, 16)) and torch.equal(
        binary[0, :, 16:], torch.ones(32, 16)
    )
    final, decoded = result.output(ids["composite"])[0], result.output(ids["decoded"])[0]
    image = torch.from_numpy(rgb).float() / 255.0
    assert torch.equal(final[:, :16], image[:, :16])  # known to the model: the original, bit-exact
    assert torch.equal(final[:, 16:], decoded[:, 16:])  # filled: all generated
    assert (final[:, 16:] - image[:, 16:]).abs().max() > 0.05


def test_a_missing_checkpoint_is_named_with_its_folder_before_anything_runs(comfy, ldm):
    """ComfyUI's validation names the file, the folders searched and where the file comes from, instead
    of "Value not in list"; a file that is there validates."""
    import json

    from comfy_execution.graph_utils import GraphBuilder

    g = GraphBuilder(prefix="")
    load = g.node("LoadLDMInpaintCheckpoint", ckpt_name="inpainting_big.ckpt")
    g.node("PreviewAny", source=load.out(2))
    prompt = g.finalize()
    ok, _, _, node_errors = comfy.validate(prompt)
    text = json.dumps(node_errors)
    assert not ok and "'inpainting_big.ckpt' not found in" in text and str(ldm[0]) in text
    assert "models/ldm/inpainting_big/last.ckpt" in text and "Value not in list" not in text
    prompt[load.id]["inputs"]["ckpt_name"] = "last.ckpt"
    ok, _, _, node_errors = comfy.validate(prompt)
    assert ok and not node_errors, node_errors

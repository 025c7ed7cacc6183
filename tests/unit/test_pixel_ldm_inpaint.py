"""latent-diffusion inpainting core (no host): EMA names, checkpoint split and its errors, the VQ config
read from shapes, and scripts/inpaint.py's conditioning maths."""

import pytest
import torch

from repaint_extend.pixel.ldm_inpaint import (
    SCHEDULE_BUFFERS,
    LDMCheckpointError,
    concat_conditioning,
    conditioning_inputs,
    ema_key,
    latent_noise_mask,
    linear_betas,
    split_checkpoint,
    vq_config_from_state_dict,
)


def test_ema_names_are_litemas():
    # ldm/modules/ema.py: the DiffusionWrapper's parameter name with its dots removed
    assert ema_key("input_blocks.0.0.weight") == "model_ema.diffusion_modelinput_blocks00weight"
    assert ema_key("output_blocks.11.1.qkv.bias") == "model_ema.diffusion_modeloutput_blocks111qkvbias"


def _checkpoint(ema=True):
    unet = {"input_blocks.0.0.weight": torch.zeros(2), "out.2.bias": torch.ones(3)}
    first = {"encoder.conv_in.weight": torch.full((2,), 5.0), "quantize.embedding.weight": torch.eye(3)}
    sd = {f"model.diffusion_model.{k}": v for k, v in unet.items()}
    if ema:
        sd.update({ema_key(k): v + 1 for k, v in unet.items()})
        sd.update({"model_ema.decay": torch.tensor(0.9999), "model_ema.num_updates": torch.tensor(7)})
    for prefix in ("first_stage_model.", "cond_stage_model."):
        sd.update({prefix + k: v.clone() for k, v in first.items()})
    sd.update({name: linear_betas().float() for name in SCHEDULE_BUFFERS})
    return sd


def test_split_prefers_ema_and_drops_duplicates():
    parts = split_checkpoint(_checkpoint())
    assert parts.weights == "EMA" and "EMA weights" in parts.note
    assert torch.equal(parts.unet["out.2.bias"], torch.full((3,), 2.0))
    assert set(parts.first_stage) == {"encoder.conv_in.weight", "quantize.embedding.weight"}
    plain = split_checkpoint(_checkpoint(ema=False))
    assert plain.weights == "non-EMA" and torch.equal(plain.unet["out.2.bias"], torch.ones(3))


def test_split_errors_name_what_is_wrong():
    with pytest.raises(LDMCheckpointError, match="expected keys model.diffusion_model"):
        split_checkpoint({"time_embed.0.weight": torch.zeros(1)})
    sd = _checkpoint()
    del sd[ema_key("out.2.bias")]
    with pytest.raises(LDMCheckpointError, match="EMA copy is incomplete: 1 of 2"):
        split_checkpoint(sd)
    sd = _checkpoint()
    sd["cond_stage_model.encoder.conv_in.weight"] = torch.zeros(2)
    with pytest.raises(LDMCheckpointError, match="cond_stage_model.* differs"):
        split_checkpoint(sd)
    sd = _checkpoint()
    sd["betas"] = torch.linspace(1e-4, 2e-2, 1000)  # guided-diffusion's schedule: another model
    with pytest.raises(LDMCheckpointError, match="not latent-diffusion inpainting's linear schedule"):
        split_checkpoint(sd)
    sd = _checkpoint()
    sd["lossy.weight"] = torch.zeros(1)
    with pytest.raises(LDMCheckpointError, match="keys of no known part.*lossy.weight"):
        split_checkpoint(sd)


def test_linear_betas_are_the_published_schedule():
    betas = linear_betas()
    assert betas.dtype == torch.float64 and len(betas) == 1000
    assert betas[0].item() == pytest.approx(0.0015, rel=1e-12) and betas[-1].item() == pytest.approx(0.0205)
    step = (0.0205**0.5 - 0.0015**0.5) / 999  # equal steps of sqrt(beta)
    assert torch.allclose(betas.sqrt().diff(), torch.full((999,), step, dtype=torch.float64))


def test_vq_config_from_shapes():
    sd = {
        "encoder.conv_in.weight": torch.zeros(32, 3, 3, 3),
        "encoder.down.0.block.0.conv1.weight": torch.zeros(32, 32, 3, 3),
        "encoder.down.0.block.1.conv1.weight": torch.zeros(32, 32, 3, 3),
        "encoder.down.1.block.0.conv1.weight": torch.zeros(64, 32, 3, 3),
        "encoder.down.2.block.0.conv1.weight": torch.zeros(128, 64, 3, 3),
        "encoder.conv_out.weight": torch.zeros(3, 128, 3, 3),
        "quant_conv.weight": torch.zeros(3, 3, 1, 1),
        "post_quant_conv.weight": torch.zeros(3, 3, 1, 1),
        "decoder.conv_in.weight": torch.zeros(128, 3, 3, 3),
        "decoder.conv_out.weight": torch.zeros(3, 32, 3, 3),
        "quantize.embedding.weight": torch.zeros(64, 3),
    }
    cfg = vq_config_from_state_dict(sd)
    assert (cfg["ch"], cfg["ch_mult"], cfg["num_res_blocks"]) == (32, [1, 2, 4], 2)
    assert (cfg["z_channels"], cfg["embed_dim"], cfg["n_embed"], cfg["mid_attention"]) == (3, 3, 64, False)
    with pytest.raises(LDMCheckpointError, match="double_z"):
        vq_config_from_state_dict(dict(sd, **{"quant_conv.weight": torch.zeros(6, 6, 1, 1)}))
    with pytest.raises(LDMCheckpointError, match="missing keys.*quantize.embedding.weight"):
        vq_config_from_state_dict({k: v for k, v in sd.items() if not k.startswith("quantize")})


def test_conditioning_is_scripts_inpaint():
    image = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., :4, :] = 0.5  # threshold: >= 0.5 fills
    mask[..., 4:, :2] = 0.49
    masked, mask_pm = conditioning_inputs(image, mask)
    fill = (mask >= 0.5).expand(2, 3, 8, 8)
    assert (masked[fill] == -1).all()  # holes are exactly -1
    assert torch.equal(masked[~fill], (image * 2 - 1)[~fill])
    assert set(mask_pm.unique().tolist()) == {-1.0, 1.0} and (mask_pm[..., :4, :] == 1).all()
    c = torch.randn(2, 3, 2, 2)
    concat = concat_conditioning(c, mask_pm)
    assert concat.shape == (2, 4, 2, 2) and torch.equal(concat[:, :3], c)
    assert torch.equal(concat[:, 3], torch.tensor([[1.0, 1.0], [-1.0, -1.0]]).expand(2, 2, 2))
    with pytest.raises(ValueError, match="differ in size"):
        conditioning_inputs(image, mask[..., :4])


def test_noise_mask_generates_every_latent_cell_with_a_hole():
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., 3, 5] = 1.0  # one hole pixel: its 4x4 cell is generated, though nearest would miss it
    mask[..., 6, 1] = 0.4  # below the threshold: known
    assert torch.equal(latent_noise_mask(mask, 4), torch.tensor([[[[0.0, 1.0], [0.0, 0.0]]]]))

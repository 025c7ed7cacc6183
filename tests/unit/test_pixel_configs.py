"""Published configs, config inference from checkpoints, loading .pt / .safetensors, clear errors."""

import pytest
import torch

from repaint_extend.pixel import (
    PUBLISHED_FLAGS,
    ADMCheckpointError,
    ADMUNet,
    config_from_state_dict,
    load_adm,
    published_config,
    save_adm,
    unet_kwargs_from_flags,
)

torch.set_num_threads(1)

TINY = dict(model_channels=16, num_head_channels=8, norm_groups=8)


def test_published_flags_match_repaint_confs():
    # RePaint confs/test_{c,p,inet}256_*.yml and guided-diffusion README values.
    for name, f in PUBLISHED_FLAGS.items():
        assert f["image_size"] == 256 and f["num_channels"] == 256 and f["num_res_blocks"] == 2
        assert f["attention_resolutions"] == "32,16,8" and f["num_head_channels"] == 64
        assert f["learn_sigma"] and f["use_scale_shift_norm"] and f["resblock_updown"]
        assert f["diffusion_steps"] == 1000 and f["noise_schedule"] == "linear"
        assert f["class_cond"] == (name == "imagenet256")
    cfg = published_config("celeba256")
    assert cfg["channel_mult"] == [1, 1, 2, 2, 4, 4]  # script_util default for 256 px
    assert cfg["attention_resolutions"] == [8, 16, 32]  # 256 // (32, 16, 8)
    assert cfg["out_channels"] == 6 and cfg["num_classes"] is None
    assert published_config("imagenet256")["num_classes"] == 1000
    with pytest.raises(KeyError):
        published_config("celeba256", not_a_key=1)


def test_flags_conversion_other_sizes():
    # guided-diffusion README, ImageNet 64x64 flags: attention at 32/16/8 px = rates 2, 4, 8.
    flags = dict(
        image_size=64,
        num_channels=192,
        num_res_blocks=3,
        attention_resolutions="32,16,8",
        class_cond=True,
        learn_sigma=True,
        num_head_channels=64,
        use_new_attention_order=True,
    )
    cfg = unet_kwargs_from_flags(flags)
    assert cfg["attention_resolutions"] == [2, 4, 8] and cfg["channel_mult"] == [1, 2, 3, 4]
    assert cfg["num_res_blocks"] == 3 and cfg["use_new_attention_order"] and cfg["num_classes"] == 1000
    assert unet_kwargs_from_flags(dict(flags, image_size=128, channel_mult="1,2,4"))["channel_mult"] == [
        1,
        2,
        4,
    ]
    with pytest.raises(ValueError):
        unet_kwargs_from_flags(dict(flags, image_size=96))


@pytest.mark.parametrize("name", sorted(PUBLISHED_FLAGS))
def test_infer_full_size_published_config_from_shapes(name):
    with torch.device("meta"):
        sd = ADMUNet(**published_config(name)).state_dict()
    assert config_from_state_dict(sd, image_size=256) == published_config(name)


VARIANTS = [
    dict(published_config("celeba256", **TINY)),
    dict(published_config("imagenet256", **TINY), num_classes=7),
    # conv resampling, no scale-shift norm, fractional first multiplier, attention at full res
    dict(
        image_size=32,
        in_channels=3,
        model_channels=16,
        out_channels=3,
        num_res_blocks=1,
        attention_resolutions=[1, 4],
        dropout=0.0,
        channel_mult=[0.5, 1, 2],
        conv_resample=True,
        num_classes=None,
        num_heads=4,
        num_head_channels=8,
        num_heads_upsample=-1,
        use_scale_shift_norm=False,
        resblock_updown=False,
        use_new_attention_order=False,
        norm_groups=8,
    ),
    # parameter-free resampling (average pool / nearest), 1 channel, 3 blocks per level
    dict(
        image_size=16,
        in_channels=1,
        model_channels=8,
        out_channels=2,
        num_res_blocks=3,
        attention_resolutions=[2],
        dropout=0.0,
        channel_mult=[1, 2],
        conv_resample=False,
        num_classes=None,
        num_heads=4,
        num_head_channels=8,
        num_heads_upsample=-1,
        use_scale_shift_norm=True,
        resblock_updown=False,
        use_new_attention_order=False,
        norm_groups=4,
    ),
    # a single level (no resampling at all)
    dict(
        image_size=8,
        in_channels=3,
        model_channels=8,
        out_channels=3,
        num_res_blocks=2,
        attention_resolutions=[],
        dropout=0.0,
        channel_mult=[1],
        conv_resample=True,
        num_classes=None,
        num_heads=4,
        num_head_channels=8,
        num_heads_upsample=-1,
        use_scale_shift_norm=True,
        resblock_updown=False,
        use_new_attention_order=False,
        norm_groups=4,
    ),
]


@pytest.mark.parametrize("cfg", VARIANTS, ids=["celeba", "inet-cls7", "conv", "pool", "one-level"])
def test_config_inference_round_trip(cfg):
    sd = ADMUNet(**cfg).state_dict()
    got = config_from_state_dict(
        sd,
        image_size=cfg["image_size"],
        num_head_channels=cfg["num_head_channels"],
        norm_groups=cfg["norm_groups"],
    )
    assert got == cfg


def _tiny(seed=0, **kw):
    torch.manual_seed(seed)
    model = ADMUNet(**published_config("celeba256", **TINY, **kw)).eval()
    with torch.no_grad():  # non-zero everywhere so that a wrong load changes the output
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model


def _same_output(a, b):
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    t = torch.tensor([500])
    with torch.no_grad():
        return torch.equal(a(x, t), b(x, t))


def test_load_pt_infers_config_with_explicit_head_args(tmp_path):
    model = _tiny()
    path = tmp_path / "tiny.pt"
    torch.save(model.state_dict(), path)
    with pytest.raises(ADMCheckpointError, match="num_head_channels"):
        load_adm(path)  # published default 64 does not divide the tiny widths
    loaded, cfg = load_adm(path, num_head_channels=8, norm_groups=8, image_size=256)
    assert cfg == model.config
    assert _same_output(model, loaded)


def test_load_pt_wrapped_and_ddp_prefixed(tmp_path):
    model = _tiny()
    path = tmp_path / "wrapped.pt"
    torch.save({"state_dict": {"module." + k: v for k, v in model.state_dict().items()}, "step": 3}, path)
    loaded, _ = load_adm(path, num_head_channels=8, norm_groups=8, image_size=256)
    assert _same_output(model, loaded)


def test_load_safetensors_uses_stored_config(tmp_path):
    model = _tiny(use_new_attention_order=True)  # not inferable from shapes
    path = tmp_path / "tiny.safetensors"
    save_adm(model, path, extra_metadata={"note": "x"})
    loaded, cfg = load_adm(path)
    assert cfg == model.config and cfg["use_new_attention_order"] is True
    assert _same_output(model, loaded)
    # Inference alone (no metadata) would assume the legacy order and give other outputs.
    plain, _ = load_adm(dict(model.state_dict()), num_head_channels=8, norm_groups=8, image_size=256)
    assert not _same_output(model, plain)


def test_wrong_checkpoint_errors_name_keys(tmp_path):
    with pytest.raises(ADMCheckpointError, match="missing keys.*time_embed.0.weight"):
        load_adm({"encoder.conv.weight": torch.zeros(1)})
    model = _tiny()
    sd = dict(model.state_dict())
    del sd["middle_block.1.qkv.weight"]
    sd["extra.weight"] = torch.zeros(2)
    with pytest.raises(ADMCheckpointError) as err:
        load_adm(sd, config=model.config)
    msg = str(err.value)
    assert "missing keys" in msg and "middle_block.1.qkv.weight" in msg
    assert "unexpected keys" in msg and "extra.weight" in msg
    # Right keys, wrong widths: a shape mismatch is named.
    other = ADMUNet(**published_config("celeba256", model_channels=32, num_head_channels=8, norm_groups=8))
    with pytest.raises(ADMCheckpointError, match="shape mismatches.*input_blocks.0.0.weight"):
        load_adm(other.state_dict(), config=model.config)
    with pytest.raises(FileNotFoundError):
        load_adm(tmp_path / "absent.pt")
    path = tmp_path / "notdict.pt"
    torch.save([torch.zeros(1)], path)
    with pytest.raises(ADMCheckpointError, match="not a mapping"):
        load_adm(path)

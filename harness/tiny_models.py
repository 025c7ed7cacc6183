"""Randomly initialised stand-in models built from ComfyUI's own model classes.

No pretrained Stable Diffusion weights can be had here, and ``load_checkpoint_guess_config`` will not
detect a UNet smaller than SD1.5's exact 320 channels, so the models are built directly from
``comfy.supported_models`` / ``comfy.model_base`` configs. ComfyUI builds layers with
``ops.disable_weight_init`` (parameters start as uninitialised memory), so every parameter is
initialised here from a seeded generator.

Kinds: ``eps`` (SD1.5-shaped, epsilon prediction), ``v`` (V-prediction), ``flow`` (CONST / rectified
flow), ``inpaint`` (9-channel SD1.5 inpaint UNet). Sizes: ``tiny`` (fast, for tests) and ``sd15``
(SD1.5's real channel layout, 860M parameters, for benchmarks).
"""

from __future__ import annotations

import math

import torch

KINDS = ("eps", "v", "flow", "inpaint")
SIZES = ("tiny", "sd15")

_TINY_CLIP = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_attention_heads": 2,
    "num_hidden_layers": 2,
    "projection_dim": 32,
}


def _unet_config(kind: str, size: str) -> dict:
    in_channels = 9 if kind == "inpaint" else 4
    config = {
        "use_checkpoint": False,
        "image_size": 32,
        "use_spatial_transformer": True,
        "legacy": False,
        "in_channels": in_channels,
        "out_channels": 4,
        "adm_in_channels": None,
        "use_linear_in_transformer": False,
        "use_temporal_attention": False,
        "use_temporal_resblock": False,
        "dtype": torch.float32,
    }
    if size == "sd15":
        config.update(
            model_channels=320,
            num_res_blocks=[2, 2, 2, 2],
            channel_mult=[1, 2, 4, 4],
            transformer_depth=[1, 1, 1, 1, 1, 1, 0, 0],
            transformer_depth_output=[0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1],
            transformer_depth_middle=1,
            context_dim=768,
        )
    else:
        config.update(
            model_channels=32,
            num_res_blocks=[1, 1],
            channel_mult=[1, 2],
            transformer_depth=[0, 1],  # no attention at full latent size: keeps CPU tests fast
            transformer_depth_output=[0, 0, 1, 1],
            transformer_depth_middle=1,
            context_dim=_TINY_CLIP["hidden_size"],
        )
    return config


@torch.no_grad()
def init_parameters(module: torch.nn.Module, seed: int) -> None:
    """Fill every parameter: fan-in scaled normal weights, zero biases, unit norm scales."""
    generator = torch.Generator().manual_seed(seed)
    for name, param in module.named_parameters():
        if param.ndim >= 2:
            fan_in = math.prod(param.shape[1:])
            param.copy_(torch.randn(param.shape, generator=generator) / math.sqrt(fan_in))
        elif name.endswith("bias"):
            param.zero_()
        else:
            param.fill_(1.0)
    for name, buf in module.named_buffers():
        if name.endswith("position_ids"):
            buf.copy_(torch.arange(buf.shape[-1]).expand_as(buf))


def build_model(kind: str = "eps", size: str = "tiny", seed: int = 0):
    """A ``ModelPatcher`` (ComfyUI's MODEL) of the given kind, randomly initialised."""
    import comfy.model_base
    import comfy.model_management
    import comfy.model_patcher
    import comfy.supported_models

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    model_type = {
        "eps": comfy.model_base.ModelType.EPS,
        "v": comfy.model_base.ModelType.V_PREDICTION,
        "flow": comfy.model_base.ModelType.FLOW,
        "inpaint": comfy.model_base.ModelType.EPS,
    }[kind]
    model_config = comfy.supported_models.SD15(_unet_config(kind, size))
    model_config.set_inference_dtype(torch.float32, None)
    model = comfy.model_base.BaseModel(model_config, model_type=model_type, device="cpu")
    if model_config.inpaint_model():
        model.set_inpaint()
    init_parameters(model.diffusion_model, seed)
    return comfy.model_patcher.ModelPatcher(
        model,
        load_device=comfy.model_management.get_torch_device(),
        offload_device=comfy.model_management.unet_offload_device(),
    )


def build_clip(size: str = "tiny", seed: int = 1):
    """A ``comfy.sd.CLIP`` with SD1.5's tokenizer and a text encoder of the given size."""
    import comfy.sd
    import comfy.sd1_clip

    class Target:
        params = {}
        clip = comfy.sd1_clip.SD1ClipModel
        tokenizer = comfy.sd1_clip.SD1Tokenizer

    options = {"dtype": torch.float32}
    if size == "tiny":
        options["clip_l_model_config"] = dict(_TINY_CLIP)
    clip = comfy.sd.CLIP(Target, model_options=options)
    init_parameters(clip.cond_stage_model, seed)
    return clip


def build_vae(size: str = "tiny", seed: int = 2):
    """A ``comfy.sd.VAE``: an ``AutoencoderKL`` with SD's 8x downscale and 4 latent channels."""
    import comfy.sd
    from comfy.ldm.models.autoencoder import AutoencoderKL

    ch = 128 if size == "sd15" else 32
    ddconfig = {
        "double_z": True,
        "z_channels": 4,
        "resolution": 256,
        "in_channels": 3,
        "out_ch": 3,
        "ch": ch,
        "ch_mult": [1, 2, 4, 4],
        "num_res_blocks": 2 if size == "sd15" else 1,
        "attn_resolutions": [],
        "dropout": 0.0,
    }
    config = {"params": {"embed_dim": 4, "ddconfig": ddconfig}}
    reference = AutoencoderKL(embed_dim=4, ddconfig=ddconfig)
    init_parameters(reference, seed)
    return comfy.sd.VAE(sd=reference.state_dict(), config=config, dtype=torch.float32)


def build_controlnet(size: str = "tiny", seed: int = 3):
    """A ComfyUI CONTROL_NET (``comfy.controlnet.ControlNet``) shaped like the UNet of this size, with an
    RGB hint downscaled 8x, randomly initialised (its zero convolutions too, so that it has an effect)."""
    import comfy.cldm.cldm
    import comfy.controlnet
    import comfy.model_management
    import comfy.ops

    config = _unet_config("eps", size)
    config.pop("out_channels")
    config.pop("use_temporal_attention")
    config.pop("use_temporal_resblock")
    config.update(
        hint_channels=3,
        num_heads=8,
        num_head_channels=-1,
        device="cpu",
        operations=comfy.ops.disable_weight_init,
    )
    control_model = comfy.cldm.cldm.ControlNet(**config)
    init_parameters(control_model, seed)
    return comfy.controlnet.ControlNet(control_model, load_device=comfy.model_management.get_torch_device())


def build(kind: str = "eps", size: str = "tiny", seed: int = 0):
    """``(MODEL, CLIP, VAE)`` as ``CheckpointLoaderSimple`` would return them."""
    return build_model(kind, size, seed), build_clip(size, seed + 1), build_vae(size, seed + 2)

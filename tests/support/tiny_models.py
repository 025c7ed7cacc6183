"""Randomly initialised stand-in models built from ComfyUI's own model classes.

No pretrained Stable Diffusion weights can be had here, and ``load_checkpoint_guess_config`` will not
detect a UNet smaller than SD1.5's exact 320 channels, so the models are built directly from
``comfy.supported_models`` / ``comfy.model_base`` configs. ComfyUI builds layers with
``ops.disable_weight_init`` (parameters start as uninitialised memory), so every parameter is
initialised here from a seeded generator.

Families (``family=``, default ``"sd15"``, so ``build(kind, size, seed)`` keeps building SD1.5):

- ``sd15``: ``comfy.supported_models.SD15`` / ``comfy.model_base.BaseModel``, SD1.5's CLIP-L text
  encoder and tokenizer, a plain ControlNet. Kinds: ``eps`` (epsilon prediction), ``v``
  (V-prediction), ``flow`` (CONST / rectified flow), ``inpaint`` (9-channel inpaint UNet). Sizes:
  ``tiny`` (fast, for tests) and ``sd15`` (SD1.5's real channel layout, 860M parameters, for benchmarks).
- ``sdxl``: ``comfy.supported_models.SDXL`` / ``comfy.model_base.SDXL`` (SDXL latent format, scale
  0.13025), ``comfy.sdxl_clip.SDXLClipModel`` / ``SDXLTokenizer`` (CLIP-L and CLIP-G; the context is
  their penultimate hidden states concatenated), ADM conditioning ``y`` = CLIP-G's pooled output + six
  256-d Fourier embeddings of (height, width, crop_h, crop_w, target_height, target_width), and a
  ControlNet with the same ADM input. Kinds: ``eps``, ``v``, ``inpaint`` (9-channel, ``set_inpaint``
  as ComfyUI does for SDXL inpaint checkpoints). Size: ``tiny`` only. Tiny shapes: CLIP-L hidden 32,
  CLIP-G hidden 48 (pooled 48), 3 layers each, so ``context_dim`` = 32 + 48 = 80 and
  ``adm_in_channels`` = 48 + 6 * 256 = 1584; UNet channels 32, 64 with attention only at the
  64-channel level (SDXL's 64-channel heads: 1 head).

The VAE is the same 4-channel, 8x ``AutoencoderKL`` for both families. Example::

    model, clip, vae = build("inpaint", "tiny", 0, family="sdxl")
    control_net = build_controlnet("tiny", 3, family="sdxl")
"""

from __future__ import annotations

import math

import torch

KINDS = ("eps", "v", "flow", "inpaint")
SIZES = ("tiny", "sd15")
FAMILIES = ("sd15", "sdxl")
SDXL_KINDS = ("eps", "v", "inpaint")
"""Kinds the ``sdxl`` family supports (SDXL has EPS and V-prediction checkpoints, and 9-channel inpaint)."""
SDXL_SIZES = ("tiny",)

_TINY_CLIP = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_attention_heads": 2,
    "num_hidden_layers": 2,
    "projection_dim": 32,
}

# SDXL reads both text encoders' penultimate layer (layer_idx -2), and sd1_clip asserts
# |layer_idx| < num_layers: 3 layers.
_TINY_SDXL_CLIP_L = {**_TINY_CLIP, "num_hidden_layers": 3}
_TINY_CLIP_G = {
    "hidden_size": 48,  # != CLIP-L's 32, so that a mix-up of the two shows as a shape error
    "intermediate_size": 96,
    "num_attention_heads": 2,
    "num_hidden_layers": 3,
    "projection_dim": 48,
}
_SDXL_SIZE_EMBEDDINGS = 6 * 256
"""model_base.SDXL.encode_adm: six ``Timestep(256)`` embeddings (height, width, crop_h, crop_w, target
height, target width) follow the pooled CLIP-G output in ``y``."""


def _check(kind: str, size: str, family: str) -> None:
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    kinds, sizes = (SDXL_KINDS, SDXL_SIZES) if family == "sdxl" else (KINDS, SIZES)
    if kind not in kinds:
        raise ValueError(f"kind must be one of {kinds} for family {family!r}, got {kind!r}")
    if size not in sizes:
        raise ValueError(f"size must be one of {sizes} for family {family!r}, got {size!r}")


def _sdxl_unet_config(kind: str) -> dict:
    """Tiny SDXL-shaped UNet config: linear transformer projections, ``num_classes="sequential"`` ADM
    input of CLIP-G pooled (48) + size embeddings (1536), context CLIP-L (32) + CLIP-G (48) = 80."""
    return {
        "use_checkpoint": False,
        "image_size": 32,
        "use_spatial_transformer": True,
        "legacy": False,
        "num_classes": "sequential",
        "adm_in_channels": _TINY_CLIP_G["hidden_size"] + _SDXL_SIZE_EMBEDDINGS,
        "in_channels": 9 if kind == "inpaint" else 4,
        "out_channels": 4,
        "model_channels": 32,
        "num_res_blocks": [1, 1],
        "channel_mult": [1, 2],
        "transformer_depth": [0, 1],  # SDXL has no attention at full latent size either
        "transformer_depth_output": [0, 0, 1, 1],
        "transformer_depth_middle": 1,
        "use_linear_in_transformer": True,
        "context_dim": _TINY_CLIP["hidden_size"] + _TINY_CLIP_G["hidden_size"],
        "use_temporal_attention": False,
        "use_temporal_resblock": False,
        "dtype": torch.float32,
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


def build_model(kind: str = "eps", size: str = "tiny", seed: int = 0, family: str = "sd15"):
    """A ``ModelPatcher`` (ComfyUI's MODEL) of the given kind and family, randomly initialised.

    Its UNet takes latents ``[B, 4, H/8, W/8]`` (``[B, 9, ...]`` inside the model for ``inpaint``: the
    noisy latent, the 1-channel mask and the 4-channel masked-image latent that InpaintModelConditioning
    supplies as ``concat_latent_image``). ``sdxl`` models also need ``pooled_output`` [B, 48] in the
    conditioning (CLIPTextEncode on :func:`build_clip`'s SDXL CLIP gives it).

    Raises:
        ValueError: an unknown family, or a kind / size the family does not have.
    """
    import comfy.model_base
    import comfy.model_management
    import comfy.model_patcher
    import comfy.supported_models

    _check(kind, size, family)
    model_type = {
        "eps": comfy.model_base.ModelType.EPS,
        "v": comfy.model_base.ModelType.V_PREDICTION,
        "flow": comfy.model_base.ModelType.FLOW,
        "inpaint": comfy.model_base.ModelType.EPS,
    }[kind]
    if family == "sdxl":
        model_config = comfy.supported_models.SDXL(_sdxl_unet_config(kind))
        model_class = comfy.model_base.SDXL
    else:
        model_config = comfy.supported_models.SD15(_unet_config(kind, size))
        model_class = comfy.model_base.BaseModel
    model_config.set_inference_dtype(torch.float32, None)
    model = model_class(model_config, model_type=model_type, device="cpu")
    if model_config.inpaint_model():
        model.set_inpaint()
    init_parameters(model.diffusion_model, seed)
    return comfy.model_patcher.ModelPatcher(
        model,
        load_device=comfy.model_management.get_torch_device(),
        offload_device=comfy.model_management.unet_offload_device(),
    )


def build_clip(size: str = "tiny", seed: int = 1, family: str = "sd15"):
    """A ``comfy.sd.CLIP`` with the family's tokenizer and text encoder(s) of the given size.

    ``sd15``: SD1.5's tokenizer and CLIP-L; CLIPTextEncode gives ``[B, 77, 32]`` (tiny).
    ``sdxl``: ``SDXLTokenizer`` and ``SDXLClipModel`` (CLIP-L penultimate layer, CLIP-G penultimate layer
    and its projected pooled output); CLIPTextEncode gives ``[B, 77, 80]`` and ``pooled_output``
    ``[B, 48]``. The tiny text-model configs go in through ``model_options["clip_l_model_config"]`` /
    ``["clip_g_model_config"]``, which ``comfy.sd1_clip.SDClipModel`` merges over its JSON config.
    """
    import comfy.sd
    import comfy.sd1_clip
    import comfy.sdxl_clip

    _check("eps", size, family)

    class Target:
        params = {}
        clip = comfy.sdxl_clip.SDXLClipModel if family == "sdxl" else comfy.sd1_clip.SD1ClipModel
        tokenizer = comfy.sdxl_clip.SDXLTokenizer if family == "sdxl" else comfy.sd1_clip.SD1Tokenizer

    options = {"dtype": torch.float32}
    if size == "tiny":
        if family == "sdxl":
            options["clip_l_model_config"] = dict(_TINY_SDXL_CLIP_L)
            options["clip_g_model_config"] = dict(_TINY_CLIP_G)
        else:
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


def build_controlnet(
    size: str = "tiny", seed: int = 3, family: str = "sd15", dtype: torch.dtype | None = None
):
    """A ComfyUI CONTROL_NET (``comfy.controlnet.ControlNet``) shaped like the family's UNet of this size,
    with an RGB hint ``[B, 3, H, W]`` downscaled 8x, randomly initialised (its zero convolutions too, so
    that it has an effect). The ``sdxl`` one reads the same ADM ``y`` [B, 1584] as the SDXL UNet, as
    ComfyUI's loader builds SDXL ControlNets (``num_classes="sequential"``). ``dtype`` (e.g. float16) builds
    it as ComfyUI's loader does for that weight dtype (``comfy.controlnet.load_controlnet_state_dict``: the
    config's ``dtype`` and ``operations``, the manual-cast dtype of the device); the weights are the same
    draws as in float32, rounded."""
    import comfy.cldm.cldm
    import comfy.controlnet
    import comfy.model_management
    import comfy.ops

    _check("eps", size, family)
    if family == "sdxl":
        config = _sdxl_unet_config("eps")
        config.update(num_heads=-1, num_head_channels=64)  # supported_models_base.BASE.unet_extra_config
    else:
        config = _unet_config("eps", size)
        config.update(num_heads=8, num_head_channels=-1)  # supported_models.SD15.unet_extra_config
    config.pop("out_channels")
    config.pop("use_temporal_attention")
    config.pop("use_temporal_resblock")
    device = comfy.model_management.get_torch_device()
    manual = None
    if dtype is None:
        config.update(hint_channels=3, device="cpu", operations=comfy.ops.disable_weight_init)
    else:
        manual = comfy.model_management.unet_manual_cast(dtype, device)
        config.update(
            hint_channels=3, device="cpu", dtype=dtype, operations=comfy.ops.pick_operations(dtype, manual)
        )
    control_model = comfy.cldm.cldm.ControlNet(**config)
    init_parameters(control_model, seed)
    return comfy.controlnet.ControlNet(control_model, load_device=device, manual_cast_dtype=manual)


def build(kind: str = "eps", size: str = "tiny", seed: int = 0, family: str = "sd15"):
    """``(MODEL, CLIP, VAE)`` as ``CheckpointLoaderSimple`` would return them, for ``family`` "sd15"
    (default) or "sdxl" (see the module docstring)."""
    return (
        build_model(kind, size, seed, family),
        build_clip(size, seed + 1, family),
        build_vae(size, seed + 2),
    )


def ldm_inpaint_state_dict(seed: int = 0, ema: bool = True, n_embed: int = 64) -> dict:
    """A random latent-diffusion inpainting ``state_dict`` in ``inpainting_big``'s exact key layout, with
    small widths (UNet model_channels 32, VQ ch 32; every other setting as ``config.yaml``).

    Keys, as ``ldm/models/diffusion/ddpm.py`` writes them: ``model.diffusion_model.*`` (the UNet);
    with ``ema``, the ``LitEma`` copy ``model_ema.diffusion_model<name without dots>`` (other values than
    the UNet's, so that a test can tell which were loaded) and ``model_ema.decay`` / ``num_updates``;
    ``first_stage_model.*`` (VQ-f4: ComfyUI's Encoder / Decoder with ``double_z=False`` and, as
    ``attn_type: none``, no ``mid.attn_1`` keys; ``quant_conv``, ``post_quant_conv``,
    ``quantize.embedding.weight`` ``[n_embed, 3]``); the same tensors again as ``cond_stage_model.*``;
    the 12 schedule buffers of the linear schedule 0.0015 .. 0.0205.
    """
    from comfy.ldm.modules.diffusionmodules.model import Decoder, Encoder

    from repaint_extend.pixel import ADMUNet
    from repaint_extend.pixel.ldm_inpaint import SCHEDULE_BUFFERS, UNET_CONFIG, ema_key, linear_betas

    unet = ADMUNet(**dict(UNET_CONFIG, model_channels=32))
    init_parameters(unet, seed)
    sd = {f"model.diffusion_model.{k}": v.clone() for k, v in unet.state_dict().items()}
    if ema:
        init_parameters(unet, seed + 100)
        sd.update({ema_key(k): v.clone() for k, v in unet.state_dict().items()})
        sd["model_ema.decay"] = torch.tensor(0.9999)
        sd["model_ema.num_updates"] = torch.tensor(1000, dtype=torch.int)
    dd = dict(ch=32, out_ch=3, ch_mult=[1, 2, 4], num_res_blocks=2, attn_resolutions=[], dropout=0.0)
    dd.update(in_channels=3, resolution=256, z_channels=3, double_z=False)
    first = torch.nn.ModuleDict(
        {
            "encoder": Encoder(**dd),
            "decoder": Decoder(**dd),
            "quant_conv": torch.nn.Conv2d(3, 3, 1),
            "post_quant_conv": torch.nn.Conv2d(3, 3, 1),
        }
    )
    init_parameters(first, seed + 1)
    vq = {k: v for k, v in first.state_dict().items() if ".mid.attn_1." not in k}
    vq["quantize.embedding.weight"] = torch.randn(n_embed, 3, generator=torch.Generator().manual_seed(seed))
    for prefix in ("first_stage_model.", "cond_stage_model."):
        sd.update({prefix + k: v for k, v in vq.items()})
    betas = linear_betas()
    alphas_cumprod = torch.cumprod(1 - betas, 0)
    for name in SCHEDULE_BUFFERS:  # values: only betas is read; the rest keep the layout
        sd[name] = (betas if name == "betas" else alphas_cumprod).float()
    return sd


def save_ldm_inpaint_checkpoint(path, seed: int = 0, ema: bool = True) -> dict:
    """Write :func:`ldm_inpaint_state_dict` as a Lightning checkpoint (``{"state_dict": ..., "epoch":
    ..., "global_step": ...}``, a torch pickle like ``last.ckpt``) and return the state dict."""
    sd = ldm_inpaint_state_dict(seed, ema)
    torch.save({"state_dict": sd, "epoch": 3, "global_step": 1000}, path)
    return sd

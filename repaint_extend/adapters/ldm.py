"""ComfyUI glue for latent-diffusion's inpainting model ("inpainting big"): a MODEL around the pack's ADM
UNet, a VAE around the VQ-f4 first stage built from ComfyUI's own Encoder / Decoder and vector quantiser,
and the concat conditioning.

The checkpoint layout and the conditioning maths live in ``pixel/ldm_inpaint.py`` (pure torch). Here:

- the schedule is latent-diffusion's ``linear`` (ComfyUI's name too): betas
  ``linspace(sqrt(0.0015), sqrt(0.0205), 1000) ** 2``; EPS prediction; latents are the VQ-f4 first stage's
  3 channels, scale factor 1.0 (``inpainting_big/config.yaml``);
- the extra UNet input ``[c, mask]`` travels in the CONDITIONING as ComfyUI's ``noise_concat`` (a
  ``CONDNoiseShape``: cropped with areas, repeated to the batch), so every sampler, RePaint's included,
  feeds ``cat([x_t, c, mask])`` to the UNet;
- the VAE quantises to the nearest codebook entry on decode (``VQModelInterface.decode``) with ComfyUI's
  ``vector_quantize`` (Stable Cascade stage A: exact codebook rows, squared-L2 nearest neighbour).
"""

from __future__ import annotations

import logging
import os

import comfy.latent_formats
import comfy.model_management
import comfy.model_patcher
import comfy.ops
import comfy.sd
import comfy.supported_models_base
import torch
from comfy.ldm.cascade.stage_a import vector_quantize
from comfy.ldm.modules.diffusionmodules.model import AttnBlock, Decoder, Encoder
from torch import nn

from ..checks import check_mask
from ..pixel import load_adm, load_state_dict
from ..pixel.ldm_inpaint import (
    LINEAR_END,
    LINEAR_START,
    TIMESTEPS,
    LDMCheckpointError,
    concat_conditioning,
    conditioning_inputs,
    latent_noise_mask,
    split_checkpoint,
    vq_config_from_state_dict,
)
from .cache import cache_one
from .pixel import ADMModel, adm_model_patcher

MULTIPLE = 32
"""Image sides must be multiples of this: VQ-f4 halves twice, the UNet three more times (channel_mult of
four levels), ``inpainting_big/config.yaml``."""

_ops = comfy.ops.disable_weight_init


class LDMInpaintLatent(comfy.latent_formats.LatentFormat):
    """The VQ-f4 latent: 3 channels, scale factor 1.0 (``inpainting_big/config.yaml``); no RGB preview."""

    latent_channels = 3
    scale_factor = 1.0


class LDMInpaintConfig(comfy.supported_models_base.BASE):
    unet_config = {"disable_unet_model_creation": True}
    unet_extra_config = {}
    latent_format = LDMInpaintLatent
    sampling_settings = {
        "beta_schedule": "linear",
        "linear_start": LINEAR_START,
        "linear_end": LINEAR_END,
        "timesteps": TIMESTEPS,
    }
    memory_usage_factor = 1.0
    supported_inference_dtypes = [torch.float32]


class LDMInpaintModel(ADMModel):
    """The inpainting UNet needs its concat conditioning: without it, a clear error instead of a
    channel mismatch deep in the first convolution."""

    def extra_conds(self, **kwargs):
        if kwargs.get("noise_concat") is None:
            raise ValueError(
                "the LDM inpainting model needs its conditioning: connect LDM Inpaint Conditioning's "
                "positive and negative outputs to the sampler"
            )
        return super().extra_conds(**kwargs)


class _Codebook(nn.Module):
    def __init__(self, n_embed: int, embed_dim: int):
        super().__init__()
        self.embedding = nn.Embedding(n_embed, embed_dim)


class VQFirstStage(nn.Module):
    """latent-diffusion's ``VQModelInterface`` with ComfyUI's Encoder / Decoder; state-dict keys
    ``encoder.*``, ``decoder.*``, ``quant_conv.*``, ``post_quant_conv.*``, ``quantize.embedding.weight``.

    ``encode``: ``[B, 3, H, W]`` in [-1, 1] -> ``[B, embed_dim, H/f, W/f]`` (encoder + quant_conv, not
    quantised); ``decode``: nearest codebook entry, ``post_quant_conv``, decoder.
    """

    def __init__(self, config: dict):
        super().__init__()
        dd = {k: config[k] for k in ("ch", "out_ch", "ch_mult", "num_res_blocks", "attn_resolutions")}
        dd.update({k: config[k] for k in ("dropout", "in_channels", "resolution", "z_channels")})
        attention = AttnBlock if config["mid_attention"] else nn.Identity
        self.encoder = Encoder(**dd, double_z=False)
        if not config["mid_attention"]:
            self.encoder.mid.attn_1 = nn.Identity()  # attn_type: none
        self.decoder = Decoder(**dd, attn_op=attention)
        self.quant_conv = _ops.Conv2d(config["z_channels"], config["embed_dim"], 1)
        self.post_quant_conv = _ops.Conv2d(config["embed_dim"], config["z_channels"], 1)
        self.quantize = _Codebook(config["n_embed"], config["embed_dim"])
        self.downscale = 2 ** (len(config["ch_mult"]) - 1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.quant_conv(self.encoder(x))

    def quantise(self, h: torch.Tensor) -> torch.Tensor:
        """Each latent vector replaced by its nearest codebook row (exactly that row)."""
        flat = h.movedim(1, -1).reshape(-1, h.shape[1])
        rows, _ = vector_quantize.apply(flat, self.quantize.embedding.weight.to(h.dtype))
        return rows.reshape(*h.shape[:1], *h.shape[2:], h.shape[1]).movedim(-1, 1)

    def decode(self, h: torch.Tensor, **kwargs) -> torch.Tensor:
        return self.decoder(self.post_quant_conv(self.quantise(h)))


class VQVAE(comfy.sd.VAE):
    """A ComfyUI VAE around a :class:`VQFirstStage` (which ``comfy.sd.VAE`` cannot detect from its keys):
    IMAGE ``[B, H, W, 3]`` in [0, 1] <-> latent ``[B, 3, H/4, W/4]`` for VQ-f4. Sets the attributes that
    ``comfy.sd.VAE.__init__`` sets (ComfyUI 0.3.75), with float32 as the only working dtype (the
    codebook search compares distances)."""

    def __init__(self, first_stage: VQFirstStage):
        f = first_stage.downscale
        self.memory_used_encode = lambda shape, dtype: 1767 * shape[2] * shape[3] * 4
        self.memory_used_decode = lambda shape, dtype: 2178 * shape[2] * shape[3] * f * f * 4
        self.downscale_ratio = self.upscale_ratio = f
        self.latent_channels = int(first_stage.quantize.embedding.weight.shape[1])
        self.latent_dim = 2
        self.output_channels = 3
        self.process_input = lambda image: image * 2.0 - 1.0
        self.process_output = lambda image: torch.clamp((image + 1.0) / 2.0, min=0.0, max=1.0)
        self.working_dtypes = [torch.float32]
        self.disable_offload = False
        self.not_video = False
        self.size = None
        self.downscale_index_formula = self.upscale_index_formula = None
        self.extra_1d_channel = None
        self.crop_input = True
        self.first_stage_model = first_stage.eval()
        self.device = comfy.model_management.vae_device()
        self.vae_dtype = torch.float32
        self.first_stage_model.to(self.vae_dtype)
        self.output_device = comfy.model_management.intermediate_device()
        self.patcher = comfy.model_patcher.ModelPatcher(
            self.first_stage_model,
            load_device=self.device,
            offload_device=comfy.model_management.vae_offload_device(),
        )
        self.model_size()


def _read(path: str) -> dict:
    try:
        sd, _ = load_state_dict(path)
    except FileNotFoundError:
        raise
    except Exception as e:  # unpickling refused (weights_only) or not a checkpoint at all
        raise LDMCheckpointError(
            f"cannot read {os.path.basename(path)} as a checkpoint ({type(e).__name__}: {e}); give "
            "latent-diffusion's last.ckpt or a safetensors file of its state_dict"
        ) from e
    return sd


def _first_stage(sd: dict) -> VQFirstStage:
    model = VQFirstStage(vq_config_from_state_dict(sd))
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise LDMCheckpointError(
            f"the first stage does not fit VQ-f4: missing keys {missing[:5]}, unexpected keys {unexpected[:5]}"
        )
    return model


def build_ldm_inpaint(sd: dict):
    """MODEL, VAE and a note saying which UNet weights were used, from a checkpoint's state dict.

    Raises:
        LDMCheckpointError: see :func:`pixel.ldm_inpaint.split_checkpoint`; a UNet whose input is not
            latent + first-stage code + mask channels; first-stage keys that do not fit.
        ADMCheckpointError: UNet keys that do not fit an ADM UNet.
    """
    parts = split_checkpoint(sd)
    first = _first_stage(parts.first_stage)
    unet, config = load_adm(parts.unet, num_heads=8, num_head_channels=-1)
    expected = config["out_channels"] + first.quantize.embedding.weight.shape[1] + 1
    if config["in_channels"] != expected:
        raise LDMCheckpointError(
            f"the UNet takes {config['in_channels']} channels; an inpainting UNet takes x_t, the masked "
            f"image's code and the mask ({expected})"
        )
    model = adm_model_patcher(
        unet,
        model_config=LDMInpaintConfig({"disable_unet_model_creation": True}),
        model_class=LDMInpaintModel,
    )
    logging.info("LDM inpainting: %s", parts.note)
    return model, VQVAE(first), parts.note


_CACHE: dict = {}


def load_ldm_inpaint(path: str):
    """:func:`build_ldm_inpaint` of the file at ``path``, kept while the file is unchanged (one entry)."""
    key = (path, os.path.getmtime(path))
    return cache_one(_CACHE, key, lambda: build_ldm_inpaint(_read(path)))


def ldm_inpaint_conditioning(vae, pixels: torch.Tensor, mask: torch.Tensor):
    """The concat CONDITIONING and the LATENT (with its noise_mask) of an image and a mask.

    Args:
        vae: the :class:`VQVAE` of the checkpoint.
        pixels: IMAGE ``[B, H, W, C]`` in [0, 1]; H and W multiples of :data:`MULTIPLE`.
        mask: MASK ``[B or 1, H, W]`` in [0, 1], 1 = fill (thresholded at 0.5).

    Returns:
        ``(conditioning, latent)``: CONDITIONING whose ``noise_concat`` is ``[B, 4, H/4, W/4]``
        (``c``, mask in {-1, +1}); LATENT ``{"samples": encode(pixels), "noise_mask": [B, 1, H/4, W/4]}``.

    Raises:
        ValueError: naming the input (vae, pixels, mask) that does not fit.
    """
    if not isinstance(vae, VQVAE):
        raise ValueError("vae: connect the VAE output of Load LDM Inpainting Checkpoint")
    h, w = pixels.shape[1:3]
    if h % MULTIPLE or w % MULTIPLE:
        raise ValueError(f"pixels: {w}x{h} px; scale or crop the image to multiples of {MULTIPLE} px")
    image = pixels[..., :3].movedim(-1, 1).float()
    m = check_mask(mask, pixels, "mask")[:, None].expand(image.shape[0], -1, -1, -1)
    masked, mask_pm = conditioning_inputs(image, m)
    c = vae.encode(((masked + 1.0) / 2.0).movedim(1, -1))  # the VAE maps [0, 1] back to [-1, 1]
    conditioning = [[torch.zeros(1, 1, 1), {"noise_concat": concat_conditioning(c, mask_pm.to(c.device))}]]
    latent = {"samples": vae.encode(pixels[..., :3]), "noise_mask": latent_noise_mask(m, vae.downscale_ratio)}
    return conditioning, latent

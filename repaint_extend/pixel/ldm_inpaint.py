"""CompVis latent-diffusion's inpainting model ("inpainting big", ``models/ldm/inpainting_big``): its
checkpoint layout and its conditioning (pure torch; nothing here imports ComfyUI).

Facts from latent-diffusion's public code (MIT licence; read, not copied):

- ``models/ldm/inpainting_big/config.yaml``: ``LatentDiffusion`` with T = 1000, betas
  ``linspace(sqrt(0.0015), sqrt(0.0205), 1000) ** 2`` (``ldm/modules/diffusionmodules/util.py``
  ``make_beta_schedule("linear")``), epsilon prediction, ``concat_mode: true``, latent 3 x 64 x 64,
  ``scale_factor`` 1.0. UNet (``openaimodel.UNetModel``): in 7, out 3, model_channels 256, 2 res blocks,
  channel_mult [1, 2, 3, 4], attention at downsampling rates 8, 4, 2 with 8 heads (``legacy`` attention,
  ``num_head_channels`` -1), ``resblock_updown``, no scale-shift norm: :data:`UNET_CONFIG`.
- First stage (``VQModelInterface``, VQ-f4): embed_dim 3, n_embed 8192, ch 128, ch_mult [1, 2, 4],
  2 res blocks, z_channels 3, ``double_z`` false, ``attn_type: none``: :data:`VQ_F4_CONFIG`.
  ``encode`` = encoder + ``quant_conv`` (no quantisation); ``decode`` quantises to the nearest codebook
  entry, then ``post_quant_conv`` and the decoder.
- Lightning ``state_dict`` (``ldm/models/diffusion/ddpm.py``): ``model.diffusion_model.*`` (the UNet inside
  ``DiffusionWrapper``); ``model_ema.*``, the ``LitEma`` copy (``ldm/modules/ema.py``), whose buffers are
  the wrapper's parameter names without dots (``model_ema.diffusion_modelinput_blocks00weight``) plus
  ``model_ema.decay`` and ``model_ema.num_updates``; ``first_stage_model.*`` and the same module again as
  ``cond_stage_model.*`` (``cond_stage_config: __is_first_stage__``); 12 schedule buffers
  (:data:`SCHEDULE_BUFFERS`). ``scripts/inpaint.py`` samples inside ``ema_scope()``: the EMA weights.
- Conditioning (``scripts/inpaint.py`` ``make_batch`` and its main loop): mask thresholded at 0.5,
  ``masked = (1 - mask) * image``, image, mask and masked image mapped by ``x * 2 - 1``; ``c`` = the first
  stage's ``encode`` of the masked image, concatenated with the mask resized to the latent size by
  ``F.interpolate`` (nearest); the UNet input is ``cat([x_t, c, mask])`` (``DiffusionWrapper``, concat).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = [
    "UNET_CONFIG",
    "VQ_F4_CONFIG",
    "LINEAR_START",
    "LINEAR_END",
    "TIMESTEPS",
    "SCHEDULE_BUFFERS",
    "LDMCheckpointError",
    "LDMInpaintParts",
    "ema_key",
    "split_checkpoint",
    "vq_config_from_state_dict",
    "linear_betas",
    "conditioning_inputs",
    "concat_conditioning",
    "latent_noise_mask",
]

UNET_CONFIG = dict(
    image_size=64,
    in_channels=7,
    model_channels=256,
    out_channels=3,
    num_res_blocks=2,
    attention_resolutions=[2, 4, 8],
    dropout=0.0,
    channel_mult=[1, 2, 3, 4],
    conv_resample=True,
    num_classes=None,
    num_heads=8,
    num_head_channels=-1,
    num_heads_upsample=-1,
    use_scale_shift_norm=False,
    resblock_updown=True,
    use_new_attention_order=False,
    norm_groups=32,
)
"""``inpainting_big/config.yaml`` ``unet_config`` as :class:`pixel.ADMUNet` keywords (387 M parameters)."""

VQ_F4_CONFIG = dict(
    embed_dim=3,
    n_embed=8192,
    ch=128,
    ch_mult=[1, 2, 4],
    num_res_blocks=2,
    z_channels=3,
    in_channels=3,
    out_ch=3,
    resolution=256,
    attn_resolutions=[],
    double_z=False,
    mid_attention=False,
    dropout=0.0,
)
"""``inpainting_big/config.yaml`` ``first_stage_config`` (VQ-f4, ``attn_type: none``: no mid attention)."""

LINEAR_START, LINEAR_END, TIMESTEPS = 0.0015, 0.0205, 1000
"""``inpainting_big/config.yaml``: ``linear_start``, ``linear_end``, ``timesteps``."""

SCHEDULE_BUFFERS = (
    "betas",
    "alphas_cumprod",
    "alphas_cumprod_prev",
    "sqrt_alphas_cumprod",
    "sqrt_one_minus_alphas_cumprod",
    "log_one_minus_alphas_cumprod",
    "sqrt_recip_alphas_cumprod",
    "sqrt_recipm1_alphas_cumprod",
    "posterior_variance",
    "posterior_log_variance_clipped",
    "posterior_mean_coef1",
    "posterior_mean_coef2",
)
"""The persistent buffers of ``DDPM.register_schedule`` (``ldm/models/diffusion/ddpm.py``)."""

_UNET = "model.diffusion_model."
_EMA = "model_ema."
_EMA_EXTRA = ("model_ema.decay", "model_ema.num_updates")
_FIRST = "first_stage_model."
_COND = "cond_stage_model."


class LDMCheckpointError(ValueError):
    """A file is not a latent-diffusion inpainting checkpoint in the expected layout."""


@dataclass
class LDMInpaintParts:
    """A checkpoint split into its parts.

    Attributes:
        unet: the UNet state dict, keys as :class:`pixel.ADMUNet` (``input_blocks.0.0.weight``, ...).
        first_stage: the VQ-f4 state dict, keys ``encoder.*``, ``decoder.*``, ``quant_conv.*``,
            ``post_quant_conv.*``, ``quantize.embedding.weight``.
        weights: ``"EMA"`` when the UNet weights are the ``model_ema`` copy, ``"non-EMA"`` otherwise.
        note: one line saying which weights were used and why.
    """

    unet: dict
    first_stage: dict
    weights: str
    note: str


def ema_key(unet_key: str) -> str:
    """The ``LitEma`` buffer name of UNet parameter ``unet_key`` (``ldm/modules/ema.py``: the
    wrapper's parameter name ``diffusion_model.<key>`` with its dots removed, under ``model_ema.``)."""
    return _EMA + ("diffusion_model." + unet_key).replace(".", "")


def _with_prefix(sd: Mapping, prefix: str) -> dict:
    return {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}


def linear_betas(timesteps: int = TIMESTEPS, start: float = LINEAR_START, end: float = LINEAR_END):
    """latent-diffusion's ``make_beta_schedule("linear")``: ``linspace(sqrt(start), sqrt(end), T) ** 2``
    in float64 (ComfyUI's ``linear`` schedule). Returns ``[T]`` float64."""
    return torch.linspace(start**0.5, end**0.5, timesteps, dtype=torch.float64) ** 2


def _check_schedule(sd: Mapping) -> None:
    """The stored ``betas`` (if any) must be this model's schedule; other layouts are other models."""
    betas = sd.get("betas")
    if betas is None:
        return
    expected = linear_betas(len(betas))
    if len(betas) != TIMESTEPS or not torch.allclose(betas.double(), expected, rtol=1e-5, atol=1e-7):
        raise LDMCheckpointError(
            f"the checkpoint's betas ({len(betas)} steps, {float(betas[0]):.6g} .. {float(betas[-1]):.6g}) "
            f"are not latent-diffusion inpainting's linear schedule ({TIMESTEPS} steps, "
            f"{LINEAR_START} .. {LINEAR_END})"
        )


def _pick_unet(sd: Mapping, unet: dict) -> tuple[dict, str, str]:
    """The EMA copy of ``unet`` when every parameter has one, else ``unet`` itself."""
    ema = {k: sd.get(ema_key(k)) for k in unet}
    missing = [k for k, v in ema.items() if v is None]
    if not missing:
        return ema, "EMA", f"EMA weights ({len(ema)} model_ema tensors), as scripts/inpaint.py samples with"
    if len(missing) == len(ema):
        return unet, "non-EMA", "non-EMA weights (model.diffusion_model.*): the file has no model_ema copy"
    raise LDMCheckpointError(
        f"the checkpoint's EMA copy is incomplete: {len(missing)} of {len(ema)} UNet tensors have no "
        f"model_ema entry (e.g. {ema_key(missing[0])})"
    )


def split_checkpoint(sd: Mapping[str, torch.Tensor]) -> LDMInpaintParts:
    """Split a latent-diffusion inpainting ``state_dict`` into UNet and VQ-f4 first stage.

    Prefers the EMA UNet weights (``model_ema.*``, see :func:`ema_key`); uses ``model.diffusion_model.*``
    when the file has no EMA copy. ``cond_stage_model.*`` must equal ``first_stage_model.*`` (one module
    under two names in latent-diffusion) and is dropped; the schedule buffers are checked against
    :func:`linear_betas` and dropped.

    Args:
        sd: the checkpoint's ``state_dict`` (a Lightning ``last.ckpt``'s, or a safetensors conversion).

    Raises:
        LDMCheckpointError: no UNet or first stage keys, keys of no known part, an incomplete EMA copy,
            a ``cond_stage_model`` that differs from the first stage, or another beta schedule.
    """
    unet = _with_prefix(sd, _UNET)
    first = _with_prefix(sd, _FIRST)
    if not unet or not first:
        raise LDMCheckpointError(
            "not a latent-diffusion inpainting checkpoint: expected keys model.diffusion_model.* and "
            f"first_stage_model.*; it has {len(sd)} keys, e.g. {sorted(sd)[:4]}"
        )
    cond = _with_prefix(sd, _COND)
    if cond and (cond.keys() != first.keys() or any(not torch.equal(cond[k], first[k]) for k in first)):
        raise LDMCheckpointError(
            "cond_stage_model.* differs from first_stage_model.*: inpainting_big encodes the masked image "
            "with its first stage (cond_stage_config: __is_first_stage__); this is another model"
        )
    known = set(SCHEDULE_BUFFERS) | set(_EMA_EXTRA) | {ema_key(k) for k in unet}
    stray = [k for k in sd if not k.startswith((_UNET, _FIRST, _COND)) and k not in known]
    if stray:
        raise LDMCheckpointError(f"{len(stray)} keys of no known part, e.g. {stray[:5]}")
    _check_schedule(sd)
    weights, kind, note = _pick_unet(sd, unet)
    return LDMInpaintParts(unet=weights, first_stage=first, weights=kind, note=note)


def _levels(sd: Mapping, prefix: str) -> list[int]:
    pat = re.compile(re.escape(prefix) + r"\.(\d+)\.")
    return sorted({int(m.group(1)) for k in sd if (m := pat.match(k))})


def vq_config_from_state_dict(first_stage: Mapping[str, torch.Tensor]) -> dict:
    """Read a VQ first stage's config (keys of :data:`VQ_F4_CONFIG`) from its shapes.

    ``ch`` from ``encoder.conv_in``, ``ch_mult`` from each level's first ResBlock width, the res blocks per
    level from ``encoder.down.0.block.*``, ``z_channels`` from ``encoder.conv_out`` (``double_z`` false),
    ``embed_dim`` / ``n_embed`` from the codebook ``quantize.embedding.weight`` ``[n_embed, embed_dim]``,
    ``mid_attention`` from ``encoder.mid.attn_1`` keys (absent with ``attn_type: none``).

    Raises:
        LDMCheckpointError: missing first-stage keys, a doubled z (a KL autoencoder), or a codebook width
            that does not match ``quant_conv``.
    """
    required = ["encoder.conv_in.weight", "encoder.conv_out.weight", "quant_conv.weight"]
    required += ["post_quant_conv.weight", "decoder.conv_in.weight", "quantize.embedding.weight"]
    missing = [k for k in required if k not in first_stage]
    if missing:
        raise LDMCheckpointError(f"the first stage is not a VQ autoencoder: missing keys {missing}")
    ch = int(first_stage["encoder.conv_in.weight"].shape[0])
    levels = _levels(first_stage, "encoder.down")
    ch_mult = [int(first_stage[f"encoder.down.{i}.block.0.conv1.weight"].shape[0]) // ch for i in levels]
    z = int(first_stage["encoder.conv_out.weight"].shape[0])
    n_embed, embed_dim = (int(s) for s in first_stage["quantize.embedding.weight"].shape)
    if (
        int(first_stage["quant_conv.weight"].shape[1]) != z
        or int(first_stage["quant_conv.weight"].shape[0]) != embed_dim
    ):
        raise LDMCheckpointError(
            f"quant_conv {tuple(first_stage['quant_conv.weight'].shape)} does not map z ({z}) to the codebook "
            f"width ({embed_dim}); a KL autoencoder (double_z) is not a VQ first stage"
        )
    return dict(
        VQ_F4_CONFIG,
        embed_dim=embed_dim,
        n_embed=n_embed,
        ch=ch,
        ch_mult=ch_mult,
        num_res_blocks=len(_levels(first_stage, "encoder.down.0.block")),
        z_channels=z,
        in_channels=int(first_stage["encoder.conv_in.weight"].shape[1]),
        out_ch=int(first_stage["decoder.conv_out.weight"].shape[0]),
        mid_attention="encoder.mid.attn_1.q.weight" in first_stage,
    )


def conditioning_inputs(image: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``scripts/inpaint.py`` ``make_batch``: the masked image and the mask, both mapped to [-1, 1].

    Args:
        image: ``[B, 3, H, W]`` in [0, 1].
        mask: ``[B, 1, H, W]`` (or ``[1, 1, H, W]``, broadcast) in [0, 1], 1 = fill; thresholded at 0.5.

    Returns:
        ``(masked, mask_pm)``: ``masked = (1 - m) * image * 2 - 1`` (holes are exactly -1) and
        ``mask_pm = m * 2 - 1`` in {-1, +1} (+1 = fill), where ``m`` is the thresholded mask.

    Raises:
        ValueError: image and mask of different spatial sizes.
    """
    if image.shape[-2:] != mask.shape[-2:]:
        raise ValueError(f"image {tuple(image.shape[-2:])} and mask {tuple(mask.shape[-2:])} differ in size")
    m = (mask >= 0.5).to(image.dtype)
    masked = (1.0 - m) * image
    return masked * 2.0 - 1.0, m * 2.0 - 1.0


def concat_conditioning(c: torch.Tensor, mask_pm: torch.Tensor) -> torch.Tensor:
    """The UNet's extra input channels: ``cat([c, nearest(mask_pm)])`` (``scripts/inpaint.py``).

    Args:
        c: ``[B, 3, h, w]``, the first stage's ``encode`` (encoder + quant_conv, not quantised) of the
            masked image.
        mask_pm: ``[B, 1, H, W]`` in {-1, +1}, resized to ``h x w`` by nearest neighbour
            (``F.interpolate``'s default mode, as the script calls it).

    Returns:
        ``[B, 4, h, w]``.
    """
    small = F.interpolate(mask_pm.to(c.dtype), size=c.shape[-2:])
    return torch.cat([c, small.expand(c.shape[0], -1, -1, -1)], dim=1)


def latent_noise_mask(mask: torch.Tensor, factor: int) -> torch.Tensor:
    """A latent-size noise_mask (1 = generate) in which a latent cell is generated when any pixel of its
    ``factor x factor`` block is to be filled, so that no hole pixel is decoded from the original's latent.

    Args:
        mask: ``[B, 1, H, W]`` in [0, 1], 1 = fill, thresholded at 0.5; H and W multiples of ``factor``.
        factor: the first stage's downscale (4 for VQ-f4).

    Returns:
        ``[B, 1, H / factor, W / factor]`` in {0, 1}, float32.
    """
    return F.max_pool2d((mask >= 0.5).float(), factor)

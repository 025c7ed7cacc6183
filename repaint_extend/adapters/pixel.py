"""ComfyUI glue for pixel-space ADM (guided-diffusion) models: a MODEL, an identity VAE and an empty
CONDITIONING, so that ComfyUI's standard nodes and the RePaint sampler run on them.

The network and its checkpoint format live in ``pixel/`` (pure torch). Here:

- the schedule is guided-diffusion's linear beta, 1e-4 .. 2e-2 over T = 1000 (Ho et al. 2020, section 4),
  which ComfyUI calls ``sqrt_linear`` (its ``linear`` is the square of a linspace of square roots);
- ``model_sampling`` is ComfyUI's EPS: the net gets x / sqrt(1 + sigma^2) and timestep t(sigma), exactly
  guided-diffusion's VP input, and returns epsilon (the first half of a learned-sigma output);
- latents are images in [-1, 1], ``[B, 3, H, W]``: the "VAE" only moves channels and rescales.
"""

from __future__ import annotations

import os

import comfy.latent_formats
import comfy.model_base
import comfy.model_management
import comfy.model_patcher
import comfy.supported_models_base
import torch

from ..pixel import ADMUNet, check_published_heads, class_labels, load_adm, load_state_dict
from .cache import cache_one


class PixelLatent(comfy.latent_formats.LatentFormat):
    """Pixel space as a latent format: 3 channels in [-1, 1], no scaling; previews show the image."""

    latent_channels = 3
    scale_factor = 1.0

    def __init__(self):
        self.latent_rgb_factors = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


class ADMModelConfig(comfy.supported_models_base.BASE):
    unet_config = {"disable_unet_model_creation": True}
    unet_extra_config = {}
    latent_format = PixelLatent
    sampling_settings = {
        "beta_schedule": "sqrt_linear",
        "linear_start": 1e-4,
        "linear_end": 2e-2,
        "timesteps": 1000,
    }
    memory_usage_factor = 1.0
    supported_inference_dtypes = [torch.float32]


class _EpsilonHalf(torch.nn.Module):
    """Calls the ADM UNet as ComfyUI's ``BaseModel`` calls a diffusion model; keeps the epsilon half."""

    def __init__(self, unet: ADMUNet):
        super().__init__()
        self.unet = unet
        self.dtype = next(unet.parameters()).dtype

    def forward(self, x, timesteps, context=None, y=None, control=None, transformer_options={}, **kwargs):  # noqa: B006
        out = self.unet(x, timesteps, y=y)
        return out[:, : x.shape[1]] if getattr(self.unet, "learn_sigma", False) else out


class ADMModel(comfy.model_base.BaseModel):
    """ComfyUI's ``BaseModel`` for an ADM UNet; a class-conditional UNet gets its class labels ``y``
    through ``encode_adm`` (ComfyUI's way of passing ``y``; its ``BaseModel`` passes none)."""

    class_label: int = -1

    def encode_adm(self, noise=None, seed=None, **kwargs):
        num_classes = getattr(self.diffusion_model.unet, "num_classes", None)
        if num_classes is None:
            return None
        return class_labels(self.class_label, noise.shape[0], num_classes, seed)


def adm_model_patcher(unet: ADMUNet, *, class_label: int = -1, model_config=None, model_class=ADMModel):
    """A ComfyUI MODEL (``ModelPatcher``) around an ADM UNet, EPS prediction.

    Args:
        unet: the network.
        class_label: for a class-conditional UNet, the class of every image, or -1 for a class per image
            drawn from the sampling seed (see :func:`pixel.class_labels`); ignored otherwise.
        model_config: a ComfyUI model config instance; default :class:`ADMModelConfig` (guided-diffusion's
            linear beta schedule, pixel latents).
        model_class: the ``BaseModel`` subclass to build.
    """
    if model_config is None:
        model_config = ADMModelConfig({"disable_unet_model_creation": True})
    model_config.set_inference_dtype(torch.float32, None)
    model = model_class(model_config, model_type=comfy.model_base.ModelType.EPS, device="cpu")
    model.diffusion_model = _EpsilonHalf(unet.eval())
    model.class_label = class_label
    return comfy.model_patcher.ModelPatcher(
        model,
        load_device=comfy.model_management.get_torch_device(),
        offload_device=comfy.model_management.unet_offload_device(),
    )


class IdentityVAE:
    """The VAE interface ComfyUI's nodes use, for pixel-space models.

    ``encode``: IMAGE ``[B, H, W, C]`` in [0, 1] -> latent ``[B, 3, H, W]`` in [-1, 1];
    ``decode``: the inverse, clamped to [0, 1]. Downscale ratio 1.
    """

    downscale_ratio = 1
    upscale_ratio = 1
    latent_channels = 3
    latent_dim = 2
    output_channels = 3

    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        return pixels[..., :3].movedim(-1, 1).float() * 2.0 - 1.0

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        return ((latent.float() + 1.0) / 2.0).clamp(0.0, 1.0).movedim(1, -1)

    encode_tiled = encode
    decode_tiled = decode

    def spacial_compression_encode(self) -> int:
        return 1

    def spacial_compression_decode(self) -> int:
        return 1

    def temporal_compression_decode(self):
        return None

    def throw_exception_if_invalid(self) -> None:
        return None


_ADM_CACHE: dict = {}


def load_adm_model(path: str, num_head_channels: int, num_heads: int, class_label: int = -1):
    """The MODEL of an ADM checkpoint file, kept while the file and the arguments are unchanged.

    A config stored with the weights (safetensors metadata, :func:`pixel.save_adm`) wins over the head
    arguments; guided-diffusion's ``.pt`` files store none, so the heads are the arguments, checked
    against the published 256 px models when the file has their layout (:func:`pixel.check_published_heads`).

    Raises:
        ADMCheckpointError: the weights do not fit, or a published layout with other heads;
        ValueError: ``class_label`` outside the model's classes.
    """

    def build():
        state_dict, stored_config = load_state_dict(path)
        overrides = {}
        if not stored_config:
            check_published_heads(state_dict, num_head_channels, num_heads)
            overrides = {"num_head_channels": num_head_channels, "num_heads": num_heads}
        unet, config = load_adm(state_dict, config=stored_config, **overrides)
        if config["num_classes"] is not None:
            class_labels(class_label, 1, config["num_classes"])  # range check before sampling starts
        return adm_model_patcher(unet, class_label=class_label)

    key = (path, os.path.getmtime(path), num_head_channels, num_heads, class_label)
    return cache_one(_ADM_CACHE, key, build)


def empty_conditioning() -> list:
    """An unconditional CONDITIONING for models without text (its tensor is never read)."""
    return [[torch.zeros(1, 1, 1), {}]]

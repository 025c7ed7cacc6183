"""Pixel-space diffusion models (pure torch; nothing here imports ComfyUI).

Public API:
    ADMUNet(**config)                              guided-diffusion UNetModel, key-compatible.
    PUBLISHED_FLAGS, published_config(name, **kw)  configs of the RePaint / guided-diffusion models.
    unet_kwargs_from_flags(flags)                  guided-diffusion flags -> ADMUNet config.
    config_from_state_dict(sd, *, num_heads=4, num_head_channels=64, ...)  infer a config.
    load_adm(path_or_state_dict, config=None, **overrides) -> (model, config)
    save_adm(model, path, extra_metadata=None)     safetensors with the config in its metadata.
    linear_betas, alphas_cumprod_from_betas, sigmas_from_alphas_cumprod, space_timesteps,
    DiscreteSchedule                               the DDPM schedule and sigma <-> t mapping.
    ADMDenoiser(model, schedule=None, *, quantize=False)  k-diffusion denoiser: (x, sigma) -> x0.
    class_labels(label, batch, num_classes, seed)  labels y of a class-conditional model (-1: random).
    ldm_inpaint                                    latent-diffusion "inpainting big": checkpoint split,
                                                   conditioning (module; see its docstring).
"""

from . import ldm_inpaint
from .adm_unet import ADMUNet, timestep_embedding
from .configs import (
    PUBLISHED_FLAGS,
    ADMCheckpointError,
    check_published_heads,
    config_from_state_dict,
    load_adm,
    load_state_dict,
    published_config,
    published_layouts,
    save_adm,
    unet_kwargs_from_flags,
)
from .denoiser import ADMDenoiser
from .labels import RANDOM_CLASS, class_labels
from .schedule import (
    DiscreteSchedule,
    alphas_cumprod_from_betas,
    linear_betas,
    sigmas_from_alphas_cumprod,
    space_timesteps,
)

__all__ = [
    "ADMUNet",
    "timestep_embedding",
    "PUBLISHED_FLAGS",
    "ADMCheckpointError",
    "config_from_state_dict",
    "load_adm",
    "load_state_dict",
    "published_config",
    "published_layouts",
    "check_published_heads",
    "save_adm",
    "unet_kwargs_from_flags",
    "ADMDenoiser",
    "RANDOM_CLASS",
    "class_labels",
    "ldm_inpaint",
    "DiscreteSchedule",
    "alphas_cumprod_from_betas",
    "linear_betas",
    "sigmas_from_alphas_cumprod",
    "space_timesteps",
]

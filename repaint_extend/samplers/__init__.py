"""Host-independent samplers (pure torch; nothing here imports ComfyUI).

Public API:
    jump_schedule(steps, jump_length, jump_n_sample, ...)  RePaint's time-index walk.
    sample_repaint(model, x, sigmas, extra_args, callback, disable, *, jump_length, ...)
        RePaint resampling in k-diffusion's calling convention.
    derive_seed(seed, offset)  seed of a run's extra noise stream, (seed + offset) mod 2**64.
    sample_langevin_pc(model, x, sigmas, extra_args, callback, disable, *, corrector_steps, ...)
        Predictor steps with kinetic Langevin correctors towards the noisy conditional.
    check_sigmas(sigmas, name), partial_start(sigmas, sigma_start)
        A given schedule checked; where a partial (denoise < 1) run on it starts.
"""

from .inpaint import KnownRegionDenoiser
from .langevin import check_langevin_options, kinetic_langevin_step, langevin_nfe, sample_langevin_pc
from .masks import MASK_PRESETS, check_noise_mask, repaint_mask
from .repaint import (
    denoise_step,
    flow_scales,
    renoise_jump,
    sample_repaint,
    scales_from_noise_scaling,
    seeded_noise_sampler,
    ve_scales,
)
from .schedule import (
    check_sigmas,
    jump_schedule,
    partial_start,
    power_sigmas,
    power_timesteps,
    schedule_moves,
    schedule_nfe,
)
from .seeds import SEED_MODULUS, derive_seed

__all__ = [
    "jump_schedule",
    "schedule_moves",
    "schedule_nfe",
    "power_timesteps",
    "power_sigmas",
    "check_sigmas",
    "check_langevin_options",
    "partial_start",
    "sample_repaint",
    "denoise_step",
    "renoise_jump",
    "ve_scales",
    "flow_scales",
    "scales_from_noise_scaling",
    "seeded_noise_sampler",
    "derive_seed",
    "SEED_MODULUS",
    "MASK_PRESETS",
    "repaint_mask",
    "check_noise_mask",
    "KnownRegionDenoiser",
    "sample_langevin_pc",
    "kinetic_langevin_step",
    "langevin_nfe",
]

"""ComfyUI glue for :func:`samplers.sample_langevin_pc`: a ``KSAMPLER`` whose progress counts model calls.

ComfyUI's ``KSamplerX0Inpaint`` re-noises the known region with one noise reused at every call, which
is what the corrector needs (see :mod:`samplers.langevin`).
"""

from __future__ import annotations

from ..samplers import (
    check_langevin_options,
    langevin_nfe,
    sample_langevin_pc,
    scales_from_noise_scaling,
    seeded_noise_sampler,
)
from .sampler import _STEP_NOISE_SEED_OFFSET, NFECountingKSampler, _stream_seed

# seed itself makes the initial noise (comfy.sample.prepare_noise); the sampler's own noise is stream 2,
# (seed + 2) mod 2**64 (samplers.derive_seed), as for RePaint (adapters/sampler.py): no overflow at
# the seed widget's maximum 2**64 - 1.


def _langevin_function(model, noise, sigmas, extra_args=None, callback=None, disable=None, **options):
    extra_args = {} if extra_args is None else extra_args
    model_sampling = model.inner_model.inner_model.model_sampling
    return sample_langevin_pc(
        model,
        noise,
        sigmas,
        extra_args,
        callback,
        disable,
        scales=scales_from_noise_scaling(model_sampling.noise_scaling),
        noise_sampler=seeded_noise_sampler(
            noise, _stream_seed(extra_args.get("seed"), _STEP_NOISE_SEED_OFFSET)
        ),
        **options,
    )


class LangevinKSampler(NFECountingKSampler):
    """ComfyUI SAMPLER running :func:`samplers.sample_langevin_pc`; its progress bar counts NFE.

    Raises ``ValueError`` (``TypeError``) naming the input for bad corrector options (at construction,
    :func:`samplers.check_langevin_options`) and for a
    missing, empty, all-ones or mis-sized noise mask (at sampling time, before any model call).
    """

    def __init__(
        self, corrector_steps: int = 4, step_size: float = 1.5, friction: float = 0.02, eta: float = 1.0
    ):
        check_langevin_options(corrector_steps, step_size, friction, eta)  # before any sampling
        options = {
            "corrector_steps": corrector_steps,
            "step_size": step_size,
            "friction": friction,
            "eta": eta,
        }
        super().__init__(_langevin_function, extra_options=options)

    def nfe(self, sigmas, model_sampling) -> int:
        """:func:`samplers.langevin_nfe` over ``sigmas`` with the model's a(sigma), b(sigma)."""
        scales = scales_from_noise_scaling(model_sampling.noise_scaling)
        return langevin_nfe(sigmas.cpu(), self.extra_options["corrector_steps"], scales)

"""ComfyUI glue for the RePaint sampler: a ``KSAMPLER`` whose progress counts model calls (NFE).

The maths lives in ``samplers/`` (pure torch). This module only reads the noise convention off the
model's ``model_sampling``, chooses how the known region is re-noised, and reports progress.
"""

from __future__ import annotations

import comfy.sample
import comfy.sampler_helpers
import comfy.samplers
import comfy.utils
import latent_preview
import torch

from ..samplers import (
    check_noise_mask,
    derive_seed,
    jump_schedule,
    power_sigmas,
    sample_repaint,
    scales_from_noise_scaling,
    schedule_moves,
    seeded_noise_sampler,
)

KNOWN_NOISE = ("fresh", "random", "fixed")
"""How the known region is re-noised before each model call.

``fresh``: new noise at every call, as RePaint's Algorithm 1 (line 4) draws it; ``random``: one noise
drawn from seed + 1 and reused (ComfyUI's ``inpaint_options={"random": True}``); ``fixed``: the
sampling noise itself, reused (ComfyUI's default for inpainting)."""

# Noise streams of one run, numbered from the graph's seed (seeds derived by samplers.derive_seed, i.e.
# (seed + offset) mod 2**64, so that a seed near the widget's maximum 2**64 - 1 cannot overflow): the seed
# itself makes the initial noise (comfy.sample.prepare_noise), offset 1 ComfyUI's "random" known-region
# noise, 2 the RePaint steps' noise, 3 the "fresh" known-region noise.
_RANDOM_KNOWN_NOISE_SEED_OFFSET = 1
_STEP_NOISE_SEED_OFFSET = 2
_KNOWN_NOISE_SEED_OFFSET = 3
# ComfyUI's KSAMPLER seeds its "random" known-region noise with 41 + 1 when a run has no seed.
_COMFY_DEFAULT_SEED = 41


def _stream_seed(seed: int | None, offset: int) -> int | None:
    return None if seed is None else derive_seed(int(seed), offset)


class _FreshKnownNoise:
    """Wraps ComfyUI's ``KSamplerX0Inpaint`` so that the known region gets new noise at every call."""

    def __init__(self, model_k, seed: int | None):
        self.model_k = model_k
        self.inner_model = model_k.inner_model
        self._draw = seeded_noise_sampler(model_k.noise, _stream_seed(seed, _KNOWN_NOISE_SEED_OFFSET))

    def __call__(self, x, sigma, **kwargs):
        self.model_k.noise = self._draw(None, None)
        return self.model_k(x, sigma, **kwargs)


def random_known_noise(noise: torch.Tensor, seed: int | None) -> torch.Tensor:
    """ComfyUI's ``inpaint_options={"random": True}`` known-region noise, drawn without overflow.

    The same numbers as ComfyUI's KSAMPLER (``torch.manual_seed(seed + 1)``, ``randn`` on the CPU, then
    ``noise``'s dtype and device) for every seed below ``2**64 - 1``; the seed is derived with
    :func:`samplers.derive_seed` (so ``2**64 - 1`` gives stream seed 0, not an overflow), from a private
    generator (torch's global one is left alone). ``noise``: ``[B, C, h, w]``; returns a tensor like it.
    """
    seed = _COMFY_DEFAULT_SEED if seed is None else seed
    generator = torch.Generator(device="cpu")
    generator.manual_seed(derive_seed(int(seed), _RANDOM_KNOWN_NOISE_SEED_OFFSET))
    return torch.randn(noise.shape, generator=generator, device="cpu").to(noise.dtype).to(noise.device)


def _repaint_function(
    model, noise, sigmas, extra_args=None, callback=None, disable=None, *, known_noise="fresh", **options
):
    extra_args = {} if extra_args is None else extra_args
    seed = extra_args.get("seed")
    model_sampling = model.inner_model.inner_model.model_sampling
    if known_noise == "random":
        model.noise = random_known_noise(model.noise, extra_args.get("seed", _COMFY_DEFAULT_SEED))
    if known_noise == "fresh" and extra_args.get("denoise_mask") is not None:
        model = _FreshKnownNoise(model, seed)
    return sample_repaint(
        model,
        noise,
        sigmas,
        extra_args,
        callback,
        disable,
        scales=scales_from_noise_scaling(model_sampling.noise_scaling),
        noise_sampler=seeded_noise_sampler(noise, _stream_seed(seed, _STEP_NOISE_SEED_OFFSET)),
        **options,
    )


def count_nfe(steps: int, options: dict) -> int:
    """Model calls of a RePaint run over ``steps`` steps with the given jump options."""
    schedule = jump_schedule(
        steps,
        options["jump_length"],
        options["jump_n_sample"],
        options.get("start_percent", 0.0),
        options.get("end_percent", 1.0),
    )
    return sum(1 for t_from, t_to in schedule_moves(schedule) if t_to < t_from)


class NFECountingKSampler(comfy.samplers.KSAMPLER):
    """A ComfyUI SAMPLER for inpainting whose progress bar counts model calls (NFE), not sigma steps.

    Subclasses give :meth:`nfe`; :meth:`sample` checks the noise mask before any model call (ValueError
    for a missing, empty, all-ones or mis-sized mask) and hands ComfyUI's callback the NFE as its total.
    """

    def nfe(self, sigmas, model_sampling) -> int:
        """Model calls of one run over ``sigmas`` (``[steps + 1]``) on a model with ``model_sampling``."""
        raise NotImplementedError

    def sample(
        self,
        model_wrap,
        sigmas,
        extra_args,
        callback,
        noise,
        latent_image=None,
        denoise_mask=None,
        disable_pbar=False,
    ):
        check_noise_mask(denoise_mask, tuple(noise.shape), name="noise_mask")
        nfe = self.nfe(sigmas, model_wrap.inner_model.model_sampling)
        return super().sample(
            model_wrap,
            sigmas,
            extra_args,
            nfe_progress(callback, nfe),
            noise,
            latent_image,
            denoise_mask,
            disable_pbar,
        )


class RePaintKSampler(NFECountingKSampler):
    """ComfyUI SAMPLER running :func:`samplers.sample_repaint`; its progress bar counts NFE.

    Raises (at sampling time) ``ValueError`` for a missing, empty, all-ones or mis-sized noise mask and
    for bad jump parameters, before any model call.
    """

    def __init__(
        self,
        jump_length: int = 10,
        jump_n_sample: int = 10,
        eta: float = 1.0,
        known_noise: str = "fresh",
        start_percent: float = 0.0,
        end_percent: float = 1.0,
    ):
        if known_noise not in KNOWN_NOISE:
            raise ValueError(f"known_noise must be one of {KNOWN_NOISE}, got {known_noise!r}")
        options = {
            "jump_length": jump_length,
            "jump_n_sample": jump_n_sample,
            "eta": eta,
            "start_percent": start_percent,
            "end_percent": end_percent,
            "known_noise": known_noise,
        }
        # "random" is drawn in _repaint_function (ComfyUI's own draw adds 1 to the seed and overflows at
        # the seed widget's maximum).
        super().__init__(_repaint_function, extra_options=options)

    def nfe(self, sigmas, model_sampling) -> int:
        """:func:`count_nfe` over ``len(sigmas) - 1`` steps (validates the jump parameters)."""
        return count_nfe(len(sigmas) - 1, self.extra_options)


def nfe_progress(callback, nfe: int):
    """ComfyUI's sampling ``callback(step, x0, x, total_steps)`` with the total set to ``nfe`` (model calls)
    instead of the number of sigma steps; None stays None."""
    if callback is None:
        return None

    def nfe_callback(step, x0, x, total_steps):
        callback(step, x0, x, nfe)

    return nfe_callback


def power_scheduler_sigmas(model, steps: int, power: float) -> torch.Tensor:
    """SIGMAS of Power Scheduler (RePaint): :func:`samplers.power_sigmas` on the MODEL's ``model_sampling``
    (its largest sigma's timestep as ``max_timestep``), float32 on the CPU, ``[steps + 1]`` ending at 0
    (``[steps]`` for flow models, whose sigma(0) is already 0)."""
    model_sampling = model.get_model_object("model_sampling")

    def sigma_of_timesteps(timesteps: list[float]) -> list[float]:
        return model_sampling.sigma(torch.tensor(timesteps)).float().cpu().tolist()

    max_timestep = float(model_sampling.timestep(model_sampling.sigma_max))
    return torch.tensor(power_sigmas(steps, power, sigma_of_timesteps, max_timestep), dtype=torch.float32)


def known_region(denoise_mask: torch.Tensor, latent_shape) -> torch.Tensor:
    """Boolean ``[B, C, h, w]``: where a (pixel- or latent-resolution) noise mask leaves the latent
    exactly known, i.e. where ComfyUI's resized mask is exactly 0."""
    return comfy.sampler_helpers.prepare_mask(denoise_mask, latent_shape, "cpu") == 0


def ksampler_sigmas(model, scheduler: str, steps: int, denoise: float = 1.0) -> torch.Tensor:
    """The sigmas (CPU, ``[steps + 1]``) KSampler runs at ``denoise`` (0 < denoise <= 1): ``steps`` steps
    over the last ``denoise`` fraction of a ``steps / denoise``-step ``scheduler`` schedule of ``model``."""
    total = steps if denoise >= 1.0 else int(steps / denoise)
    sigmas = comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), scheduler, total)
    return sigmas.cpu()[-(steps + 1) :]


def repaint_ksampler(
    model, seed, steps, cfg, scheduler, positive, negative, latent_image, denoise, **options
) -> dict:
    """KSampler (RePaint): ComfyUI's ``common_ksampler`` with the RePaint SAMPLER and an NFE progress bar.

    ``options`` are :class:`RePaintKSampler`'s. Returns a new LATENT dict whose known latent pixels (where
    the noise mask is 0) are bit-exact copies of the input's. Raises ``ValueError`` before any model call
    for a bad mask or bad jump parameters; nothing is modified in place.
    """
    latent = latent_image["samples"]
    check_noise_mask(latent_image.get("noise_mask"), tuple(latent.shape), name="latent_image's noise_mask")
    sampler = RePaintKSampler(**options)
    nfe = count_nfe(steps, sampler.extra_options)  # validates the jump parameters early
    if denoise <= 0.0:
        raise ValueError("denoise must be > 0 for RePaint to generate anything")
    mask = latent_image["noise_mask"]
    latent = comfy.sample.fix_empty_latent_channels(model, latent)
    noise = comfy.sample.prepare_noise(latent, seed, latent_image.get("batch_index"))
    samples = comfy.sample.sample_custom(
        model,
        noise,
        cfg,
        sampler,
        ksampler_sigmas(model, scheduler, steps, denoise),
        positive,
        negative,
        latent,
        noise_mask=mask,
        callback=latent_preview.prepare_callback(model, nfe),
        disable_pbar=not comfy.utils.PROGRESS_BAR_ENABLED,
        seed=seed,
    )
    # Known latent pixels back bit-exact: ComfyUI's latent scaling in and out can move them by an ulp.
    samples = torch.where(known_region(mask, samples.shape), latent.to(samples.dtype), samples)
    out = latent_image.copy()
    out["samples"] = samples
    return out

"""RePaint's jump schedule (Lugmayr et al., CVPR 2022, section 4.2 "Resampling" and Algorithm 1).

The schedule is a walk over time indices. Index ``steps - 1`` is the noisiest state, index ``-1`` is the
clean image (sigma = 0). A decrease by one is a denoising step (one model call); an increase by one is a
re-noising ("undo") step, which needs no model call. Every ``jump_length`` steps the walk goes back up
``jump_length`` indices and denoises them again, ``jump_n_sample - 1`` times in all, so that the
generated region is harmonised with the known region several times (paper, Fig. 3 and section 4.2).

This module is pure Python: no torch, no host import.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from ..checks import check_int

__all__ = [
    "jump_schedule",
    "schedule_moves",
    "schedule_nfe",
    "power_timesteps",
    "power_sigmas",
    "check_sigmas",
    "partial_start",
]


def jump_schedule(
    steps: int,
    jump_length: int = 10,
    jump_n_sample: int = 10,
    start_percent: float = 0.0,
    end_percent: float = 1.0,
) -> list[int]:
    """RePaint's list of time indices, from ``steps - 1`` down to ``-1`` with jumps back.

    Jump points are the indices ``t = k * jump_length`` (k = 0, 1, ...) with ``t < steps - jump_length``.
    Each time the walk arrives at a jump point it goes back up ``jump_length`` indices, one entry per
    index, and comes down again; it does so ``jump_n_sample - 1`` times, then goes on down. This gives
    ``ceil((T - j) / j)`` jump points and the number of model calls (NFE, one per decrease)

        NFE = T + (r - 1) * j * ceil((T - j) / j)

    with T = ``steps``, j = ``jump_length``, r = ``jump_n_sample``. For the paper's setting
    T = 250, j = 10, r = 10 (RePaint, section 5 "Implementation details") the list has 4,571 entries:
    2,410 decreases and 2,160 increases.

    Args:
        steps: T, the number of denoising steps of the underlying schedule (>= 1).
        jump_length: j, how far (in time indices) each jump goes back; 1 <= j < T unless r == 1.
        jump_n_sample: r, how many times each stretch is sampled; 1 means no resampling.
        start_percent, end_percent: resample only at jump points whose progress through sampling,
            ``(T - 1 - t) / T`` in [0, 1] (0 = the first, noisiest step), lies in
            [start_percent, end_percent]. Defaults resample everywhere, as in the paper.

    Returns:
        The time indices, a list of ints starting at ``steps - 1`` and ending at ``-1``; consecutive
        entries differ by exactly 1.

    Raises:
        TypeError: an argument is not an int.
        ValueError: ``steps < 1``, ``jump_n_sample < 1``, ``jump_length < 1``, ``jump_length >= steps``
            while resampling (``jump_n_sample > 1``), or percents outside 0 <= start <= end <= 1.
    """
    steps = check_int("steps", steps, 1)
    jump_length = check_int("jump_length", jump_length, 1)
    jump_n_sample = check_int("jump_n_sample", jump_n_sample, 1)
    if jump_n_sample > 1 and jump_length >= steps:
        raise ValueError(
            f"jump_length ({jump_length}) must be smaller than steps ({steps}) for RePaint to "
            "resample; lower jump_length, raise steps, or set jump_n_sample to 1"
        )
    if not (0.0 <= start_percent <= end_percent <= 1.0):
        raise ValueError(
            f"need 0 <= start_percent <= end_percent <= 1, got start_percent={start_percent}, "
            f"end_percent={end_percent}"
        )

    jumps_left = {}
    if jump_n_sample > 1:
        for t in range(0, steps - jump_length, jump_length):
            progress = (steps - 1 - t) / steps
            if start_percent <= progress <= end_percent:
                jumps_left[t] = jump_n_sample - 1

    t = steps - 1
    schedule = [t]
    while t >= 0:
        t -= 1
        schedule.append(t)
        if jumps_left.get(t, 0) > 0:
            jumps_left[t] -= 1
            for _ in range(jump_length):
                t += 1
                schedule.append(t)
    return schedule


def schedule_moves(schedule: list[int]) -> list[tuple[int, int]]:
    """The schedule as moves ``(t_from, t_to)``: each decrease by one is a move of its own (one
    denoising step, one model call); each run of increases is merged into one move (a jump, re-noised
    in one closed-form draw).

    Raises:
        ValueError: consecutive entries of ``schedule`` do not differ by exactly 1.
    """
    moves: list[tuple[int, int]] = []
    for t_from, t_to in zip(schedule[:-1], schedule[1:]):
        if abs(t_to - t_from) != 1:
            raise ValueError(f"schedule entries must change by 1, got {t_from} -> {t_to}")
        if t_to > t_from and moves and moves[-1][1] > moves[-1][0]:
            moves[-1] = (moves[-1][0], t_to)
        else:
            moves.append((t_from, t_to))
    return moves


def schedule_nfe(steps: int, jump_length: int = 10, jump_n_sample: int = 10) -> int:
    """Closed-form model-call count of the full (un-windowed) schedule.

    ``NFE = T + (r - 1) * j * ceil((T - j) / j)``, as derived in :func:`jump_schedule`.
    """
    if jump_n_sample <= 1 or jump_length >= steps:
        return steps
    return steps + (jump_n_sample - 1) * jump_length * math.ceil((steps - jump_length) / jump_length)


def power_timesteps(steps: int, power: float, max_timestep: float = 999.0) -> list[float]:
    """Step placement ``t_k = max_timestep * (k / (steps - 1)) ** power``, k = steps-1 .. 0 (descending).

    ``power = 1`` spaces the timesteps evenly (guided-diffusion's respacing, up to rounding); ``power > 1``
    puts more steps at low noise. With the Langevin inpainting sampler (4 corrector steps) power 3 gave the
    lowest worst-case W2 to the exact conditional over the family benchmark's tuned priors and masks at 50-230
    NFE (``python -m bench.bench_family tune``; ``bench/results/family_tune.log``).

    Args:
        steps: number of denoising steps (>= 2).
        power: exponent > 0.
        max_timestep: the model's timestep of its largest sigma (999 for a T = 1000 DDPM).

    Returns:
        ``steps`` fractional timesteps, from ``max_timestep`` down to 0.

    Raises:
        ValueError: steps < 2 or power <= 0.
    """
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    if not power > 0:
        raise ValueError(f"power must be > 0, got {power}")
    return [max_timestep * (k / (steps - 1)) ** power for k in range(steps - 1, -1, -1)]


def power_sigmas(
    steps: int,
    power: float,
    sigma_of_timesteps: Callable[[list[float]], Sequence[float]],
    max_timestep: float,
) -> list[float]:
    """The sigma schedule of :func:`power_timesteps`: ``sigma(t_k)`` for its ``steps`` timesteps, from the
    model's largest sigma down, then a closing 0 where ``sigma(0) > 0``.

    A DDPM's sigma at t = 0 is its smallest, sigma_min > 0 (Ho et al. 2020: beta_1 = 1e-4), so sampling
    takes one more step from sigma_min to the clean image (k-diffusion's and ComfyUI's schedules end at 0
    the same way); flow models already reach sigma = 0 at t = 0.

    Args:
        steps, power, max_timestep: see :func:`power_timesteps`.
        sigma_of_timesteps: the model's map from (fractional) timesteps to sigmas, applied to the whole
            list at once (e.g. ComfyUI's ``model_sampling.sigma``).

    Returns:
        The sigmas, decreasing, ``steps + 1`` of them ending at 0 (``steps`` for a model with sigma(0) = 0).

    Raises:
        ValueError: see :func:`power_timesteps`.
    """
    sigmas = [float(s) for s in sigma_of_timesteps(power_timesteps(steps, power, max_timestep))]
    if sigmas[-1] > 0:
        sigmas.append(0.0)
    return sigmas


def check_sigmas(sigmas: Sequence[float], name: str = "sigmas") -> list[float]:
    """Check a sampling schedule given as SIGMAS (e.g. from Power Scheduler (RePaint)).

    Args:
        sigmas: the noise levels of a run, sigma units, non-increasing, at least 2 of them (one step),
            finite and >= 0 (ComfyUI's schedules end at 0).
        name: the input's name, for the error message.

    Returns:
        The sigmas as floats.

    Raises:
        ValueError: fewer than 2 values, a value not finite or < 0, or an increase; the message names
            ``name``.
    """
    values = [float(s) for s in sigmas]
    if len(values) < 2:
        raise ValueError(f"{name} needs at least 2 values (one step), got {len(values)}: connect a scheduler")
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise ValueError(f"{name} must be finite and >= 0, got {values}")
    if any(b > a for a, b in zip(values, values[1:])):
        raise ValueError(f"{name} must not increase (noisiest first), got {values}")
    return values


def partial_start(sigmas: Sequence[float], sigma_start: float) -> int:
    """Where a partial run on a given schedule starts: the index of the first of ``sigmas`` at or below
    ``sigma_start``, so that the run keeps ``sigmas[index:]``.

    KSampler's ``denoise`` d < 1 starts its run at the model's sigma of the fraction d of the timesteps
    (``model_sampling.percent_to_sigma(1 - d)``) and keeps its step count; a given schedule (SIGMAS) keeps
    its own steps instead, those at or below that sigma (a power schedule keeps more than the fraction d
    of its steps, as its steps crowd at low noise).

    Args:
        sigmas: non-increasing sigmas, ending at the run's last (see :func:`check_sigmas`).
        sigma_start: the partial run's largest sigma.

    Returns:
        The index, ``0 <= index <= len(sigmas) - 2``.

    Raises:
        ValueError: fewer than 2 of ``sigmas`` at or below ``sigma_start`` (no step left).
    """
    index = next((i for i, s in enumerate(sigmas) if s <= sigma_start), len(sigmas))
    if index > len(sigmas) - 2:
        raise ValueError(
            f"no step of the sigmas at or below sigma {sigma_start:.4g} (a partial run's start): give "
            "a schedule that reaches lower noise"
        )
    return index

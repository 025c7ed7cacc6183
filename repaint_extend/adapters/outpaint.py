"""ComfyUI glue for tiled outpainting: sample with ComfyUI's model, VAE, SAMPLER and ControlNet, tile by tile
(``sequential``), all windows at once (``joint``), or a coarse whole-canvas pass refined jointly
(``coarse``); optionally with a prompt per tile (a line of text, and/or a BLIP caption of its context).

The plan, the order, the seams, the window weights and the exact known pixels are ``outpaint/`` (pure
torch). Joint sampling is built from ComfyUI's own conditioning: one conditioning per window, with the
window as its ``area`` and the window's Gaussian weight as its ``mask`` (what ConditioningSetArea and
ConditioningSetMask set), its pose hint applied by ComfyUI's ControlNetApplyAdvanced on the cropped hint.
ComfyUI's sampling function then calls the model on each window's crop of the canvas latent (batching
windows that share a conditioning) and averages the predictions by those weights (MultiDiffusion eq. 5),
under one sampler run (RePaint) over the canvas: no ComfyUI internals are patched.
"""

from __future__ import annotations

import dataclasses
import time

import comfy.model_management
import comfy.sample
import comfy.utils
import latent_preview
import node_helpers
import nodes as comfy_nodes
import torch

from ..outpaint import (
    Tile,
    check_image,
    check_mask,
    coarse_size,
    crop_to_tile,
    outpaint,
    plan_tiles,
    plan_windows,
    stream_seed,
    window_weight,
    working_box,
)
from ..outpaint.settings import DEFAULTS, OutpaintSettings, pick_mode
from ..samplers import check_sigmas, partial_start
from .sampler import NFECountingKSampler, RePaintKSampler, ksampler_sigmas

CAPTION = "{caption}"
"""Placeholder in a tile prompt for the BLIP caption of the tile's context (known + generated pixels)."""

REFINE_DENOISE = 0.6
"""The coarse pass's refinement re-noises to 60 % of the schedule (KSampler's ``denoise``): enough to redraw detail at full size, little enough to keep the coarse layout (DemoFusion's
skip-residual and Krita AI Diffusion's refine both sit near 0.5-0.7)."""


def tile_prompt_lines(tile_prompt: str | None, caption_model=None) -> list[str] | None:
    """The per-tile prompt lines, or None when no per-tile prompt is used.

    ``tile_prompt`` holds one line per tile in sampling order (the last line repeats for the remaining
    tiles; blank lines at the end are dropped, each line is stripped); empty with a ``caption_model``, it
    is ``"{caption}"``.

    Raises:
        ValueError: ``{caption}`` in a line but no ``caption_model``.
    """
    lines = [line.strip() for line in (tile_prompt or "").splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        return [CAPTION] if caption_model is not None else None
    if caption_model is None and any(CAPTION in line for line in lines):
        raise ValueError(
            f"tile_prompt uses {CAPTION} but no caption_model is connected: connect Load BLIP (captioning) "
            "to caption_model, or remove {caption}"
        )
    return lines


@dataclasses.dataclass
class _Run:
    """What every tile or window is sampled with; counts model calls and collects the prompts."""

    model: object
    vae: object
    positive: list
    negative: list
    settings: OutpaintSettings
    sampler: object
    control: tuple | None
    clip: object
    lines: list[str] | None
    caption_model: object
    given_sigmas: torch.Tensor | None = None
    nfe: int = 0
    tiles: int = 0
    prompts: list[str] = dataclasses.field(default_factory=list)
    encoded: dict = dataclasses.field(default_factory=dict)

    def run_nfe(self, sigmas) -> int:
        """Model calls of one sampler run over ``sigmas``: exact for the pack's samplers (RePaint,
        Langevin), one per step for any other SAMPLER."""
        if isinstance(self.sampler, NFECountingKSampler):
            return self.sampler.nfe(sigmas, self.model.get_model_object("model_sampling"))
        return len(sigmas) - 1

    def sigmas(self, denoise: float = 1.0) -> torch.Tensor:
        """The sigmas (CPU, ``[steps + 1]``) of a run at ``denoise``: as KSampler, ``steps`` steps over
        the last ``denoise`` fraction of a ``steps / denoise``-step schedule (so RePaint's jumps fit).
        With ``given_sigmas`` (the node's ``sigmas`` input): those, or at ``denoise`` < 1 their steps at
        or below KSampler's starting sigma (:func:`samplers.partial_start`)."""
        if self.given_sigmas is None:
            return ksampler_sigmas(self.model, self.settings.scheduler, self.settings.steps, denoise)
        if denoise >= 1.0:
            return self.given_sigmas
        start = float(self.model.get_model_object("model_sampling").percent_to_sigma(1.0 - denoise))
        return self.given_sigmas[partial_start(self.given_sigmas.tolist(), start) :]

    def conditioning(self, index: int, image, context_mask, hint, tile: Tile):
        """(positive, negative) of tile / window ``index``: its prompt line (``{caption}`` = BLIP's
        caption of ``image`` where ``context_mask`` is 0) concatenated to the positive prompt as
        ComfyUI's ConditioningConcat does, then the ControlNet with ``hint`` cropped to ``tile``."""
        pos, neg = self.positive, self.negative
        if self.lines is not None:
            text = self.lines[min(index, len(self.lines) - 1)]
            if CAPTION in text:
                text = text.replace(CAPTION, self.caption_model.caption(image[:1], mask=context_mask[:1])[0])
            self.prompts.append(text)
            if text:
                if text not in self.encoded:
                    self.encoded[text] = self.clip.encode_from_tokens_scheduled(self.clip.tokenize(text))
                pos = comfy_nodes.ConditioningConcat().concat(pos, self.encoded[text])[0]
        if self.control is not None:
            net, _, strength, start, end = self.control
            pos, neg = comfy_nodes.ControlNetApplyAdvanced().apply_controlnet(
                pos, neg, net, crop_to_tile(hint, tile), strength, start, end, vae=self.vae
            )
        return pos, neg

    def sample(self, model, latent, noise_mask, pos, neg, sigmas, seed, nfe):
        """One sampler run (``comfy.sample.sample_custom``) on ``latent`` (``[B, C, h, w]``)."""
        latent = comfy.sample.fix_empty_latent_channels(model, latent)
        noise = comfy.sample.prepare_noise(latent, seed)
        return comfy.sample.sample_custom(
            model,
            noise,
            self.settings.cfg,
            self.sampler,
            sigmas,
            pos,
            neg,
            latent,
            noise_mask=noise_mask,
            callback=latent_preview.prepare_callback(model, nfe),
            disable_pbar=not comfy.utils.PROGRESS_BAR_ENABLED,
            seed=seed,
        )

    def decode(self, samples, like):
        return self.vae.decode(samples).to(like.dtype)[..., : like.shape[-1]]


def _check_inputs(image, mask, control, lines, clip):
    if lines is not None and clip is None:
        raise ValueError(
            "clip: tile_prompt and caption_model need a CLIP to encode each tile's prompt; connect the "
            "checkpoint's CLIP to clip"
        )
    check_image(image, "image")
    check_mask(mask, image, "mask")
    if control is not None:
        control_image = control[1]
        if control_image is None:
            raise ValueError("control_net needs a control_image (the pose hint on the image's canvas)")
        if tuple(control_image.shape[1:3]) != tuple(image.shape[1:3]):
            raise ValueError(
                f"control_image is {control_image.shape[2]}x{control_image.shape[1]} but the image is "
                f"{image.shape[2]}x{image.shape[1]}: render the pose on the padded image's canvas"
            )


def _sequential(run: _Run, image, mask, tile, overlap, feather):
    """Tile after tile (:func:`outpaint.outpaint`); tile i's noise from ``stream_seed(seed, i)``."""
    sigmas = run.sigmas()
    per_tile = run.run_nfe(sigmas)
    pbar = comfy.utils.ProgressBar(1)
    hint = run.control[1] if run.control is not None else None

    def sample_tile(tile_image, tile_mask, t):
        pos, neg = run.conditioning(t.index, tile_image, tile_mask, hint, t)
        latent = run.vae.encode(tile_image[..., :3])
        samples = run.sample(
            run.model, latent, tile_mask, pos, neg, sigmas, stream_seed(run.settings.seed, t.index), per_tile
        )
        run.nfe += per_tile
        run.tiles += 1
        comfy.model_management.throw_exception_if_processing_interrupted()
        return run.decode(samples, tile_image)

    def progress(done, total, t):
        pbar.update_absolute(done, total)

    return outpaint(image, mask, sample_tile, tile=tile, overlap=overlap, feather=feather, progress=progress)


class _WindowCalls:
    """A ``model_function_wrapper`` (ComfyUI's public hook around each UNet call): counts window
    evaluations for an overall progress bar across windows and prints an estimate after the first."""

    def __init__(self, total: int, inner=None, label: str = "joint"):
        self.total, self.inner, self.label = total, inner, label
        self.done = 0
        self.pbar = comfy.utils.ProgressBar(total)
        self.started = None

    def __call__(self, apply_model, args):
        t0 = time.perf_counter()
        if self.inner is not None:
            out = self.inner(apply_model, args)
        else:
            out = apply_model(args["input"], args["timestep"], **args["c"])
        windows = sum(1 for c in args["cond_or_uncond"] if c == 0)
        if self.done == 0 and windows:
            per = (time.perf_counter() - t0) / windows
            print(
                f"Outpaint (Tiled) {self.label}: first window call {per:.2f} s; about "
                f"{per * self.total:.0f} s for {self.total:,} window calls"
            )
        self.done += windows
        self.pbar.update_absolute(min(self.done, self.total), self.total)
        comfy.model_management.throw_exception_if_processing_interrupted()
        return out


def _window_conditionings(run: _Run, windows, image, mask, hint, latent_hw, scale):
    """All windows' conditionings, concatenated: window k's prompt and ControlNet
    (:meth:`_Run.conditioning`), its box as ``area`` and its Gaussian weight (zero outside the box) as
    ``mask`` in latent px. The weight is shared by the positive and negative of a window."""
    positive, negative = [], []
    for t in windows:
        pos, neg = run.conditioning(
            t.index, crop_to_tile(image, t), crop_to_tile(mask, t, "BHW") > 0, hint, t
        )
        rows, cols = slice(t.y // scale, (t.y + t.h) // scale), slice(t.x // scale, (t.x + t.w) // scale)
        weight = torch.zeros((1, *latent_hw))
        weight[0, rows, cols] = window_weight(t.h // scale, t.w // scale)
        values = {
            "area": (t.h // scale, t.w // scale, t.y // scale, t.x // scale),
            "mask": weight,
            "mask_strength": 1.0,
            "set_area_to_bounds": False,
            "strength": 1.0,
        }
        positive += node_helpers.conditioning_set_values(pos, values)
        negative += node_helpers.conditioning_set_values(neg, values)
    return positive, negative


def _shift(windows, y0, x0, hw) -> list[Tile]:
    return [dataclasses.replace(t, y=t.y - y0, x=t.x - x0, canvas=tuple(hw)) for t in windows]


def _joint(run: _Run, image, mask, tile, overlap, denoise=1.0, seed_index=0, label="joint"):
    """One sampler run over the windows' bounding box (the rest of the canvas is left as it is), the
    model called per window (see the module docstring). Returns the new canvas: pixels with mask 0
    bit-identical, soft mask values blended."""
    m = check_mask(mask, image, "mask")
    windows = plan_windows(tuple(image.shape[1:3]), m, tile, overlap)
    y0, x0, y1, x1 = working_box(windows)
    crop = image[:, y0:y1, x0:x1]
    crop_mask = m[:, y0:y1, x0:x1]
    windows = _shift(windows, y0, x0, (y1 - y0, x1 - x0))
    hint = run.control[1][:, y0:y1, x0:x1] if run.control is not None else None
    latent = run.vae.encode(crop[..., :3])
    scale = (y1 - y0) // latent.shape[-2]
    pos, neg = _window_conditionings(run, windows, crop, crop_mask, hint, latent.shape[-2:], scale)
    sigmas = run.sigmas(denoise)
    per_window = run.run_nfe(sigmas)
    model = run.model.clone()
    calls = _WindowCalls(per_window * len(windows), model.model_options.get("model_function_wrapper"), label)
    model.set_model_unet_function_wrapper(calls)
    print(
        f"Outpaint (Tiled) {label}: {len(windows)} windows of {windows[0].w}x{windows[0].h} px over "
        f"{x1 - x0}x{y1 - y0} px, {per_window} model calls each ({per_window * len(windows):,} window calls)"
    )
    samples = run.sample(
        model, latent, crop_mask, pos, neg, sigmas, stream_seed(run.settings.seed, seed_index), per_window
    )
    run.nfe += per_window * len(windows)
    run.tiles += len(windows)
    generated = run.decode(samples, crop)
    out = image.clone()
    mw = crop_mask[..., None]
    out[:, y0:y1, x0:x1] = torch.where(mw > 0, crop * (1 - mw) + generated.to(crop.device) * mw, crop)
    return out


def _resize(x, hw, mode):
    """``[B, H, W, C]`` -> ``[B, h, w, C]`` with torch's ``interpolate`` (antialiased when shrinking)."""
    y = torch.nn.functional.interpolate(
        x.movedim(-1, 1), size=tuple(hw), mode=mode, antialias=mode in ("bilinear", "bicubic")
    )
    return y.movedim(1, -1)


def _coarse(run: _Run, image, mask, tile, overlap):
    """The canvas scaled down to one tile (:func:`outpaint.coarse_size`), sampled whole with the pose
    hint scaled alike, upscaled (bicubic) into the unknown pixels, then refined with :func:`_joint` at
    :data:`REFINE_DENOISE`. Known pixels stay bit-identical."""
    H, W = image.shape[1:3]
    m = check_mask(mask, image, "mask")
    small_hw = coarse_size((H, W), tile)
    small = _resize(image, small_hw, "bilinear").clamp(0, 1)
    small_mask = _resize(m[..., None], small_hw, "bilinear")[..., 0].clamp(0, 1)
    small_mask = (small_mask > 0).to(small_mask.dtype)  # any unknown pixel under a coarse pixel: unknown
    control = run.control
    if control is not None:
        run.control = (control[0], _resize(control[1], small_hw, "bilinear"), *control[2:])
    try:
        one_window = max(8, min(overlap, min(small_hw) // 16 * 8))  # the canvas is one window here
        coarse = _joint(run, small, small_mask, small_hw, one_window, label="coarse pass")
    finally:
        run.control = control
    up = _resize(coarse, (H, W), "bicubic").clamp(0, 1).to(image.dtype)
    start = torch.where(m[..., None] > 0, up, image)
    return _joint(run, start, m, tile, overlap, denoise=REFINE_DENOISE, seed_index=1, label="refine")


def outpaint_tiled(
    model,
    vae,
    positive,
    negative,
    image,
    mask,
    settings: OutpaintSettings = DEFAULTS,
    *,
    sampler=None,
    control_net=None,
    control_image=None,
    clip=None,
    caption_model=None,
    sigmas=None,
):
    """Outpaint ``image`` (IMAGE ``[B, H, W, C]``) where ``mask`` (``[B, H, W]``) > 0 with tiles / windows of
    ``settings.tile`` (h, w px); every number and string is in ``settings`` (:class:`OutpaintSettings`,
    checked when built).

    ``settings.mode`` (:data:`MODES`): ``sequential`` samples tile after tile (:func:`outpaint.outpaint`: each
    tile VAE-encoded, sampled under its noise_mask, decoded and blended back with a ``feather``-px
    ramp); ``joint`` runs one sampler over the canvas latent with the model called per window;
    ``coarse`` samples the canvas scaled down to one tile first, then refines jointly; ``auto`` picks
    (:func:`pick_mode`). The sampler is ``sampler`` (default: RePaint, jump_length 10, jump_n_sample 10);
    tile i's noise (or the joint run's) is seeded with :func:`outpaint.stream_seed` ``(seed, i)``, so any
    64-bit seed works and no two streams repeat each other. With ``control_net`` the hint ``control_image``
    (IMAGE on the image's canvas) is cropped to each tile / window and applied with ``settings.control``.

    Per-tile prompts (optional): the tile's line of ``settings.tile_prompt`` (see :func:`tile_prompt_lines`), with
    ``{caption}`` replaced by ``caption_model``'s caption of the tile's context (its known and, in
    sequential mode, already generated pixels; of the first image of a batch), is encoded with ``clip``
    and concatenated to ``positive`` as ComfyUI's ConditioningConcat does; the tile's ControlNet hint is
    applied after. In joint mode each window gets its line. A blank line adds nothing.

    ``sigmas`` (optional, ``[n + 1]``, e.g. Power Scheduler (RePaint)'s) replaces ``steps`` and
    ``scheduler``: every tile or window runs on them, the coarse mode's refinement on their steps at or
    below its starting sigma (:data:`REFINE_DENOISE`, :func:`samplers.partial_start`).

    Returns:
        ``(image, tiles, nfe, prompts)``: the new IMAGE (known pixels bit-identical), the number of tiles
        or windows sampled (the coarse pass counts its windows too), the model calls on a tile or window
        (exact for the pack's RePaint and Langevin samplers; steps per run for other samplers) and each
        tile's prompt text, one line per tile or window ("" without per-tile prompts).

    Raises:
        ValueError: a control image of another size than the image, a control_net without a control
            image, a tile_prompt or caption_model without a clip, ``{caption}`` without a caption_model,
            an unknown mode, ``sigmas`` that are not a schedule (:func:`samplers.check_sigmas`) or leave
            the refinement no step, or any error of :func:`outpaint.plan_tiles` (sizes, nothing to
            outpaint, ...).
    """
    lines = tile_prompt_lines(settings.tile_prompt, caption_model)
    control = None if control_net is None else (control_net, control_image, *settings.control)
    _check_inputs(image, mask, control, lines, clip)
    tile, overlap = settings.tile, settings.overlap
    mode = pick_mode(settings.mode, tuple(image.shape[1:3]), tile)
    plan_tiles(tuple(image.shape[1:3]), check_mask(mask, image), tile, overlap)  # sizes, before any work
    given = None if sigmas is None else torch.tensor(check_sigmas(sigmas.flatten().tolist(), "sigmas"))
    sampler = sampler if sampler is not None else RePaintKSampler()
    run = _Run(model, vae, positive, negative, settings, sampler, control, clip, lines, caption_model, given)
    if given is not None and mode == "coarse":
        run.sigmas(REFINE_DENOISE)  # the refinement's steps, checked before any work
    if mode == "sequential":
        result = _sequential(run, image, mask, tile, overlap, settings.feather)
    elif mode == "joint":
        result = _joint(run, image, mask, tile, overlap)
    else:
        result = _coarse(run, image, mask, tile, overlap)
    return result, run.tiles, run.nfe, "\n".join(run.prompts)

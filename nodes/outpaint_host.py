"""ComfyUI glue for tiled outpainting: sample one tile with ComfyUI's model, VAE, SAMPLER and ControlNet,
optionally with its own prompt (a line of text per tile, and/or a BLIP caption of the tile's context).

The plan, the order, the seams and the exact known pixels are ``outpaint/`` (pure torch); this module
only supplies the ``sample_tile`` callback and the progress bar.
"""

from __future__ import annotations

import comfy.model_management
import comfy.sample
import comfy.samplers
import comfy.utils
import latent_preview

import nodes as comfy_nodes

from ..outpaint import crop_to_tile, outpaint
from .sampler_host import RePaintKSampler, count_nfe

CAPTION = "{caption}"
"""Placeholder in a tile prompt for the BLIP caption of the tile's context (known + generated pixels)."""


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


def outpaint_tiled(
    model,
    vae,
    positive,
    negative,
    image,
    mask,
    seed,
    steps,
    cfg,
    scheduler,
    tile,
    overlap,
    feather,
    sampler=None,
    control=None,
    clip=None,
    tile_prompt="",
    caption_model=None,
):
    """Outpaint ``image`` where ``mask`` > 0, one tile of size ``tile`` (h, w px) at a time.

    Each tile is VAE-encoded, sampled with ``sampler`` (default: RePaint, jump_length 10, jump_n_sample 10)
    under the tile's noise_mask, with seed ``seed + tile.index`` and, when ``control`` =
    ``(control_net, control_image, strength, start, end)`` is given, the ControlNet hint cropped to the
    tile; then decoded and blended back by :func:`outpaint.outpaint`.

    Per-tile prompts (optional): the tile's line of ``tile_prompt`` (see :func:`tile_prompt_lines`), with
    ``{caption}`` replaced by ``caption_model``'s caption of the tile's context (its known and already
    generated pixels: the bounding box of the tile's pixels with noise_mask 0; of the first image of a
    batch), is encoded with ``clip`` and concatenated to ``positive`` as ComfyUI's ConditioningConcat does
    (the prompt, and any ControlNet already applied to it, stay); the tile's ControlNet hint is applied
    after. A blank line adds nothing.

    Returns:
        ``(image, tiles, nfe, prompts)``: the new IMAGE (known pixels bit-identical), the number of tiles
        sampled, the model calls made (exact for RePaint; steps per tile for other samplers) and each
        tile's prompt text, one line per tile in sampling order ("" without per-tile prompts).

    Raises:
        ValueError: a control image of another size than the image, a control_net without a control
            image, a tile_prompt or caption_model without a clip, ``{caption}`` without a caption_model,
            or any error of :func:`outpaint.outpaint` (sizes, nothing to outpaint, ...).
    """
    lines = tile_prompt_lines(tile_prompt, caption_model)
    if lines is not None and clip is None:
        raise ValueError(
            "clip: tile_prompt and caption_model need a CLIP to encode each tile's prompt; connect the "
            "checkpoint's CLIP to clip"
        )
    if control is not None:
        control_net, control_image = control[:2]
        if control_image is None:
            raise ValueError("control_net needs a control_image (the pose hint on the image's canvas)")
        if tuple(control_image.shape[1:3]) != tuple(image.shape[1:3]):
            raise ValueError(
                f"control_image is {control_image.shape[2]}x{control_image.shape[1]} but the image is "
                f"{image.shape[2]}x{image.shape[1]}: render the pose on the padded image's canvas"
            )
    sampler = sampler if sampler is not None else RePaintKSampler()
    model_sampling = model.get_model_object("model_sampling")
    sigmas = comfy.samplers.calculate_sigmas(model_sampling, scheduler, steps).cpu()
    per_tile_nfe = count_nfe(steps, sampler.extra_options) if isinstance(sampler, RePaintKSampler) else steps
    counter = {"nfe": 0, "tiles": 0}
    pbar = comfy.utils.ProgressBar(1)
    prompts: list[str] = []
    encoded: dict[str, list] = {}

    def tile_positive(tile_image, tile_mask, t):
        text = lines[min(t.index, len(lines) - 1)]
        if CAPTION in text:
            caption = caption_model.caption(tile_image[:1], mask=tile_mask[:1])[0]
            text = text.replace(CAPTION, caption)
        prompts.append(text)
        if not text:
            return positive
        if text not in encoded:
            encoded[text] = clip.encode_from_tokens_scheduled(clip.tokenize(text))
        return comfy_nodes.ConditioningConcat().concat(positive, encoded[text])[0]

    def sample_tile(tile_image, tile_mask, t):
        pos, neg = positive, negative
        if lines is not None:
            pos = tile_positive(tile_image, tile_mask, t)
        if control is not None:
            net, hint, strength, start, end = control
            pos, neg = comfy_nodes.ControlNetApplyAdvanced().apply_controlnet(
                pos, neg, net, crop_to_tile(hint, t), strength, start, end, vae=vae
            )
        latent = vae.encode(tile_image[..., :3])
        latent = comfy.sample.fix_empty_latent_channels(model, latent)
        noise = comfy.sample.prepare_noise(latent, seed + t.index)
        callback = latent_preview.prepare_callback(model, per_tile_nfe)
        samples = comfy.sample.sample_custom(
            model,
            noise,
            cfg,
            sampler,
            sigmas,
            pos,
            neg,
            latent,
            noise_mask=tile_mask,
            callback=callback,
            disable_pbar=not comfy.utils.PROGRESS_BAR_ENABLED,
            seed=seed + t.index,
        )
        counter["nfe"] += per_tile_nfe
        counter["tiles"] += 1
        comfy.model_management.throw_exception_if_processing_interrupted()
        return vae.decode(samples).to(tile_image.dtype)[..., : tile_image.shape[-1]]

    def progress(done, total, t):
        pbar.update_absolute(done, total)

    result = outpaint(
        image, mask, sample_tile, tile=tile, overlap=overlap, feather=feather, progress=progress
    )
    return result, counter["tiles"], counter["nfe"], "\n".join(prompts)

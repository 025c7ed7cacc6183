"""Image captioning with BLIP (Li, Li, Xiong & Hoi, "BLIP: Bootstrapping Language-Image Pre-training for
Unified Vision-Language Understanding and Generation", ICML 2022): its captioning model, a ViT image
encoder with a BERT-style text decoder that attends to the image, through ``transformers``'
``BlipForConditionalGeneration`` and ``BlipProcessor``, loaded only from a local folder.

Decoding follows BLIP's own captioning demo: beam search, 3 beams, at least 5 and at most 20 new
tokens, no sampling, so a caption is a deterministic function of the image (and the prompt).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from ..checks import check_image, check_int, check_mask

__all__ = [
    "BlipCaptioner",
    "REQUIRED_FILES",
    "EXAMPLE_MODEL",
    "check_blip_folder",
    "load_blip",
    "caption_images",
]

EXAMPLE_MODEL = "Salesforce/blip-image-captioning-base"
"""A BLIP captioning model to put in ``ComfyUI/models/blip/<name>/`` (also ``-large``)."""

REQUIRED_FILES: dict[str, tuple[str, ...]] = {
    "config": ("config.json",),
    "weights": (
        "model.safetensors",
        "model.safetensors.index.json",
        "pytorch_model.bin",
        "pytorch_model.bin.index.json",
    ),
    "tokenizer": ("tokenizer.json", "vocab.txt"),
    "image preprocessor": ("preprocessor_config.json", "processor_config.json"),
}
"""What a BLIP model folder must hold: for each part, one of these files (as ``save_pretrained`` writes
them, or as the model's Hugging Face repository holds them)."""


INSTALL_HINT = (
    f"Download a BLIP captioning model, e.g. {EXAMPLE_MODEL} (config.json, model.safetensors, "
    "preprocessor_config.json, tokenizer.json / vocab.txt, tokenizer_config.json), into its own folder "
    "ComfyUI/models/blip/<name>/; nothing is downloaded at run time"
)
"""Where a BLIP model goes and what it holds; the end of every missing-file message."""


def check_blip_folder(folder: str | os.PathLike) -> str:
    """Check that ``folder`` holds a BLIP captioning model (see :data:`REQUIRED_FILES`); return its path.

    Raises:
        FileNotFoundError: the folder does not exist, or lacks a part; the message names the folder,
            each missing part with the files that would do, and where to put a model.
        ValueError: ``config.json`` is not a BLIP captioning config (e.g. BLIP-2 or another model).
    """
    path = os.fspath(folder) if folder is not None else ""
    if not path or not os.path.isdir(path):
        raise FileNotFoundError(f"BLIP model folder {path!r} does not exist. {INSTALL_HINT}.")
    missing = [
        f"{part} ({' or '.join(names)})"
        for part, names in REQUIRED_FILES.items()
        if not any(os.path.isfile(os.path.join(path, name)) for name in names)
    ]
    if missing:
        raise FileNotFoundError(
            f"BLIP model folder {path!r} is missing: {'; '.join(missing)}. {INSTALL_HINT}."
        )
    with open(os.path.join(path, "config.json"), encoding="utf-8") as fh:
        try:
            model_type = json.load(fh).get("model_type")
        except json.JSONDecodeError as error:
            raise ValueError(f"{os.path.join(path, 'config.json')} is not valid JSON: {error}") from error
    if model_type != "blip":
        raise ValueError(
            f"{path!r} holds a {model_type!r} model, not a BLIP captioning model (model_type 'blip'), "
            f"e.g. {EXAMPLE_MODEL}"
        )
    return path


@dataclass
class BlipCaptioner:
    """A loaded BLIP captioning model.

    Attributes:
        model: ``transformers.BlipForConditionalGeneration`` in eval mode.
        processor: ``transformers.BlipProcessor`` (image processor + BERT tokenizer).
        folder: the folder it was loaded from.
    """

    model: Any
    processor: Any
    folder: str

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype


def load_blip(
    folder: str | os.PathLike, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32
) -> BlipCaptioner:
    """Load a BLIP captioning model from a local folder, never from the network.

    Args:
        folder: a folder like ``ComfyUI/models/blip/blip-image-captioning-base/`` (see
            :data:`REQUIRED_FILES`), e.g. a download of :data:`EXAMPLE_MODEL` or ``save_pretrained``'s.
        device: where the model runs.
        dtype: its parameters' dtype (float16 on GPUs that support it; float32 on the CPU).

    Returns:
        :class:`BlipCaptioner`, in eval mode on ``device``.

    Raises:
        FileNotFoundError / ValueError: see :func:`check_blip_folder`.
    """
    from transformers import BlipForConditionalGeneration, BlipProcessor

    path = check_blip_folder(folder)
    model = BlipForConditionalGeneration.from_pretrained(path, local_files_only=True)
    processor = BlipProcessor.from_pretrained(path, local_files_only=True)
    model = model.to(device=device, dtype=dtype).eval()
    return BlipCaptioner(model=model, processor=processor, folder=path)


def _known_crop(image: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``image [H, W, C]`` cropped to the bounding box of ``mask < 0.5`` (the whole image if none)."""
    if mask is None:
        return image
    known = mask < 0.5
    if not bool(known.any()):
        return image
    rows = torch.nonzero(known.any(dim=1)).flatten()
    cols = torch.nonzero(known.any(dim=0)).flatten()
    return image[int(rows[0]) : int(rows[-1]) + 1, int(cols[0]) : int(cols[-1]) + 1]


@torch.no_grad()
def caption_images(
    captioner: BlipCaptioner,
    images: torch.Tensor,
    prompt: str | None = None,
    mask: torch.Tensor | None = None,
    max_new_tokens: int = 20,
    num_beams: int = 3,
    min_new_tokens: int = 5,
    batch_size: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> list[str]:
    """Caption each image of a batch with BLIP; deterministic (beam search or greedy, no sampling).

    Images are resized and normalised by the model's own ``BlipImageProcessor`` (384 px for the
    published models, bicubic, CLIP mean/std).

    Args:
        captioner: from :func:`load_blip`.
        images: ``[B, H, W, C]`` float in [0, 1] (ComfyUI IMAGE), C = 3 (RGB), 4 (alpha ignored) or 1
            (grey); any size; values outside [0, 1] are clamped. Not modified.
        prompt: a text the caption starts with (BLIP's conditional captioning, e.g. ``"a photo of"``);
            the returned caption includes it (lower-cased by BLIP's tokenizer). None or blank: none.
        mask: optional ``[H, W]`` or ``[1 or B, H, W]`` (ComfyUI MASK, 1 = unknown): only the bounding
            box of the pixels with mask < 0.5 (the known part) is captioned; the whole image where no
            pixel is known. Not modified.
        max_new_tokens: most tokens generated after the prompt (>= 1; a word is usually one token).
        num_beams: beam width (1 = greedy).
        min_new_tokens: fewest tokens before the caption may end (BLIP's demo: 5); at most
            ``max_new_tokens``.
        batch_size: images per ``generate`` call.
        progress: ``progress(done, total)`` after each batch of images.

    Returns:
        one caption per image, in batch order: a single line of text, no special tokens.

    Raises:
        ValueError: ``images`` or ``mask`` of a bad type or shape (the message names it), or a
            non-positive ``max_new_tokens``, ``num_beams`` or ``batch_size``.
        TypeError: ``max_new_tokens``, ``num_beams`` or ``batch_size`` is not an int.
    """
    images = check_image(images, "images")
    m = check_mask(mask, images, "mask") if mask is not None else None
    for name, value in (
        ("max_new_tokens", max_new_tokens),
        ("num_beams", num_beams),
        ("batch_size", batch_size),
    ):
        check_int(name, value, 1)
    if prompt is not None and not isinstance(prompt, str):
        raise ValueError(f"prompt must be a str or None, got {type(prompt).__name__}")
    prompt = " ".join(prompt.split()) if prompt else ""
    processor, model = captioner.processor, captioner.model
    device, dtype = captioner.device, captioner.dtype
    B = images.shape[0]
    captions: list[str] = []
    for start in range(0, B, batch_size):
        crops = []
        for b in range(start, min(B, start + batch_size)):
            crop = _known_crop(images[b], None if m is None else m[b if m.shape[0] > 1 else 0])
            rgb = crop[..., :3] if crop.shape[-1] >= 3 else crop.expand(-1, -1, 3)
            crops.append(rgb.detach().to("cpu", torch.float32).clamp(0, 1).permute(2, 0, 1).contiguous())
        pixel_values = processor.image_processor(crops, do_rescale=False, return_tensors="pt")["pixel_values"]
        kwargs: dict[str, Any] = {"pixel_values": pixel_values.to(device=device, dtype=dtype)}
        if prompt:
            tokens = processor.tokenizer([prompt] * len(crops), return_tensors="pt")
            kwargs["input_ids"] = tokens["input_ids"].to(device)
            kwargs["attention_mask"] = tokens["attention_mask"].to(device)
        out = model.generate(
            **kwargs,
            max_new_tokens=max_new_tokens,
            min_new_tokens=min(min_new_tokens, max_new_tokens),
            num_beams=num_beams,
            do_sample=False,
        )
        captions.extend(
            " ".join(text.split()) for text in processor.batch_decode(out, skip_special_tokens=True)
        )
        if progress is not None:
            progress(len(captions), B)
    return captions

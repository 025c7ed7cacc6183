"""A tiny, randomly initialised BLIP captioning model, saved as a model folder like a real one.

No pretrained BLIP can be downloaded here, so tests build one from ``transformers``' own classes:
``BlipForConditionalGeneration`` with a 1-layer, 32-wide ViT (32 px images, 8 px patches) and text
decoder, a ``BlipImageProcessor`` at 32 px and a BERT WordPiece tokenizer read from a small
hand-written ``vocab.txt`` (:data:`WORDS`, whole words only, so every caption is made of them).
Parameters are drawn from a seeded generator (fan-in scaled normal), strong enough that captions
depend on the image. Built on the CPU in well under a second; the folder holds about 0.2 MB.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import torch

SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
"""BERT's special tokens, ids 0-4; ``[CLS]`` doubles as BLIP's decoder start (bos) token, ``[SEP]`` ends
a caption."""

WORDS = tuple(
    "a an the photo picture of man woman person dog cat red blue green white black standing sitting "
    "walking on in with grass street beach room legs feet shoes jeans dress wall sky tree".split()
)
"""The words a tiny BLIP caption can contain (the tokenizer's vocabulary after :data:`SPECIAL`)."""

IMAGE_SIZE = 32
"""Side (px) the tiny model's image processor resizes every image to."""


def _init(model: torch.nn.Module, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.ndim >= 2:
                param.copy_(torch.randn(param.shape, generator=generator) / math.sqrt(param.shape[-1]))
            elif name.endswith("bias"):
                param.copy_(0.1 * torch.randn(param.shape, generator=generator))
            else:
                param.fill_(1.0)


def build_tiny_blip(seed: int = 0):
    """``(model, processor)``: a randomly initialised ``BlipForConditionalGeneration`` (eval mode, float32,
    CPU) and its ``BlipProcessor`` (32 px images, the :data:`WORDS` vocabulary)."""
    from transformers import (
        BertTokenizer,
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
    )

    vocab = [*SPECIAL, *WORDS]
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
        tokenizer = BertTokenizer.from_pretrained(folder, local_files_only=True)
    image_processor = BlipImageProcessor(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    processor = BlipProcessor(image_processor=image_processor, tokenizer=tokenizer)
    width = 32
    config = BlipConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": width,
            "intermediate_size": 2 * width,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "max_position_embeddings": 64,
            "pad_token_id": vocab.index("[PAD]"),
            "bos_token_id": vocab.index("[CLS]"),
            "sep_token_id": vocab.index("[SEP]"),
            "eos_token_id": vocab.index("[SEP]"),
        },
        vision_config={
            "hidden_size": width,
            "intermediate_size": 2 * width,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": IMAGE_SIZE,
            "patch_size": 8,
            "projection_dim": width,
        },
        projection_dim=width,
        image_text_hidden_size=width,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BlipForConditionalGeneration(config)
    _init(model, seed)
    model.tie_weights()
    return model.eval(), processor


def save_tiny_blip(folder: str | Path, seed: int = 0) -> Path:
    """Write a tiny BLIP (:func:`build_tiny_blip`) to ``folder`` with ``save_pretrained``, as a model
    folder under ``ComfyUI/models/blip/`` would hold it; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model, processor = build_tiny_blip(seed)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder

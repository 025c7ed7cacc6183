"""Class labels for class-conditional ADM models (pure torch)."""

from __future__ import annotations

import torch

__all__ = ["RANDOM_CLASS", "class_labels"]

RANDOM_CLASS = -1
"""A class per image drawn at random, RePaint's own choice: its ``test.py`` draws
``randint(0, NUM_CLASSES)`` per image when the config sets no ``cond_y``, and none of its
``confs/test_inet256_*.yml`` does."""


def class_labels(label: int, batch: int, num_classes: int, seed: int | None = None) -> torch.Tensor:
    """The labels ``y`` of a batch: ``label`` for every image, or with :data:`RANDOM_CLASS` one uniform
    draw in ``[0, num_classes)`` per image from a generator seeded with ``seed`` (0 when None).

    Returns:
        ``[batch]`` int64.

    Raises:
        ValueError: a label outside ``[-1, num_classes)``.
    """
    if not RANDOM_CLASS <= label < num_classes:
        raise ValueError(f"class_label must be -1 (random) or in [0, {num_classes - 1}], got {label}")
    if label == RANDOM_CLASS:
        generator = torch.Generator().manual_seed(0 if seed is None else int(seed))
        return torch.randint(0, num_classes, (batch,), generator=generator)
    return torch.full((batch,), label, dtype=torch.long)

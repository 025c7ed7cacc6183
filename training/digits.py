"""scikit-learn's handwritten digits as a small image data set for the demo DDPM and its benchmark.

Data: ``sklearn.datasets.load_digits`` (1,797 images, 8x8, integer grey levels 0..16, 10 classes),
shipped inside scikit-learn (BSD-3-Clause); it is the test set of the UCI "Optical Recognition of
Handwritten Digits" data (Alpaydin & Kaynak 1998). See ``pixel/weights/DATA.md``.

Fixed split: ``train_test_split(arange(1797), test_size=0.25, random_state=0,
stratify=target)`` -> 1,347 training and 450 held-out images. The demo DDPM sees the training part
only; benchmarks use the held-out part.

Image form: grey level g in 0..16 -> ``g / 8 - 1`` in [-1, 1] (0 = black background -> -1,
16 = white ink -> +1), upsampled 8 -> ``size`` by nearest neighbour (each source pixel becomes a
``size/8`` square block, so :func:`to_8x8` (block averaging) inverts it exactly), repeated over
3 identical channels (RGB grey, to fit image pipelines as is). scikit-learn is imported lazily.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["SPLIT_SEED", "TEST_SIZE", "load_digits_split", "upsample_digits", "to_8x8"]

SPLIT_SEED = 0
TEST_SIZE = 0.25


def load_digits_split() -> dict[str, np.ndarray]:
    """The fixed train/test split of scikit-learn's digits.

    Returns:
        dict with ``x_train`` ``[1347, 8, 8]`` and ``x_test`` ``[450, 8, 8]`` float64 grey levels in
        0..16, ``y_train``/``y_test`` int labels, and ``idx_train``/``idx_test`` (indices into
        ``load_digits()``).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    idx = np.arange(len(d.target))
    i_tr, i_te = train_test_split(idx, test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=d.target)
    return dict(
        x_train=d.images[i_tr],
        y_train=d.target[i_tr],
        idx_train=i_tr,
        x_test=d.images[i_te],
        y_test=d.target[i_te],
        idx_test=i_te,
    )


def upsample_digits(images: np.ndarray, size: int = 32, channels: int = 3) -> torch.Tensor:
    """8x8 grey levels (0..16) -> ``[N, channels, size, size]`` float32 in [-1, 1], nearest upsampling.

    Raises:
        ValueError: if ``size`` is not a multiple of 8.
    """
    if size % 8:
        raise ValueError(f"size must be a multiple of 8, got {size}")
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32).reshape(-1, 1, 8, 8) / 8.0 - 1.0
    x = F.interpolate(x, scale_factor=size // 8, mode="nearest")
    return x.repeat(1, channels, 1, 1)


def to_8x8(x: torch.Tensor) -> torch.Tensor:
    """``[N, C, S, S]`` in [-1, 1] -> ``[N, 8, 8]`` grey levels in 0..16 (channel mean, then block
    average over ``S/8`` squares; values clipped to [0, 16], not rounded). Inverse of
    :func:`upsample_digits` on its outputs."""
    g = x.float().mean(dim=1, keepdim=True)
    g = F.avg_pool2d(g, x.shape[-1] // 8)
    return ((g[:, 0] + 1.0) * 8.0).clamp(0.0, 16.0)

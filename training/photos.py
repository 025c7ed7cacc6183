"""Public-domain / CC0 photos from registry packages as a 64x64 crop data set for the photos demo DDPM.

Sources (every file ships inside the installed package; nothing is downloaded). The licence of each
file is the one its package states: scikit-image in the docstring of the ``skimage.data`` function
that loads it (``skimage/data/_fetchers.py``), matplotlib in its documentation of the sample data.
See ``pixel/weights/DATA.md`` for the full statement and the files left out.

Crops: each image is converted to float in [-1, 1] (grey images repeated over 3 channels) and
resized (anti-aliased, :func:`skimage.transform.rescale`) to a fixed ladder of scales, from 1 (native
texture) down to the scale where its short side is :data:`MIN_SIDE` px (whole objects in one crop).
A crop draws an image (weights in :data:`PHOTOS`; people, clothing and ground count most), a scale
(uniform over the image's ladder), a uniformly placed ``size`` x ``size`` window and a horizontal
flip with probability 1/2. :class:`PhotoCrops` draws them from a ``numpy.random.Generator`` seeded
by the caller, so a seed fixes every crop.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch

__all__ = ["Photo", "PHOTOS", "SCALES", "MIN_SIDE", "photo_path", "load_photo", "PhotoCrops"]


@dataclass(frozen=True)
class Photo:
    name: str
    package: str  # "skimage" or "matplotlib"
    file: str  # path inside the package's data folder
    licence: str  # as stated by the package
    weight: float  # relative probability of drawing a crop from it


PHOTOS: tuple[Photo, ...] = (
    Photo("camera", "skimage", "camera.png", "CC0 (photographer Lav Varshney)", 3.0),
    Photo("astronaut", "skimage", "astronaut.png", "public domain (NASA, Eileen Collins)", 3.0),
    Photo("grace_hopper", "matplotlib", "grace_hopper.jpg", "public domain (US Navy photo)", 3.0),
    Photo("grass", "skimage", "grass.png", "CC0 (DeviantArt linolafett, Grass-01)", 2.0),
    Photo("gravel", "skimage", "gravel.png", "CC0 (CC0Textures Gravel04)", 1.5),
    Photo("brick", "skimage", "brick.png", "CC0 (CC0Textures Bricks25)", 1.0),
    Photo("chelsea", "skimage", "chelsea.png", "CC0 (photographer Stefan van der Walt)", 1.0),
    Photo("coffee", "skimage", "coffee.png", "CC0 (photographer Rachel Michetti)", 1.0),
    Photo("rocket", "skimage", "rocket.jpg", "public domain (SpaceX)", 1.0),
    Photo("clock", "skimage", "clock_motion.png", "public domain (photographer Stefan van der Walt)", 0.5),
)
"""The images used, in a fixed order (the order is part of the seeded crop stream)."""

SCALES: tuple[float, ...] = (1.0, 0.75, 0.5, 0.375, 0.25, 0.1875, 0.125)
"""Candidate downscale factors; an image keeps those at which its short side is >= MIN_SIDE px."""

MIN_SIDE = 80


def photo_path(photo: Photo) -> str:
    """Absolute path of the photo's file inside its installed package."""
    if photo.package == "skimage":
        import skimage

        return os.path.join(os.path.dirname(skimage.__file__), "data", photo.file)
    if photo.package == "matplotlib":
        import matplotlib

        return os.path.join(matplotlib.get_data_path(), "sample_data", photo.file)
    raise ValueError(f"unknown package {photo.package!r}")


def load_photo(photo: Photo) -> np.ndarray:
    """``[H, W, 3]`` float32 in [-1, 1] (grey replicated to 3 channels, alpha dropped)."""
    from skimage.io import imread

    a = np.asarray(imread(photo_path(photo)))
    if a.dtype != np.uint8:
        raise ValueError(f"{photo.file}: expected uint8, got {a.dtype}")
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    a = a[:, :, :3]
    return a.astype(np.float32) / 127.5 - 1.0


@cache
def _ladder(photo: Photo, size: int) -> tuple[np.ndarray, ...]:
    """The photo at every scale of :data:`SCALES` whose short side is >= max(MIN_SIDE, size) (cached)."""
    from skimage.transform import rescale

    img = load_photo(photo)
    short = min(img.shape[:2])
    out = []
    for s in SCALES:
        if short * s < max(MIN_SIDE, size) - 1e-6:
            continue
        if s == 1.0:
            out.append(img)
        else:
            r = rescale(
                img, s, order=1, anti_aliasing=True, channel_axis=2, preserve_range=True, mode="reflect"
            )
            out.append(np.clip(r, -1.0, 1.0).astype(np.float32))
    return tuple(out)


class PhotoCrops:
    """A seeded stream of random crops of :data:`PHOTOS`.

    Args:
        size: crop side in px (64 for the demo model).
        seed: seed of the ``numpy.random.Generator`` (PCG64) that draws every crop.
        photos: the images (default: all of :data:`PHOTOS`).
        device: where the scale ladders live and crops are made (the crops do not depend on it).

    Attributes:
        photos, pyramids (one list of ``[3, h, w]`` tensors per photo), probs (drawing probabilities).
    """

    def __init__(self, size: int = 64, seed: int = 0, photos: tuple[Photo, ...] = PHOTOS, device="cpu"):
        self.size = size
        self.device = torch.device(device)
        self.photos = tuple(photos)
        self.pyramids = [
            [
                torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))).to(self.device)
                for a in _ladder(p, size)
            ]
            for p in self.photos
        ]
        w = np.array([p.weight for p in self.photos], dtype=np.float64)
        self.probs = w / w.sum()
        self.cdf = np.cumsum(self.probs)
        self.rng = np.random.default_rng(seed)

    def sample(self, n: int) -> torch.Tensor:
        """``n`` new crops, ``[n, 3, size, size]`` float32 in [-1, 1] on :attr:`device`.

        One ``rng.random((n, 5))`` draw per call: photo (inverse CDF of :attr:`probs`), scale level,
        top, left, flip, each from its own column."""
        s = self.size
        u = self.rng.random((n, 5))
        which = np.minimum(np.searchsorted(self.cdf, u[:, 0], side="right"), len(self.photos) - 1)
        crops = []
        for k, i in enumerate(which):
            levels = self.pyramids[i]
            img = levels[min(int(u[k, 1] * len(levels)), len(levels) - 1)]
            y = min(int(u[k, 2] * (img.shape[1] - s + 1)), img.shape[1] - s)
            x = min(int(u[k, 3] * (img.shape[2] - s + 1)), img.shape[2] - s)
            crops.append(img[:, y : y + s, x : x + s])
        out = torch.stack(crops)
        flip = torch.from_numpy(u[:, 4] < 0.5).to(out.device)[:, None, None, None]
        return torch.where(flip, out.flip(-1), out)

    def get_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state

"""Argument checks shared by the host-independent packages (``samplers``, ``pose``, ``outpaint``,
``caption``, ``pixel``) and the nodes: no host import; torch is imported only by the IMAGE and MASK checks.
One place for each check, so that every input is refused with the same words.
"""

from __future__ import annotations

import numbers
import os

__all__ = [
    "check_int",
    "check_image",
    "check_mask",
    "check_mask_size",
    "confined_path",
    "missing_model_message",
]


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an ``int``, if it is an integer (Python or numpy; not a bool) in
    ``[minimum, maximum]`` (either end may be None: unbounded).

    Raises:
        TypeError: ``value`` is not an integer, or is a bool; the message names ``name``.
        ValueError: ``value`` is out of range; the message names ``name`` and the range.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be {bound}, got {value}")
    if maximum is not None and value > maximum:
        bound = f"<= {maximum}" if minimum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def check_image(image, name: str = "image"):
    """Check a ComfyUI IMAGE: a float torch tensor ``[B, H, W, C]``, C = 1, 3 or 4, B, H, W >= 1.
    Returns it.

    Raises:
        ValueError naming ``name``.
    """
    import torch

    if not isinstance(image, torch.Tensor):
        raise ValueError(
            f"{name} must be a torch tensor [B, H, W, C] (ComfyUI IMAGE), got {type(image).__name__}"
        )
    if image.ndim != 4 or image.shape[-1] not in (1, 3, 4) or min(image.shape[:3]) < 1:
        raise ValueError(
            f"{name} must be [B, H, W, C] with C = 1, 3 or 4 and B, H, W >= 1 (ComfyUI IMAGE), "
            f"got shape {list(image.shape)}"
        )
    if not image.is_floating_point():
        raise ValueError(f"{name} must be float in [0, 1], got {image.dtype}: divide uint8 images by 255")
    return image


def check_mask_size(mask, hw: tuple[int, int], name: str = "mask"):
    """Check a ComfyUI MASK ``[H, W]`` or ``[B, H, W]`` (torch, or numpy) of the spatial size ``hw``
    (px); return it as a tensor ``[B, H, W]`` of its dtype and device (a view; a numpy mask shares its
    memory).

    Raises:
        ValueError: not a tensor or array; a rank other than 2 or 3; a size other than ``hw`` (the
        message names ``name`` and both sizes).
    """
    import numpy as np
    import torch

    if isinstance(mask, np.ndarray):
        mask = torch.from_numpy(mask)
    if not isinstance(mask, torch.Tensor):
        raise ValueError(f"{name} must be a torch tensor [B, H, W] (ComfyUI MASK), got {type(mask).__name__}")
    m = mask[None] if mask.ndim == 2 else mask
    if m.ndim != 3:
        raise ValueError(f"{name} must be [H, W] or [B, H, W] (ComfyUI MASK), got shape {list(mask.shape)}")
    H, W = hw
    if tuple(m.shape[1:]) != (H, W):
        raise ValueError(
            f"{name} is {m.shape[2]}x{m.shape[1]} pixels but the image is {W}x{H}: give a mask of the "
            "image's size (pad image and mask together, e.g. Pose Pad Image/Mask/Pose)"
        )
    return m


def check_mask(mask, image, name: str = "mask"):
    """Check a MASK against an IMAGE ``[B, H, W, C]`` (:func:`check_mask_size`, and a batch of 1 or B);
    return it as float32 ``[1 or B, H, W]`` on the image's device (a view where possible).

    Raises:
        ValueError: see :func:`check_mask_size`; a batch other than 1 or B.
    """
    import torch

    B, H, W = image.shape[:3]
    m = check_mask_size(mask, (H, W), name)
    if m.shape[0] not in (1, B):
        raise ValueError(
            f"{name} has a batch of {m.shape[0]} but the image has {B}: give one mask, or one per image"
        )
    return m.to(device=image.device, dtype=torch.float32)


def confined_path(
    base: str | os.PathLike, name: str, what: str, folder: str, *, folder_itself: bool = False
) -> str:
    """The real path of ``name`` inside the folder ``base`` (links resolved), refusing anything that is not
    strictly inside it (``..``, absolute paths, links out, ``base`` itself unless ``folder_itself``).

    Args:
        what: the input that named it (for the message); folder: the folder's name for the user (e.g. "input").
        folder_itself: accept ``base`` itself (a folder to write files into).

    Raises:
        ValueError: the path is not inside ``base``; the message names ``what`` and ``folder``.
    """
    base = os.path.realpath(base)
    path = os.path.realpath(os.path.join(base, name))
    if os.path.commonpath([base, path]) != base or (path == base and not folder_itself):
        raise ValueError(f"{what}: {name!r} is not inside ComfyUI's {folder} folder")
    return path


def missing_model_message(name: str, folders, expected: str) -> str:
    """The one-line message of a model file (or folder) that a loader cannot find: the value asked for,
    ComfyUI's models folder(s) searched, and what to put there (``expected``). Used by the nodes' input
    validation, so that ComfyUI shows it on the node (after the input's name) before anything runs."""
    where = ", ".join(str(f) for f in folders) or "(no folder registered)"
    asked = repr(name) if name else "no model"
    return f"{asked} not found in {where}; {expected}"

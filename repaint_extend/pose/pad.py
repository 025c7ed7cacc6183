"""Pad an image, its mask and its pose together by the same (left, top, right, bottom) offsets."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..checks import check_int, check_mask_size
from .keypoints import (
    BODY_KEY,
    FOOT_KEY,
    OTHER_KEYS,
    PRIOR_KEY,
    _flat,
    _flat_triplets,
    person_points,
    validate_frame,
)

PAD_MODES = ("edge", "constant", "reflect")


def _check_pads(left: Any, top: Any, right: Any, bottom: Any) -> tuple[int, int, int, int]:
    """The four pads as ints >= 0 (px); TypeError/ValueError naming the bad one (see ``check_int``)."""
    return tuple(
        check_int(n, v, 0) for n, v in zip(("left", "top", "right", "bottom"), (left, top, right, bottom))
    )


def pad(frame: Mapping, left: int, top: int, right: int, bottom: int) -> dict:
    """Pad a POSE_KEYPOINT frame's canvas; shift every present keypoint by ``(left, top)`` px.

    Body, feet, face, hands and the detector prior (``prior_keypoints_2d``) are shifted; missing
    points (confidence 0) stay ``[0, 0, 0]``; the canvas becomes
    ``(canvas_width + left + right) x (canvas_height + top + bottom)``.

    Args:
        frame: one POSE_KEYPOINT frame (pixels; not modified).
        left, top, right, bottom: non-negative ints, pixels.
    Returns:
        a new frame.
    Raises:
        TypeError for a non-integer pad, ValueError for a negative one (naming it); PoseFormatError
        for a malformed frame.
    """
    validate_frame(frame)
    left, top, right, bottom = _check_pads(left, top, right, bottom)
    out = copy.deepcopy(dict(frame))
    out["canvas_width"] = int(frame["canvas_width"]) + left + right
    out["canvas_height"] = int(frame["canvas_height"]) + top + bottom
    shift = np.array([left, top], dtype=np.float64)
    for person in out["people"]:
        for key in (BODY_KEY, FOOT_KEY, *OTHER_KEYS):
            if person.get(key) is None:
                continue
            arr = _flat_triplets(person[key], key, None)
            if arr.shape[0]:
                arr[arr[:, 2] > 0, :2] += shift
                person[key] = _flat(arr)
        if person.get(PRIOR_KEY) is not None:
            arr = _flat_triplets(person[PRIOR_KEY], PRIOR_KEY, None)
            arr[:, :2] += shift
            person[PRIOR_KEY] = _flat(arr)
    return out


def keypoint_bounds(frame: Mapping) -> tuple[float, float, float, float] | None:
    """``(x_min, y_min, x_max, y_max)`` in px over every present body and foot point, or None."""
    validate_frame(frame)
    pts = [person_points(p) for p in frame["people"]]
    pts = [p[p[:, 2] > 0, :2] for p in pts]
    pts = [p for p in pts if len(p)]
    if not pts:
        return None
    allp = np.concatenate(pts)
    return (
        float(allp[:, 0].min()),
        float(allp[:, 1].min()),
        float(allp[:, 0].max()),
        float(allp[:, 1].max()),
    )


def auto_padding(
    frame: Mapping, margin: int | float = 0.05, multiple: int = 64, sides: str = "ltrb"
) -> tuple[int, int, int, int]:
    """Smallest padding that contains every present body and foot point plus a margin.

    For each side in ``sides`` (letters ``l``, ``t``, ``r``, ``b``), the pad is how far the
    keypoints (e.g. completed feet below the frame) plus ``margin`` reach beyond the canvas,
    rounded **up** to a multiple of ``multiple`` (64 by default: SD latents are 1/8 of the image).
    A side whose keypoints stay inside (with the margin) gets 0. Then, when the image is not a
    multiple of ``multiple`` (a 509x507 photo), one side per axis grows by the remainder so that the
    padded canvas is one (Outpaint (Tiled) needs multiples of 8): the right (bottom) side, or the
    left (top) side where only that one is allowed. The photo itself is never cropped.

    Args:
        frame: POSE_KEYPOINT frame (pixels).
        margin: int = pixels; float in [0, 1) = fraction of the canvas height.
        multiple: positive int.
        sides: which sides may be padded (default all).
    Returns:
        ``(left, top, right, bottom)`` ints >= 0; all 0 when no point is present.
    Raises:
        ValueError for a bad margin, multiple or sides; TypeError for a margin that is neither an int nor
        a float, or a multiple that is not an int.
    """
    validate_frame(frame)
    multiple = check_int("multiple", multiple, 1)
    if not set(sides) <= set("ltrb"):
        raise ValueError(f"sides must use the letters l, t, r, b; got {sides!r}")
    w, h = int(frame["canvas_width"]), int(frame["canvas_height"])
    if isinstance(margin, float):
        if not 0.0 <= margin < 1.0:
            raise ValueError(f"margin as a float is a fraction of the height in [0, 1), got {margin}")
        margin_px = margin * h
    else:  # pixels
        margin_px = float(check_int("margin", margin, 0))
    b = keypoint_bounds(frame)
    if b is None:
        return (0, 0, 0, 0)
    x0, y0, x1, y1 = b
    need = {
        "l": margin_px - x0,
        "t": margin_px - y0,
        "r": x1 + margin_px - (w - 1),
        "b": y1 + margin_px - (h - 1),
    }

    def up(v: float) -> int:
        return 0 if v <= 0 else int(math.ceil(v / multiple)) * multiple

    pads = [up(need[s]) if s in sides else 0 for s in "ltrb"]
    return _complete_to_multiple(pads, w, h, multiple, sides)


def _complete_to_multiple(
    pads: Sequence[int], w: int, h: int, multiple: int, sides: str
) -> tuple[int, int, int, int]:
    """Grow the right (bottom) pad of ``(left, top, right, bottom)``, or the left (top) one where ``sides``
    does not allow the other, so that the padded ``w`` x ``h`` canvas is a multiple of ``multiple``. The
    left and top pads stay multiples of ``multiple``, so the photo starts on the tile grid. An axis with
    neither side allowed keeps its size."""
    out = list(pads)
    for low, high, size in ((0, 2, w), (1, 3, h)):
        extra = -(size + out[low] + out[high]) % multiple
        side = high if "ltrb"[high] in sides else low
        if extra and "ltrb"[side] in sides:
            out[side] += extra
    return tuple(out)  # type: ignore[return-value]


def _outside_mask(
    h: int, w: int, left: int, top: int, right: int, bottom: int, grow: int, feather: int
) -> np.ndarray:
    """float32 ``[H', W']``: 1.0 on the new border, ``grow`` px into the original image on the
    padded sides, then a linear ramp to 0 over ``feather`` px."""
    H, W = h + top + bottom, w + left + right
    ys = np.arange(H, dtype=np.float32)[:, None]
    xs = np.arange(W, dtype=np.float32)[None, :]
    inf = np.float32(np.inf)
    # distance (px) inside the original image from each padded side; +inf for unpadded sides
    d = np.full((H, W), inf, dtype=np.float32)
    if left:
        d = np.minimum(d, np.broadcast_to(xs - left + 1, (H, W)))
    if top:
        d = np.minimum(d, np.broadcast_to(ys - top + 1, (H, W)))
    if right:
        d = np.minimum(d, np.broadcast_to(left + w - xs, (H, W)))
    if bottom:
        d = np.minimum(d, np.broadcast_to(top + h - ys, (H, W)))
    # d <= 0 : new area; 1..: pixels of the original, 1 = the row/column next to the border
    m = np.where(d <= grow, 1.0, 0.0).astype(np.float32)
    if feather > 0:
        ramp = 1.0 - (d - grow) / np.float32(feather + 1)
        m = np.maximum(m, np.clip(ramp, 0.0, 1.0))
    return m


def _to_numpy(image: Any):
    """``(array, back)``: the image as a numpy array, and ``back(array, keep_dtype=True)`` turning a
    numpy array into the input's kind (a torch tensor on the input's device, of its dtype unless
    ``keep_dtype`` is False; numpy arrays as they are)."""
    if isinstance(image, np.ndarray):
        return image, lambda a, keep_dtype=True: a
    if not type(image).__module__.startswith("torch"):
        raise TypeError(
            f"image: expected a numpy array or torch tensor [H, W, C] / [B, H, W, C], got {type(image).__name__}"
        )
    import torch

    cpu = image.detach().cpu()
    exotic = cpu.dtype not in (torch.uint8, torch.float16, torch.float32, torch.float64)
    array = (cpu.float() if exotic else cpu).numpy()  # e.g. bfloat16: no numpy twin; float32 holds it exactly

    def back(a: np.ndarray, keep_dtype: bool = True):
        t = torch.from_numpy(np.ascontiguousarray(a)).to(device=image.device)
        return t.to(dtype=image.dtype) if keep_dtype else t

    return array, back


def _padded_mask(mask: Any, h: int, w: int, pads: tuple[int, int, int, int]) -> np.ndarray:
    """float32 ``[H', W']`` or ``[B, H', W']``: ``mask`` (None = all 0) zero-padded by ``pads``."""
    left, top, right, bottom = pads
    old = np.zeros((h, w), np.float32) if mask is None else np.asarray(_to_numpy(mask)[0], dtype=np.float32)
    check_mask_size(old, (h, w), "mask")
    return np.pad(old, [(0, 0)] * (old.ndim - 2) + [(top, bottom), (left, right)], mode="constant")


def pad_image_mask(
    image: Any,
    mask: Any = None,
    left: int = 0,
    top: int = 0,
    right: int = 0,
    bottom: int = 0,
    mode: str = "edge",
    fill: float = 0.5,
    grow: int = 0,
    feather: int = 0,
):
    """Pad an image and its inpainting mask by the same offsets; the mask marks new area 1.0.

    Works on numpy arrays or torch tensors (returns the same kind, dtype and device; one numpy path:
    new pixels are copies or ``fill``, so the round trip is exact); inputs are never modified.

    Args:
        image: ``[H, W, C]`` or ComfyUI IMAGE ``[B, H, W, C]`` (float in [0, 1], or uint8).
        mask: None (nothing known to be missing), ``[H, W]`` or ``[B, H, W]`` float in [0, 1]
            (1 = repaint); ComfyUI MASK layout; numpy or torch.
        left, top, right, bottom: non-negative int pixels.
        mode: new pixels: ``"edge"`` (replicate the border), ``"constant"`` (``fill``) or
            ``"reflect"`` (mirror without repeating the border row, as ``numpy.pad`` and
            ``torch.nn.functional.pad`` do).
        fill: value for ``"constant"``, in the image's range (0..1 float, or 0..255 for uint8).
        grow: also mark this many px of the original image next to each padded side as unknown.
        feather: then ramp the mask linearly from 1 to 0 over this many px further in.
    Returns:
        ``(image, mask)``: padded image; float32 mask ``[H', W']`` (or ``[B, H', W']`` if the image
        is batched) = max(old mask zero-padded, new-area mask), in the image's kind and device.
    Raises:
        TypeError/ValueError naming the bad input.
    """
    pads = _check_pads(left, top, right, bottom)
    if mode not in PAD_MODES:
        raise ValueError(f"mode must be one of {PAD_MODES}, got {mode!r}")
    grow, feather = check_int("grow", grow, 0), check_int("feather", feather, 0)
    array, back = _to_numpy(image)
    if array.ndim not in (3, 4):
        raise ValueError(f"image: expected [H, W, C] or [B, H, W, C], got shape {list(array.shape)}")
    h, w = array.shape[-3:-1]
    left, top, right, bottom = pads
    if mode == "reflect" and (max(left, right) >= w or max(top, bottom) >= h):
        raise ValueError(f"mode='reflect' needs pads smaller than the image ({w}x{h}); use 'edge'")
    widths = [(0, 0)] * (array.ndim - 3) + [(top, bottom), (left, right), (0, 0)]
    extra = {"constant_values": fill} if mode == "constant" else {}
    out_img = np.pad(array, widths, mode=mode, **extra)
    out_mask = np.maximum(_padded_mask(mask, h, w, pads), _outside_mask(h, w, *pads, grow, feather))
    if array.ndim == 4 and out_mask.ndim == 2:
        out_mask = np.repeat(out_mask[None], array.shape[0], axis=0)
    return back(out_img), back(out_mask.astype(np.float32), keep_dtype=False)


PADDING_MODES = ("auto", "manual")


def pad_all(
    image: Any,
    mask: Any,
    frame: Mapping | Sequence[Mapping],
    left: int | str | None = None,
    top: int = 0,
    right: int = 0,
    bottom: int = 0,
    margin: int | float = 0.05,
    multiple: int = 64,
    *,
    padding: str | None = None,
    **kwargs,
):
    """Pad image, mask and pose together.

    ``padding="auto"`` computes all four pads with :func:`auto_padding` (then ``left``/``top``/
    ``right``/``bottom`` are ignored); for several frames (a POSE_KEYPOINT list, one frame per
    image of a batch) each side takes the largest pad of any frame, so that one canvas fits them all
    (and every person of every frame). ``padding="manual"`` pads by ``left, top, right, bottom`` px
    (``left`` None = 0). Without ``padding``: auto when ``left`` is None, manual otherwise; the old
    spelling ``left="auto"`` still means auto.

    Returns ``(image, mask, frame_or_frames, (left, top, right, bottom))``, the pose in the structure
    it was given. Every frame's canvas must match the image size, else ValueError naming the frame.
    Extra keyword arguments go to :func:`pad_image_mask`.
    """
    frames = [frame] if isinstance(frame, Mapping) else list(frame)
    if not frames:
        raise ValueError("frame: expected a POSE_KEYPOINT frame or a non-empty list of frames")
    h, w = int(image.shape[-3]), int(image.shape[-2])
    for i, f in enumerate(frames):
        validate_frame(f, name=f"pose[{i}]")
        if (int(f["canvas_width"]), int(f["canvas_height"])) != (w, h):
            raise ValueError(
                f"pose[{i}] canvas {f['canvas_width']}x{f['canvas_height']} does not match the image "
                f"{w}x{h}; rescale the pose first"
            )
    if padding is None:
        padding = "auto" if left is None or left == "auto" else "manual"
    if padding not in PADDING_MODES:
        raise ValueError(f"padding must be one of {PADDING_MODES}, got {padding!r}")
    if padding == "auto":
        every = [auto_padding(f, margin=margin, multiple=multiple) for f in frames]
        pads = tuple(max(p[k] for p in every) for k in range(4))
    else:
        pads = _check_pads(0 if left is None else left, top, right, bottom)
    img, m = pad_image_mask(image, mask, *pads, **kwargs)
    padded = [pad(f, *pads) for f in frames]
    return img, m, padded[0] if isinstance(frame, Mapping) else padded, pads

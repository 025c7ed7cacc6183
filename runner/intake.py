"""Photo intake: read an image file the way ComfyUI's LoadImage decodes it, and refuse bad files early.

This is the one decode of a user's photo. The runner feeds its result to the graph (as a lossless PNG in
ComfyUI's input folder) and compares the output's known pixels with it, so that "known pixels" means
the decoded file, never an intermediate copy. Host-independent: Pillow and numpy only.

LoadImage's decode (ComfyUI 0.3.75, ``nodes.py`` ``LoadImage.load_image``), replicated by :func:`decode`:
- ``ImageOps.exif_transpose`` on each frame: the EXIF Orientation tag is applied, the upright image is
  what the graph sees;
- mode ``I`` (32-bit integer) is scaled by ``point(lambda i: i * (1 / 255))`` before
  ``convert("RGB")``; every other mode (``L``, ``LA``, ``P``, ``PA``, ``RGBA``, ``CMYK``, ...) goes
  straight through Pillow's ``convert("RGB")``;
- the MASK is ``1 - alpha / 255`` for a mode with an alpha band, or for ``P`` with a ``transparency``
  entry; otherwise no alpha.

Where this decode differs from LoadImage (both on purpose):
- 16-bit greyscale (``I;16`` and its byte orders, what Pillow opens a 16-bit PNG as) is first converted
  to ``I`` and then scaled as LoadImage scales ``I``. LoadImage itself tests ``mode == "I"`` only, so it
  would clip an ``I;16`` photo at 255 (most of it white).
- A truncated or corrupt file is an error. LoadImage retries with ``LOAD_TRUNCATED_IMAGES`` and fills
  the missing part with grey (``node_helpers.pillow``).
- Only the first frame of a multi-frame file (GIF, multi-page TIFF) is read; LoadImage would make a
  batch of the frames of the first frame's size.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MIN_SIDE = 64
"""Smallest photo side in px: below it no pose can be found (MediaPipe's landmarker works on a 256 px
input) and there is nothing to extend."""
MAX_SIDE = 16384
"""Largest photo side in px: Outpaint (Tiled)'s canvas limit (``outpaint.tiles.MAX_SIDE``)."""
SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N")


class PhotoError(ValueError):
    """A file that cannot be used as a photo; the message is one line naming the file and the cause."""


@dataclass(frozen=True)
class Photo:
    """A decoded photo: ``rgb`` uint8 ``[H, W, 3]`` upright (EXIF orientation applied), ``alpha`` uint8
    ``[H, W]`` or None (ComfyUI's MASK of it is ``1 - alpha / 255``), the file's ``mode`` and
    ``orientation`` (EXIF tag 274, 1 when absent) as read, and its ``path``."""

    path: Path
    rgb: np.ndarray
    alpha: np.ndarray | None
    mode: str
    orientation: int

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in px after orientation."""
        return int(self.rgb.shape[1]), int(self.rgb.shape[0])

    def to_pil(self) -> Image.Image:
        """RGB, or RGBA when the file has alpha: the same pixels LoadImage gives back from it."""
        if self.alpha is None:
            return Image.fromarray(self.rgb, "RGB")
        return Image.fromarray(np.dstack([self.rgb, self.alpha]), "RGBA")


def decode_image(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """LoadImage's decode of one opened, loaded frame (see the module docstring).

    Returns:
        ``(rgb, alpha)``: uint8 ``[H, W, 3]`` upright, uint8 ``[H, W]`` or None.
    """
    image = ImageOps.exif_transpose(image)
    if image.mode in SIXTEEN_BIT:
        image = image.convert("I")
    if image.mode == "I":
        image = image.point(lambda i: i * (1 / 255))
    rgb = np.asarray(image.convert("RGB"))
    alpha = None
    if "A" in image.getbands():
        alpha = np.asarray(image.getchannel("A"))
    elif image.mode == "P" and "transparency" in image.info:
        alpha = np.asarray(image.convert("RGBA").getchannel("A"))
    return rgb, alpha


def decode(path: str | os.PathLike) -> Photo:
    """Read ``path`` as :func:`decode_image` decodes it, after checking that it is a usable photo.

    Raises:
        PhotoError (one line, naming the file): missing or unreadable; not an image Pillow knows; truncated
            or corrupt; smaller than :data:`MIN_SIDE` or larger than :data:`MAX_SIDE` px on a side.
    """
    path = Path(path)
    if not path.is_file():
        raise PhotoError(f"{path}: no such file")
    try:
        with Image.open(path) as opened:
            _check_size(path, opened.size)
            opened.load()
            orientation = int(opened.getexif().get(0x0112, 1) or 1)
            rgb, alpha = decode_image(opened)
            mode = opened.mode
    except UnidentifiedImageError:
        raise PhotoError(
            f"{path}: not an image file that Pillow can read (unknown format or corrupt header)"
        ) from None
    except Image.DecompressionBombError as error:
        raise PhotoError(f"{path}: {error}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        if isinstance(error, PhotoError):
            raise
        cause = " ".join(str(error).split()) or type(error).__name__
        raise PhotoError(f"{path}: truncated or corrupt image file ({cause})") from None
    _check_size(path, (rgb.shape[1], rgb.shape[0]))
    return Photo(path=path, rgb=rgb, alpha=alpha, mode=mode, orientation=orientation)


def _check_size(path: Path, size: tuple[int, int]) -> None:
    width, height = size
    if min(width, height) < MIN_SIDE:
        raise PhotoError(
            f"{path}: the image is {width}x{height} px, too small: at least {MIN_SIDE} px on each side"
        )
    if max(width, height) > MAX_SIDE:
        raise PhotoError(f"{path}: the image is {width}x{height} px, larger than {MAX_SIDE} px on a side")


def has_person(photo: Photo, max_people: int = 1) -> bool:
    """Whether the pack's MediaPipe detector (``pose.detect``, the Pose Detect node's, with its
    ``max_people``) finds a person in the photo: the fast check before ComfyUI starts."""
    from repaint_extend.pose.detect import detect

    with native_stderr_quiet():
        return bool(detect(photo.rgb, num_poses=max_people)["people"])


@contextlib.contextmanager
def native_stderr_quiet():
    """Hold back what native code (MediaPipe's C++ logging: ``inference_feedback_manager``, XNNPACK; its
    log level cannot be set from the environment) writes to file descriptor 2 inside the block; it is
    written out after all if the block raises."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            held.seek(0)
            sys.stderr.write(held.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)

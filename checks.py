"""Argument checks shared by the host-independent packages (``samplers``, ``pose``, ``outpaint``,
``caption``, ``pixel``): pure Python, no torch, no host import. One place for each check, so that every
input is refused with the same words.
"""

from __future__ import annotations

import numbers
import os

__all__ = ["check_int", "confined_path"]


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


def confined_path(base: str | os.PathLike, name: str, what: str, folder: str) -> str:
    """The real path of ``name`` inside the folder ``base`` (links resolved), refusing anything that is not
    strictly inside it (``..``, absolute paths, links out, ``base`` itself).

    Args:
        what: the input that named it (for the message); folder: the folder's name for the user (e.g. "input").

    Raises:
        ValueError: the path is not inside ``base``; the message names ``what`` and ``folder``.
    """
    base = os.path.realpath(base)
    path = os.path.realpath(os.path.join(base, name))
    if os.path.commonpath([base, path]) != base or path == base:
        raise ValueError(f"{what}: {name!r} is not inside ComfyUI's {folder} folder")
    return path

"""Outpaint (Tiled)'s plain settings: one frozen object, checked once, whose defaults the node's schema reads.

Everything here is a number or a string (the node's widgets); the models, images and conditionings travel
beside it. Sizes in pixels.
"""

from __future__ import annotations

import dataclasses

from ..checks import check_int

MODES = ("auto", "sequential", "joint", "coarse")
"""``sequential``: one tile after another, each sampled with the known and already generated pixels as
context; ``joint``: one sampler run over the canvas, the model called per window and the predictions blended
(Mixture of Diffusers, Jiménez 2023; MultiDiffusion, Bar-Tal et al. 2023, eq. 5); ``coarse``: the whole canvas
first at the model's size, upscaled, then refined jointly at partial denoise; ``auto``: ``coarse`` when the
canvas is more than :data:`COARSE_RATIO` tiles on a side, else ``joint``."""

COARSE_RATIO = 2.0
"""``auto`` picks ``coarse`` above this canvas / tile side ratio: a figure spanning more than two tiles
is drawn whole first (as DemoFusion and Krita AI Diffusion's upscaling do)."""


@dataclasses.dataclass(frozen=True)
class OutpaintSettings:
    """The widgets of Outpaint (Tiled), checked on construction.

    Attributes:
        seed: any 64-bit seed, ``[0, 2^64)``; tile / window noise streams derive from it.
        steps: sampler steps, >= 1 (ignored when a ``sigmas`` schedule is given).
        cfg: classifier-free guidance scale, >= 0.
        scheduler: a ComfyUI scheduler name (the node's combo lists them).
        tile_width, tile_height: the model's native size in px, >= 16.
        overlap: px shared by neighbouring tiles / windows, >= 8 (at most half a tile: ``plan_tiles``).
        feather: px of a sequential tile's ramp into the tiles before it, ``[0, overlap]``.
        control_strength: ControlNet strength, >= 0.
        control_start, control_end: the part of the schedule the ControlNet acts on, ``0 <= start <= end <= 1``.
        tile_prompt: one prompt line per tile (``{caption}``: a BLIP caption), "" for none.
        mode: one of :data:`MODES`.

    Raises:
        TypeError: an int setting that is not an int (:func:`checks.check_int`).
        ValueError: a value outside its range, naming the input.
    """

    seed: int = 0
    steps: int = 50
    cfg: float = 7.0
    scheduler: str = "normal"
    tile_width: int = 512
    tile_height: int = 512
    overlap: int = 64
    feather: int = 32
    control_strength: float = 1.0
    control_start: float = 0.0
    control_end: float = 1.0
    tile_prompt: str = ""
    mode: str = "auto"

    def __post_init__(self):
        check_int("seed", self.seed, 0, 2**64 - 1)
        check_int("steps", self.steps, 1)
        check_int("tile_width (px)", self.tile_width, 16)
        check_int("tile_height (px)", self.tile_height, 16)
        check_int("overlap (px)", self.overlap, 8)
        check_int("feather (px, at most the overlap)", self.feather, 0, self.overlap)
        if not self.cfg >= 0:
            raise ValueError(f"cfg must be >= 0, got {self.cfg}")
        if not self.control_strength >= 0:
            raise ValueError(f"control_strength must be >= 0, got {self.control_strength}")
        if not 0 <= self.control_start <= self.control_end <= 1:
            raise ValueError(
                f"control_start and control_end must satisfy 0 <= start <= end <= 1, got "
                f"{self.control_start} and {self.control_end}"
            )
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")

    @property
    def tile(self) -> tuple[int, int]:
        """``(tile_height, tile_width)`` px."""
        return (self.tile_height, self.tile_width)

    @property
    def control(self) -> tuple[float, float, float]:
        """``(strength, start, end)`` of the ControlNet."""
        return (self.control_strength, self.control_start, self.control_end)


DEFAULTS = OutpaintSettings()
"""The node's defaults (its schema reads them from here)."""


def pick_mode(mode: str, canvas_hw, tile_hw) -> str:
    """The mode to run: ``mode`` itself, or for ``auto`` ``coarse`` when the canvas (px) is more than
    :data:`COARSE_RATIO` tiles on a side, else ``joint``.

    Raises:
        ValueError: a mode not in :data:`MODES`.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode != "auto":
        return mode
    ratio = max(canvas_hw[0] / tile_hw[0], canvas_hw[1] / tile_hw[1])
    return "coarse" if ratio > COARSE_RATIO else "joint"

"""Host-independent grid-based outpainting core (pure torch + numpy + scipy; never imports ComfyUI).

Extends a canvas beyond the model's native resolution tile by tile, outward from the known pixels,
with feathered seams, bounded memory and bit-exact known pixels.

Conventions: images ``[B, H, W, C]`` float in [0, 1] (ComfyUI IMAGE); masks ``[B, H, W]`` or
``[H, W]`` (ComfyUI MASK), > 0 = unknown / generate, 0 = known; every size and coordinate in pixels.

Public API::

    plan = plan_tiles((H, W), mask, tile=(512, 512), overlap=64)   # list[Tile], sampling order
    windows = plan_windows((H, W), mask, tile=512, overlap=64)      # joint sampling's windows
    denoised = blend_windows(x, windows, lambda k, xk: model(xk, sigma), scale=8)  # one joint call
    seed_k = stream_seed(seed, k)                                   # independent noise streams
    out = outpaint(canvas, mask, sample_tile, tile=512, overlap=64, feather=32, progress=None)
        # sample_tile(tile_image [B,h,w,C], tile_noise_mask [B,h,w], tile) -> tile_result [B,h,w,C]
    hint_t = crop_to_tile(hint, tile)                               # pose hint / latent crops
    inputs = tile_inputs(canvas, mask, generated, tile, feather)    # image, noise_mask, weight
    canvas = blend_tile(canvas, tile_result, tile, inputs.weight)   # new canvas
    image_u8 = composite_known(original_u8, out, mask)              # max |delta| = 0 on known pixels
    out = match_color_to_known(out, mask, band=32)                  # Reinhard et al. 2001
    hint = inpaint_control_hint(image, mask)                        # control_v11p inpaint: masked -> -1
"""

from ..checks import check_image, check_mask
from .blend import TileInputs, blend_tile, distance_to, feather_weight, tile_inputs
from .composite import COLOR_SPACES, composite_known, known_band, match_color, match_color_to_known, to_uint8
from .driver import SampleTile, outpaint
from .hints import inpaint_control_hint
from .joint import (
    MIXTURE_VARIANCE,
    SEED_RANGE,
    blend_windows,
    coarse_size,
    stream_seed,
    window_weight,
    working_box,
)
from .tiles import MAX_SIDE, ORDERS, Tile, check_canvas_hw, crop_to_tile, plan_tiles, plan_windows

__all__ = [
    "MAX_SIDE",
    "ORDERS",
    "COLOR_SPACES",
    "Tile",
    "TileInputs",
    "SampleTile",
    "plan_tiles",
    "plan_windows",
    "MIXTURE_VARIANCE",
    "SEED_RANGE",
    "window_weight",
    "blend_windows",
    "working_box",
    "coarse_size",
    "stream_seed",
    "crop_to_tile",
    "check_canvas_hw",
    "tile_inputs",
    "feather_weight",
    "distance_to",
    "blend_tile",
    "check_image",
    "check_mask",
    "to_uint8",
    "composite_known",
    "known_band",
    "match_color",
    "match_color_to_known",
    "outpaint",
    "inpaint_control_hint",
]

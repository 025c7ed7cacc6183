"""Tile plans: coverage, alignment, outward order, clipping, crops and bad input."""

import numpy as np
import pytest
import torch
from scipy import ndimage

from repaint_extend.outpaint import MAX_SIDE, Tile, crop_to_tile, plan_tiles, plan_windows


def bottom(h, w, known_rows):
    m = torch.zeros(1, h, w)
    m[:, known_rows:] = 1
    return m


def masks():
    """(name, mask [1, H, W]) of the shapes outpainting meets."""
    out = [("legs", bottom(448, 200, 120)), ("top", 1 - bottom(320, 256, 200))]
    m = torch.ones(1, 400, 336)
    m[:, 80:200, 40:160] = 0
    out.append(("hole_in_unknown", m))
    m = torch.zeros(1, 304, 416)
    m[:, 200:] = 1
    m[:, :, 300:] = 1
    out.append(("l_shape", m))
    m = torch.zeros(1, 256, 256)
    m[:, :, :72] = 1
    m[:, 100:, 200:] = 1  # a second, disconnected unknown area
    out.append(("left_and_patch", m))
    soft = bottom(352, 160, 200)
    soft[:, 184:200] = torch.linspace(0.05, 0.95, 16)[:, None]  # pose.pad_image_mask's feather
    out.append(("soft_edge", soft))
    return out


MASKS = masks()


def coverage(plan, hw):
    cov = np.zeros(hw, dtype=int)
    for t in plan:
        cov[t.rows, t.cols] += 1
    return cov


@pytest.mark.parametrize("name,mask", MASKS, ids=[n for n, _ in MASKS])
@pytest.mark.parametrize("tile", [64, (96, 64)])
def test_plan_covers_every_unknown_pixel_inside_the_canvas_aligned_to_8(name, mask, tile):
    H, W = mask.shape[1:]
    plan = plan_tiles((H, W), mask, tile=tile, overlap=16)
    th, tw = (tile, tile) if isinstance(tile, int) else tile
    assert plan and [t.index for t in plan] == list(range(len(plan)))
    for t in plan:
        assert 0 <= t.y and t.y + t.h <= H and 0 <= t.x and t.x + t.w <= W
        assert t.y % 8 == t.x % 8 == t.h % 8 == t.w % 8 == 0
        assert (t.h, t.w) == (min(th, H), min(tw, W)) and t.canvas == (H, W)
        assert bool((mask[0, t.rows, t.cols] > 0).any()), "a tile without unknown pixels was kept"
    unknown = mask[0].numpy() > 0
    assert np.all(coverage(plan, (H, W))[unknown] >= 1)


@pytest.mark.parametrize("name,mask", MASKS, ids=[n for n, _ in MASKS])
def test_order_is_outward_and_every_tile_has_context_when_sampled(name, mask):
    H, W = mask.shape[1:]
    plan = plan_tiles((H, W), mask, tile=64, overlap=16)
    assert_context_when_sampled(plan, mask)


def assert_context_when_sampled(plan, mask):
    H, W = mask.shape[1:]
    unknown = mask[0].numpy() > 0
    generated = np.zeros((H, W), dtype=bool)
    for t in plan:
        region_known = ~unknown[t.rows, t.cols]
        region_gen = generated[t.rows, t.cols]
        assert region_known.any() or region_gen.any(), f"tile {t} has no context when sampled"
        fresh = unknown[t.rows, t.cols] & ~region_gen
        assert fresh.any(), f"tile {t} has nothing left to generate (redundant)"
        generated[t.rows, t.cols] |= unknown[t.rows, t.cols]


def brute_distance(mask, tile, multiple=8):
    """Min over the tile's unknown blocks of the Euclidean block distance to a block with a known pixel."""
    m = mask[0].numpy()
    bh, bw = m.shape[0] // multiple, m.shape[1] // multiple
    cells = m.reshape(bh, multiple, bw, multiple)
    unknown = cells.max(axis=(1, 3)) > 0
    sources = np.argwhere(cells.min(axis=(1, 3)) <= 0)
    best = np.inf
    for by in range(tile.y // multiple, (tile.y + tile.h) // multiple):
        for bx in range(tile.x // multiple, (tile.x + tile.w) // multiple):
            if unknown[by, bx]:
                best = min(best, np.sqrt(((sources - [by, bx]) ** 2).sum(1)).min() * multiple)
    return best


@pytest.mark.parametrize("name,mask", MASKS[:4], ids=[n for n, _ in MASKS[:4]])
def test_tile_distance_is_the_block_distance_to_the_known_region(name, mask):
    plan = plan_tiles(tuple(mask.shape[1:]), mask, tile=64, overlap=16)
    for t in plan:
        assert t.distance == pytest.approx(brute_distance(mask, t))


def test_legs_strips_come_top_down_and_a_short_extension_is_one_tile_with_most_context():
    # 512x768 photo cut at the shins, padded by 256 px at the bottom: one SD1.5 tile, as much known
    # context as fits (the tile ends at the canvas's bottom edge).
    plan = plan_tiles((1024, 512), bottom(1024, 512, 768), tile=512, overlap=64)
    assert [(t.y, t.x, t.h, t.w) for t in plan] == [(512, 0, 512, 512)]
    # a tall extension: rows go down, each row's tiles left to right, 64 px of context above the first
    plan = plan_tiles((2048, 512), bottom(2048, 512, 704), tile=512, overlap=64)
    assert [t.x for t in plan] == [0] * len(plan)
    ys = [t.y for t in plan]
    assert ys == sorted(ys) and ys[0] == 704 - 64 and ys[-1] + 512 == 2048
    assert all(b - a <= 512 - 64 for a, b in zip(ys, ys[1:], strict=False)), (
        "neighbours overlap by less than 64 px"
    )
    two_wide = plan_tiles((1024, 960), bottom(1024, 960, 768), tile=512, overlap=64)
    assert [(t.row, t.col) for t in two_wide] == [(0, 0), (0, 1)]
    assert two_wide[1].x - two_wide[0].x == 512 - 64


def test_raster_order_differs_from_outward_when_the_known_part_is_below():
    mask = 1 - bottom(512, 64, 448)  # unknown above the known bottom strip
    outward = plan_tiles((512, 64), mask, tile=64, overlap=16)
    raster = plan_tiles((512, 64), mask, tile=64, overlap=16, order="raster")
    assert [t.y for t in outward] == sorted((t.y for t in outward), reverse=True)
    assert [t.y for t in raster] == sorted(t.y for t in raster)
    assert plan_tiles((512, 64), mask, tile=64, overlap=16) == outward  # deterministic


def test_a_tile_larger_than_the_canvas_is_clipped_to_it():
    mask = bottom(256, 384, 128)
    plan = plan_tiles((256, 384), mask, tile=512, overlap=64)
    assert [(t.y, t.x, t.h, t.w) for t in plan] == [(0, 0, 256, 384)]


def test_batched_masks_plan_the_union():
    m = torch.zeros(2, 128, 64)
    m[0, 100:] = 1
    m[1, :20] = 1
    plan = plan_tiles((128, 64), m, tile=64, overlap=16)
    assert {t.y for t in plan} == {0, 64}
    assert plan_tiles((128, 64), m.numpy(), tile=64, overlap=16) == plan  # numpy masks too


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(hw=(96, 64), mask=torch.zeros(1, 96, 64)), "nothing to outpaint"),
        (dict(hw=(96, 64), mask=torch.ones(1, 96, 64)), "no pixel is known"),
        (dict(hw=(96, 64), mask=bottom(96, 72, 50)), "mask is 72x96 pixels but the image is 64x96"),
        (dict(hw=(100, 64), mask=bottom(100, 64, 50)), "not a multiple of 8"),
        (dict(hw=(MAX_SIDE + 8, 64), mask=torch.zeros(1, 1, 1)), "larger than the limit"),
        (dict(hw=(96, 64), mask=bottom(96, 64, 50), tile=MAX_SIDE + 8), "larger than the limit"),
        (dict(hw=(96, 64), mask=bottom(96, 64, 50), tile=60), "multiple of 8"),
        (dict(hw=(96, 64), mask=bottom(96, 64, 50), tile=64, overlap=64), "smaller than the tile"),
        (dict(hw=(96, 64), mask=bottom(96, 64, 50), tile=64, overlap=0), "positive multiple"),
        (dict(hw=(96, 64), mask=bottom(96, 64, 50), tile=64, overlap=12), "positive multiple"),
        (dict(hw=(96, 64), mask=bottom(96, 64, 50), order="spiral"), "order"),
        (dict(hw=(96, 64), mask=torch.zeros(2, 1, 96, 64)), r"\[H, W\] or \[B, H, W\]"),
    ],
)
def test_bad_input(kwargs, match):
    hw, mask = kwargs.pop("hw"), kwargs.pop("mask")
    with pytest.raises(ValueError, match=match):
        plan_tiles(hw, mask, **kwargs)


def test_crop_to_tile_layouts_views_and_size_checks():
    plan = plan_tiles((128, 64), bottom(128, 64, 40), tile=64, overlap=16)
    t = plan[-1]
    image = torch.rand(2, 128, 64, 3)
    hint = crop_to_tile(image, t)
    assert hint.shape == (2, t.h, t.w, 3) and hint.data_ptr() == image[:, t.rows, t.cols].data_ptr()
    assert np.array_equal(crop_to_tile(image[0].numpy(), t, "HWC"), image[0, t.rows, t.cols].numpy())
    latent = torch.rand(1, 4, 16, 8)
    crop = crop_to_tile(latent, t, "BCHW", scale=8)
    assert torch.equal(crop, latent[:, :, t.y // 8 : (t.y + t.h) // 8, t.x // 8 : (t.x + t.w) // 8])
    assert crop_to_tile(torch.rand(1, 128, 64), t, "BHW").shape == (1, t.h, t.w)
    with pytest.raises(ValueError, match="canvas is 64x128"):
        crop_to_tile(torch.rand(1, 120, 64, 3), t)  # a pose hint rendered on another canvas
    with pytest.raises(ValueError, match="layout"):
        crop_to_tile(image, t, "NCHW")
    with pytest.raises(ValueError, match="rank"):
        crop_to_tile(image, t, "BHW")
    with pytest.raises(ValueError, match="scale"):
        crop_to_tile(latent, Tile(0, 0, 0, 4, 0, 64, 64, 0.0, (128, 64)), "BCHW", scale=8)


def test_scipy_edt_is_what_the_plan_uses():
    # guards the library call the plan relies on: distance to the nearest zero, Euclidean
    a = np.ones((5, 5), dtype=bool)
    a[0, 0] = False
    assert ndimage.distance_transform_edt(a)[3, 4] == pytest.approx(5.0)


def test_the_core_imports_nothing_from_comfyui():
    # static: every import of outpaint/ is the standard library, torch, numpy, scipy or the package
    import ast
    import sys
    from pathlib import Path

    allowed = set(sys.stdlib_module_names) | {"torch", "numpy", "scipy"}
    files = sorted((Path(__file__).resolve().parents[2] / "repaint_extend" / "outpaint").glob("*.py"))
    assert len(files) >= 5
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"


SIDES = ("left", "top", "right", "bottom")
PAD_SETS = [(s,) for s in SIDES] + [("left", "top"), ("right", "bottom"), SIDES]


def padded_mask(size, pad, sides):
    """A ``size``-px square photo padded by ``pad`` px on ``sides``: mask [1, H, W] (1 = pad)."""
    left, top, right, bottom = (pad if s in sides else 0 for s in SIDES)
    m = torch.ones(1, top + size + bottom, left + size + right)
    m[:, top : top + size, left : left + size] = 0
    return m


def assert_overlap_at_least(plan, overlap):
    """Neighbouring grid origins are at most ``tile - overlap`` apart on each axis."""
    for origins, side in (({t.y for t in plan}, plan[0].h), ({t.x for t in plan}, plan[0].w)):
        o = sorted(origins)
        assert all(b - a <= side - overlap for a, b in zip(o, o[1:], strict=False)), (o, side, overlap)


@pytest.mark.parametrize("sides", PAD_SETS, ids=["+".join(s) for s in PAD_SETS])
@pytest.mark.parametrize(
    "size,pad,tile", [(128, 64, 64), (512, 512, 512), (1024, 256, 512), (4096, 512, 512)]
)
def test_pads_on_every_side_alone_and_together_are_planned_with_context(sides, size, pad, tile):
    mask = padded_mask(size, pad, sides)
    H, W = mask.shape[1:]
    overlap = tile // 8
    plan = plan_tiles((H, W), mask, tile=tile, overlap=overlap)
    assert_context_when_sampled(plan, mask)  # the first tile holds known pixels: no all-1 noise_mask
    assert np.all(coverage(plan, (H, W))[mask[0].numpy() > 0] >= 1)
    assert_overlap_at_least(plan, overlap)
    windows = plan_windows((H, W), mask, tile=tile, overlap=overlap)
    assert np.all(coverage(windows, (H, W))[mask[0].numpy() > 0] >= 1) and len(windows) >= len(plan)


def test_a_left_pad_of_a_whole_tile_starts_next_to_the_photo():
    # the bug: a 512-px left pad with 512 tiles made the first tile all pad ("noise_mask is all 1")
    mask = padded_mask(512, 512, ("left",))
    plan = plan_tiles((512, 1024), mask, tile=512, overlap=64)
    assert [t.x for t in plan] == [64, 0]
    assert bool((mask[0, :, 64:576] == 0).any())


@pytest.mark.parametrize("overlap", [16, 24, 40])
def test_neighbours_overlap_by_at_least_the_overlap_and_feather_fits_in_it(overlap):
    mask = padded_mask(128, 256, SIDES)
    plan = plan_tiles(tuple(mask.shape[1:]), mask, tile=64, overlap=overlap)
    assert len({t.x for t in plan}) > 2 and len({t.y for t in plan}) > 2
    assert_overlap_at_least(plan, overlap)
    # and not far more: the fewest tiles that keep the overlap (each step >= half the allowed step)
    xs = sorted({t.x for t in plan})
    assert min(b - a for a, b in zip(xs, xs[1:], strict=False)) > (64 - overlap) // 2


def test_a_12_megapixel_photo_plans_few_sd15_windows():
    # 3000x4000 phone photo cut at the knees, legs padded below (1,600 px), SD1.5 tiles
    h, w, pad = 4000, 3000, 1600
    mask = torch.zeros(1, h + pad, w)
    mask[:, h:] = 1
    windows = plan_windows((h + pad, w), mask, tile=512, overlap=64)
    assert len(windows) <= 30 and len(plan_tiles((h + pad, w), mask, tile=512, overlap=64)) <= 30

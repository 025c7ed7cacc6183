"""The outpaint driver end to end with stand-in samplers: coverage, exact known pixels, context,
seams, bounded memory, RePaint per tile, and bad input."""

import tracemalloc

import numpy as np
import pytest
import torch

from bench.memory import TorchAllocations
from repaint_extend.outpaint import composite_known, outpaint, plan_tiles
from repaint_extend.pose import pad_image_mask
from repaint_extend.samplers import KnownRegionDenoiser, sample_repaint

TILE = dict(tile=64, overlap=16, feather=8)
CANVASES = {1: (96, 64), 2: (160, 64), 4: (160, 112), 12: (256, 160)}  # tiles -> (H, W), known rows 0-63


def canvas_and_mask(n_tiles, seed=0):
    H, W = CANVASES[n_tiles]
    canvas = torch.rand(1, H, W, 3, generator=torch.Generator().manual_seed(seed))
    mask = torch.zeros(1, H, W)
    mask[:, 64:] = 1
    return canvas, mask


class Recorder:
    """A stand-in sampler: records its calls and returns ``fill(image, noise_mask, tile)``."""

    def __init__(self, fill):
        self.fill, self.calls = fill, []

    def __call__(self, image, noise_mask, tile):
        self.calls.append((image.clone(), noise_mask.clone(), tile))
        return self.fill(image, noise_mask, tile)


@pytest.mark.parametrize("n_tiles", [1, 4])
def test_fills_every_unknown_pixel_keeps_known_pixels_and_calls_once_per_tile(n_tiles):
    canvas, mask = canvas_and_mask(n_tiles)
    before, mask_before = canvas.clone(), mask.clone()
    sampler = Recorder(lambda image, nm, t: torch.full_like(image, 0.5))
    seen = []
    out = outpaint(canvas, mask, sampler, progress=lambda i, n, t: seen.append((i, n, t.index)), **TILE)
    assert len(sampler.calls) == n_tiles == len(plan_tiles(CANVASES[n_tiles], mask, 64, 16))
    assert seen == [(i + 1, n_tiles, i) for i in range(n_tiles)]
    assert torch.equal(out[:, :64], canvas[:, :64])  # known: bit-identical
    assert torch.all(out[:, 64:] == 0.5)  # every unknown pixel written
    assert torch.equal(canvas, before) and torch.equal(mask, mask_before)
    for image, nm, t in sampler.calls:
        assert image.shape == (1, t.h, t.w, 3) and nm.shape == (1, t.h, t.w)
        assert bool((nm > 0).any()) and bool((nm == 0).any()), (
            "a tile without anything to generate or context"
        )


def test_tiles_land_where_they_belong():
    # the sampler paints a smooth function of the canvas position: any misplaced crop or paste shows
    canvas, mask = canvas_and_mask(4)

    def field(image, nm, t):
        ys = torch.arange(t.y, t.y + t.h, dtype=torch.float32)[:, None, None] / 160
        xs = torch.arange(t.x, t.x + t.w, dtype=torch.float32)[None, :, None] / 112
        return (0.25 * ys + 0.5 * xs + torch.tensor([0.0, 0.1, 0.2])).expand(1, t.h, t.w, 3).clone()

    out = outpaint(canvas, mask, field, **TILE)
    ys = torch.arange(160, dtype=torch.float32)[:, None, None] / 160
    xs = torch.arange(112, dtype=torch.float32)[None, :, None] / 112
    expected = 0.25 * ys + 0.5 * xs + torch.tensor([0.0, 0.1, 0.2])
    assert torch.allclose(out[0, 64:], expected[64:], atol=1e-6)


def test_later_tiles_see_earlier_results_and_seams_are_feathered():
    canvas, mask = canvas_and_mask(2)
    sampler = Recorder(lambda image, nm, t: torch.full_like(image, 0.2 + 0.6 * t.index))
    out = outpaint(canvas, mask, sampler, **TILE)
    (_, _, t0), (image1, nm1, t1) = sampler.calls
    overlap_rows = slice(0, t0.y + t0.h - t1.y)  # rows of tile 1 that tile 0 generated
    # context beyond the feather (8 px) is kept (noise_mask 0); the feather strip is regenerated in part
    assert torch.all(nm1[0, : overlap_rows.stop - 9] == 0) and torch.all(nm1[0, overlap_rows.stop - 8 :] > 0)
    assert torch.allclose(image1[0, overlap_rows], torch.tensor(0.2))  # tile 0's result is the context
    col = out[0, 64:, 5, 0]
    steps = col[1:] - col[:-1]
    assert torch.all(steps >= -1e-6), "the seam is not a monotone ramp"
    assert steps.max() <= 0.6 / 9 + 1e-5, "a hard seam"  # ramp of 9 steps for feather = 8
    assert col[0].item() == pytest.approx(0.2) and col[-1].item() == pytest.approx(0.8)


def peak_memory(n_tiles):
    """(torch bytes beyond the returned canvas, largest tile image given to the sampler, numpy/Python
    peak bytes), from two runs: torch's counter and tracemalloc would count each other's bookkeeping."""
    canvas, mask = canvas_and_mask(n_tiles)
    largest = []

    def sampler(image, nm, t):
        largest.append(image.numel())
        return image * 0.5 + 0.25

    with TorchAllocations() as mem:
        outpaint(canvas, mask, sampler, **TILE)
    tracemalloc.start()
    outpaint(canvas, mask, sampler, **TILE)
    numpy_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return mem.peak_bytes - canvas.numel() * canvas.element_size(), max(largest), numpy_peak


def test_peak_memory_is_set_by_the_tile_not_the_canvas():
    sizes = (1, 2, 4, 12)
    for n in sizes:
        peak_memory(n)  # warm-up: first-call imports and caches
    torch_extra, largest, numpy_peak = zip(*(peak_memory(n) for n in sizes), strict=True)
    # beyond the returned canvas, the driver holds one tile's tensors whatever the canvas size: a tile
    # with generated neighbours on two sides (4 and 12 tiles: its seam's distance transform spans the
    # tile) needs the same on a canvas 2.3 times larger; plans without such a tile need no more
    total = [a + b for a, b in zip(torch_extra, numpy_peak, strict=True)]
    assert max(total[2:]) <= 1.1 * min(total[2:]) and max(total[:2]) <= max(total[2:]), (
        torch_extra,
        numpy_peak,
    )
    assert max(torch_extra) < 64 * 64 * 3 * 4 * 6  # a few tiles' worth, no canvas-sized scratch
    assert len(set(largest)) == 1


def test_torch_allocation_counter_sees_a_canvas_sized_scratch():
    # the memory test above can fail: a driver that copied the canvas per tile would be caught
    canvas, _ = canvas_and_mask(4)
    with TorchAllocations() as mem:
        a = canvas.clone()
        b = a * 2
        del a, b
    assert mem.peak_bytes == 2 * canvas.numel() * 4 and mem.current_bytes == 0


def test_a_sampler_that_scribbles_on_its_inputs_changes_nothing_outside():
    canvas, mask = canvas_and_mask(4)
    before, mask_before = canvas.clone(), mask.clone()

    def rude(image, nm, t):
        image.fill_(9.0)
        nm.fill_(9.0)
        return torch.full_like(image, 0.3)

    out = outpaint(canvas, mask, rude, **TILE)
    assert torch.equal(canvas, before) and torch.equal(mask, mask_before)
    assert torch.equal(out[:, :64], canvas[:, :64]) and torch.allclose(out[:, 64:], torch.tensor(0.3))


def test_soft_mask_pixels_blend_the_photo_and_the_generated_layer():
    canvas, mask = canvas_and_mask(2)
    mask[:, 56:64] = 0.25
    out = outpaint(canvas, mask, lambda image, nm, t: torch.full_like(image, 0.5), **TILE)
    assert torch.allclose(out[:, 56:64], canvas[:, 56:64] * 0.75 + 0.5 * 0.25)
    assert torch.equal(out[:, :56], canvas[:, :56])


def test_padded_photo_end_to_end_is_bit_exact_on_uint8():
    rng = np.random.default_rng(3)
    photo = rng.integers(0, 256, (96, 64, 3), dtype=np.uint8)  # cut off at the shins
    padded_u8, mask = pad_image_mask(photo, None, 0, 0, 0, 64, grow=8, feather=8)
    canvas = torch.from_numpy(padded_u8.astype(np.float32) / 255.0)[None]
    mask_t = torch.from_numpy(mask)[None]
    out = outpaint(canvas, mask_t, lambda image, nm, t: torch.rand(image.shape), **TILE)
    final = composite_known(padded_u8, out[0], mask)
    assert final.dtype == np.uint8 and final.shape == (160, 64, 3)
    known = mask == 0
    assert known[:80].all() and np.abs(final[known].astype(int) - padded_u8[known].astype(int)).max() == 0
    assert np.array_equal(final[:80], photo[:80])


def test_repaint_per_tile_in_pixel_space():
    # RePaint (the pack's default) as the per-tile sampler, on the ideal denoiser of N(0.5, 0.1^2) pixels
    canvas, mask = canvas_and_mask(2)
    sigmas = torch.tensor([2.0, 1.0, 0.5, 0.2, 0.0])
    nfe = []

    def toy(x, sigma, **_):
        s2 = sigma.view(-1, 1, 1, 1) ** 2
        return 0.5 + (x - 0.5) * 0.01 / (0.01 + s2)

    def repaint_tile(image, noise_mask, tile):
        known = image.permute(0, 3, 1, 2)
        denoiser = KnownRegionDenoiser(toy, known, noise_mask[:, None], seed=tile.index)
        x = torch.randn(known.shape, generator=torch.Generator().manual_seed(tile.index)) * sigmas[0]
        x0 = sample_repaint(
            denoiser,
            x,
            sigmas,
            {"seed": tile.index},
            disable=True,
            jump_length=2,
            jump_n_sample=2,
            callback=lambda d: nfe.append(d["nfe"]),
        )
        return x0.permute(0, 2, 3, 1)

    out = outpaint(canvas, mask, repaint_tile, **TILE)
    assert torch.equal(out[:, :64], canvas[:, :64])
    assert torch.isfinite(out).all() and abs(out[:, 64:].mean().item() - 0.5) < 0.05
    assert len(nfe) == 2 * nfe[0]  # both tiles sampled, the same number of model calls each


@pytest.mark.parametrize(
    "change,match",
    [
        (dict(feather=32), r"feather \(px, at most the overlap\) must be in \[0, 16\]"),
        (dict(mask=torch.zeros(1, 96, 72)), "mask is 72x96 pixels but the image is 64x96"),
        (dict(mask=torch.zeros(1, 96, 64)), "nothing to outpaint"),
        (dict(sample_tile=lambda image, nm, t: image[:, :32]), "tile_result must be"),
        (dict(sample_tile=None), "callable"),
        (dict(max_side=64), "larger than the limit"),
        (dict(overlap=64, feather=8), "smaller than the tile"),
        (dict(canvas=torch.rand(1, 96, 64, 3).to(torch.uint8)), "float"),
        (dict(plan=plan_tiles((160, 64), canvas_and_mask(2)[1], 64, 16)), "another canvas"),
    ],
)
def test_bad_input(change, match):
    canvas, mask = canvas_and_mask(1)
    args = dict(canvas=canvas, mask=mask, sample_tile=lambda image, nm, t: image, **TILE)
    args.update(change)
    with pytest.raises(ValueError, match=match):
        outpaint(**args)

"""Exact known pixels (composite after quantisation) and Reinhard colour matching."""

import numpy as np
import pytest
import torch

from repaint_extend.outpaint import composite_known, known_band, match_color, match_color_to_known, to_uint8
from repaint_extend.outpaint.composite import _to_lab


def soft_mask(h=40, w=24, batch=1):
    m = torch.zeros(batch, h, w)
    m[:, 24:] = 1
    m[:, 20:24] = torch.tensor([0.2, 0.4, 0.6, 0.8])[:, None]
    return m


def test_composite_on_uint8_keeps_known_pixels_bit_exact():
    rng = np.random.default_rng(0)
    original = rng.integers(0, 256, (2, 40, 24, 3), dtype=np.uint8)
    result = rng.random((2, 40, 24, 3), dtype=np.float32) * 1.2 - 0.1  # out of range on purpose
    mask = soft_mask(batch=2).numpy()
    o0, r0, m0 = original.copy(), result.copy(), mask.copy()
    out = composite_known(original, result, mask)
    assert out.dtype == np.uint8 and out.shape == original.shape
    known = mask == 0
    assert np.abs(out[known].astype(int) - original[known].astype(int)).max() == 0
    full = mask == 1
    assert np.array_equal(out[full], to_uint8(result)[full])
    soft = (mask > 0) & (mask < 1)
    blend = original / 255.0 * (1 - mask[..., None]) + result * mask[..., None]
    assert np.abs(out[soft].astype(int) - np.round(np.clip(blend[soft], 0, 1) * 255)).max() <= 1
    assert np.array_equal(original, o0) and np.array_equal(result, r0) and np.array_equal(mask, m0)


def test_composite_torch_unbatched_and_float():
    original = torch.randint(0, 256, (40, 24, 3), dtype=torch.uint8)
    result = torch.rand(40, 24, 3)
    mask = soft_mask()[0]
    out = composite_known(original, result, mask)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.uint8 and out.shape == (40, 24, 3)
    assert torch.equal(out[:20], original[:20])
    as_float = original[None].float() / 255.0
    out_f = composite_known(as_float, result[None], mask)
    assert out_f.dtype == torch.float32 and torch.equal(out_f[0, :20], as_float[0, :20])
    assert torch.allclose(out_f[0, 24:], result[24:])


def test_comfyui_load_save_round_trip_is_exact_for_every_uint8_value():
    # LoadImage: float32(uint8) / 255; SaveImage: uint8(clip(255 * x, 0, 255)), truncating
    values = np.arange(256, dtype=np.uint8)
    loaded = values.astype(np.float32) / 255.0
    assert np.array_equal(np.clip(255.0 * loaded, 0, 255).astype(np.uint8), values)
    assert np.array_equal(to_uint8(loaded, "floor"), values) and np.array_equal(to_uint8(loaded), values)
    assert to_uint8(np.array([0.999, -1.0, 2.0], np.float32), "floor").tolist() == [254, 0, 255]
    assert to_uint8(np.array([0.999], np.float32)).tolist() == [255]
    with pytest.raises(ValueError, match="rounding"):
        to_uint8(loaded, "ceil")


def test_composite_bad_input():
    with pytest.raises(ValueError, match="mask"):
        composite_known(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.float32), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="result"):
        composite_known(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5, 3), np.float32), np.zeros((4, 4)))
    with pytest.raises(ValueError, match="uint8 or float"):
        composite_known(np.zeros((4, 4, 3), np.int32), np.zeros((4, 4, 3), np.float32), np.zeros((4, 4)))


def test_match_color_moves_mean_and_std_to_the_reference():
    g = torch.Generator().manual_seed(0)
    generated = 0.4 + 0.05 * torch.randn(500, 3, generator=g)
    reference = torch.tensor([0.6, 0.45, 0.3]) + torch.tensor([0.08, 0.04, 0.06]) * torch.randn(
        800, 3, generator=g
    )
    rgb = match_color(generated, reference, space="rgb")
    assert torch.allclose(rgb.mean(0), reference.mean(0), atol=1e-5)
    assert torch.allclose(rgb.std(0, unbiased=False), reference.std(0, unbiased=False), atol=1e-5)
    lab = match_color(generated, reference, space="lab")
    assert torch.allclose(_to_lab(lab).mean(0), _to_lab(reference).mean(0), atol=1e-4)
    assert torch.allclose(_to_lab(lab).std(0), _to_lab(reference).std(0), atol=1e-4)
    assert torch.allclose(match_color(generated, reference, strength=0.0), generated, atol=1e-6)
    half = match_color(generated, reference, space="rgb", strength=0.5)
    assert torch.allclose(half, (generated + rgb) / 2, atol=1e-6)


def test_match_color_to_itself_is_the_identity_in_lab():
    x = torch.rand(4, 10, 3) * 0.9 + 0.05
    assert torch.allclose(match_color(x, x, space="lab"), x, atol=1e-5)


def test_known_band_is_the_ring_of_known_pixels_next_to_the_unknown():
    mask = torch.zeros(1, 40, 8)
    mask[:, 30:] = 1
    band = known_band(mask, 5)
    assert band.shape == (1, 40, 8)
    assert torch.all(band[0, 25:30]) and not band[0, :25].any() and not band[0, 30:].any()
    with pytest.raises(ValueError, match="band"):
        known_band(mask, 0)


def test_match_color_to_known_shifts_only_the_generated_region():
    g = torch.Generator().manual_seed(1)
    image = torch.empty(1, 64, 32, 3)
    image[:, :32] = torch.tensor([0.7, 0.5, 0.3]) + 0.03 * torch.randn(1, 32, 32, 3, generator=g)
    image[:, 32:] = torch.tensor([0.3, 0.3, 0.6]) + 0.1 * torch.randn(1, 32, 32, 3, generator=g)
    image = image.clamp(0, 1)
    mask = torch.zeros(1, 64, 32)
    mask[:, 32:] = 1
    before = image.clone()
    out = match_color_to_known(image, mask, band=16, space="rgb")
    assert torch.equal(image, before)
    assert torch.equal(out[:, :32], image[:, :32])  # known pixels bit-exact
    ref = image[0, 16:32].reshape(-1, 3)
    assert torch.allclose(out[0, 32:].reshape(-1, 3).mean(0), ref.mean(0), atol=2e-3)
    assert (out[0, 32:].reshape(-1, 3).std(0) - ref.std(0)).abs().max() < 5e-3
    assert torch.allclose(match_color_to_known(image, mask, band=16, strength=0.0), image)
    with pytest.raises(ValueError, match="all 0 or all 1"):
        match_color_to_known(image, torch.zeros(1, 64, 32))
    with pytest.raises(ValueError, match="mask is 32x60 pixels"):
        match_color_to_known(image, mask[:, :60])


def test_match_color_bad_input():
    with pytest.raises(ValueError, match="channels"):
        match_color(torch.rand(5, 3), torch.rand(5, 4))
    with pytest.raises(ValueError, match="space='lab' needs"):
        match_color(torch.rand(5, 4), torch.rand(5, 4))
    with pytest.raises(ValueError, match="space"):
        match_color(torch.rand(5, 3), torch.rand(5, 3), space="hsv")
    with pytest.raises(ValueError, match="strength"):
        match_color(torch.rand(5, 3), torch.rand(5, 3), strength=2)
    with pytest.raises(ValueError, match="at least 2 reference"):
        match_color(torch.rand(5, 3), torch.rand(1, 3))


def test_to_uint8_torch_rounds_like_numpy():
    x = np.array([0.999, 0.5 / 255, 1.5 / 255, 0.3, -1.0, 2.0], np.float32)
    for rounding in ("round", "floor"):
        t = to_uint8(torch.from_numpy(x), rounding)
        assert t.dtype == torch.uint8 and t.tolist() == to_uint8(x, rounding).tolist()
    assert to_uint8(torch.tensor([0.999])).tolist() == [255]  # nearest, not floor (254)
    assert to_uint8(torch.tensor([0.999]), "floor").tolist() == [254]

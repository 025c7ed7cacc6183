"""Padding a pose, an image and its mask together."""

import copy

import numpy as np
import pytest
import torch

from repaint_extend.pose import auto_padding, pad, pad_all, pad_image_mask, person_from_points, person_points


def frame_with(points, w=100, h=80):
    pts = np.zeros((24, 3))
    for i, (x, y) in points.items():
        pts[i] = (x, y, 1.0)
    return {"people": [person_from_points(pts)], "canvas_width": w, "canvas_height": h}


def test_pad_rebases_present_points_only():
    frame = frame_with({0: (10, 20), 10: (50, 130), 20: (-5, 90)})
    frame["people"][0]["prior_keypoints_2d"] = [1.0, 2.0, 0.1] * 24
    before = copy.deepcopy(frame)
    out = pad(frame, 3, 7, 11, 13)
    assert frame == before
    assert (out["canvas_width"], out["canvas_height"]) == (114, 100)
    p = person_points(out["people"][0])
    assert p[0].tolist() == [13, 27, 1] and p[10].tolist() == [53, 137, 1] and p[20].tolist() == [-2, 97, 1]
    assert p[1].tolist() == [0, 0, 0]  # missing stays missing
    assert out["people"][0]["prior_keypoints_2d"][:2] == [4.0, 9.0]


@pytest.mark.parametrize(
    "bad,error", [(-1, ValueError), (1.5, TypeError), ("3", TypeError), (True, TypeError)]
)
def test_pad_rejects_bad_offsets(bad, error):
    with pytest.raises(error, match="left"):
        pad(frame_with({0: (1, 1)}), bad, 0, 0, 0)


def test_auto_padding_contains_feet_plus_margin_in_multiples_of_64():
    frame = frame_with({10: (50, 130), 18: (60, 150), 21: (-20, 140)}, w=128, h=128)
    pads = auto_padding(frame, margin=10)
    assert pads == (64, 0, 0, 64)
    out = pad(frame, *pads)
    p = person_points(out["people"][0])
    pres = p[:, 2] > 0
    assert p[pres, 1].max() + 10 <= out["canvas_height"] - 1 and p[pres, 0].min() >= 10
    assert all(v % 64 == 0 for v in pads)
    assert auto_padding(frame_with({0: (64, 64)}, 128, 128), margin=10) == (0, 0, 0, 0)
    assert auto_padding(frame, margin=10, sides="b") == (0, 0, 0, 64)
    with pytest.raises(ValueError, match="multiple"):
        auto_padding(frame, multiple=0)


def test_pad_image_mask_numpy():
    img = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    mask = np.zeros((4, 5), np.float32)
    mask[0, 0] = 0.5
    img0, mask0 = img.copy(), mask.copy()
    out, m = pad_image_mask(img, mask, 1, 0, 0, 2)
    np.testing.assert_array_equal(img, img0)
    np.testing.assert_array_equal(mask, mask0)
    assert out.shape == (6, 6, 3) and out.dtype == np.uint8 and m.shape == (6, 6) and m.dtype == np.float32
    np.testing.assert_array_equal(out[:4, 1:], img)
    np.testing.assert_array_equal(out[5, 1:], img[3])  # edge mode replicates
    assert m[:4, 0].min() == 1.0 and m[4:].min() == 1.0  # new area unknown
    assert m[0, 1] == 0.5 and m[1:4, 1:].max() == 0.0  # old mask kept, known pixels 0
    out_c, _ = pad_image_mask(img, None, 0, 0, 0, 1, mode="constant", fill=7)
    assert np.all(out_c[4] == 7)


def test_grow_and_feather():
    img = np.zeros((20, 10, 3), np.float32)
    _, m = pad_image_mask(img, None, 0, 0, 0, 4, grow=2, feather=3)
    col = m[:, 5]
    assert np.all(col[20:] == 1) and np.all(col[18:20] == 1)  # new area + 2 grown rows
    np.testing.assert_allclose(col[15:18], [0.25, 0.5, 0.75])  # linear ramp over 3 px
    assert np.all(col[:15] == 0)


def test_pad_image_mask_torch_batch():
    img = torch.rand(2, 8, 6, 3)
    mask = torch.zeros(2, 8, 6)
    img0 = img.clone()
    out, m = pad_image_mask(img, mask, 2, 1, 0, 3, mode="reflect")
    assert torch.equal(img, img0)
    assert out.shape == (2, 12, 8, 3) and m.shape == (2, 12, 8) and m.dtype == torch.float32
    assert torch.equal(out[:, 1:9, 2:], img)
    assert torch.equal(out[:, 1:9, 0], img[:, :, 2])  # reflect
    assert m[:, 0].min() == 1 and m[:, :, :2].min() == 1 and m[:, 1:9, 2:].max() == 0
    out2, m2 = pad_image_mask(img[0], None, 0, 0, 0, 2)
    assert out2.shape == (10, 6, 3) and m2.shape == (10, 6)


def test_pad_all_auto_and_mismatch():
    frame = frame_with({10: (50, 130)}, w=64, h=64)
    img = np.zeros((64, 64, 3), np.uint8)
    i2, m2, f2, pads = pad_all(img, None, frame, "auto", margin=8)
    assert pads == (0, 0, 0, 128) and i2.shape == (192, 64, 3) and f2["canvas_height"] == 192
    with pytest.raises(ValueError, match="does not match"):
        pad_all(np.zeros((10, 10, 3), np.uint8), None, frame)
    with pytest.raises(ValueError, match="mask"):
        pad_image_mask(img, np.zeros((3, 3)), 0, 0, 0, 1)
    with pytest.raises(TypeError, match="image"):
        pad_image_mask([[1]], None, 0, 0, 0, 1)


def test_pad_all_mode_argument_and_the_old_auto_spelling():
    frame = frame_with({10: (50, 130)}, w=64, h=64)
    img = np.zeros((64, 64, 3), np.uint8)
    assert pad_all(img, None, frame, padding="auto", margin=8)[3] == (0, 0, 0, 128)
    assert pad_all(img, None, frame, "auto", margin=8)[3] == (0, 0, 0, 128)  # saved callers keep working
    assert pad_all(img, None, frame, margin=8)[3] == (0, 0, 0, 128)  # default: auto
    assert pad_all(img, None, frame, padding="manual", bottom=8)[3] == (0, 0, 0, 8)
    assert pad_all(img, None, frame, 3, 0, 0, 5)[3] == (3, 0, 0, 5)  # positional pads: manual
    assert pad_all(img, None, frame, 3, 0, 0, 5, padding="auto", margin=8)[3] == (0, 0, 0, 128)
    with pytest.raises(ValueError, match="padding"):
        pad_all(img, None, frame, padding="fit")
    with pytest.raises(TypeError, match="left"):
        pad_all(img, None, frame, "auto", padding="manual")


@pytest.mark.parametrize("dtype", [torch.uint8, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("mode", ["edge", "reflect", "constant"])
def test_torch_and_numpy_pad_alike_in_every_dtype(dtype, mode):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (2, 5, 7, 3), dtype=np.uint8)
    img = torch.from_numpy(base).to(dtype)
    out, m = pad_image_mask(img, torch.zeros(2, 5, 7), 2, 1, 3, 4, mode=mode, fill=9)
    ref, ref_m = pad_image_mask(base, np.zeros((2, 5, 7), np.float32), 2, 1, 3, 4, mode=mode, fill=9)
    assert out.dtype == dtype and m.dtype == torch.float32 and out.shape == (2, 10, 12, 3)
    assert torch.equal(out.float(), torch.from_numpy(ref).float())  # same pixels, bit-exact copies
    assert torch.equal(m, torch.from_numpy(ref_m))


def test_auto_padding_completes_an_odd_sized_canvas_without_cropping():
    """A 509x507 photo: the canvas becomes a multiple of ``multiple`` (Outpaint (Tiled) needs 8) by growing
    the padded side, and every original pixel lands at (x + left, y + top)."""
    frame = frame_with({10: (250, 700), 0: (250, 40)}, w=509, h=507)
    pads = auto_padding(frame, margin=10, multiple=64)
    left, top, right, bottom = pads
    assert (509 + left + right) % 64 == 0 and (507 + top + bottom) % 64 == 0
    assert pads == (0, 0, 3, 261)  # bottom: 256 for the foot, + 5 to reach 768; right: 3 to reach 512
    assert auto_padding(frame, margin=10, multiple=64, sides="lb") == (3, 0, 0, 261)  # only left allowed
    assert auto_padding(frame, margin=10, multiple=8, sides="t") == (0, 5, 0, 0)
    assert auto_padding(frame_with({10: (10, 40)}, w=509, h=507), margin=20, multiple=8) == (16, 0, 3, 5)
    image = np.random.default_rng(0).integers(0, 256, (507, 509, 3), dtype=np.uint8)
    out, mask, _, used = pad_all(image, None, frame, "auto", margin=10, multiple=64)
    assert used == pads and out.shape == (768, 512, 3)
    np.testing.assert_array_equal(out[top : top + 507, left : left + 509], image)
    assert (
        mask[top : top + 507, left : left + 509].max() == 0 and mask[-1].min() == 1 and mask[:, -1].min() == 1
    )


def test_auto_padding_never_pads_above_a_head():
    """a face within the margin of the top edge padded the top (content generated above the head
    in a job that extends legs). Only legs and feet make room: a nose, eyes, wrists at the edges pad nothing."""
    head_at_top = {0: (50, 5), 14: (45, 3), 15: (55, 3), 4: (2, 40), 7: (98, 40), 10: (50, 130)}
    assert auto_padding(frame_with(head_at_top, w=100, h=80), margin=32, multiple=8) == (0, 0, 4, 88)
    # today's main: (32, 32, 36, 88): the nose and the wrists padded the top, left and right
    nose_above = frame_with({0: (50, -3)}, w=64, h=64)
    assert auto_padding(nose_above, margin=8) == (0, 0, 0, 0)
    # nobody with a leg point: every point counts, but still never the top
    no_legs = frame_with({0: (50, 5), 5: (60, 79)}, w=100, h=80)
    assert auto_padding(no_legs, margin=32, multiple=8) == (0, 0, 4, 32)  # + 4: a width of 104


def test_auto_padding_grows_below_every_persons_feet_and_only_there():
    """Two people: one's completed feet fall 60 px below the frame, the other's lie inside it. The canvas
    grows below by what the first needs; the second's legs, already in the photo, stay known pixels."""
    cut = frame_with({8: (30, 50), 10: (30, 140), 13: (40, 138)}, w=128, h=80)["people"][0]
    whole = frame_with({8: (90, 30), 10: (90, 70), 13: (100, 70), 0: (90, 2)}, w=128, h=80)["people"][0]
    frame = {"people": [cut, whole], "canvas_width": 128, "canvas_height": 80}
    assert auto_padding(frame, margin=8, multiple=8) == (0, 0, 0, 72)
    assert auto_padding({**frame, "people": [whole]}, margin=8, multiple=8) == (0, 0, 0, 0)
    image = np.zeros((80, 128, 3), np.uint8)
    _, mask, _, pads = pad_all(image, None, frame, "auto", margin=8, multiple=8)
    assert pads == (0, 0, 0, 72) and mask[:80].max() == 0 and mask[80:].min() == 1

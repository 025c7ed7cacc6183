"""16-bit photos: I;16 to 8 bits as v / 257 rounded (issue 20 §3), not LoadImage's mode-I scale x 1/255."""

import numpy as np
import pytest
from PIL import Image

from runner import intake


def test_sixteen_to_eight_is_v_over_257_rounded():
    v = np.arange(65536)
    out = intake.sixteen_to_eight(v)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.round(v / 257))
    assert (
        out[65535] == 255
        and out[257 * 200] == 200
        and out[257 * 200 + 128] == 200
        and out[257 * 200 + 129] == 201
    )


@pytest.mark.parametrize("mode", ["I;16", "I;16B"])
def test_a_sixteen_bit_photo_decodes_to_its_levels_over_257(tmp_path, mode):
    """Today (x 1/255): 65535 -> 255 only by clipping, 64250 (= 257 x 250) -> 252 instead of 250."""
    rng = np.random.default_rng(0)
    levels = rng.integers(0, 65536, (70, 90)).astype(np.uint16)
    levels[0, :4] = (0, 257 * 250, 65535, 257 * 100 + 128)
    image = (
        Image.fromarray(levels)
        if mode == "I;16"
        else Image.frombytes(mode, (90, 70), levels.astype(">u2").tobytes())
    )
    path = tmp_path / f"sixteen_{mode.replace(';', '')}.png"
    image.save(path) if mode == "I;16" else image.save(path.with_suffix(".tif"))
    photo = intake.decode(path if mode == "I;16" else path.with_suffix(".tif"))
    assert photo.mode in intake.SIXTEEN_BIT
    expected = np.round(levels / 257).astype(np.uint8)
    np.testing.assert_array_equal(photo.rgb, np.repeat(expected[:, :, None], 3, axis=2))
    assert photo.rgb[0, :4, 0].tolist() == [0, 250, 255, 100]

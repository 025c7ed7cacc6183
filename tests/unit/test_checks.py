"""The shared argument checks (checks.py)."""

import numpy as np
import pytest
import torch

from repaint_extend.checks import check_image, check_int, check_mask, check_mask_size, confined_path


def test_check_int_accepts_python_and_numpy_integers_in_range():
    assert check_int("steps", 3, 1) == 3
    value = check_int("steps", np.int64(3), 1, 3)
    assert value == 3 and type(value) is int
    assert check_int("offset", -5) == -5  # unbounded


@pytest.mark.parametrize("bad", [True, 2.0, "2", None, np.float32(2)])
def test_check_int_refuses_non_integers_and_bools_naming_the_input(bad):
    with pytest.raises(TypeError, match="jump_length must be an int"):
        check_int("jump_length", bad, 1)


@pytest.mark.parametrize(
    "value, minimum, maximum, message",
    [(0, 1, None, r">= 1, got 0"), (5, None, 4, r"<= 4, got 5"), (9, 1, 8, r"in \[1, 8\], got 9")],
)
def test_check_int_range_errors_name_the_input_and_the_range(value, minimum, maximum, message):
    with pytest.raises(ValueError, match="num_beams must be " + message):
        check_int("num_beams", value, minimum, maximum)


def test_confined_path_stays_inside_its_folder(tmp_path):
    (tmp_path / "input" / "poses").mkdir(parents=True)
    (tmp_path / "secret.json").write_text("{}")
    (tmp_path / "input" / "link.json").symlink_to(tmp_path / "secret.json")
    base = tmp_path / "input"
    assert confined_path(base, "poses/a.json", "file", "input") == str((base / "poses" / "a.json").resolve())
    for name in ("../secret.json", str(tmp_path / "secret.json"), "link.json", ".", "poses/../.."):
        with pytest.raises(ValueError, match="file: .* not inside ComfyUI's input folder"):
            confined_path(base, name, "file", "input")


def test_confined_path_may_accept_the_folder_itself_to_write_into(tmp_path):
    assert confined_path(tmp_path, "", "filename_prefix", "output", folder_itself=True) == str(
        tmp_path.resolve()
    )
    with pytest.raises(ValueError, match="filename_prefix: '..' is not inside ComfyUI's output folder"):
        confined_path(tmp_path / "x", "..", "filename_prefix", "output", folder_itself=True)


def test_image_and_mask_checks_name_the_input_and_the_fix():
    image = torch.zeros(2, 8, 6, 3)
    assert check_image(image, "canvas") is image
    for bad, match in [
        (image.numpy(), "canvas must be a torch tensor"),
        (image[0], r"canvas must be \[B, H, W, C\]"),
        (torch.zeros(1, 8, 6, 2), "C = 1, 3 or 4"),
        (image.to(torch.uint8), "divide uint8 images by 255"),
    ]:
        with pytest.raises(ValueError, match=match):
            check_image(bad, "canvas")
    m = check_mask(torch.ones(8, 6, dtype=torch.bool), image)
    assert m.shape == (1, 8, 6) and m.dtype == torch.float32 and bool(m.all())
    assert check_mask_size(np.zeros((2, 8, 6), np.uint8), (8, 6)).dtype == torch.uint8  # numpy: shared
    for bad, match in [
        ([[0.0]], "mask must be a torch tensor"),
        (torch.zeros(1, 1, 8, 6), r"\[H, W\] or \[B, H, W\]"),
        (torch.zeros(8, 5), "mask is 5x8 pixels but the image is 6x8"),
        (torch.zeros(3, 8, 6), "batch of 3 but the image has 2"),
    ]:
        with pytest.raises(ValueError, match=match):
            check_mask(bad, image)

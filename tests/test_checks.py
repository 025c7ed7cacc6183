"""The shared argument checks (checks.py)."""

import numpy as np
import pytest
from repaint_extend.checks import check_int, confined_path


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

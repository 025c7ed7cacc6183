"""install.py keeps what works in the user's ComfyUI (issue 20 §4): the decision is install.plan (pure)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def install():
    spec = importlib.util.spec_from_file_location("pack_install", ROOT / "install.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def files(install):
    return (
        install._lines((ROOT / "requirements.txt").read_text()),
        install._lines((ROOT / "requirements-nodeps.txt").read_text()),
    )


def _names(install, steps):
    return [install.requirement_name(a) for step in steps for a in step if not a.startswith("-")]


BASE = {"torch": "2.5.0", "numpy": "2.1.0", "pillow": "11.0.0"}


@pytest.mark.parametrize(
    "opencv", ["opencv-contrib-python", "opencv-python", "opencv_contrib_python_headless"]
)
def test_an_installed_opencv_is_kept_and_no_second_cv2_comes(install, files, opencv):
    """Today: requirements.txt's opencv-python-headless (and controlnet-aux's requirement of it) overwrote a
    contrib build's cv2: cv2.ximgproc vanished."""
    steps = install.plan(*files, {**BASE, install.canonical(opencv): "4.10.0"}, mediapipe_works=False)
    names = _names(install, steps)
    assert not set(names) & {install.canonical(n) for n in install.OPENCV}
    assert ["--no-deps", "controlnet-aux==0.0.10"] == [
        a for a in steps[-1] if "controlnet" in a or a == "--no-deps"
    ]
    for dep in ("timm", "scikit-image", "huggingface-hub", "einops"):  # controlnet-aux's others, normally
        assert dep in _names(install, steps[:1])
    assert "controlnet-aux" not in _names(install, steps[:1])
    assert len(names) == len(set(names))  # each once (scipy is in both lists)


def test_without_opencv_the_headless_one_is_installed_once(install, files):
    steps = install.plan(*files, dict(BASE), mediapipe_works=False)
    names = _names(install, steps)
    assert names.count("opencv-python-headless") == 1
    assert not set(names) & {"opencv-python", "opencv-contrib-python"}
    assert "controlnet-aux" in _names(install, steps[:1])  # with its dependencies, as before
    assert steps[-1] == ["--no-deps", "mediapipe==1.2.2"]


def test_a_working_mediapipe_is_kept_a_broken_or_missing_one_replaced(install, files):
    """Today: mediapipe==1.2.2 --no-deps replaced any mediapipe (controlnet_aux then failed to import)."""
    with_cv2 = {**BASE, "opencv-python-headless": "4.10.0"}
    kept = install.plan(*files, {**with_cv2, "mediapipe": "0.10.21"}, mediapipe_works=True)
    assert "mediapipe" not in _names(install, kept)
    broken = install.plan(*files, {**with_cv2, "mediapipe": "0.9.0"}, mediapipe_works=False)
    assert ["--no-deps", "mediapipe==1.2.2"] == [
        a for a in broken[-1] if a == "--no-deps" or "mediapipe" in a
    ]
    missing = install.plan(*files, with_cv2, mediapipe_works=True)  # nothing installed to keep
    assert "mediapipe" in _names(install, missing)


def test_names_compare_as_pip_compares_them(install):
    assert install.canonical("Opencv_Contrib.Python") == "opencv-contrib-python"
    assert install.requirement_name("controlnet-aux==0.0.10") == "controlnet-aux"
    assert install.requirement_name("pydantic>=2,<3") == "pydantic"
    assert install.requirement_name("opencv-python-headless") == "opencv-python-headless"

"""Run by ComfyUI-Manager after cloning the pack: install the pack's needs into ComfyUI's Python, keeping
what already works there (docs/install.md).

- OpenCV: any installed OpenCV distribution (``opencv-python``, ``opencv-contrib-python``, their
  ``-headless`` twins) provides the ``cv2`` the pack uses. ``opencv-python-headless`` is installed only when
  there is none, so a user's contrib or GUI build (``cv2.ximgproc``, ``cv2.imshow``, used by other packs)
  is never overwritten by a second ``cv2``. controlnet-aux, which requires ``opencv-python-headless`` by
  name, is then installed with ``--no-deps`` and its other requirements listed here.
- mediapipe: kept when the installed one's Tasks ``PoseLandmarker`` loads the pack's bundle
  (``pose/models/pose_landmarker_full.task``); otherwise the pinned one (requirements-nodeps.txt) is
  installed with ``--no-deps`` (its own ``opencv-contrib-python`` requirement would add a second ``cv2``).

:func:`plan` is the decision (pure); the rest reads what is installed and runs pip.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent

OPENCV = (
    "opencv-python",
    "opencv-contrib-python",
    "opencv-python-headless",
    "opencv-contrib-python-headless",
)
"""The PyPI distributions that provide ``cv2`` (each overwrites the others' ``cv2`` folder)."""
HEADLESS = "opencv-python-headless"
CONTROLNET_AUX_DEPS = (
    "torch",
    "importlib_metadata",
    "huggingface_hub",
    "scipy",
    "filelock",
    "numpy",
    "Pillow",
    "einops",
    "torchvision",
    "timm",
    "scikit-image",
)
"""controlnet-aux 0.0.10's requirements (its METADATA ``Requires-Dist``) without ``opencv-python-headless``."""


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503: lower case, runs of ``-_.`` as ``-``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line: str) -> str:
    """The canonical distribution name of a requirements line (``controlnet-aux==0.0.10`` -> ``controlnet-aux``)."""
    return canonical(re.split(r"[<>=!~;\[ ]", line.strip(), maxsplit=1)[0])


def _lines(text: str) -> list[str]:
    return [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]


def plan(
    requirements: Sequence[str], nodeps: Sequence[str], installed: Mapping[str, str], mediapipe_works: bool
) -> list[list[str]]:
    """What to ``pip install``, given what is installed: a list of pip argument lists, run in order.

    Args:
        requirements: requirements.txt's lines (comments removed).
        nodeps: requirements-nodeps.txt's lines (installed with ``--no-deps``; mediapipe).
        installed: installed distributions, canonical name -> version.
        mediapipe_works: whether the installed mediapipe's Tasks PoseLandmarker loads the pack's bundle.
    Returns:
        e.g. ``[["-r-lines..."], ["--no-deps", "controlnet-aux==0.0.10"]]``: the requirements (without
        OpenCV when one is installed, controlnet-aux's own requirements instead of it), then the
        ``--no-deps`` installs. Never names an OpenCV distribution when one is installed; never
        mediapipe when the installed one works.
    """
    have_cv2 = any(canonical(name) in installed for name in OPENCV)
    normal, no_deps = [], []
    for line in requirements:
        name = requirement_name(line)
        if name in map(canonical, OPENCV):
            if not have_cv2:
                normal.append(line)
        elif name == "controlnet-aux" and have_cv2:
            no_deps.append(line)  # it requires opencv-python-headless by name
            normal += [
                dep for dep in CONTROLNET_AUX_DEPS if canonical(dep) not in map(requirement_name, normal)
            ]
        else:
            normal.append(line)
    for line in nodeps:
        if requirement_name(line) == "mediapipe" and "mediapipe" in installed and mediapipe_works:
            continue
        no_deps.append(line)
    normal = [
        line
        for i, line in enumerate(normal)
        if requirement_name(line) not in map(requirement_name, normal[:i])
    ]
    steps = [normal] if normal else []
    if no_deps:
        steps.append(["--no-deps", *no_deps])
    return steps


def installed_distributions() -> dict[str, str]:
    """Canonical name -> version of every distribution this Python sees."""
    out = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            out.setdefault(canonical(name), dist.version)
    return out


PROBE = """
import sys
from mediapipe.tasks.python import BaseOptions, vision
options = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=sys.argv[1]))
vision.PoseLandmarker.create_from_options(options).close()
"""


def mediapipe_works(python: str = sys.executable) -> bool:
    """Whether ``python``'s mediapipe loads the pack's pose bundle with the Tasks PoseLandmarker (in a child
    process: a broken mediapipe must not take this one down)."""
    bundles = sorted(HERE.rglob("pose_landmarker_full.task"))
    if not bundles:
        return False
    done = subprocess.run(
        [python, "-c", PROBE, str(bundles[0])], capture_output=True, text=True, timeout=300, check=False
    )
    return done.returncode == 0


def main() -> None:
    requirements = _lines((HERE / "requirements.txt").read_text())
    nodeps = _lines((HERE / "requirements-nodeps.txt").read_text())
    installed = installed_distributions()
    works = "mediapipe" in installed and mediapipe_works()
    steps = plan(requirements, nodeps, installed, works)
    kept = [name for name in OPENCV if canonical(name) in installed] + (["mediapipe"] if works else [])
    if kept:
        print(f"install.py: keeping the installed {', '.join(kept)}")
    for args in steps:
        subprocess.check_call([sys.executable, "-m", "pip", "install", *args])


if __name__ == "__main__":
    main()

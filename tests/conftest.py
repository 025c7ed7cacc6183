"""Test set-up shared by every test.

The repository root is the package that ComfyUI imports, so it is never put on ``sys.path`` (its
``nodes/`` would shadow ComfyUI's ``nodes``). Instead the root is registered here as the package
``repaint_extend``: core tests write ``from repaint_extend.samplers import ...``.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# harness/ holds no `nodes` folder, so it can go on sys.path (the repository root never does).
sys.path.insert(0, str(ROOT / "harness"))

import pack  # noqa: E402

pack.load()


# --- the real host -----------------------------------------------------------------------------------
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def comfy(tmp_path_factory):
    """ComfyUI booted in this process (CPU) with the pack and the harness nodes loaded; returns the
    ``comfy_host`` module (``run_graph``, ``validate``, ``GraphError``)."""
    import comfy_host

    comfy_host.boot(tmp_path_factory.mktemp("comfyui"))
    return comfy_host


@pytest.fixture(scope="session")
def graphs(comfy):
    import graphs as graph_builders

    return graph_builders


@pytest.fixture(scope="session")
def camera_input(comfy):
    """``camera_input(width, height, name=None) -> name``: scikit-image's camera.png (CC0; a man cut off at
    the thighs) as RGB, resized to ``width`` x ``height`` px unless None, saved in ComfyUI's input folder
    under ``name`` (default ``camera_{width}x{height}.png``) for LoadImage."""
    import folder_paths
    import skimage
    from PIL import Image

    source = Path(skimage.data.__file__).parent / "camera.png"

    def put(width=None, height=None, name=None):
        image = Image.open(source).convert("RGB")
        if width is not None:
            image = image.resize((width, height))
        name = name or f"camera_{image.width}x{image.height}.png"
        image.save(Path(folder_paths.get_input_directory()) / name)
        return name

    return put

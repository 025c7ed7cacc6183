"""Test set-up shared by every test.

The repository root is the package that ComfyUI imports, so it is never put on ``sys.path`` (its
``nodes/`` would shadow ComfyUI's ``nodes``). Instead the root is registered here as the package
``repaint_extend``: core tests write ``from repaint_extend.samplers import ...``.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIR = ROOT / "tests" / "_output"

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

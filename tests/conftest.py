"""Test set-up shared by every test.

Tests import what they test by name: ``repaint_extend`` (the pack), ``runner``, ``bench`` and ``support``
(the stand-in models and test-only nodes in ``tests/support``), installed editable by ``scripts/setup.sh``
and, for this checkout first, put on the path by pytest's ``pythonpath`` (pyproject.toml). Layers:
``tests/unit`` (the core, no ComfyUI: its ``comfy`` fixture fails), ``tests/integration`` (ComfyUI's
executor, the runner, servers), ``tests/browser`` (the Pose Editor in Chromium).

The whole suite (``pytest -q``, no test paths) runs on two pytest-xdist workers, one module per worker at a
time (``-n auto --dist loadfile`` in pyproject.toml; :func:`pytest_xdist_auto_num_workers`); named tests
(``pytest tests/unit/test_x.py``, ``scripts/mutate.py``) and ``-n 0`` run in this one process. Each worker boots
its own ComfyUI in its own temporary folder, and its torch, and the servers and runners it starts, use one
thread (:data:`WORKER`).
"""

import copy
import os
from pathlib import Path

WORKER = os.environ.get("PYTEST_XDIST_WORKER")
"""The xdist worker this process is (``gw0``, ``gw1``), None outside xdist. Two workers that each spin
torch's default thread per core on 2 cores slow each other down several times over (README,
bench_batch.py), so a worker and its children (OMP_NUM_THREADS is inherited) use one thread each."""
if WORKER:
    os.environ["OMP_NUM_THREADS"] = "1"

ROOT = Path(__file__).resolve().parent.parent

if WORKER:
    import torch

    torch.set_num_threads(1)


# --- scheduling ---------------------------------------------------------------------------------------
import pytest  # noqa: E402

FIRST = ("browser", "slow")
"""Markers of the slowest modules (the browser; ComfyUI servers and runner subprocesses: about 40 of the
suite's 70 s), collected first, in this order, so that xdist hands them out first and the small modules fill
in around them. A module marks itself with ``pytestmark``."""


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: two workers for the whole suite on a machine with 2 or more usable cores (the measured
    setting, bench/bench_suite.py); none (this process) on one core or when test paths are named."""
    if config.args_source is not pytest.Config.ArgsSource.TESTPATHS:
        return 0
    cores = len(os.sched_getaffinity(0))
    return min(2, cores) if cores > 1 else 0


def pytest_collection_modifyitems(items):
    def rank(item):
        return next((i for i, name in enumerate(FIRST) if item.get_closest_marker(name)), len(FIRST))

    items.sort(key=rank)  # stable within a module


# --- the real host -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def comfy(tmp_path_factory):
    """ComfyUI booted in this process (CPU) with the pack and the test-only nodes (``support``) loaded;
    returns the ``runner.host`` module (``run_graph``, ``validate``, ``GraphError``)."""
    import support

    from runner import host as comfy_host

    comfy_host.boot(tmp_path_factory.mktemp("comfyui"), extra_nodes=support.CUSTOM_NODES)
    import folder_paths

    _BOOTED_MODEL_FOLDERS.update(copy.deepcopy(folder_paths.folder_names_and_paths))
    return comfy_host


_BOOTED_MODEL_FOLDERS: dict = {}
"""ComfyUI's model folders (``folder_paths.folder_names_and_paths``) as the boot left them."""


@pytest.fixture(autouse=True, scope="module")
def _model_folders_per_module():
    """Model folders that a module registers (``folder_paths.add_model_folder_path``: empty checkpoints,
    tiny models, the runner's ``--checkpoint`` paths) go when the module ends, so that no module sees
    another's models, whatever the order and whichever worker runs it."""
    yield
    if _BOOTED_MODEL_FOLDERS:
        import folder_paths

        folder_paths.folder_names_and_paths.clear()
        folder_paths.folder_names_and_paths.update(copy.deepcopy(_BOOTED_MODEL_FOLDERS))
        folder_paths.filename_list_cache.clear()


@pytest.fixture(scope="session")
def graphs(comfy):
    from support import graphs as graph_builders

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

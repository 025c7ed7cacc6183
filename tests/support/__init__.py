"""What the tests (and some benchmarks) build instead of real weights: randomly initialised models in the
real key layouts (:mod:`.tiny_models`, :mod:`.tiny_blip`), analytic denoisers (:mod:`.analytic`), and
test-only ComfyUI nodes in :data:`CUSTOM_NODES` (loaders of those models, recorders). Imported as
``support`` (``pip install -e .``, or pytest's ``pythonpath``); nothing in ``repaint_extend`` imports it."""

from pathlib import Path

CUSTOM_NODES = Path(__file__).resolve().parent / "custom_nodes"
"""A ``custom_nodes`` folder for ``runner.host.boot(extra_nodes=...)`` and ``start_server``."""

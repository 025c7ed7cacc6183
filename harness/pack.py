"""Import this repository as a Python package without putting its root on ``sys.path``.

The root is the package ComfyUI imports (its ``nodes/`` would shadow ComfyUI's ``nodes`` on
``sys.path``), so scripts, benchmarks and tests register it under the name ``repaint_extend`` instead:
``import pack; pack.load(); from repaint_extend.samplers import jump_schedule``.
"""

from __future__ import annotations

import importlib.util
import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = "repaint_extend"


def load():
    """Register the repository root as the package ``repaint_extend`` (once) and return it."""
    if NAME not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            NAME, ROOT / "__init__.py", submodule_search_locations=[str(ROOT)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[NAME] = module
        spec.loader.exec_module(module)
    return sys.modules[NAME]


def run_as_module(path: str) -> None:
    """Run the file ``path`` (inside the repository) as the module ``repaint_extend.<its dotted path>``
    with ``__name__ == "__main__"``, so that a script in a sub-folder (``training/``) can use relative
    imports (``from ..pixel import ...``); then exit. Its command-line arguments stay in ``sys.argv``."""
    load()
    parts = Path(path).resolve().relative_to(ROOT).with_suffix("").parts
    runpy.run_module(".".join((NAME, *parts)), run_name="__main__", alter_sys=True)
    sys.exit(0)

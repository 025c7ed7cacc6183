"""comfyui-repaint-extend, as ComfyUI loads it from ``custom_nodes/<any folder name>/``.

Everything the pack runs is the package ``repaint_extend`` beside this file. It is imported under that one
name, whichever name ComfyUI gives this folder, so that the runner, the tests and ComfyUI share one copy of
every class (``pip install -e .`` provides the same name; nothing edits the import path).
"""

import importlib.util
import sys
from pathlib import Path

__all__ = ["WEB_DIRECTORY", "comfy_entrypoint"]

WEB_DIRECTORY = "./web"
"""The front end (the Pose Editor widget); ComfyUI serves it and loads every ``.js`` in it as an extension."""


def _package():
    here = Path(__file__).resolve().parent / "repaint_extend"
    package = sys.modules.get("repaint_extend")
    if package is None:
        spec = importlib.util.spec_from_file_location("repaint_extend", here / "__init__.py")
        package = importlib.util.module_from_spec(spec)
        sys.modules["repaint_extend"] = package
        spec.loader.exec_module(package)
    elif Path(package.__file__).resolve().parent != here:
        raise ImportError(f"two copies of repaint_extend: {package.__file__} is loaded, this is {here}")
    return package


comfy_entrypoint = _package().comfy_entrypoint

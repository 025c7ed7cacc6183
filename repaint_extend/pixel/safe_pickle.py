"""Read a torch checkpoint (a PyTorch Lightning ``.ckpt`` included) without running code stored in it.

A Lightning checkpoint is ``{"state_dict": ..., "hyper_parameters": ..., "callbacks": ..., ...}``; its
hyper-parameters and callback states often hold objects of the training code's classes (an
``argparse.Namespace``, an OmegaConf config, a ``ModelCheckpoint`` state, numpy scalars). PyTorch's safe
loader (``torch.load(weights_only=True)``) refuses such a file and advises ``weights_only=False``, which
would run whatever the pickle names: a node user cannot follow that advice, and should not.

ComfyUI (``comfy/utils.py`` ``load_torch_file``) loads with ``weights_only=True`` after registering
harmless stand-ins for the few classes it expects (``pytorch_lightning...ModelCheckpoint``, numpy's
``scalar`` and dtypes) with ``torch.serialization.add_safe_globals``; its older path
(``comfy/checkpoint_pickle.py``) maps ``pytorch_lightning.*`` classes to an empty class. This module does
the same for *every* class or function the file names outside PyTorch's own allowlist: it asks PyTorch
which ones they are (``torch.serialization.get_unsafe_globals_in_checkpoint``) and loads with
``weights_only=True`` while each is registered as an inert :class:`OpaqueObject` subclass of that name
(``torch.serialization.safe_globals``, for this call only). Calling or building an inert stand-in runs
nothing, so a malicious ``__reduce__`` (``builtins.open``, ``subprocess.Popen``...) yields an inert
object; globals from the modules PyTorch blocks outright (``os``, ``posix``, ``nt``, ``sys``) make the load
fail with :class:`UnsafeCheckpointError`. Tensors are rebuilt by PyTorch's own allowlisted functions.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

import torch

__all__ = ["OpaqueObject", "UnsafeCheckpointError", "safe_torch_load"]


class UnsafeCheckpointError(ValueError):
    """A checkpoint that cannot be read without running code it names; nothing of it was run."""


class OpaqueObject:
    """An inert stand-in for an object of a class (or the result of a function) that a checkpoint names
    but this loader does not run. It keeps what the pickle gives it (``args``, ``state``, ``items``) as plain
    data and runs nothing; ``name`` is the ``module.qualname`` the file named."""

    name = "?"

    def __new__(cls, *args: Any, **kwargs: Any):
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__["args"] = args

    def __setstate__(self, state: Any) -> None:
        self.__dict__["state"] = state

    def __setitem__(self, key: Any, value: Any) -> None:
        self.__dict__.setdefault("items", {})[key] = value

    def append(self, item: Any) -> None:
        self.__dict__.setdefault("items", []).append(item)

    def extend(self, items: Any) -> None:
        self.__dict__.setdefault("items", []).extend(items)

    def __repr__(self) -> str:
        return f"<not loaded: {self.name}>"


def _stand_in(full_name: str) -> type:
    """An :class:`OpaqueObject` subclass whose ``__module__`` + ``.`` + ``__qualname__`` is ``full_name`` (the
    key under which PyTorch's safe unpickler looks a global up)."""
    module, _, name = full_name.rpartition(".")
    return type(name, (OpaqueObject,), {"__module__": module, "__qualname__": name, "name": full_name})


def safe_torch_load(path: str | os.PathLike, map_location: Any = "cpu") -> Any:
    """``torch.load(path, weights_only=True)``, with every non-allowlisted global the file names replaced
    by an inert :class:`OpaqueObject` stand-in (see the module docstring).

    Returns:
        what the file holds: tensors as tensors, plain containers as they are, anything else as
        :class:`OpaqueObject` instances.
    Raises:
        FileNotFoundError; UnsafeCheckpointError naming the global when the file names one from a module
        PyTorch blocks (``os``, ``posix``, ``nt``, ``sys``: a pickle that would run a command), or when a
        legacy (non-zip) file needs globals PyTorch's safe loader lacks; pickle.UnpicklingError /
        RuntimeError for a file that is not a torch checkpoint at all.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(path)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as first:
        try:
            names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
        except Exception:  # a legacy (non-zip) file, or not a checkpoint: the safe loader's error stands
            raise UnsafeCheckpointError(
                f"{os.path.basename(path)}: PyTorch's safe loader refused it ({first}); nothing in it was run. "
                "Save its state_dict again with torch.save (zip format) or as safetensors"
            ) from first
    blocked = [n for n in names if n.split(".", 1)[0] in ("os", "posix", "nt", "sys")]
    if blocked:
        raise UnsafeCheckpointError(
            f"{os.path.basename(path)}: the file names {blocked[:3]}, which would run a command when loaded "
            "with pickle; it was not loaded and nothing in it was run"
        )
    with torch.serialization.safe_globals([_stand_in(n) for n in names]):
        try:
            return torch.load(path, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as error:
            raise UnsafeCheckpointError(
                f"{os.path.basename(path)}: cannot be read without running code it names ({error}); nothing in "
                "it was run"
            ) from error

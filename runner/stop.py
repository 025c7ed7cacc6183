"""Stopping when asked: Ctrl-C (SIGINT) and SIGTERM end a run within seconds, also while ComfyUI samples.

The first signal during a graph asks ComfyUI's executor to stop as its own Cancel button does
(``comfy.model_management.interrupt_current_processing``: the next model call raises), so the photo is
recorded as ``interrupted`` and the temporary folders go; outside a graph, or at a second signal, the
run stops at once (:class:`Stopped`). The exit status is 128 + the signal's number: 130 for SIGINT, 143
for SIGTERM.
"""

from __future__ import annotations

import contextlib
import signal
import sys

_state: dict = {"requested": None, "in_graph": False}


class Stopped(BaseException):
    """A signal asked the run to stop; ``code`` is the exit status (130 SIGINT, 143 SIGTERM). A
    ``BaseException`` (as ``KeyboardInterrupt``), so that no ``except Exception`` records it as a failure."""

    def __init__(self, code: int):
        super().__init__(f"stopped by signal {code - 128}")
        self.code = code


def requested() -> int | None:
    """The exit status asked for by a signal since :func:`install` (None: none came)."""
    return _state["requested"]


def _handler(signum, frame):
    first = _state["requested"] is None
    _state["requested"] = 128 + signum
    if first and _state["in_graph"] and "comfy.model_management" in sys.modules:
        sys.modules["comfy.model_management"].interrupt_current_processing(True)
        print("stopping after the current model call (again to stop at once) ...", file=sys.stderr)
        return
    raise Stopped(128 + signum)


@contextlib.contextmanager
def signals():
    """SIGINT and SIGTERM handled as above inside the block (main thread only); the old handlers after."""
    _state["requested"] = None
    old = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in old:
        signal.signal(sig, _handler)
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def in_graph():
    """Mark ComfyUI's executor as running (a signal then interrupts it instead of raising); on leaving,
    :class:`Stopped` if a signal came meanwhile."""
    _state["in_graph"] = True
    try:
        yield
    except Exception:
        if _state["requested"] is not None:  # the interrupted graph's error is the signal's doing
            raise Stopped(_state["requested"]) from None
        raise
    finally:
        _state["in_graph"] = False
        if "comfy.model_management" in sys.modules:
            sys.modules["comfy.model_management"].interrupt_current_processing(False)
    if _state["requested"] is not None:
        raise Stopped(_state["requested"])

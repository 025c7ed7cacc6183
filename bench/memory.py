"""Peak memory for tests and benchmarks: torch's CPU tensors counted exactly, and the process's RSS.

``tracemalloc`` sees numpy's buffers but not torch's, and torch has no CPU counterpart of
``torch.cuda.max_memory_allocated``. :class:`TorchAllocations` is a ``TorchDispatchMode`` that sees the
outputs of every torch op while active: an output whose storage is new (not the storage of one of the
op's inputs, so not a view or an in-place result) is an allocation of ``storage.nbytes()`` bytes,
live until the last tensor on that storage that the mode has seen is freed. Storages made outside torch
ops (``torch.from_numpy``) are not counted: pair it with ``tracemalloc`` for numpy.

    with TorchAllocations() as mem:
        run()
    mem.peak_bytes, mem.largest_bytes, mem.count

:class:`PeakRSS` samples the resident set size instead (everything: torch, numpy, libraries).
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
import weakref

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

__all__ = ["PeakRSS", "TorchAllocations"]


def _key(t: torch.Tensor) -> int:
    try:
        return t.untyped_storage().data_ptr()
    except (RuntimeError, NotImplementedError):
        return 0


class TorchAllocations(TorchDispatchMode):
    """Counts torch storage allocations made by ops while active.

    Attributes:
        current_bytes: bytes of counted storages still alive.
        peak_bytes: the most ``current_bytes`` reached.
        largest_bytes: the largest single allocation.
        count: number of allocations.
    """

    def __init__(self):
        super().__init__()
        self._live: dict[int, list[int]] = {}  # storage pointer -> [nbytes, tensors seen alive]
        self.current_bytes = 0
        self.peak_bytes = 0
        self.largest_bytes = 0
        self.count = 0

    def _release(self, key: int) -> None:
        entry = self._live.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] <= 0:
            self.current_bytes -= entry[0]
            del self._live[key]

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        inputs = {_key(a) for a in tree_flatten((args, kwargs))[0] if isinstance(a, torch.Tensor)}
        for t in tree_flatten(out)[0]:
            if not isinstance(t, torch.Tensor) or t.device.type != "cpu":
                continue
            key = _key(t)
            if key == 0:
                continue
            if key in self._live:
                self._live[key][1] += 1
            elif key in inputs:
                continue  # a view or an in-place result of a storage made before (or outside) the mode
            else:
                nbytes = t.untyped_storage().nbytes()
                self._live[key] = [nbytes, 1]
                self.current_bytes += nbytes
                self.count += 1
                self.largest_bytes = max(self.largest_bytes, nbytes)
                self.peak_bytes = max(self.peak_bytes, self.current_bytes)
            weakref.finalize(t, self._release, key)
        return out


class PeakRSS:
    """Context manager: peak resident set size (bytes) above the RSS at entry, sampled every
    ``interval`` s from ``/proc/self/statm`` (Linux). ``malloc_trim(0)`` first returns freed heap
    pages to the OS so that the baseline does not hide reuse of memory freed by an earlier run."""

    def __init__(self, interval: float = 0.002):
        self.interval = interval
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.peak_bytes = 0

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self.page

    def __enter__(self):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except OSError:
            pass
        self.base = self._rss()
        self.peak = self.base
        self._stop = threading.Event()

        def watch():
            while not self._stop.is_set():
                self.peak = max(self.peak, self._rss())
                time.sleep(self.interval)

        self._thread = threading.Thread(target=watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())
        self.peak_bytes = self.peak - self.base
        return False

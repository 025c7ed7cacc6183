"""The one cache policy of the pack's loaders: a loaded model is kept until another is asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def cache_one(cache: dict, key, build: Callable[[], Any]) -> Any:
    """``cache[key]``, built by ``build()`` on a miss; the cache keeps one entry (a checkpoint in memory)."""
    if key not in cache:
        value = build()
        cache.clear()
        cache[key] = value
    return cache[key]

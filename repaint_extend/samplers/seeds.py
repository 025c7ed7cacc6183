"""Seeds for the several noise streams of one sampling run, derived from the graph's one seed.

ComfyUI's seed widgets span ``0 .. 2**64 - 1`` (``0xFFFFFFFFFFFFFFFF``), the range that
``torch.Generator.manual_seed`` accepts for non-negative seeds. A stream ``k`` of a run is seeded with
``(seed + k) mod 2**64``: distinct streams for distinct ``k`` (for ``k`` < 2**64), equal to
``seed + k`` whenever that fits (so results for ordinary seeds are unchanged), and never outside the
generator's range, so a seed near the widget's maximum cannot raise "Overflow when unpacking long".
"""

from __future__ import annotations

from ..checks import check_int

SEED_MODULUS = 2**64
"""Number of seeds: ComfyUI's seed widgets take ``0 .. 2**64 - 1``, as ``torch.Generator`` does."""


def derive_seed(seed: int, offset: int) -> int:
    """Seed of noise stream ``offset`` for a run seeded with ``seed``: ``(seed + offset) mod 2**64``.

    Args:
        seed: the graph's seed, an int (any value: it is reduced modulo 2**64 too).
        offset: the stream's number (an int, e.g. 1 for the known-region noise).
    Returns:
        an int in ``[0, 2**64)``, valid for ``torch.Generator.manual_seed``.
    Raises:
        TypeError when ``seed`` or ``offset`` is not an int (Python or numpy; bool refused).
    """
    return (check_int("seed", seed) + check_int("offset", offset)) % SEED_MODULUS

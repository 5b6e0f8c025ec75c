"""Named random streams derived from one root seed.

Every stochastic part of a run draws from its own stream, keyed by a name (and optionally a week),
so that the world, the lottery and the labour shocks are identical across schemes and do not depend
on the order in which other parts drew their numbers. The key is a CRC-32 of the name, which is
stable across Python processes (unlike ``hash``).
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_key(name: str) -> int:
    """A stable non-negative integer for a stream name."""
    return zlib.crc32(name.encode("utf-8"))


def stream(root_seed: int, name: str, *index: int) -> np.random.Generator:
    """The generator for stream ``name`` (and optional integer ``index``, e.g. a week number)."""
    seq = np.random.SeedSequence(root_seed, spawn_key=(stream_key(name), *index))
    return np.random.Generator(np.random.PCG64(seq))

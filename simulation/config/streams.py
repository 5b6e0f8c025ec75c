"""Named random streams derived from one root seed.

Every stochastic part of a run draws from its own stream, keyed by a name (and optionally a week),
so that the world, the lottery and the labour shocks are identical across schemes and do not depend
on the order in which other parts drew their numbers. The key is a CRC-32 of the name, which is
stable across Python processes (unlike ``hash``).
"""

from __future__ import annotations

import zlib

import numpy as np
import numpy.typing as npt


def stream_key(name: str) -> int:
    """A stable non-negative integer for a stream name."""
    return zlib.crc32(name.encode("utf-8"))


def stream(root_seed: int, name: str, *index: int) -> np.random.Generator:
    """The generator for stream ``name`` (and optional integer ``index``, e.g. a week number)."""
    seq = np.random.SeedSequence(root_seed, spawn_key=(stream_key(name), *index))
    return np.random.Generator(np.random.PCG64(seq))


def streams(root_seed: int, name: str, keys: np.ndarray) -> list[np.random.Generator]:
    """``stream(root_seed, name, *keys[i])`` for every row i of ``keys`` (non-negative integers
    below 2**32, [n, m]): the same generators, drawing the same numbers, for many keys at once.

    A generator's seed is what numpy's SeedSequence makes of the root seed and the spawn key
    (name's key, *keys[i]); here the SeedSequence hash (O'Neill's seed_seq_fe, numpy's
    ``SeedSequence.mix_entropy`` and ``generate_state``, whose output numpy keeps stable) runs on
    all the keys together, and each PCG64 is seeded with its row of the result (the tests check
    both against numpy's own, generator by generator)."""
    keys = np.asarray(keys, dtype=np.int64)
    if keys.ndim != 2:
        raise ValueError(f"keys must be [n, m], got shape {keys.shape}")
    if keys.size and (keys.min() < 0 or keys.max() > _MASK32):
        raise ValueError("stream keys must be integers in [0, 2**32)")
    run = _words(int(root_seed))
    run += [0] * (_POOL - len(run))  # numpy pads the root's words to the pool when there is a spawn key
    entropy = np.empty((keys.shape[0], len(run) + 1 + keys.shape[1]), dtype=np.uint32)
    entropy[:, : len(run)] = run
    entropy[:, len(run)] = stream_key(name)
    entropy[:, len(run) + 1 :] = keys
    words = _generate_state(_mix_entropy(entropy))
    seeds = words[:, 0::2].astype(np.uint64) | (words[:, 1::2].astype(np.uint64) << np.uint64(32))
    # numpy's stubs list SeedSequence, but PCG64 takes any ISeedSequence (numpy.random.bit_generator)
    return [np.random.Generator(np.random.PCG64(_Seeded(seed))) for seed in seeds]  # type: ignore[arg-type]


# numpy's SeedSequence (numpy/random/bit_generator.pyx): pool size and hash constants
_POOL, _MASK32, _SHIFT = 4, 0xFFFFFFFF, np.uint32(16)
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = np.uint32(0xCA01F9DD), np.uint32(0x4973F715)


class _Seeded(np.random.bit_generator.ISeedSequence):
    """A seed sequence whose state is already known: the four 64-bit words PCG64 asks for."""

    def __init__(self, state: np.ndarray):
        self.state = state

    def generate_state(self, n_words: int, dtype=np.uint32) -> np.ndarray:  # dtype untyped, as numpy has it
        if n_words != self.state.size or np.dtype(dtype) != np.uint64:
            raise ValueError("this seed holds four 64-bit words only")
        return self.state.copy()


def _words(value: int) -> list[int]:
    """An integer's 32-bit words, least significant first ([0] for 0), as numpy splits it."""
    words = [value & _MASK32]
    while value > _MASK32:
        value >>= 32
        words.append(value & _MASK32)
    return words


def _hashmix(value: npt.NDArray[np.uint32], const: int) -> tuple[npt.NDArray[np.uint32], int]:
    """SeedSequence's hashmix of uint32 ``value`` (one per key) with the running constant."""
    const = const & _MASK32
    value = value ^ np.uint32(const)
    const = (const * _MULT_A) & _MASK32
    value = value * np.uint32(const)
    return value ^ (value >> _SHIFT), const


def _mix(x: npt.NDArray[np.uint32], y: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    result = _MIX_L * x - _MIX_R * y
    return result ^ (result >> _SHIFT)


def _mix_entropy(entropy: np.ndarray) -> np.ndarray:
    """SeedSequence's pool ([key, 4] uint32) of each row of assembled ``entropy`` ([key, words])."""
    pool = np.zeros((entropy.shape[0], _POOL), dtype=np.uint32)
    const = _INIT_A
    for i in range(_POOL):
        word = entropy[:, i] if i < entropy.shape[1] else np.zeros(entropy.shape[0], np.uint32)
        pool[:, i], const = _hashmix(word, const)
    for source in range(_POOL):
        for target in range(_POOL):
            if source != target:
                hashed, const = _hashmix(pool[:, source], const)
                pool[:, target] = _mix(pool[:, target], hashed)
    for source in range(_POOL, entropy.shape[1]):
        for target in range(_POOL):
            hashed, const = _hashmix(entropy[:, source], const)
            pool[:, target] = _mix(pool[:, target], hashed)
    return pool


def _generate_state(pool: np.ndarray) -> np.ndarray:
    """SeedSequence.generate_state(4, uint64) of each pool, as its eight uint32 words."""
    words = np.empty((pool.shape[0], 2 * _POOL), dtype=np.uint32)
    const = _INIT_B
    for i in range(words.shape[1]):
        value = pool[:, i % _POOL] ^ np.uint32(const)
        const = (const * _MULT_B) & _MASK32
        value = value * np.uint32(const)
        words[:, i] = value ^ (value >> _SHIFT)
    return words

"""Random draws keyed by person, week and purpose: a counter-based generator (Philox4x32-10).

A sequential generator hands out numbers in order, so when one more person shops this week,
everyone after them gets someone else's numbers. A counter-based generator instead computes each
number from a key and a counter, here (person, week, slot): the draw a person gets for a purpose
in a week depends on nothing else. Changing who shops, or how many, moves nobody else's draws,
which keeps paired comparisons paired when a parameter changes.

The generator is Philox4x32-10 (Salmon, Moraes, Dror & Shaw 2011, "Parallel random numbers: as
easy as 1, 2, 3"; the Random123 library), which passes the BigCrush battery for every key; the
tests check it against Random123's published known-answer vectors. The key (two 32-bit words) is
derived from the root seed and the purpose's name with numpy's SeedSequence, so purposes are
independent streams. Each call of the block function gives four 32-bit words; a uniform takes one
word (float32, 23 bits) or two (float64, 52 bits), centred on its grid so that it is always
strictly inside (0, 1).

Counters: word 0 is the person (row), word 1 the week, word 2 the slot (e.g. the option shown in a
choice set), word 3 a sub-purpose index. Every kernel here has a plain-numpy twin for the tests.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from numba import njit

from simulation.rules.parallel import over_blocks

M0, M1 = 0xD2511F53, 0xCD9E8D57  # Philox4x32 multipliers
W0, W1 = 0x9E3779B9, 0xBB67AE85  # Weyl key increments
MASK32 = 0xFFFFFFFF
ROUNDS = 10
IntLike = int | np.integer  # the compiled draws take Python or numpy integers alike


def purpose_key(root_seed: int, purpose: str) -> np.ndarray:
    """The Philox key (uint32[2]) of a purpose (e.g. ``"labour"``) under a root seed."""
    sequence = np.random.SeedSequence(root_seed, spawn_key=(zlib.crc32(purpose.encode("utf-8")),))
    return sequence.generate_state(2, dtype=np.uint32)


@njit(cache=True, inline="always")
def _block(c0, c1, c2, c3, k0, k1) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    """Philox4x32-10 of counter (c0..c3) under key (k0, k1): four 32-bit words, held in uint64.

    All arithmetic is unsigned 64-bit, where the 32 x 32-bit products fit exactly and nothing
    overflows (signed overflow would be undefined behaviour for the compiler); every constant is
    a uint64 too, since numba turns mixed signed and unsigned arithmetic into floats."""
    m0, m1, w0, w1 = np.uint64(M0), np.uint64(M1), np.uint64(W0), np.uint64(W1)
    mask, shift = np.uint64(MASK32), np.uint64(32)
    c0, c1, c2, c3 = np.uint64(c0), np.uint64(c1), np.uint64(c2), np.uint64(c3)
    k0, k1 = np.uint64(k0), np.uint64(k1)
    for r in range(ROUNDS):
        if r > 0:
            k0 = (k0 + w0) & mask
            k1 = (k1 + w1) & mask
        p0 = m0 * c0
        p1 = m1 * c2
        c0, c1, c2, c3 = (
            ((p1 >> shift) ^ c1 ^ k0) & mask,
            p1 & mask,
            ((p0 >> shift) ^ c3 ^ k1) & mask,
            p0 & mask,
        )
    return c0, c1, c2, c3


@njit(cache=True)
def philox_block(counter: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Philox4x32-10 of one counter (uint32[4]) under a key (uint32[2]): uint32[4]."""
    out = _block(counter[0], counter[1], counter[2], counter[3], key[0], key[1])
    result = np.empty(4, dtype=np.uint32)
    for i in range(4):
        result[i] = out[i]
    return result


@njit(cache=True, inline="always")
def uniform32(person: IntLike, week: IntLike, slot: IntLike, k0: IntLike, k1: IntLike) -> np.float32:
    """A float32 uniform in (0, 1) for (person, week, slot): the top 23 bits of word 0, centred
    ((w + 0.5) / 2**23 is exact in float32, so never 0 nor 1)."""
    w = _block(person, week, slot, 0, k0, k1)[0] >> np.uint64(9)
    return np.float32((np.float64(w) + 0.5) * (1.0 / 8388608.0))


@njit(cache=True, inline="always")
def uniform64(person: IntLike, week: IntLike, slot: IntLike, k0: IntLike, k1: IntLike) -> float:
    """A float64 uniform in (0, 1) for (person, week, slot), from 52 bits of words 0 and 1
    ((w + 0.5) / 2**52 is exact in float64, so never 0 nor 1)."""
    w = _block(person, week, slot, 0, k0, k1)
    high, low = np.float64(w[0] >> np.uint64(6)), np.float64(w[1] >> np.uint64(6))
    return (high * 67108864.0 + low + 0.5) * (1.0 / 4503599627370496.0)


@njit(cache=True, nogil=True)
def person_uniforms(persons: np.ndarray, week: int, slot: int, key: np.ndarray) -> np.ndarray:
    """float64 uniforms in (0, 1), one per entry of ``persons`` (row ids), for (week, slot)."""
    out = np.empty(persons.shape[0])
    person_uniforms_block(0, persons.shape[0], out, persons, week, slot, key)
    return out


@njit(cache=True, nogil=True)
def person_uniforms_block(
    start: int, stop: int, out: np.ndarray, persons: np.ndarray, week: int, slot: int, key: np.ndarray
) -> None:
    """``person_uniforms`` for entries ``start`` to ``stop`` - 1 of ``persons``, into ``out``."""
    k0, k1 = np.int64(key[0]), np.int64(key[1])
    for i in range(start, stop):
        out[i] = uniform64(np.int64(persons[i]), week, slot, k0, k1)


@njit(cache=True, nogil=True)
def person_uniforms32(persons: np.ndarray, week: int, slot: int, key: np.ndarray) -> np.ndarray:
    """float32 uniforms in (0, 1), one per entry of ``persons``, for (week, slot)."""
    k0, k1 = np.int64(key[0]), np.int64(key[1])
    out = np.empty(persons.shape[0], dtype=np.float32)
    for i in range(persons.shape[0]):
        out[i] = uniform32(np.int64(persons[i]), week, slot, k0, k1)
    return out


# --------------------------------------------------------------------------- numpy twins


def philox_numpy(counter: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Philox4x32-10, vectorised: ``counter`` uint32 [n, 4], ``key`` uint32[2] -> uint32 [n, 4]."""
    c = [counter[:, i].astype(np.uint64) for i in range(4)]
    k0, k1 = np.uint64(key[0]), np.uint64(key[1])
    mask = np.uint64(MASK32)
    for r in range(ROUNDS):
        if r > 0:
            k0, k1 = (k0 + np.uint64(W0)) & mask, (k1 + np.uint64(W1)) & mask
        p0, p1 = np.uint64(M0) * c[0], np.uint64(M1) * c[2]
        c = [
            ((p1 >> np.uint64(32)) ^ c[1] ^ k0) & mask,
            p1 & mask,
            ((p0 >> np.uint64(32)) ^ c[3] ^ k1) & mask,
            p0 & mask,
        ]
    return np.stack(c, axis=1).astype(np.uint32)


def uniforms_numpy(persons: np.ndarray, week: int, slot: int, key: np.ndarray) -> np.ndarray:
    """What :func:`person_uniforms` computes, in numpy."""
    counter = np.zeros((persons.shape[0], 4), dtype=np.uint32)
    counter[:, 0], counter[:, 1], counter[:, 2] = persons, week, slot
    w = philox_numpy(counter, key).astype(np.uint64)
    return ((w[:, 0] >> np.uint64(6)) * 67108864.0 + (w[:, 1] >> np.uint64(6)) + 0.5) / 4503599627370496.0


def uniforms32_numpy(persons: np.ndarray, week: int, slot: int, key: np.ndarray) -> np.ndarray:
    """What :func:`person_uniforms32` computes, in numpy."""
    counter = np.zeros((persons.shape[0], 4), dtype=np.uint32)
    counter[:, 0], counter[:, 1], counter[:, 2] = persons, week, slot
    w = philox_numpy(counter, key)[:, 0] >> np.uint32(9)
    return ((w.astype(np.float64) + 0.5) * (1.0 / 8388608.0)).astype(np.float32)


@dataclass(frozen=True)
class Draws:
    """The draws of one purpose in one week: a person's uniform for a slot is Philox(key;
    person, week, slot), whoever else draws. ``persons`` are rows of the world's people."""

    key: np.ndarray  # uint32[2], from the root seed and the purpose (purpose_key)
    week: int

    @classmethod
    def of(cls, root_seed: int, purpose: str, week: int) -> Draws:
        return cls(purpose_key(root_seed, purpose), int(week))

    def uniforms(self, persons: np.ndarray, slot: int = 0) -> np.ndarray:
        """One float64 uniform in (0, 1) per person (``person_uniforms``, in blocks on the cores)."""
        persons = np.asarray(persons, dtype=np.int64)
        out = np.empty(persons.shape[0])
        over_blocks(person_uniforms_block, persons.shape[0], out, persons, self.week, slot, self.key)
        return out

    def normals(self, persons: np.ndarray) -> np.ndarray:
        """One standard normal per person (Box-Muller on the person's slots 0 and 1)."""
        radius = np.sqrt(-2.0 * np.log(self.uniforms(persons, 0)))
        return radius * np.cos(2.0 * np.pi * self.uniforms(persons, 1))

    def shuffled(self, persons: np.ndarray) -> np.ndarray:
        """``persons`` in a random order that is each person's own: sorted by their uniform (ties,
        of probability ~2**-53, by row), so adding or removing one person moves no one else."""
        persons = np.asarray(persons, dtype=np.int64)
        return persons[np.lexsort((persons, self.uniforms(persons)))]

    def first(self, persons: np.ndarray, count: int) -> np.ndarray:
        """``shuffled(persons)[:count]``, found without sorting everyone: the ``count`` persons
        with the smallest uniforms (ties by row), in that order; ``chosen`` finds them, and only
        they are sorted."""
        return self.shuffled(self.chosen(persons, count))

    def chosen(self, persons: np.ndarray, count: int) -> np.ndarray:
        """The ``count`` persons with the smallest uniforms (ties by row), in their order in
        ``persons``: those of ``first``, found without ordering them (linear; a lottery's winners,
        whose draw order is not used).
        Those whose uniform is below the ``count``-th smallest, then, of those tied with it (of
        probability ~2**-53), the lowest rows, as ``shuffled`` orders them."""
        persons = np.asarray(persons, dtype=np.int64)
        count = max(int(count), 0)
        if count >= persons.size:
            return persons.copy()
        if count == 0:
            return persons[:0]
        u = self.uniforms(persons)
        cutoff = np.partition(u, count - 1)[count - 1]  # the count-th smallest uniform
        take = u < cutoff
        tied = np.flatnonzero(u == cutoff)
        missing = count - int(np.count_nonzero(take))
        take[tied[np.argsort(persons[tied], kind="stable")[:missing]]] = True
        return persons[take]

    def gumbels(self, persons: np.ndarray, slots: int) -> np.ndarray:
        """Standard Gumbel noise [n, slots + 1] of each person's option slots 0 .. slots - 1 and,
        in the last column, of waiting (``slot_uniforms_numpy``): what ``kernels.choose_courses``
        draws."""
        persons = np.asarray(persons, dtype=np.int64)
        return -np.log(-np.log(slot_uniforms_numpy(persons, self.week, slots, self.key)))


# --------------------------------------------------------------------------- many slots per person
# A shopper needs a uniform for every option shown and one for waiting. One Philox block per
# (person, week) gives two 64-bit seeds; slot j's uniform is the SplitMix64 output number j + 1 of
# the first seed (``mix64(seed + (j + 1) * GOLDEN)``, itself counter-based), and waiting's the first
# output of the second. SplitMix64 (Steele, Lea & Flood 2014) passes BigCrush; each slot costs one
# 64-bit mix instead of a Philox block.

GOLDEN = 0x9E3779B97F4A7C15
MIX1, MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


@njit(cache=True, inline="always")
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64's output function."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def person_seeds(person: IntLike, week: IntLike, k0: IntLike, k1: IntLike) -> tuple[np.uint64, np.uint64]:
    """Two 64-bit seeds of (person, week) under a key: the Philox block's words, paired."""
    w = _block(person, week, 0, 0, k0, k1)
    shift = np.uint64(32)
    return (w[0] << shift) | w[1], (w[2] << shift) | w[3]


@njit(cache=True, inline="always")
def slot_uniform(seed: np.uint64, slot: int) -> float:
    """Uniform in (0, 1) of ``slot`` (0, 1, ...) from a person's seed: 52 bits of SplitMix64,
    centred (never 0 nor 1)."""
    z = mix64(seed + np.uint64(slot + 1) * np.uint64(GOLDEN))
    return (np.float64(z >> np.uint64(12)) + 0.5) * (1.0 / 4503599627370496.0)


def slot_uniforms_numpy(persons: np.ndarray, week: int, slots: int, key: np.ndarray) -> np.ndarray:
    """[n, slots + 1] uniforms: slots 0 .. slots - 1 from each person's first seed, then waiting's
    from the second; what the shopping kernel draws (numpy twin)."""
    counter = np.zeros((persons.shape[0], 4), dtype=np.uint32)
    counter[:, 0], counter[:, 1] = persons, week
    w = philox_numpy(counter, key).astype(np.uint64)
    first = (w[:, 0] << np.uint64(32)) | w[:, 1]
    second = (w[:, 2] << np.uint64(32)) | w[:, 3]
    steps = (np.arange(1, slots + 1, dtype=np.uint64) * np.uint64(GOLDEN))[None, :]  # wraps mod 2**64
    with np.errstate(over="ignore"):
        z = np.concatenate([first[:, None] + steps, (second + np.uint64(GOLDEN))[:, None]], axis=1)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(12)).astype(np.float64) + 0.5) / 4503599627370496.0

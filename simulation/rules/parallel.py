"""Run a compiled kernel over blocks of rows on the machine's cores.

The weekly kernels (employment, choice sets) treat each row on its own, so the rows can be cut
into blocks and the blocks run at once on threads: the kernels are compiled with ``nogil=True``,
so the threads run truly in parallel, and each row's result does not depend on the block it falls
in (a person's draws are keyed by the person, :mod:`simulation.rules.keyed_draws`). Results are
therefore identical whatever the number of threads, including one.

The number of threads is ``NUMBA_NUM_THREADS`` when set (the one knob for compiled code's
threads: set it to 1 in each worker of a cluster that already runs one process per core), else
the number of cores this process may use.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

import numpy as np

MIN_BLOCK_ROWS = 100_000  # below this a block is not worth a thread's start-up (tens of microseconds)


def threads() -> int:
    """Threads the kernels may use: ``NUMBA_NUM_THREADS`` if set, else the cores available."""
    configured = os.environ.get("NUMBA_NUM_THREADS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


@cache
def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kernel")


def blocks(n: int, parts: int | None = None) -> list[tuple[int, int]]:
    """``n`` rows cut into at most ``parts`` (default ``threads()``) contiguous (start, stop)
    blocks of nearly equal size, none smaller than ``MIN_BLOCK_ROWS`` unless there is only one."""
    parts = threads() if parts is None else parts
    parts = max(1, min(parts, n // MIN_BLOCK_ROWS))
    edges = np.linspace(0, n, parts + 1).round().astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def over_blocks(kernel: Callable[..., object], n: int, *args: object) -> None:
    """Call ``kernel(start, stop, *args)`` for each block of ``n`` rows, on threads when there
    is more than one block; returns when every block is done (re-raising a block's error)."""
    parts = blocks(n)
    if len(parts) == 1:
        kernel(0, n, *args)
        return
    futures = [_pool(len(parts)).submit(kernel, start, stop, *args) for start, stop in parts]
    for future in futures:
        future.result()


def in_order(function: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> list[Any]:
    """``[function(*args) for args in calls]``, the calls run at once on up to ``threads()``
    threads when there are several; the results in the order of ``calls``."""
    workers = min(threads(), len(calls))
    if workers < 2:
        return [function(*args) for args in calls]
    return list(_pool(workers).map(lambda args: function(*args), calls))

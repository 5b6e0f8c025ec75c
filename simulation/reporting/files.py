"""Small helpers for writing files as the rest of the system expects: JSON that strict readers
accept, and permissions that follow the user's umask. Imports nothing from the package and no
heavy library, so the sweep store (which a bare process may load alone) can use it too."""

from __future__ import annotations

import math
import os


def umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, and put it back at once
    os.umask(mask)
    return mask


def clean_json(value):
    """``value`` with NaN and infinities as None, numpy scalars as Python numbers and keys as text."""
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        return clean_json(value.item())
    return value

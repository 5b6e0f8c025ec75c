"""Numbers for experiment reports, by the metric's kind (see :mod:`simulation.reporting.registry`)."""

from __future__ import annotations


def format_value(value: float, kind: str, signed: bool = False) -> str:
    """A value for the report, by the metric's kind: IDR scaled to k/m/bn/T, shares in percent,
    pp and differences signed."""
    sign = "+" if signed or kind == "pp" else ""
    if kind == "idr":
        size = abs(value)
        lead = "−" if value < 0 else ("+" if signed else "")
        for scale, suffix in ((1e12, " T"), (1e9, " bn"), (1e6, " m"), (1e3, "k")):
            if size >= scale:
                return f"{lead}Rp{size / scale:,.3g}{suffix}"
        return f"{lead}Rp{size:,.0f}"
    if kind == "share":
        return f"{100 * value:{sign}.1f}%" if not signed else f"{100 * value:+.1f} pp"
    if kind == "pp":
        return f"{value:+.2f}"
    if kind in ("count", "whole"):
        return f"{value:{sign},.0f}" if abs(value) >= 100 else f"{value:{sign}.3g}"
    return f"{value:{sign}.3g}"

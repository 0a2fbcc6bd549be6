"""Percentiles, and the figures of one load measurement."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int = 0


def pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def pct_ms(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (seconds, any order), in ms."""
    return pct(sorted(values), q) * 1000


def summarise(latencies: list[float], seconds: float, errors: int = 0) -> Figures:
    latencies.sort()
    return Figures(
        len(latencies) / seconds if seconds else 0.0,
        pct(latencies, 0.5) * 1000,
        pct(latencies, 0.99) * 1000,
        len(latencies),
        errors,
    )

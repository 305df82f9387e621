"""Small, pure statistics for scores: the Wilson score interval of a proportion."""

from __future__ import annotations

import math

# Two-sided 95%: the 0.975 quantile of the standard normal distribution.
Z_95 = 1.959964


def wilson_interval(successes: float, n: float, *, z: float = Z_95) -> tuple[float, float]:
    """Return the Wilson score interval (low, high), as proportions 0–1, of successes/n.

    `successes` may be fractional: the sum of the mothers' top-box shares (reports.scores).
    Unlike the normal approximation, the interval stays inside [0, 1] and is sensible
    at 0/n and n/n, which small weekly samples from one centre often are.
    """
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie between 0 and n={n}, got {successes}")
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    denominator = 1 + z2 / n
    # At 0/n and n/n the bound is exactly 0 or 1; floating point would give 1e-17 or 0.99….
    low = 0.0 if successes == 0 else (centre - margin) / denominator
    high = 1.0 if successes == n else (centre + margin) / denominator
    return low, high

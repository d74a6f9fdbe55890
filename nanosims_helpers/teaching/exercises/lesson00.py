"""Lesson 00, start here: the self-check quiz on counting statistics and dead time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._framework import Wrong, exercise, _sample, _number, _close, _justified_choice

#: The detector of quiz 00-2: dead time (s), dwell time per pixel and plane (s), counts in one pixel and plane.
DEAD_TIME_00_2 = {"tau": 44e-9, "t_dwell": 1e-3, "counts": 2000}


@exercise(
    "00-1",
    expects="a number of counts",
    hints=(
        "The relative Poisson error of N counts is 1 / sqrt(N).",
        "Solve 1 / sqrt(N) = 0.05 for N.",
        "`answer = 1 / 0.05 ** 2`",
    ),
)
def _check_00_1(answer):
    counts = _number(answer, "the number of counts")
    if _close(counts, 20, 0.5):
        raise Wrong("20 is 1 / 0.05: the error is 1 / sqrt(N), so N is the square of that.")
    if not _close(counts, 400, 1):
        raise Wrong("With that many counts the relative error 1 / sqrt(N) is not 5 %.")
    return "400 +/- 20 counts is 5 %; a pixel rarely holds that many 13C counts: sum pixels first."


@exercise(
    "00-2",
    expects="the corrected number of counts",
    hints=(
        "Dead time loses counts, so the corrected count is larger than the counted one.",
        "N_true = N / (1 - N tau / t_dwell), with tau and t_dwell in seconds.",
        "`answer = 2000 / (1 - 2000 * 44e-9 / 1e-3)`",
    ),
)
def _check_00_2(answer):
    counts, tau, dwell = DEAD_TIME_00_2["counts"], DEAD_TIME_00_2["tau"], DEAD_TIME_00_2["t_dwell"]
    value = _number(answer, "the corrected count")
    loss = counts * tau / dwell
    if _close(value, counts * (1 - loss), 0.5):
        raise Wrong("The correction adds the lost counts back: divide by (1 - N tau / t_dwell), do not multiply.")
    if _close(value, counts * (1 + loss), 0.5):
        raise Wrong("Close, but that is the first-order approximation N (1 + N tau / t): use the formula itself.")
    if not _close(value, counts / (1 - loss), 0.5):
        raise Wrong("Not N / (1 - N tau / t_dwell) with N = 2000, tau = 44 ns = 44e-9 s, t_dwell = 1 ms = 1e-3 s.")
    return f"{loss:.1%} of the time the detector was blind: {value - counts:.0f} counts were lost."


@exercise(
    "00-3",
    expects="a pair: the mass of soil_256 with the largest relative Poisson error at its mean count, and that error",
    hints=(
        "The dimmest mass has the largest relative error.",
        "The table of the primer gives each mass's mean count and relative error 1 / sqrt(mean).",
        "`error = pd.Series(1 / np.sqrt(sample.counts.mean(axis=(0, 1))), index=sample.masses)`; "
        "`answer = (error.idxmax(), error.max())`",
    ),
)
def _check_00_3(answer):
    image, _ = _sample("soil_256")
    error = pd.Series(1 / np.sqrt(image.counts.mean(axis=(0, 1))), index=image.masses)
    mass = _justified_choice(answer, error, "the mass", "the relative Poisson error of {} at its mean")
    if mass != error.idxmax():
        raise Wrong(f"{mass} is not the noisiest mass: another has fewer counts per pixel.")
    return f"{mass}: {error[mass]:.0%} per pixel; sum many pixels before taking its ratio."

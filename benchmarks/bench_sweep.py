"""Choosing k: the plain loop (KMeans from scratch on every pixel, for each k) against the kit's sweep.

Run from the repository root: ``python -m benchmarks.bench_sweep [--repeat 3]``.

Both call :func:`nanosims_helpers.choosing_k.sweep_k` for k = 2..31, scoring every k the same
way: ``fast=False`` is the plain loop, ``fast=True`` the kit's (KMeans fitted on a fixed sample of
10,000 pixels, then every pixel given its nearest centre). Each run is a fresh process; the table gives the median
time, the peak memory and the knee each sweep finds on the entropy and inertia curves.
"""

from __future__ import annotations

import argparse
import warnings

from benchmarks._measure import measure, print_table, ratio
from benchmarks._samples import IMAGES, n_pixels, sample_features
from nanosims_helpers.choosing_k import find_knee, sweep_k

K_VALUES = range(2, 32)


def sweep_case(size: str, fast: bool):
    """Setup: one sweep over K_VALUES; returns the knees on entropy and inertia."""
    features = sample_features(size)

    def run():
        table = sweep_k(features, K_VALUES, fast=fast, progress=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "no knee found" falls back, and is shown
            return {column: find_knee(table, column) for column in ("entropy", "inertia")}

    return run


def main(repeat: int = 3) -> None:
    """Print one table for both images."""
    rows = []
    for size in IMAGES:
        plain = measure("benchmarks.bench_sweep:sweep_case", size, False, repeat=repeat)
        fast = measure("benchmarks.bench_sweep:sweep_case", size, True, repeat=repeat)
        for name, run in (("plain loop (fast=False)", plain), ("kit (fast=True)", fast)):
            rows.append([size, n_pixels(size), name, f"{run.seconds:.2f}", f"{run.peak_mib:.0f}",
                         ratio(run.seconds, fast.seconds), run.result["entropy"], run.result["inertia"]])
    header = ["image", "pixels", "sweep k=2..31", "time (s)", "peak MiB", "time / kit", "knee (entropy)",
              "knee (inertia)"]
    print_table("Choosing k: KMeans for k = 2..31, scored", header, rows,
                [f"median of {repeat} fresh processes per row"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per case (default 3)")
    main(parser.parse_args().repeat)

"""Choosing k: the plain loop (KMeans from scratch on every pixel, for each k) against the kit's sweep.

Run from the repository root: ``python -m benchmarks.bench_sweep [--quick] [--repeat 3]``.

Both call :func:`nanosims_helpers.choosing_k.sweep_k` for k = 2..31 (2..11 with ``--quick``),
scoring every k the same way: ``fast=False`` is the plain loop, ``fast=True`` the kit's (KMeans
fitted on a fixed sample of 10,000 pixels, then every pixel given its nearest centre). Both run on
the same threads, one thread and all threads (``sweep_k(n_threads=...)``), each run in a fresh
process, the four cases taking turns; the table gives the median time and its range, the peak
memory and the knee each sweep finds on the entropy and inertia curves.
"""

from __future__ import annotations

import argparse
import warnings

from benchmarks._measure import LOAD_NOTE, THREAD_SETTINGS, measure_interleaved, print_table, ratio, threads_label
from benchmarks._samples import IMAGES, n_pixels, sample_features
from nanosims_helpers.choosing_k import find_knee, sweep_k

K_VALUES = range(2, 32)
QUICK_K_VALUES = range(2, 12)


def sweep_case(size: str, fast: bool, threads: int, k_max: int):
    """Setup: one sweep over k = 2..k_max on ``threads`` threads; returns the knees on entropy and inertia."""
    features = sample_features(size)

    def run():
        table = sweep_k(features, range(2, k_max + 1), fast=fast, progress=False, n_threads=threads)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "no knee found" falls back, and is shown
            return {column: find_knee(table, column) for column in ("entropy", "inertia")}

    return run


def main(repeat: int = 3, quick: bool = False) -> None:
    """Print one table: both images (256 x 256 only with ``quick``), both sweeps, both thread settings."""
    k_values = QUICK_K_VALUES if quick else K_VALUES
    k_max = k_values[-1]
    rows = []
    for size in list(IMAGES)[:1] if quick else IMAGES:
        cases = {(fast, threads): ("benchmarks.bench_sweep:sweep_case", (size, fast, threads, k_max), {}, None)
                 for threads in THREAD_SETTINGS for fast in (False, True)}
        found = measure_interleaved(cases, repeat=repeat)
        for threads in THREAD_SETTINGS:
            kit = found[(True, threads)]
            for name, fast in (("plain loop (fast=False)", False), ("kit (fast=True)", True)):
                run = found[(fast, threads)]
                rows.append([size, n_pixels(size), name, threads_label(threads), run.timing(), f"{run.peak_mib:.0f}",
                             ratio(run.seconds, kit.seconds), run.result["entropy"], run.result["inertia"]])
    header = ["image", "pixels", f"sweep k=2..{k_max}", "threads", "time (s)", "peak MiB", "time / kit",
              "knee (entropy)", "knee (inertia)"]
    print_table(f"Choosing k: KMeans for k = 2..{k_max}, scored", header, rows,
                [f"median (range) of {repeat} interleaved fresh processes per row; time / kit compares rows on "
                 f"the same threads. {LOAD_NOTE}"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--quick", action="store_true", help="k = 2..11 on the 256 x 256 image only")
    arguments = parser.parse_args()
    main(arguments.repeat, arguments.quick)

"""Time the k sweep: the plain loop (KMeans on every pixel for each k) versus the kit's fast sweep.

Run from the repository root: ``python benchmarks/bench_sweep_k.py [--repeats 3] [--sample soil_256]``.

For each feature set of the sample image (the recommended preprocessing's 7 channels, and its
first 2 principal components) it prints the median time of a sweep over k = 2..31 by

* the plain loop with the libraries' default threads (what a notebook loop does),
* the plain loop on one thread (the fast sweep runs on one thread, so this is like for like),
* the fast sweep (``sweep_k(fast=True)``),

the ratios, the peak memory allocated through NumPy (tracemalloc), and the knee each finds on
the entropy and inertia curves. All sweeps are timed in the same run, in turn, as the machine's
load varies; on a CPU shared with other programs, KMeans with 2 OpenMP threads can be many
times slower than with 1, which the first ratio then shows.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from contextlib import nullcontext

import numpy as np
from threadpoolctl import threadpool_limits

from nanosims_helpers.choosing_k import find_knee, sweep_k
from nanosims_helpers.clustering import pca_components
from nanosims_helpers.preprocessing import RECOMMENDED_PREPROCESSING, preprocess
from nanosims_helpers.samples import load_sample

#: name -> (fast, thread limit or None for the default)
SWEEPS = {"plain": (False, None), "plain 1 thread": (False, 1), "fast": (True, None)}


def feature_sets(sample: str) -> dict[str, np.ndarray]:
    image, _ = load_sample(sample)
    channels = preprocess(image.counts, RECOMMENDED_PREPROCESSING)
    components, _ = pca_components(channels, 2)
    return {f"{channels.shape[2]} channels": channels, "PCA, 2 components": components}


def run(features: np.ndarray, sweep: str):
    """Return the seconds, the table and the peak MiB of one sweep."""
    fast, threads = SWEEPS[sweep]
    with threadpool_limits(threads) if threads else nullcontext():
        tracemalloc.start()
        start = time.perf_counter()
        table = sweep_k(features, fast=fast, progress=False)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return seconds, table, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sample", default="soil_256")
    args = parser.parse_args()
    print(f"sample {args.sample}, k = 2..31, median of {args.repeats} runs, times in s, peak MiB through NumPy")
    print(
        "| features | plain s | plain 1 thread s | fast s | plain / fast | plain 1 thread / fast "
        "| peak MiB plain / fast | knee entropy plain / 1 thread / fast | knee inertia plain / 1 thread / fast |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, features in feature_sets(args.sample).items():
        results = {sweep: [] for sweep in SWEEPS}
        for _ in range(args.repeats):  # in turn, so a change of load hits every sweep
            for sweep, runs in results.items():
                runs.append(run(features, sweep))
        median = {sweep: np.median([r[0] for r in runs]) for sweep, runs in results.items()}
        peak = {sweep: max(r[2] for r in runs) for sweep, runs in results.items()}
        knees = {
            column: " / ".join(str(find_knee(runs[-1][1], column)) for runs in results.values())
            for column in ("entropy", "inertia")
        }
        print(
            f"| {name} | {median['plain']:.2f} | {median['plain 1 thread']:.2f} | {median['fast']:.2f} "
            f"| {median['plain'] / median['fast']:.1f} | {median['plain 1 thread'] / median['fast']:.1f} "
            f"| {peak['plain']:.0f} / {peak['fast']:.0f} | {knees['entropy']} | {knees['inertia']} |"
        )


if __name__ == "__main__":
    main()

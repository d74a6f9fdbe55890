"""Time the k sweep: plain loop (KMeans from scratch on every pixel per k) versus the kit's fast sweep.

Run from the repository root:
``python benchmarks/bench_sweep_k.py [--repeats 3] [--sample soil_256] [--threads N]``.
Prints, for each feature set of the sample image, the median time of each sweep (k = 2..31),
their ratio, the peak memory of one sweep, and the knee each finds on the entropy and inertia
curves. Both sweeps are timed in the same run, alternating, as the machine's load varies.
``--threads N`` limits the OpenMP/BLAS threads (threadpoolctl); on a CPU shared with other
processes, KMeans with 2 OpenMP threads can be several times slower than with 1.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_limits

from nanosims_helpers.choosing_k import find_knee, sweep_k
from nanosims_helpers.clustering import pca_components
from nanosims_helpers.preprocessing import RECOMMENDED_PREPROCESSING, preprocess
from nanosims_helpers.samples import load_sample


def feature_sets(sample: str) -> dict[str, np.ndarray]:
    image, _ = load_sample(sample)
    channels = preprocess(image.counts, RECOMMENDED_PREPROCESSING)
    components, _ = pca_components(channels, 2)
    return {f"{image.counts.shape[2]} channels": channels, "PCA, 2 components": components}


def timed_sweep(features: np.ndarray, fast: bool):
    start = time.perf_counter()
    table = sweep_k(features, fast=fast, progress=False)
    return time.perf_counter() - start, table


def peak_mib(features: np.ndarray, fast: bool) -> float:
    tracemalloc.start()
    sweep_k(features, fast=fast, progress=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sample", default="soil_256")
    parser.add_argument("--threads", type=int, default=None, help="thread limit (default: the libraries' own)")
    args = parser.parse_args()
    with threadpool_limits(args.threads):
        report(args)


def report(args) -> None:
    threads = "default threads" if args.threads is None else f"{args.threads} thread(s)"
    print(f"sample {args.sample}, k = 2..31, {threads}, median of {args.repeats} runs, times in s, "
          "peak = memory allocated through NumPy (tracemalloc)")
    print("| features | plain s | fast s | plain / fast | plain peak MiB | fast peak MiB | knee entropy plain / fast | knee inertia plain / fast |")
    print("|---|---|---|---|---|---|---|---|")
    for name, features in feature_sets(args.sample).items():
        times = {True: [], False: []}
        tables = {}
        for _ in range(args.repeats):
            for fast in (False, True):
                seconds, tables[fast] = timed_sweep(features, fast)
                times[fast].append(seconds)
        plain, fast = np.median(times[False]), np.median(times[True])
        knees = {c: [find_knee(tables[f], c) for f in (False, True)] for c in ("entropy", "inertia")}
        print(
            f"| {name} | {plain:.2f} | {fast:.2f} | {plain / fast:.1f} | {peak_mib(features, False):.0f} | "
            f"{peak_mib(features, True):.0f} | {knees['entropy'][0]} / {knees['entropy'][1]} | "
            f"{knees['inertia'][0]} / {knees['inertia'][1]} |"
        )


if __name__ == "__main__":
    main()

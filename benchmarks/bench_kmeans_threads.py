"""KMeans on every pixel on all threads (the libraries' default) and on one thread (the kit's default).

Run from the repository root: ``python -m benchmarks.bench_kmeans_threads [--repeats 5]``.
Both run :func:`~nanosims_helpers.clustering.kmeans_map` (k=4, 4 k-means++ starts, same seed, so
the same labels) on the recommended features of simulated 256 x 256 and 512 x 512 images, once
with the libraries' default threads and once inside ``limit_threads(1)``, which the command line
and the explorer use, alternating so that both see the same machine load. Prints median times
with their range, their ratio, NumPy peak memory (tracemalloc) and the load. On a busy 2-core
machine (CI, Binder) OpenMP threads wait on each other and one thread wins.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

import numpy as np

from nanosims_helpers.clustering import kmeans_map, limit_threads
from nanosims_helpers.preprocessing import preprocess
from nanosims_helpers.teaching.synthetic import simulate_soil_image

N_CLUSTERS = 4


def all_threads(features):
    with limit_threads(None):
        return kmeans_map(features, N_CLUSTERS).labels


def one_thread(features):
    with limit_threads(1):
        return kmeans_map(features, N_CLUSTERS).labels


def timed(function, features) -> float:
    start = time.perf_counter()
    function(features)
    return time.perf_counter() - start


def peak_mib(function, features) -> float:
    tracemalloc.start()
    function(features)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main(repeats: int = 5) -> None:
    print("\n### KMeans on every pixel: all threads against one thread\n")
    print(f"median of {repeats} runs; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("| image | all threads s | one thread s | ratio | same labels | peak MiB all / one |")
    print("|---|---|---|---|---|---|")
    for size in (256, 512):
        image, _ = simulate_soil_image((size, size), random_state=0)
        features = preprocess(image.counts)
        times = {all_threads: [], one_thread: []}
        for _ in range(repeats):
            for function in times:
                times[function].append(timed(function, features))
        many, one = (f"{np.median(t):.3f} ({min(t):.3f}-{max(t):.3f})" for t in times.values())
        ratio = np.median(times[all_threads]) / np.median(times[one_thread])
        same = np.array_equal(all_threads(features), one_thread(features))
        print(
            f"| {size} x {size} x 7 | {many} | {one} | {ratio:.1f} | {same} | "
            f"{peak_mib(all_threads, features):.0f} / {peak_mib(one_thread, features):.0f} |"
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}. Median (range); ratio = all threads / one thread.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    main(parser.parse_args().repeats)

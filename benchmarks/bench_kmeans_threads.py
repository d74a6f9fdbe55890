"""KMeans on every pixel: scikit-learn's default threads (naive) versus one thread (the kit's kmeans_map).

Run from the repository root: ``python benchmarks/bench_kmeans_threads.py [--repeats 5]``.
Both fit KMeans (k=4, 4 k-means++ starts, same seed, so the same labels) on the recommended
features of simulated 256 x 256 and 512 x 512 images, alternating so that both see the same
machine load. Prints median times, their ratio, NumPy peak memory (tracemalloc) and the load.
On a busy 2-core machine (CI, Binder) OpenMP threads wait on each other and one thread wins.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

import numpy as np
from sklearn.cluster import KMeans

from nanosims_helpers.clustering import KMEANS_N_INIT, kmeans_map
from nanosims_helpers.preprocessing import preprocess
from nanosims_helpers.synthetic import simulate_soil_image

N_CLUSTERS = 4


def naive(features):
    return KMeans(N_CLUSTERS, n_init=KMEANS_N_INIT, random_state=0).fit(features.reshape(-1, features.shape[2])).labels_


def kit(features):
    return kmeans_map(features, N_CLUSTERS).labels.ravel()


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
    print(f"median of {repeats} runs; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("| image | default threads s | one thread (kit) s | ratio | same labels | peak MiB default / kit |")
    print("|---|---|---|---|---|---|")
    for size in (256, 512):
        image, _ = simulate_soil_image((size, size), random_state=0)
        features = preprocess(image.counts)
        times = {naive: [], kit: []}
        for _ in range(repeats):
            for function in times:
                times[function].append(timed(function, features))
        slow, fast = np.median(times[naive]), np.median(times[kit])
        same = np.array_equal(naive(features), kit(features))
        print(
            f"| {size} x {size} x 7 | {slow:.3f} | {fast:.3f} | {slow / fast:.1f} | {same} | "
            f"{peak_mib(naive, features):.0f} / {peak_mib(kit, features):.0f} |"
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    main(parser.parse_args().repeats)

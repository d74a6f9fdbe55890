"""Silhouette of a 4-cluster KMeans map: exact (every pair of pixels) against the kit's sampled estimate.

Run from the repository root: ``python -m benchmarks.bench_silhouette [--quick] [--seeds 5]``.

* exact, every pixel: :func:`nanosims_helpers.metrics.silhouette` with ``exact=True`` (about a
  minute at 256 x 256, a quarter of an hour at 512 x 512: run at 256 x 256 unless ``--quick``,
  otherwise extrapolated from the subsample below, time ~ n^2);
* exact on a subsample that fits: scikit-learn's ``silhouette_score`` on 16,000 random pixels,
  as a user would call it (its default blocks of distances take up to 1 GB);
* kit: :func:`nanosims_helpers.metrics.silhouette` (a random sample of pixels), once per seed:
  the spread of the estimate over seeds, and its distance to the exact value.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
from sklearn.metrics import silhouette_score

from benchmarks._measure import measure, print_table, ratio
from benchmarks._samples import IMAGES, n_pixels, sample_features
from nanosims_helpers.clustering import kmeans_map
from nanosims_helpers.metrics import SILHOUETTE_SAMPLE_SIZE, silhouette

N_CLUSTERS = 4
SUBSAMPLE = 16_000


def _features_and_labels(size: str):
    features = sample_features(size)
    return features, kmeans_map(features, N_CLUSTERS, random_state=0).labels


def exact_case(size: str):
    """Setup: the exact silhouette of every pixel."""
    features, labels = _features_and_labels(size)
    return lambda: silhouette(features, labels, exact=True)


def subsample_case(size: str):
    """Setup: scikit-learn's silhouette_score on SUBSAMPLE random pixels."""
    features, labels = _features_and_labels(size)
    chosen = np.random.default_rng(0).choice(labels.size, SUBSAMPLE, replace=False)
    table = features.reshape(-1, features.shape[2])[chosen]
    return lambda: float(silhouette_score(table, labels.ravel()[chosen]))


def kit_case(size: str, seed: int):
    """Setup: the kit's sampled silhouette with seed ``seed``."""
    features, labels = _features_and_labels(size)
    return lambda: silhouette(features, labels, random_state=seed)


def run_image(size: str, seeds: int, run_exact: bool) -> list[list]:
    """Rows of the table for one image."""
    pixels = n_pixels(size)
    kit = [measure("benchmarks.bench_silhouette:kit_case", size, seed) for seed in range(seeds)]
    kit_seconds = statistics.median(m.seconds for m in kit)
    estimates = [m.result for m in kit]
    sub = measure("benchmarks.bench_silhouette:subsample_case", size)
    if run_exact:
        exact = measure("benchmarks.bench_silhouette:exact_case", size)
        exact_row = ["exact, every pixel (metrics.silhouette exact=True)", pixels, f"{exact.seconds:.1f}",
                     f"{exact.peak_mib:.0f}", ratio(exact.seconds, kit_seconds), f"{exact.result:.4f}"]
        reference = exact.result
    else:
        seconds = sub.seconds * (pixels / SUBSAMPLE) ** 2
        exact_row = ["exact, every pixel: NOT RUN, extrapolated (time ~ n^2)", pixels, f"{seconds:,.0f}", "-",
                     ratio(seconds, kit_seconds), "-"]
        reference = sub.result
    spread = f"{statistics.mean(estimates):.4f} +/- {statistics.stdev(estimates):.4f}" if seeds > 1 else \
        f"{estimates[0]:.4f}"
    largest_error = max(abs(value - reference) for value in estimates)
    return [
        exact_row,
        [f"exact on {SUBSAMPLE:,} random pixels (sklearn silhouette_score)", SUBSAMPLE, f"{sub.seconds:.1f}",
         f"{sub.peak_mib:.0f}", ratio(sub.seconds, kit_seconds), f"{sub.result:.4f}"],
        [f"kit: metrics.silhouette, {SILHOUETTE_SAMPLE_SIZE:,} pixels ({seeds} seeds)", SILHOUETTE_SAMPLE_SIZE,
         f"{kit_seconds:.2f}", f"{max(m.peak_mib for m in kit):.0f}", "1.0x",
         f"{spread} (max abs. error {largest_error:.4f})"],
    ]


def main(quick: bool = False, seeds: int = 5) -> None:
    """Print one table per image."""
    header = ["method", "pixels used", "time (s)", "peak MiB", "time / kit", "silhouette"]
    for size in IMAGES:
        run_exact = size == "256x256" and not quick
        notes = [f"max abs. error of the kit's estimates against the {'exact value' if run_exact else 'subsample value'}"]
        print_table(f"Silhouette of KMeans, k={N_CLUSTERS}, {size} ({IMAGES[size]})", header,
                    run_image(size, seeds, run_exact), notes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="do not run the exact silhouette (1 min); extrapolate")
    parser.add_argument("--seeds", type=int, default=5, help="seeds of the sampled estimate (default 5)")
    arguments = parser.parse_args()
    main(arguments.quick, arguments.seeds)

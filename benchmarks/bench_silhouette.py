"""Silhouette of a 4-cluster KMeans map: exact (every pair of pixels) against the kit's sampled estimate.

Run from the repository root: ``python -m benchmarks.bench_silhouette [--quick] [--repeat 3]``.

Every method runs at one thread and at all threads, in fresh processes taking turns:

* exact, every pixel: :func:`nanosims_helpers.metrics.silhouette` with ``exact=True`` (about a
  minute at 256 x 256, a quarter of an hour at 512 x 512: run at 256 x 256 unless ``--quick``,
  otherwise extrapolated from the subsample below, time ~ n^2, as an order of magnitude);
* exact on a subsample that fits: scikit-learn's ``silhouette_score`` on 16,000 random pixels,
  as a user would call it (its default blocks of distances take up to 1 GB);
* kit: :func:`nanosims_helpers.metrics.silhouette` (a random sample of pixels), a different seed
  each round: the spread of the estimate over seeds, and its distance to the exact value.
  ``--quick`` runs the 256 x 256 image only.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
from sklearn.metrics import silhouette_score

from benchmarks._measure import LOAD_NOTE, THREAD_SETTINGS, magnitude, measure_rounds, print_table, ratio, threads_label
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


def _cases(size: str, run_exact: bool, seed: int) -> dict:
    cases = {}
    for threads in THREAD_SETTINGS:
        cases[("kit", threads)] = ("benchmarks.bench_silhouette:kit_case", (size, seed), {}, threads)
        cases[("subsample", threads)] = ("benchmarks.bench_silhouette:subsample_case", (size,), {}, threads)
        if run_exact:
            cases[("exact", threads)] = ("benchmarks.bench_silhouette:exact_case", (size,), {}, threads)
    return cases


def run_image(size: str, repeat: int, run_exact: bool) -> list[list]:
    """Rows of the table for one image: every method at one thread and at all threads."""
    pixels = n_pixels(size)
    merged, rounds = measure_rounds(lambda seed: _cases(size, run_exact, seed), repeat=repeat)
    rows = []
    for threads in THREAD_SETTINGS:
        kit, sub = merged[("kit", threads)], merged[("subsample", threads)]
        estimates = [found[("kit", threads)].result for found in rounds]
        label = threads_label(threads)
        if run_exact:
            exact = merged[("exact", threads)]
            rows.append(["exact, every pixel (metrics.silhouette exact=True)", label, pixels, exact.timing(1),
                         f"{exact.peak_mib:.0f}", ratio(exact.seconds, kit.seconds), f"{exact.result:.4f}"])
            reference = exact.result
        else:
            seconds = sub.seconds * (pixels / SUBSAMPLE) ** 2
            rows.append(["exact, every pixel: NOT RUN, extrapolated from the subsample, time ~ n^2", label, pixels,
                         magnitude(seconds), "-", magnitude(seconds / kit.seconds, unit="x"), "-"])
            reference = sub.result
        spread = (f"{statistics.mean(estimates):.4f} +/- {statistics.stdev(estimates):.4f}" if repeat > 1
                  else f"{estimates[0]:.4f}")
        largest_error = max(abs(value - reference) for value in estimates)
        rows.append([f"exact on {SUBSAMPLE:,} random pixels (sklearn silhouette_score)", label, SUBSAMPLE,
                     sub.timing(1), f"{sub.peak_mib:.0f}", ratio(sub.seconds, kit.seconds), f"{sub.result:.4f}"])
        rows.append([f"kit: metrics.silhouette, {SILHOUETTE_SAMPLE_SIZE:,} pixels ({repeat} seeds)", label,
                     SILHOUETTE_SAMPLE_SIZE, kit.timing(), f"{kit.peak_mib:.0f}", "1.0x",
                     f"{spread} (max abs. error {largest_error:.4f})"])
    return rows


def main(quick: bool = False, repeat: int = 3) -> None:
    """Print one table per image (the 256 x 256 image only with ``quick``)."""
    header = ["method", "threads", "pixels used", "time (s)", "peak MiB", "time / kit", "silhouette"]
    for size in list(IMAGES)[:1] if quick else IMAGES:
        run_exact = size == "256x256" and not quick
        against = "exact value" if run_exact else "subsample value"
        notes = [f"max abs. error of the kit's estimates (one seed per round) against the {against}; "
                 f"median (range) of {repeat} interleaved rounds. {LOAD_NOTE}"]
        print_table(f"Silhouette of KMeans, k={N_CLUSTERS}, {size} ({IMAGES[size]})", header,
                    run_image(size, repeat, run_exact), notes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="256 x 256 only, exact silhouette extrapolated")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds, one kit seed each (default 3)")
    arguments = parser.parse_args()
    main(arguments.quick, arguments.repeat)

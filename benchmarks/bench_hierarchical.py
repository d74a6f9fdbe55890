"""Ward clustering of every pixel: the kit's fast method against exact Ward and SciPy.

Run from the repository root: ``python -m benchmarks.bench_hierarchical [--quick] [--seeds 5]``.

For the 256 x 256 sample and the 512 x 512 sample, each case in a fresh process:

* kit: :func:`nanosims_helpers.hierarchical.hierarchical_map` (micro-clusters + weighted Ward),
  once per seed; median time, largest peak memory, agreement (ARI) with exact Ward at 4 clusters;
* exact: fastcluster ``linkage_vector(method="ward")`` on every pixel (about 12 minutes at
  512 x 512: ``--quick`` skips it there and extrapolates from 256 x 256, time ~ n^2);
* SciPy ``linkage(..., "ward")``: run on 4,000 and 8,000 random pixels only. The whole image is
  extrapolated, not run: memory ~ n^2 (its distance matrix alone is 8 n^2 / 2 bytes, 17 GB at
  256 x 256), time ~ n^a with a fitted on the two subsamples (between 2 and 3).
"""

from __future__ import annotations

import argparse
import math
import statistics
import warnings

import numpy as np
from scipy.cluster.hierarchy import linkage

from benchmarks._measure import measure, print_table, ratio
from benchmarks._samples import IMAGES, n_pixels, sample_features
from nanosims_helpers.hierarchical import exact_ward_labels, hierarchical_map
from nanosims_helpers.metrics import adjusted_rand

N_CLUSTERS = 4
SCIPY_SUBSAMPLES = (4000, 8000)
#: Targets of the kit on a 2-core laptop: (seconds, MiB) per image size.
TARGETS = {"256x256": (2.0, 300.0), "512x512": (8.0, 600.0)}
MIN_SPEEDUP, MIN_AGREEMENT = 15.0, 0.95


def fast_case(size: str, seed: int):
    """Setup: the kit's fast Ward clustering; returns the label map."""
    features = sample_features(size)
    return lambda: hierarchical_map(features, N_CLUSTERS, random_state=seed).labels


def exact_case(size: str):
    """Setup: exact Ward of every pixel with fastcluster; returns the label map."""
    features = sample_features(size)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the "this takes long" warning
            return exact_ward_labels(features, N_CLUSTERS)

    return run


def scipy_case(size: str, n_sample: int):
    """Setup: SciPy's Ward linkage on ``n_sample`` random pixels of the image."""
    features = sample_features(size)
    table = features.reshape(-1, features.shape[2])
    sample = table[np.random.default_rng(0).choice(table.shape[0], n_sample, replace=False)]
    return lambda: linkage(sample, "ward").shape


def run_image(size: str, seeds: int, exact_256=None) -> tuple[list[list], list[str], object]:
    """Measure the three methods on one image; return table rows, notes and the exact measurement.

    With ``exact_256`` given, exact Ward is not run but extrapolated from that measurement.
    """
    pixels = n_pixels(size)
    fast = [measure("benchmarks.bench_hierarchical:fast_case", size, seed) for seed in range(seeds)]
    fast_seconds = statistics.median(m.seconds for m in fast)
    fast_peak = max(m.peak_mib for m in fast)
    if exact_256 is None:
        exact = measure("benchmarks.bench_hierarchical:exact_case", size)
        exact_seconds, exact_peak = exact.seconds, f"{exact.peak_mib:.0f}"
        agreements = [adjusted_rand(m.result, exact.result) for m in fast]
        exact_name = "exact Ward, fastcluster linkage_vector"
        scores = f"{statistics.mean(agreements):.3f} (min {min(agreements):.3f})"
    else:
        exact, agreements, exact_peak, scores = None, None, "-", "-"
        exact_seconds = exact_256.seconds * (pixels / exact_256.result.size) ** 2
        exact_name = "exact Ward, fastcluster: NOT RUN (--quick), extrapolated from 256x256 (time ~ n^2)"
    rows = [
        [f"kit: micro-clusters + weighted Ward ({seeds} seeds)", pixels, f"{fast_seconds:.2f}", f"{fast_peak:.0f}",
         "1.0x", scores],
        [exact_name, pixels, f"{exact_seconds:.1f}", exact_peak, ratio(exact_seconds, fast_seconds), "1"],
        *_scipy_rows(size, pixels, fast_seconds),
    ]
    notes = [_target_line(size, fast_seconds, fast_peak, exact_seconds / fast_seconds, agreements)]
    if agreements:
        notes.insert(0, f"{size}: ARI of each seed vs exact Ward: " + ", ".join(f"{a:.3f}" for a in agreements))
    return rows, notes, exact


def _scipy_rows(size: str, pixels: int, fast_seconds: float) -> list[list]:
    runs = [measure("benchmarks.bench_hierarchical:scipy_case", size, n) for n in SCIPY_SUBSAMPLES]
    rows = [[f"SciPy linkage ward, {n:,} random pixels", n, f"{m.seconds:.2f}", f"{m.peak_mib:.0f}", "", ""]
            for n, m in zip(SCIPY_SUBSAMPLES, runs)]
    small, large = runs
    exponent = math.log(large.seconds / small.seconds) / math.log(SCIPY_SUBSAMPLES[1] / SCIPY_SUBSAMPLES[0])
    scale = pixels / SCIPY_SUBSAMPLES[1]
    seconds = large.seconds * scale**exponent
    mib = large.setup_mib + (large.peak_mib - large.setup_mib) * scale**2
    rows.append([f"SciPy linkage ward, all pixels: NOT RUN, extrapolated (time ~ n^{exponent:.2f}, memory ~ n^2)",
                 pixels, f"{seconds:,.0f}", f"{mib:,.0f}", ratio(seconds, fast_seconds), ""])
    return rows


def _target_line(size, seconds, peak, speedup, agreements) -> str:
    target_seconds, target_mib = TARGETS[size]
    checks = [
        (f"time {seconds:.2f} s < {target_seconds} s", seconds < target_seconds),
        (f"peak {peak:.0f} MiB < {target_mib:.0f} MiB", peak < target_mib),
        (f"speed-up {speedup:.0f}x >= {MIN_SPEEDUP:.0f}x", speedup >= MIN_SPEEDUP),
    ]
    if agreements:
        mean = statistics.mean(agreements)
        checks.append((f"mean ARI {mean:.3f} >= {MIN_AGREEMENT}", mean >= MIN_AGREEMENT))
    return f"{size} targets: " + "; ".join(f"{text}: {'yes' if ok else 'NO'}" for text, ok in checks)


def main(quick: bool = False, seeds: int = 5) -> None:
    """Print one table per image."""
    header = ["method", "pixels", "time (s)", "peak MiB", "time / kit", f"ARI vs exact, k={N_CLUSTERS}"]
    exact_256 = None
    for size in IMAGES:
        rows, notes, exact = run_image(size, seeds, exact_256 if quick else None)
        exact_256 = exact_256 or exact
        print_table(f"Ward clustering of every pixel, {size} ({IMAGES[size]})", header, rows, notes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip exact Ward at 512x512 (12 min); extrapolate")
    parser.add_argument("--seeds", type=int, default=5, help="seeds of the kit's method (default 5)")
    arguments = parser.parse_args()
    main(arguments.quick, arguments.seeds)

"""Ward clustering of every pixel: the kit's fast method against exact Ward and SciPy.

Run from the repository root: ``python -m benchmarks.bench_hierarchical [--quick] [--repeat 3]``.

For the 256 x 256 sample and the 512 x 512 sample, each run in a fresh process, the cases taking
turns (interleaved) so that all see the same load, at one thread and at all threads:

* kit: :func:`nanosims_helpers.hierarchical.hierarchical_map` (micro-clusters + weighted Ward),
  a different seed each round; its agreement (ARI) with exact Ward at 4 clusters;
* exact: fastcluster ``linkage_vector(method="ward")`` on every pixel. fastcluster has no threads
  of its own, so it is run once per round, outside the thread settings, and its time stands in
  both rows. At 512 x 512 it takes minutes: ``--quick`` does not run it there but extrapolates
  from 256 x 256 with time ~ n^2, given as an order of magnitude;
* SciPy ``linkage(..., "ward")`` on 2,000, 4,000 and 8,000 random pixels. The whole image is not
  run (its distance matrix alone is 17 GB at 256 x 256): time ~ n^a, with a fitted on each pair
  of subsample sizes, and memory ~ n^2, are given as orders of magnitude with the exponents found.
"""

from __future__ import annotations

import argparse
import math
import statistics
import warnings

import numpy as np
from scipy.cluster.hierarchy import linkage

from benchmarks._measure import (
    LOAD_NOTE,
    THREAD_SETTINGS,
    magnitude,
    measure_rounds,
    print_table,
    ratio,
    threads_label,
)
from benchmarks._samples import IMAGES, n_pixels, sample_features
from nanosims_helpers.hierarchical import exact_ward_labels, hierarchical_map
from nanosims_helpers.metrics import adjusted_rand

N_CLUSTERS = 4
SCIPY_SUBSAMPLES = (2000, 4000, 8000)
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


def _cases(size: str, run_exact: bool, round_seed: int = 0) -> dict:
    cases = {f"kit {threads}": ("benchmarks.bench_hierarchical:fast_case", (size, round_seed), {}, threads)
             for threads in THREAD_SETTINGS}
    if run_exact:
        cases["exact"] = ("benchmarks.bench_hierarchical:exact_case", (size,), {}, None)
    scipy = "benchmarks.bench_hierarchical:scipy_case"
    cases.update({f"scipy {n}": (scipy, (size, n), {}, 1) for n in SCIPY_SUBSAMPLES})
    return cases


def run_image(size: str, repeat: int, exact_256=None) -> tuple[list[list], list[str], object]:
    """Measure every case on one image; return table rows, notes and the exact measurement.

    With ``exact_256`` given, exact Ward is not run but extrapolated from that measurement. The
    kit runs with seed r in round r.
    """
    pixels = n_pixels(size)
    merged, rounds = measure_rounds(lambda seed: _cases(size, exact_256 is None, seed), repeat=repeat)
    exact = merged.get("exact")
    if exact is not None:
        exact_seconds = exact.seconds
    else:
        exact_seconds = exact_256.seconds * (pixels / exact_256.result.size) ** 2
    rows, notes, ratios = [], [], []
    for threads in THREAD_SETTINGS:
        kit = merged[f"kit {threads}"]
        agreements = None
        score = "-"
        if exact is not None:
            seeds = [found[f"kit {threads}"].result for found in rounds]
            agreements = [adjusted_rand(labels, exact.result) for labels in seeds]
            score = f"{statistics.mean(agreements):.3f} (min {min(agreements):.3f})"
            notes.append(f"{size}, {threads_label(threads)} thread(s): ARI of each seed vs exact Ward: "
                         + ", ".join(f"{a:.3f}" for a in agreements))
            ratios.append(f"{ratio(exact_seconds, kit.seconds)} ({threads_label(threads)})")
        else:
            ratios.append(f"{magnitude(exact_seconds / kit.seconds, unit='x')} ({threads_label(threads)})")
        rows.append([f"kit: micro-clusters + weighted Ward ({repeat} seeds)", threads_label(threads), pixels,
                     kit.timing(), f"{kit.peak_mib:.0f}", "1.0x", score])
        notes.append(_target_line(size, threads, kit.seconds, kit.peak_mib, exact_seconds / kit.seconds, agreements,
                                  extrapolated=exact is None))
    if exact is not None:
        rows.append(["exact Ward, fastcluster (no threads of its own)", "1", pixels, exact.timing(1),
                     f"{exact.peak_mib:.0f}", ", ".join(ratios), "1"])
    else:
        rows.append(["exact Ward, fastcluster: NOT RUN (--quick); time ~ n^2 from 256x256", "1", pixels,
                     magnitude(exact_seconds), "-", ", ".join(ratios), "-"])
    rows.extend(_scipy_rows(merged, pixels, merged[f"kit {THREAD_SETTINGS[0]}"].seconds))
    return rows, notes, exact


def _scipy_rows(merged: dict, pixels: int, kit_seconds: float) -> list[list]:
    runs = [merged[f"scipy {n}"] for n in SCIPY_SUBSAMPLES]
    rows = [[f"SciPy linkage ward, {n:,} random pixels", "1", n, m.timing(), f"{m.peak_mib:.0f}", "", ""]
            for n, m in zip(SCIPY_SUBSAMPLES, runs)]
    exponents = [math.log(b.seconds / a.seconds) / math.log(nb / na)
                 for (na, a), (nb, b) in zip(zip(SCIPY_SUBSAMPLES, runs), zip(SCIPY_SUBSAMPLES[1:], runs[1:]))]
    largest, base = runs[-1], SCIPY_SUBSAMPLES[-1]
    seconds = [largest.seconds * (pixels / base) ** exponent for exponent in (min(exponents), max(exponents))]
    mib = largest.setup_mib + (largest.peak_mib - largest.setup_mib) * (pixels / base) ** 2
    rows.append([f"SciPy, all pixels: NOT RUN; time ~ n^{min(exponents):.1f}-n^{max(exponents):.1f}, memory ~ n^2",
                 "1", pixels, magnitude(*seconds), f"{magnitude(mib, unit='MiB')}",
                 magnitude(seconds[0] / kit_seconds, seconds[1] / kit_seconds, "x"), ""])
    return rows


def _target_line(size, threads, seconds, peak, speedup, agreements, extrapolated=False) -> str:
    target_seconds, target_mib = TARGETS[size]
    shown = magnitude(speedup, unit="x") if extrapolated else f"{speedup:.0f}x"
    checks = [
        (f"time {seconds:.2f} s < {target_seconds} s", seconds < target_seconds),
        (f"peak {peak:.0f} MiB < {target_mib:.0f} MiB", peak < target_mib),
        (f"speed-up {shown} >= {MIN_SPEEDUP:.0f}x", speedup >= MIN_SPEEDUP),
    ]
    if agreements:
        mean = statistics.mean(agreements)
        checks.append((f"mean ARI {mean:.3f} >= {MIN_AGREEMENT}", mean >= MIN_AGREEMENT))
    return (f"{size}, {threads_label(threads)} thread(s), targets: "
            + "; ".join(f"{text}: {'yes' if ok else 'NO'}" for text, ok in checks))


def main(quick: bool = False, repeat: int = 3) -> None:
    """Print one table per image."""
    header = ["method", "threads", "pixels", "time (s)", "peak MiB", "time / kit", f"ARI vs exact, k={N_CLUSTERS}"]
    exact_256 = None
    for size in IMAGES:
        rows, notes, exact = run_image(size, repeat, exact_256 if quick else None)
        notes.append("SciPy: the time exponents are fitted on each pair of subsample sizes; the whole image is "
                     "given as an order of magnitude over their range.")
        exact_256 = exact_256 or exact
        print_table(f"Ward clustering of every pixel, {size} ({IMAGES[size]})", header, rows,
                    [*notes, f"median (range) of {repeat} interleaved rounds. {LOAD_NOTE}"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip exact Ward at 512x512 (minutes); extrapolate")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds, one kit seed each (default 3)")
    arguments = parser.parse_args()
    main(arguments.quick, arguments.repeat)

"""The counting model's own number of phases, and what ``-k auto`` costs beside a fixed k.

Run from the repository root: ``python -m benchmarks.bench_counted_k [--quick] [--sizes 256 512]``.

* Own k: :func:`nanosims_helpers.poisson_model.count_phases` on the realistic sample (6 phases)
  and on its variant with charcoal particles (``RealisticSettings(rare_fraction=0.006)``, 7
  phases), seeds 0-4 (those ``bench_pipelines`` scores) and 10-14 (which no other benchmark
  uses, so that the count is not tuned to the first).
* Time: ``recommend_counted_k`` alone (the count, then both halves of the counts fitted at that
  k), a fixed k (``cluster_image(..., method="poisson")``, the labels and the confidence map), and
  the command line's ``-k auto`` (the image fitted once with its own count,
  ``cluster_image(image, None, ...)``, then both halves at that k:
  ``recommend_counted_k(image, n_clusters=k)``), timed interleaved in fresh processes on one
  thread (seed 0, 256 x 256 and 512 x 512).

The command line's ``-k auto`` is one fit of the model with the number of phases free and its
confidence map, and two fits without a confidence map on half the counts each; a fixed k is one
fit and the confidence map. Every step's cost grows with the pixels alike, so the ratio holds at
2048 x 2048 as measured here, as long as the fit with the number of phases free costs what a fit
at a given k costs.
"""

from __future__ import annotations

import argparse
import warnings

from benchmarks._measure import LOAD_NOTE, measure, measure_interleaved, print_table
from nanosims_helpers.pipeline import cluster_image
from nanosims_helpers.poisson_model import count_phases
from nanosims_helpers.split_half import recommend_counted_k
from nanosims_helpers.teaching.realistic import RealisticSettings, simulate_realistic_image

SEEDS = (0, 1, 2, 3, 4, 10, 11, 12, 13, 14)
VARIANTS = {"realistic": None, "with charcoal": RealisticSettings(rare_fraction=0.006)}
AUTO = "-k auto of the command line (the fit with its own count, then the halves)"


def own_k_case(seeds):
    """The model's own count on each image: (variant, seed, counted, true)."""
    samples = [(variant, seed, simulate_realistic_image((256, 256), settings=settings, random_state=seed))
               for variant, settings in VARIANTS.items() for seed in seeds]
    return lambda: [(variant, seed, count_phases(sample.image.counts), int(sample.truth.max()) + 1)
                    for variant, seed, sample in samples]


def timing_case(what: str, size: int):
    """One of: a fixed k, ``recommend_counted_k``, the command line's ``-k auto`` (both), on seed 0."""
    image = simulate_realistic_image((size, size), random_state=0).image

    def recommend(n_clusters=None):
        with warnings.catch_warnings():  # a split-half warning is not what is timed
            warnings.simplefilter("ignore")
            return recommend_counted_k(image, n_clusters=n_clusters, tolerance_px=1).k

    def fit(k):
        return cluster_image(image, k, method="poisson").n_clusters

    runs = {"fixed k": lambda: fit(6), "recommend_counted_k": recommend,
            AUTO: lambda: recommend(fit(None))}
    return runs[what]


def main(seeds=SEEDS, sizes=(256, 512), repeat: int = 3) -> None:
    found = measure("benchmarks.bench_counted_k:own_k_case", seeds).result
    rows = []
    for variant in VARIANTS:
        counts = [(seed, counted, true) for name, seed, counted, true in found if name == variant]
        exact = sum(counted == true for _, counted, true in counts)
        rows.append([variant, str(counts[0][2]), " ".join(str(counted) for _, counted, _ in counts),
                     f"{exact} of {len(counts)}"])
    print_table(f"The counting model's own number of phases, 256 x 256, seeds {', '.join(map(str, seeds))}",
                ["image", "true", "counted, per seed", "exact"], rows)
    for size in sizes:
        cases = {what: ("benchmarks.bench_counted_k:timing_case", (what, size), {}, 1)
                 for what in ("fixed k", "recommend_counted_k", AUTO)}
        measured = measure_interleaved(cases, repeat=repeat)
        fixed = measured["fixed k"].seconds
        print_table(f"Realistic sample, seed 0, {size} x {size}, one thread, interleaved",
                    ["run", "time (s): median (range)", "k", "times a fixed k"],
                    [[name, m.timing(), str(m.result), f"{m.seconds / fixed:.2f}"] for name, m in measured.items()],
                    [LOAD_NOTE])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seeds 0 and 10, 256 x 256 only, one round")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512], help="image sizes to time")
    arguments = parser.parse_args()
    if arguments.quick:
        main((0, 10), (256,), repeat=1)
    else:
        main(sizes=tuple(arguments.sizes))

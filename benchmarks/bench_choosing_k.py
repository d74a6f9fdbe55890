"""Choosing k without a truth map: the entropy knee alone against the kit's split-half rule.

Run from the repository root: ``python -m benchmarks.bench_choosing_k [--seeds 5]``.

1. The k each rule recommends on images whose number of phases is known: the realistic sample
   (:func:`nanosims_helpers.teaching.realistic.simulate_realistic_image`, 6 phases) for each seed and the
   kit's ``soil_256`` (4 phases); and on the two real files of ``data/cameca``. "knee" is the knee
   of the k-means entropy curve over k = 2..31 (the command line's ``-k auto`` before the
   split-half check); "split-half" is :func:`nanosims_helpers.split_half.recommend_k` with the
   default pipeline clustering the halves. Time is that of ``recommend_k`` (knee included).
2. The whole command, ``nanosims-cluster FILE --out DIR`` (``-k auto``), on each real file in a
   fresh process (see :mod:`benchmarks._measure`): time after the imports, and peak memory.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings

from benchmarks._measure import measure, print_table
from nanosims_helpers.io.loading import load_image
from nanosims_helpers.io.real_data import cameca_files
from nanosims_helpers.split_half import recommend_k
from nanosims_helpers.teaching.realistic import simulate_realistic_image
from nanosims_helpers.teaching.samples import load_sample


def _images(n_seeds: int):
    """(name, image, true number of phases or None) for every image of the table."""
    for seed in range(n_seeds):
        sample = simulate_realistic_image((256, 256), random_state=seed)
        yield f"realistic, seed {seed}", sample.image, int(sample.truth.max()) + 1
    image, truth = load_sample("soil_256")
    yield "soil_256", image, int(truth.max()) + 1
    for path in cameca_files():
        yield path.name, load_image(path, keep_planes=True), None


def cli_case(path: str, out: str):
    """The command with ``-k auto`` on one file: the imports are set-up, ``main`` is timed."""
    from nanosims_helpers.cli import main

    return lambda: main([path, "--out", out])


def main(n_seeds: int = 5) -> None:
    """Print the two tables."""
    rows = []
    for name, image, truth in _images(n_seeds):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            choice = recommend_k(image)
        seconds = time.perf_counter() - start
        rows.append([name, "-" if truth is None else truth, choice.entropy_knee, choice.k,
                     f"{choice.split_half_f1:.2f}", f"{choice.split_half_ari:.2f}", f"{seconds:.1f}"])
    print_table("Choosing k: entropy knee alone against the split-half rule",
                ["image", "true k", "knee", "split-half k", "split-half F1", "split-half ARI", "time (s)"], rows,
                ["split-half F1: worst-matched cluster of the two halves at the chosen k (threshold 0.85)"])
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for path in cameca_files():
            run = measure("benchmarks.bench_choosing_k:cli_case", str(path), out)
            rows.append([path.name, f"{run.seconds:.1f}", f"{run.peak_mib:.0f}"])
    print_table("nanosims-cluster FILE --out DIR (-k auto), fresh process", ["file", "time (s)", "peak MiB"], rows,
                ["time after the imports"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds of the realistic sample (default 5)")
    main(parser.parse_args().seeds)

"""Run the kit's benchmarks and print their tables: ``python -m benchmarks.run_all [--quick]``.

Every case runs in a fresh process (see :mod:`benchmarks._measure`), both sides of a comparison
on the same threads (one, and all), the cases of a table taking turns; timings on a busy machine
vary several-fold, so compare rows of one table only. The full run takes the better part of an
hour on 2 cores, most of it exact Ward on 512 x 512 pixels and the plain k sweeps; ``--quick``
skips the exact runs that take minutes (they are extrapolated, as orders of magnitude), runs the
sweep and the silhouette on the 256 x 256 image only, with 2 rounds per table; the clustering
pipelines are compared on 2 seeds instead of 5, the challenge's images at 128 x 128 for one secret.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import scipy
import sklearn

from benchmarks import (
    bench_challenge,
    bench_choosing_k,
    bench_cli_scale,
    bench_enrichment,
    bench_explorer,
    bench_hierarchical,
    bench_kmeans_threads,
    bench_pipelines,
    bench_preprocessing_ari,
    bench_silhouette,
    bench_study,
    bench_sweep,
)
from benchmarks._measure import ALL_THREADS


def main(quick: bool = False) -> None:
    """Run every benchmark in turn."""
    print(f"# Benchmarks ({'quick' if quick else 'full'} run)\n")
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
          f"scikit-learn {sklearn.__version__}; {platform.machine()}, {ALL_THREADS} cores; "
          f"load average {os.getloadavg()[0]:.1f} at the start")
    repeat = 2 if quick else 3
    start = time.perf_counter()
    bench_hierarchical.main(quick=quick, repeat=repeat)
    bench_sweep.main(repeat=repeat, quick=quick)
    bench_choosing_k.main(n_seeds=2 if quick else 5)
    bench_silhouette.main(quick=quick, repeat=repeat)
    bench_explorer.main(repeat=repeat if quick else 5)
    bench_kmeans_threads.main(repeats=3 if quick else 5)
    bench_preprocessing_ari.main(quick=quick)
    bench_pipelines.main(quick=quick)
    bench_cli_scale.main(size=512 if quick else 1024, repeat=repeat if quick else 1)
    bench_study.main(quick=quick)
    bench_enrichment.main(quick=quick)
    bench_challenge.main(quick=quick)
    print(f"\nTotal: {(time.perf_counter() - start) / 60:.1f} min; load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip exact runs that take minutes; extrapolate them")
    main(parser.parse_args().quick)

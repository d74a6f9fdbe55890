"""Run the kit's benchmarks and print their tables: ``python -m benchmarks.run_all [--quick]``.

Every case runs in a fresh process (see :mod:`benchmarks._measure`); the machine should be
otherwise idle, as timings on a busy machine vary several-fold. The full run takes about
17 minutes on 2 cores, most of it exact Ward on 512 x 512 pixels; ``--quick`` (about 5 minutes)
skips the exact runs that take minutes and extrapolates them instead.
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
    bench_cli_scale,
    bench_explorer,
    bench_hierarchical,
    bench_kmeans_threads,
    bench_preprocessing_ari,
    bench_silhouette,
    bench_study,
    bench_sweep,
)


def main(quick: bool = False) -> None:
    """Run every benchmark in turn."""
    print(f"# Benchmarks ({'quick' if quick else 'full'} run)\n")
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
          f"scikit-learn {sklearn.__version__}; {platform.machine()}, {_cores()} cores")
    start = time.perf_counter()
    bench_hierarchical.main(quick=quick)
    bench_sweep.main(repeat=1 if quick else 3)
    bench_silhouette.main(quick=quick)
    bench_explorer.main(repeat=3 if quick else 5)
    bench_kmeans_threads.main(repeats=3 if quick else 5)
    bench_preprocessing_ari.main()
    bench_cli_scale.main(size=512 if quick else 1024)
    bench_study.main(quick=quick)
    print(f"\nTotal: {(time.perf_counter() - start) / 60:.1f} min")


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip exact runs that take minutes; extrapolate them")
    main(parser.parse_args().quick)

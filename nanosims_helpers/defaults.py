"""The kit's default settings, in one module that imports nothing.

The command line shows them in its help before it loads any of the science; the modules that
use them import them from here, so each default is written once.
"""

__all__ = [
    "DEFAULT_COMPONENTS", "DEFAULT_MAX_CLUSTERS", "DEFAULT_MIN_REGION_PIXELS", "DEFAULT_THREADS", "MAX_SEED",
    "STUDY_SAMPLE_SIZE",
]

#: Threads the command line and the explorer give the numerical libraries (KMeans' OpenMP loops,
#: BLAS). One thread: on a busy 2-core machine (CI, Binder) KMeans' threads wait on each other;
#: one thread was 7 times faster on 256 x 256 x 7 there (benchmarks/bench_kmeans_threads.py).
DEFAULT_THREADS = 1

#: Largest seed: NumPy's and scikit-learn's random generators take seeds 0 .. 2**32 - 1.
MAX_SEED = 2**32 - 1

#: Pixels sampled over the whole study to fit the phases (``sample_size // n_images`` per image).
#: 100,000 pixels of 7 masses take 11 MB (two feature tables), and the phases are found in seconds.
STUDY_SAMPLE_SIZE = 100_000

#: Smallest connected region, in pixels, that the per-region tables report.
DEFAULT_MIN_REGION_PIXELS = 10

#: Largest k of the entropy curve when k is chosen automatically.
DEFAULT_MAX_CLUSTERS = 31

#: Principal components kept by ``"pca-kmeans"``.
DEFAULT_COMPONENTS = 2

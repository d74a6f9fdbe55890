"""How well each preprocessing lets KMeans recover the true phases of simulated soil images.

Run from the repository root: ``python -m benchmarks.bench_preprocessing_ari [--quick]``.
Prints the adjusted Rand index (ARI) against the truth of KMeans (k = number of phases) on every
method of ``PREPROCESSING``, for the samples and for simulated 256 x 256 images at several count
levels (``--quick``: the 256 x 256 sample and two simulated images). The reference notebook's
pipeline (max scaling, then KMeans) comes last, at the true k, the same k as every other column,
and at its own k = 3: changing k and the preprocessing at once would not say which one mattered.
The numbers quoted in the docstring of ``nanosims_helpers.preprocessing`` come from this table.
"""

from __future__ import annotations

import argparse

import numpy as np

from nanosims_helpers.metrics import adjusted_rand
from nanosims_helpers.pipeline import cluster_image, reference_pipeline
from nanosims_helpers.preprocessing import PREPROCESSING
from nanosims_helpers.teaching.samples import list_samples, load_sample
from nanosims_helpers.teaching.synthetic import simulate_soil_image

COUNT_SCALES = (0.05, 0.25, 1.0, 3.0)
SEEDS = (1, 2)


QUICK_IMAGES = ("sample soil_256", "count_scale=0.25, seed 1", "count_scale=1.0, seed 1")


def images(quick: bool = False):
    """(description, image, truth) for the samples and simulated images (a few with ``quick``)."""
    found = [(f"sample {name}", lambda name=name: load_sample(name)) for name in list_samples()]
    found += [(f"count_scale={scale}, seed {seed}",
               lambda scale=scale, seed=seed: simulate_soil_image(count_scale=scale, random_state=seed))
              for scale in COUNT_SCALES for seed in SEEDS]
    found.append(("count_scale=0.25, 25 hotspots",
                  lambda: simulate_soil_image(count_scale=0.25, n_hotspots=25, random_state=1)))
    for description, make in found:
        if not quick or description in QUICK_IMAGES:
            yield (description, *make())


def main(quick: bool = False) -> None:
    methods = list(PREPROCESSING)
    print("\n### Preprocessing: ARI of KMeans against the true phases, at k = number of phases\n")
    print("| image | k | " + " | ".join(methods) + " | reference, true k | reference, k=3 |")
    print("|---|---|" + "---|" * (len(methods) + 2))
    for description, image, truth in images(quick):
        k = np.unique(truth).size
        scores = [adjusted_rand(cluster_image(image, k, method="kmeans", preprocessing=m).labels, truth)
                  for m in methods]
        scores += [adjusted_rand(reference_pipeline(image, n).labels, truth) for n in (k, 3)]
        print(f"| {description} | {k} | " + " | ".join(f"{s:.2f}" for s in scores) + " |", flush=True)
    print("\nreference = the reference notebook's pipeline: max scaling, then KMeans; compare it with the "
          "other columns at the true k (the same k), and see what its own k = 3 adds.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the 256 x 256 sample and two simulated images")
    main(parser.parse_args().quick)

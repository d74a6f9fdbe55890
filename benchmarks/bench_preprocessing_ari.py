"""How well each preprocessing lets KMeans recover the true phases of simulated soil images.

Run from the repository root: ``python benchmarks/bench_preprocessing_ari.py``.
Prints the adjusted Rand index (ARI) against the truth of KMeans (k = number of phases) on every
method of ``PREPROCESSING``, for the samples and for simulated 256 x 256 images at several count
levels, with the reference notebook's pipeline (max scaling, KMeans k=3) in the last column.
The numbers quoted in the docstring of ``nanosims_helpers.preprocessing`` come from this table.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from nanosims_helpers.pipeline import cluster_image, reference_pipeline
from nanosims_helpers.preprocessing import PREPROCESSING
from nanosims_helpers.io.samples import list_samples, load_sample
from nanosims_helpers.synthetic import simulate_soil_image

COUNT_SCALES = (0.05, 0.25, 1.0, 3.0)
SEEDS = (1, 2)


def images():
    """(description, image, truth) for the samples and simulated images."""
    for name in list_samples():
        yield (f"sample {name}", *load_sample(name))
    for count_scale in COUNT_SCALES:
        for seed in SEEDS:
            yield (f"count_scale={count_scale}, seed {seed}", *simulate_soil_image(count_scale=count_scale, random_state=seed))
    yield ("count_scale=0.25, 25 hotspots", *simulate_soil_image(count_scale=0.25, n_hotspots=25, random_state=1))


def main() -> None:
    methods = list(PREPROCESSING)
    print("ARI against the true phases; KMeans with k = number of phases (reference: max scaling, k=3)")
    print("| image | k | " + " | ".join(methods) + " | reference |")
    print("|---|---|" + "---|" * (len(methods) + 1))
    for description, image, truth in images():
        k = np.unique(truth).size
        scores = [adjusted_rand_score(truth.ravel(), cluster_image(image, k, preprocessing=m).labels.ravel()) for m in methods]
        scores.append(adjusted_rand_score(truth.ravel(), reference_pipeline(image).labels.ravel()))
        print(f"| {description} | {k} | " + " | ".join(f"{s:.2f}" for s in scores) + " |", flush=True)


if __name__ == "__main__":
    main()

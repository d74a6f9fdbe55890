"""The recommended pipeline recovers the phases of the sample "soil_256"; the reference does not."""

import numpy as np
from sklearn.metrics import adjusted_rand_score

from nanosims_helpers.io.samples import load_sample
from nanosims_helpers.pipeline import RECOMMENDED_PREPROCESSING, cluster_image, reference_pipeline


def test_recommended_pipeline_beats_the_reference_on_soil_256():
    image, truth = load_sample("soil_256")
    n_phases = np.unique(truth).size
    recommended = cluster_image(image, n_phases)
    reference = reference_pipeline(image, n_clusters=3)
    ari_recommended = adjusted_rand_score(truth.ravel(), recommended.labels.ravel())
    ari_reference = adjusted_rand_score(truth.ravel(), reference.labels.ravel())
    print(
        f"soil_256, {n_phases} phases: recommended ({RECOMMENDED_PREPROCESSING!r}, KMeans k={n_phases}) "
        f"ARI {ari_recommended:.3f}; reference (max scaling, KMeans k=3) ARI {ari_reference:.3f}"
    )
    assert ari_recommended >= 0.9
    assert ari_reference < ari_recommended

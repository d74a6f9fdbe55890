"""Tests of nanosims_helpers.pipeline: cluster_image's options and errors, reference_pipeline."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from nanosims_helpers.clustering import ClusterResult, kmeans_map
from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.hierarchical import hierarchical_map
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.pipeline import (
    DEFAULT_METHOD,
    METHODS,
    RECOMMENDED_PREPROCESSING,
    cluster_features,
    cluster_image,
    default_preprocessing,
    reference_pipeline,
)
from nanosims_helpers.preprocessing import PREPROCESSING, preprocess, scale_max
from nanosims_helpers.spatial import ASSIGN_SMOOTHING_PX, smooth_counts
from nanosims_helpers.teaching.challenge import best_match_f1
from nanosims_helpers.teaching.realistic import REALISTIC_PHASES
from nanosims_helpers.teaching.samples import load_sample

MASSES = ("12C", "16O", "12C 14N", "27Al 16O")
# Mean counts per phase (rows) and mass (columns): resin, organic matter, mineral.
PHASE_MEANS = np.array([[2000.0, 200.0, 10.0, 1.0], [2500.0, 300.0, 1200.0, 3.0], [100.0, 2500.0, 20.0, 600.0]])


@pytest.fixture(scope="module")
def soil():
    """Poisson counts of three phases in bands, 40 x 48 pixels, with their truth map."""
    truth = np.broadcast_to(np.arange(48) * 3 // 48, (40, 48))
    counts = np.random.default_rng(0).poisson(PHASE_MEANS[truth]).astype(float)
    return NanoSIMSImage(counts, MASSES), truth


def ari(truth, result):
    return adjusted_rand_score(truth.ravel(), result.labels.ravel())


def test_methods_and_recommended_preprocessing():
    assert set(METHODS) == {"poisson", "spatial", "kmeans", "pca-kmeans", "hierarchical"}
    assert DEFAULT_METHOD == METHODS[0] == "spatial"
    assert RECOMMENDED_PREPROCESSING in PREPROCESSING
    assert default_preprocessing("poisson") == default_preprocessing("spatial") == "composition"
    assert default_preprocessing("kmeans") == "asinh"
    assert all(default_preprocessing(method) in PREPROCESSING for method in METHODS)


@pytest.mark.parametrize("preprocessing", sorted(PREPROCESSING))
def test_cluster_image_kmeans_recovers_the_phases(soil, preprocessing):
    image, truth = soil
    result = cluster_image(image, 3, method="kmeans", preprocessing=preprocessing)
    assert ari(truth, result) == 1.0
    np.testing.assert_allclose(result.features, preprocess(image.counts, preprocessing))
    assert result.pca is None


def test_the_counting_model_gives_mean_counts_and_a_confidence_map(soil):
    """The counting model's centres are each phase's mean counts per pixel (flat yield here)."""
    image, truth = soil
    result = cluster_image(image, 3, method="poisson")
    assert ari(truth, result) == 1.0
    for phase in range(3):
        inside = truth == phase
        found = result.labels[inside][0]
        observed = image.counts[inside].mean(axis=0)
        np.testing.assert_allclose(result.centers[found], observed, rtol=0.1, atol=1.0)
    assert result.confidence.shape == truth.shape


def test_the_default_is_the_spatial_method_on_composition(soil):
    image, truth = soil
    result = cluster_image(image, 3)
    assert ari(truth, result) == 1.0
    expected = preprocess(smooth_counts(image.counts, ASSIGN_SMOOTHING_PX), "composition")
    np.testing.assert_allclose(result.features, expected)
    asinh = cluster_image(image, 3, preprocessing="asinh")
    np.testing.assert_allclose(asinh.features, preprocess(smooth_counts(image.counts, ASSIGN_SMOOTHING_PX), "asinh"))


@pytest.mark.parametrize("method", ["poisson", "spatial"])
def test_count_methods_need_counts_not_features(soil, method):
    with pytest.raises(NanoSIMSError, match="cluster_image"):
        cluster_features(preprocess(soil[0].counts), 3, method=method)


def test_cluster_image_pca_kmeans(soil):
    image, truth = soil
    result = cluster_image(image, 3, method="pca-kmeans", n_components=3)
    assert ari(truth, result) == 1.0
    assert result.features.shape == (40, 48, 3)
    assert result.pca.n_components_ == 3


def test_cluster_image_selects_masses_ignoring_spaces(soil):
    image, truth = soil
    result = cluster_image(image, 3, method="kmeans", masses=["12C14N", "27Al16O", "16O"])
    assert result.features.shape == (40, 48, 3)
    np.testing.assert_allclose(result.features, preprocess(image.counts[:, :, [2, 3, 1]]))
    assert ari(truth, result) == 1.0
    assert ari(truth, cluster_image(image, 3, masses=["12C14N", "27Al16O", "16O"])) == 1.0


@pytest.mark.parametrize("method", METHODS)
def test_cluster_image_accepts_a_plain_array(soil, method):
    image, _ = soil
    from_array = cluster_image(image.counts, 3, method=method, masses=["mass 1", "mass 3"])
    from_image = cluster_image(image, 3, method=method, masses=["12C", "12C14N"])
    np.testing.assert_array_equal(from_array.labels, from_image.labels)


@pytest.mark.parametrize("method", METHODS)
def test_cluster_image_is_deterministic_for_a_random_state(method):
    counts = np.random.default_rng(5).poisson(20.0, size=(24, 24, 3)).astype(float)
    first = cluster_image(counts, 4, method=method, random_state=3)
    second = cluster_image(counts, 4, method=method, random_state=3)
    np.testing.assert_array_equal(first.labels, second.labels)


def test_constant_channel_warning_names_the_mass(soil):
    image, truth = soil
    counts = image.counts.copy()
    counts[:, :, 1] = 0.0
    with pytest.warns(UserWarning, match=r"channel 1 \(16O\)"):
        result = cluster_image(NanoSIMSImage(counts, MASSES), 3)
    assert np.all(result.features[:, :, 1] == 0.0)


def test_unknown_method_lists_the_methods(soil):
    with pytest.raises(NanoSIMSError, match="pca-kmeans"):
        cluster_image(soil[0], 3, method="dbscan")


def test_unknown_preprocessing_lists_the_names(soil):
    with pytest.raises(NanoSIMSError, match="anscombe"):
        cluster_image(soil[0], 3, preprocessing="log")


def test_unknown_mass_lists_the_masses(soil):
    with pytest.raises(NanoSIMSError, match="27Al 16O"):
        cluster_image(soil[0], 3, masses=["13C"])


def test_only_a_method_that_counts_its_clusters_takes_no_k():
    rng = np.random.default_rng(0)
    means = np.zeros((24, 24, 2))
    means[:, :12], means[:, 12:] = [30.0, 2.0], [2.0, 40.0]
    counts = rng.poisson(means).astype(float)
    assert cluster_image(counts, None, method="poisson").n_clusters == 2
    for method in ("spatial", "kmeans", "hierarchical"):
        with pytest.raises(NanoSIMSError, match=rf"method='{method}' needs a number of clusters; only \['poisson'\]"):
            cluster_image(counts, None, method=method)


@pytest.mark.parametrize("bad", [np.zeros((4, 4)), np.full((4, 4, 2), np.inf)])
def test_bad_arrays_raise(bad):
    with pytest.raises(NanoSIMSError):
        cluster_image(bad, 2)


def test_clustering_errors_reach_the_caller(soil):
    with pytest.raises(NanoSIMSError, match="at least 2"):
        cluster_image(soil[0], 1)
    for method in METHODS:
        with pytest.raises(NanoSIMSError, match="constant image"):
            cluster_image(np.ones((6, 6, 2)), 2, method=method, preprocessing="none")


def test_hierarchical_method_calls_hierarchical_map(soil):
    image, truth = soil
    result = cluster_image(image, 3, method="hierarchical")
    assert isinstance(result, ClusterResult)
    np.testing.assert_array_equal(result.labels, hierarchical_map(result.features, 3).labels)
    assert result.labels.shape == truth.shape
    assert ari(truth, result) == 1.0


def test_reference_pipeline_is_max_scaling_then_kmeans(soil):
    image, _ = soil
    result = reference_pipeline(image, random_state=2)
    expected = kmeans_map(scale_max(image.counts), 3, random_state=2)
    np.testing.assert_array_equal(result.labels, expected.labels)
    np.testing.assert_allclose(result.features.max(axis=(0, 1)), 1.0)
    assert result.n_clusters == 3


# The recommended pipeline (cluster_image's default) recovers the phases of the kit's samples.
#
# On "realistic_256" (ion-yield gradient, beam blur, low counts, labelled cells on 1 % of the
# pixels) the targets of the default are ARI >= 0.90 and a labelled-cell F1 >= 0.85 at the true k;
# the pipeline the kit recommended before (asinh, then KMeans) misses both, so a default that falls
# back to it fails here. The counting model (``method="poisson"``) must reach ARI >= 0.95 and F1 >=
# 0.92 there, which the default misses. On "soil_256" the default must stay at ARI >= 0.97.


CELLS = REALISTIC_PHASES.index("labelled cells")


@pytest.fixture(scope="module")
def realistic():
    return load_sample("realistic_256")


def scores(labels, truth):
    """ARI against the truth, and F1 of the cluster that best matches the labelled cells."""
    f1 = best_match_f1(labels, truth, n_phases=len(REALISTIC_PHASES))[CELLS]
    return adjusted_rand_score(truth.ravel(), labels.ravel()), f1


def test_the_default_finds_the_phases_and_the_labelled_cells_of_the_realistic_sample(realistic):
    image, truth = realistic
    ari, cell_f1 = scores(cluster_image(image, len(REALISTIC_PHASES)).labels, truth)
    print(f"realistic_256, default pipeline: ARI {ari:.3f}, labelled-cell F1 {cell_f1:.3f}")
    assert ari >= 0.90
    assert cell_f1 >= 0.85
    assert ari < 0.95 and cell_f1 < 0.92  # the counting model's targets, below


def test_the_counting_model_reaches_closer_to_the_truth(realistic):
    image, truth = realistic
    ari, cell_f1 = scores(cluster_image(image, len(REALISTIC_PHASES), method="poisson").labels, truth)
    print(f"realistic_256, counting model: ARI {ari:.3f}, labelled-cell F1 {cell_f1:.3f}")
    assert ari >= 0.95 and cell_f1 >= 0.92


def test_asinh_kmeans_misses_the_targets_there(realistic):
    """The targets discriminate: the earlier default fails them, so a regression to it is caught."""
    image, truth = realistic
    ari, cell_f1 = scores(cluster_image(image, len(REALISTIC_PHASES), method="kmeans").labels, truth)
    print(f"realistic_256, asinh + KMeans: ARI {ari:.3f}, labelled-cell F1 {cell_f1:.3f}")
    assert ari < 0.85 and cell_f1 < 0.5


def test_the_default_has_no_salt_and_pepper(realistic):
    """Nearly every pixel agrees with at least 3 of its 8 neighbours; asinh + KMeans is noisier."""

    def isolated(labels):
        padded = np.pad(labels, 1, mode="edge")
        same = sum(
            padded[1 + dy: 1 + dy + labels.shape[0], 1 + dx: 1 + dx + labels.shape[1]] == labels
            for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)
        )
        return float(np.mean(same <= 2))

    image, _ = realistic
    default = isolated(cluster_image(image, len(REALISTIC_PHASES)).labels)
    kmeans = isolated(cluster_image(image, len(REALISTIC_PHASES), method="kmeans").labels)
    assert default < 0.005 and kmeans > 2 * default


def test_recommended_pipeline_beats_the_reference_on_soil_256():
    image, truth = load_sample("soil_256")
    n_phases = np.unique(truth).size
    recommended = cluster_image(image, n_phases)
    previous = cluster_image(image, n_phases, method="kmeans")
    reference = reference_pipeline(image, n_clusters=3)
    ari_recommended = adjusted_rand_score(truth.ravel(), recommended.labels.ravel())
    ari_previous = adjusted_rand_score(truth.ravel(), previous.labels.ravel())
    ari_reference = adjusted_rand_score(truth.ravel(), reference.labels.ravel())
    print(
        f"soil_256, {n_phases} phases: default ARI {ari_recommended:.3f}; {RECOMMENDED_PREPROCESSING!r} + KMeans "
        f"ARI {ari_previous:.3f}; reference (max scaling, KMeans k=3) ARI {ari_reference:.3f}"
    )
    assert ari_recommended >= 0.97
    assert ari_previous >= 0.9
    assert ari_reference < ari_recommended

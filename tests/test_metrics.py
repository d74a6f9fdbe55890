"""Scores of a clustering: agreement with scikit-learn, the silhouette sample, errors."""

import numpy as np
import pytest
import sklearn.metrics

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.metrics import (
    _silhouette_of_distances,
    adjusted_rand,
    calinski_harabasz,
    clustering_entropy,
    davies_bouldin,
    match_labels,
    score_table,
    silhouette,
)


def blobs(n_per_cluster=100, n_clusters=4, n_features=3, spread=1.0, seed=0):
    """Gaussian blobs around random centres, and the blob of each point."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-5, 5, size=(n_clusters, n_features))
    labels = np.repeat(np.arange(n_clusters), n_per_cluster)
    return centres[labels] + spread * rng.standard_normal((labels.size, n_features)), labels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_calinski_harabasz_and_davies_bouldin_match_sklearn(seed):
    values, labels = blobs(seed=seed, spread=2.0)
    rng = np.random.default_rng(seed)
    moved = rng.random(labels.size) < 0.2  # imperfect clusters
    labels[moved] = rng.integers(0, 4, moved.sum())
    assert calinski_harabasz(values, labels) == pytest.approx(sklearn.metrics.calinski_harabasz_score(values, labels))
    assert davies_bouldin(values, labels) == pytest.approx(sklearn.metrics.davies_bouldin_score(values, labels))


def test_scores_accept_an_image_and_a_label_map():
    values, labels = blobs(n_per_cluster=64)  # 256 pixels: a 16 x 16 image
    image, label_map = values.reshape(16, 16, 3), labels.reshape(16, 16)
    assert calinski_harabasz(image, label_map) == pytest.approx(calinski_harabasz(values, labels))
    assert davies_bouldin(image, labels) == pytest.approx(davies_bouldin(values, labels))
    assert silhouette(image, label_map) == pytest.approx(silhouette(values, labels))


def test_label_names_do_not_matter():
    values, labels = blobs(spread=2.0)
    renamed = np.array([7, -3, 40, 2])[labels]
    assert calinski_harabasz(values, renamed) == pytest.approx(calinski_harabasz(values, labels))
    assert davies_bouldin(values, renamed) == pytest.approx(davies_bouldin(values, labels))
    assert silhouette(values, renamed) == pytest.approx(silhouette(values, labels))


def test_identical_points_per_cluster_follow_sklearn_conventions():
    values = np.array([[0.0], [0.0], [3.0], [3.0]])
    labels = [0, 0, 1, 1]
    assert calinski_harabasz(values, labels) == sklearn.metrics.calinski_harabasz_score(values, labels)
    assert davies_bouldin(values, labels) == sklearn.metrics.davies_bouldin_score(values, labels)


def test_sampled_silhouette_is_close_to_the_exact_one():
    values, labels = blobs(n_per_cluster=750, spread=2.5)  # 3000 points
    exact = silhouette(values, labels, exact=True)
    assert exact == pytest.approx(sklearn.metrics.silhouette_score(values, labels))
    for seed in range(3):
        assert abs(silhouette(values, labels, sample_size=1000, random_state=seed) - exact) < 0.02


def test_silhouette_sample_is_reproducible_and_whole_when_large_enough():
    values, labels = blobs(n_per_cluster=300, spread=2.5)
    assert silhouette(values, labels, sample_size=500, random_state=3) == silhouette(
        values, labels, sample_size=500, random_state=3
    )
    assert silhouette(values, labels, sample_size=5000) == pytest.approx(silhouette(values, labels, exact=True))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_silhouette_sample_is_of_distinct_pixels(seed):
    """A sample of 11 of 12 pixels leaves exactly one out: its silhouette is one of the 12
    leave-one-out silhouettes (drawing with replacement would repeat pixels instead)."""
    values, labels = blobs(n_per_cluster=4, n_clusters=3, spread=2.0, seed=seed)
    left_out = [
        sklearn.metrics.silhouette_score(np.delete(values, i, axis=0), np.delete(labels, i)) for i in range(12)
    ]
    sampled = silhouette(values, labels, sample_size=11, random_state=seed)
    assert min(abs(sampled - value) for value in left_out) < 1e-12


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_silhouette_of_distances_matches_sklearn(dtype):
    values, labels = blobs(n_per_cluster=50, n_clusters=5, spread=2.0)
    labels[0] = 7  # a cluster of one pixel, and clusters 5 and 6 absent
    distances = sklearn.metrics.pairwise_distances(values).astype(dtype)
    expected = sklearn.metrics.silhouette_score(values, labels)
    assert _silhouette_of_distances(distances, labels, 8) == pytest.approx(expected, abs=1e-6)


def test_adjusted_rand_matches_sklearn_and_ignores_names():
    rng = np.random.default_rng(0)
    labels, reference = rng.integers(0, 4, 500), rng.integers(0, 3, 500)
    reference[:300] = labels[:300] % 3
    expected = sklearn.metrics.adjusted_rand_score(reference, labels)
    assert adjusted_rand(labels, reference) == pytest.approx(expected)
    assert adjusted_rand(labels.reshape(20, 25), reference.reshape(20, 25)) == pytest.approx(expected)
    assert adjusted_rand(labels, 10 - reference) == pytest.approx(expected)
    assert adjusted_rand(labels, labels + 5) == 1.0


def test_score_table_holds_every_score():
    values, labels = blobs(spread=2.0)
    table = score_table(values, labels)
    assert set(table) == {"silhouette", "calinski_harabasz", "davies_bouldin", "entropy"}
    assert table["calinski_harabasz"] == pytest.approx(calinski_harabasz(values, labels))
    assert table["davies_bouldin"] == pytest.approx(davies_bouldin(values, labels))
    assert table["silhouette"] == pytest.approx(silhouette(values, labels))
    assert table["entropy"] == pytest.approx(clustering_entropy(values, labels))
    with_reference = score_table(values, labels, truth=labels[::-1])
    assert with_reference["adjusted_rand"] == pytest.approx(adjusted_rand(labels, labels[::-1]))


@pytest.mark.parametrize("score", [calinski_harabasz, davies_bouldin, silhouette, score_table])
def test_scores_need_two_clusters(score):
    values, _ = blobs()
    with pytest.raises(NanoSIMSError, match="one cluster"):
        score(values, np.zeros(len(values), dtype=int))


@pytest.mark.parametrize("score", [calinski_harabasz, davies_bouldin, silhouette])
def test_scores_need_fewer_clusters_than_pixels(score):
    with pytest.raises(NanoSIMSError, match="every pixel its own cluster"):
        score([[0.0], [1.0], [2.0]], [0, 1, 2])


@pytest.mark.parametrize("score", [calinski_harabasz, davies_bouldin, silhouette, clustering_entropy, score_table])
def test_labels_must_match_the_pixels(score):
    values, labels = blobs()
    with pytest.raises(NanoSIMSError, match="labels for"):
        score(values, labels[:-1])
    with pytest.raises(NanoSIMSError, match="integer"):
        score(values, labels.astype(float))
    with pytest.raises(NanoSIMSError, match="shape"):
        score(values.reshape(20, 20, 3), labels.reshape(10, 40))


@pytest.mark.parametrize("score", [calinski_harabasz, davies_bouldin, silhouette, clustering_entropy, score_table])
def test_values_must_be_finite(score):
    values, labels = blobs()
    values[5, 1] = np.nan
    with pytest.raises(NanoSIMSError, match="NaN"):
        score(values, labels)


def test_a_one_channel_image_without_feature_axis_gets_a_hint():
    image = np.arange(16.0).reshape(4, 4)
    labels = (image > 7).astype(int)
    with pytest.raises(NanoSIMSError, match=r"values\[\.\.\., None\]"):
        calinski_harabasz(image, labels)
    assert calinski_harabasz(image[..., None], labels) > 0


@pytest.mark.parametrize("sample_size", [2, 2.5, "many", True])
def test_silhouette_sample_size_must_be_a_whole_number(sample_size):
    values, labels = blobs()
    with pytest.raises(NanoSIMSError, match="sample_size"):
        silhouette(values, labels, sample_size=sample_size)


def test_silhouette_sample_of_a_single_cluster_is_an_error():
    values, labels = blobs(n_per_cluster=1000, n_clusters=2)
    labels[:] = 0
    labels[0] = 1  # one pixel in the second cluster: a small sample misses it
    with pytest.raises(NanoSIMSError, match="exact=True"):
        silhouette(values, labels, sample_size=10, random_state=1)


def test_adjusted_rand_needs_maps_of_the_same_pixels():
    labels = np.zeros((4, 6), dtype=int)
    with pytest.raises(NanoSIMSError, match="reference"):
        adjusted_rand(labels, labels.T)
    with pytest.raises(NanoSIMSError, match="reference"):
        adjusted_rand(labels, np.zeros(23, dtype=int))


def test_match_labels_gives_each_cluster_the_number_of_the_group_it_shares_most_pixels_with():
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 5, size=(30, 40))
    shuffled = np.array([3, 0, 4, 1, 2])[truth]  # the same grouping under other numbers
    assert np.array_equal(match_labels(shuffled, truth), truth)
    # one-to-one: cluster 0 shares 2 pixels with group 7, but cluster 1 shares 5, so cluster 1
    # takes 7, cluster 0 takes 2 (2 pixels, more than cluster 2's 1) and cluster 2 a new number
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 2])
    reference = np.array([7, 7, 2, 2, 7, 7, 7, 7, 7, 2])
    assert match_labels(labels, reference).tolist() == [2, 2, 2, 2, 7, 7, 7, 7, 7, 8]
    noisy = np.where(rng.random(truth.shape) < 0.2, 4, shuffled)
    assert adjusted_rand(match_labels(noisy, truth), noisy) == 1.0
    with pytest.raises(NanoSIMSError, match="reference"):
        match_labels(truth, truth[:, :10])

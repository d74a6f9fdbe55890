"""Scores of a clustering: agreement with scikit-learn, the silhouette sample, errors."""

import math

import numpy as np
import pytest
import sklearn.metrics
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import entropy as shannon_entropy

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


# clustering_entropy: its definition, and the properties that make it usable to choose k.


TOLERANCE = 1e-9


def entropy_by_hand(values, labels, bins):
    """The definition, written as loops over clusters and features with numpy.histogram."""
    edges = [np.histogram_bin_edges(column, bins) for column in values.T]
    total = 0.0
    for cluster in np.unique(labels):
        members = values[labels == cluster]
        per_feature = [shannon_entropy(np.histogram(members[:, j], edges[j])[0]) for j in range(values.shape[1])]
        total += len(members) * sum(per_feature)
    return total / len(values)


def test_hand_computed_example():
    # feature 0 (edges 0, 0.5, 1) -> bins 0,0,1 | 1,0,1,1 ; feature 1 (edges 0, 2, 4) -> bins 0,1,1 | 1,1,1,1
    values = np.array([[0, 0], [0, 2], [1, 4], [1, 4], [0, 4], [1, 4], [1, 4]], dtype=float)
    labels = np.array([0, 0, 0, 1, 1, 1, 1])
    two_to_one = math.log(3) - 2 / 3 * math.log(2)  # entropy of a 2:1 histogram, in nats
    three_to_one = math.log(4) - 3 / 4 * math.log(3)
    # cluster 0 (3 pixels): two 2:1 histograms; cluster 1 (4 pixels): a 3:1 one and a constant one
    expected = (3 * 2 * two_to_one + 4 * three_to_one) / 7
    assert clustering_entropy(values, labels, bins=2) == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(3))
def test_matches_the_definition_on_random_data(seed):
    rng = np.random.default_rng(seed)
    values = rng.lognormal(size=(500, 4))
    values[:, 3] = 2.0  # a constant feature adds nothing
    labels = rng.integers(0, 5, 500)
    for bins in (1, 3, 10):
        assert clustering_entropy(values, labels, bins) == pytest.approx(entropy_by_hand(values, labels, bins))


def test_zero_when_every_feature_is_constant_inside_every_cluster():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 3))
    labels = rng.integers(0, 4, 200)
    assert clustering_entropy(centres[labels], labels) == 0.0
    assert clustering_entropy(centres[labels].reshape(10, 20, 3), labels.reshape(10, 20)) == 0.0


def test_bounded_by_features_times_log_bins():
    rng = np.random.default_rng(1)
    values = rng.uniform(size=(4000, 3))
    one_cluster = np.zeros(4000, dtype=int)
    value = clustering_entropy(values, one_cluster, bins=10)
    assert value <= 3 * math.log(10) + TOLERANCE
    assert value == pytest.approx(3 * math.log(10), rel=0.01)  # uniform data fill the bins evenly


def test_independent_of_label_names_and_pixel_order():
    rng = np.random.default_rng(2)
    values = rng.normal(size=(300, 2))
    labels = rng.integers(0, 4, 300)
    reference = clustering_entropy(values, labels)
    assert clustering_entropy(values, np.array([30, -1, 5, 8])[labels]) == pytest.approx(reference)
    order = rng.permutation(300)
    assert clustering_entropy(values[order], labels[order]) == pytest.approx(reference)


pixel_tables = st.integers(1, 4).flatmap(
    lambda n_features: arrays(
        np.float64,
        st.tuples(st.integers(2, 40), st.just(n_features)),
        elements=st.one_of(st.integers(-5, 5).map(float), st.floats(-1e6, 1e6, allow_nan=False)),
    )
)


@settings(max_examples=100, deadline=None)
@given(values=pixel_tables, data=st.data())
def test_splitting_a_cluster_never_raises_it(values, data):
    n_pixels = values.shape[0]
    labels = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n_pixels, max_size=n_pixels)))
    bins = data.draw(st.integers(1, 12))
    cluster = data.draw(st.sampled_from(sorted(set(labels.tolist()))))
    moved = np.array(data.draw(st.lists(st.booleans(), min_size=n_pixels, max_size=n_pixels)))
    split = np.where((labels == cluster) & moved, labels.max() + 1, labels)
    assert clustering_entropy(values, split, bins) <= clustering_entropy(values, labels, bins) + TOLERANCE


@settings(max_examples=40, deadline=None)
@given(values=pixel_tables, extra=st.data())
def test_adding_a_feature_never_lowers_it(values, extra):
    n_pixels = values.shape[0]
    labels = np.array(extra.draw(st.lists(st.integers(0, 3), min_size=n_pixels, max_size=n_pixels)))
    column = np.array(extra.draw(st.lists(st.floats(-100, 100), min_size=n_pixels, max_size=n_pixels)))
    wider = np.column_stack([values, column])
    assert clustering_entropy(wider, labels) >= clustering_entropy(values, labels) - TOLERANCE


def test_one_cluster_is_the_entropy_of_the_whole_image():
    values = np.array([[0.0], [1.0], [0.0], [1.0]])
    assert clustering_entropy(values, [0, 0, 0, 0], bins=2) == pytest.approx(math.log(2))


@pytest.mark.parametrize("bins", [0, -3, 2.5, "10", True])
def test_bins_must_be_a_positive_whole_number(bins):
    with pytest.raises(NanoSIMSError, match="bins"):
        clustering_entropy(np.zeros((4, 1)), [0, 0, 1, 1], bins=bins)

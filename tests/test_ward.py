"""Weighted Ward linkage on centroids: agrees with SciPy and with Ward on duplicated pixels."""

import numpy as np
import pytest
from scipy.cluster.hierarchy import dendrogram, fcluster, is_valid_linkage, linkage

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.ward import MAX_CENTROIDS, cut_linkage, ward_linkage


def same_partition(a, b) -> bool:
    """True when two label vectors group the items the same way, whatever the numbers."""
    pairs = set(zip(np.asarray(a).tolist(), np.asarray(b).tolist()))
    return len(pairs) == len(set(np.asarray(a).tolist())) == len(set(np.asarray(b).tolist()))


@pytest.mark.parametrize("n, n_features, seed", [(2, 1, 0), (7, 2, 1), (60, 3, 2), (400, 7, 3)])
def test_unit_weights_equal_scipy_ward(n, n_features, seed):
    points = np.random.default_rng(seed).normal(size=(n, n_features))
    ours, scipys = ward_linkage(points), linkage(points, "ward")
    np.testing.assert_array_equal(ours[:, [0, 1, 3]], scipys[:, [0, 1, 3]])
    np.testing.assert_allclose(ours[:, 2], scipys[:, 2], rtol=1e-10)
    assert is_valid_linkage(ours)


def test_explicit_unit_weights_equal_no_weights():
    points = np.random.default_rng(4).normal(size=(30, 2))
    np.testing.assert_array_equal(ward_linkage(points, np.ones(30)), ward_linkage(points))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weighted_equals_ward_on_duplicated_points(seed):
    rng = np.random.default_rng(seed)
    centroids = rng.normal(size=(25, 3))
    weights = rng.integers(1, 7, size=25)
    duplicated = np.repeat(centroids, weights, axis=0)
    owner = np.repeat(np.arange(25), weights)
    full = linkage(duplicated, "ward")
    n_tied = len(duplicated) - 25
    # SciPy first merges every copy of a centroid with its twins, at height 0 ...
    assert np.all(full[:n_tied, 2] == 0) and np.all(full[n_tied:, 2] > 0)
    weighted = ward_linkage(centroids, weights)
    # ... then the rest of its tree is the weighted tree of the centroids.
    np.testing.assert_allclose(weighted[:, 2], full[n_tied:, 2], rtol=1e-9)
    for k in (2, 3, 5, 10):
        assert same_partition(cut_linkage(weighted, k)[owner], cut_linkage(full, k))


def test_heights_measure_the_increase_of_the_sum_of_squares():
    # Ward's merge cost: height ** 2 / 2 = SSE(union) - SSE(a) - SSE(b), SSE over the pixels.
    rng = np.random.default_rng(5)
    centroids, weights = rng.normal(size=(12, 2)), rng.integers(1, 50, size=12)
    tree = ward_linkage(centroids, weights)
    members = {i: [i] for i in range(12)}

    def sse(indices):
        w, c = weights[indices], centroids[indices]
        mean = np.average(c, axis=0, weights=w)
        return float(np.sum(w * np.sum((c - mean) ** 2, axis=1)))

    for row, (a, b, height, n_leaves) in enumerate(tree):
        union = members[int(a)] + members[int(b)]
        members[12 + row] = union
        assert len(union) == n_leaves
        assert height**2 / 2 == pytest.approx(sse(union) - sse(members[int(a)]) - sse(members[int(b)]))


def test_scipy_tools_accept_the_result():
    centroids = np.array([[0.0], [0.5], [10.0], [10.4], [30.0]])
    tree = ward_linkage(centroids, [100, 2000, 30, 400, 5])
    labels = fcluster(tree, 3, criterion="maxclust")
    assert same_partition(labels, [0, 0, 1, 1, 2])
    assert len(dendrogram(tree, no_plot=True)["leaves"]) == 5


def test_heavy_centroids_resist_merging():
    # Unweighted, 0 and 1 are the closest pair; 1000 pixels each make their merge costly, and
    # the single pixel at 2.2 joins 1 instead.
    centroids = np.array([[0.0], [1.0], [2.2]])
    assert same_partition(cut_linkage(ward_linkage(centroids), 2), [0, 0, 1])
    assert same_partition(cut_linkage(ward_linkage(centroids, [1000, 1000, 1]), 2), [0, 1, 1])


def test_cut_gives_exactly_k_clusters_when_heights_tie():
    tree = ward_linkage(np.array([[0.0], [1.0], [10.0], [11.0], [20.0], [21.0]]))
    assert np.unique(fcluster(tree, 5, criterion="maxclust")).size == 3  # SciPy gives up on the tie
    for k in range(1, 7):
        labels = cut_linkage(tree, k)
        assert sorted(np.unique(labels)) == list(range(k))


def test_cut_follows_the_tree():
    tree = ward_linkage(np.array([[0.0], [1.0], [10.0], [11.0], [30.0]]))
    assert same_partition(cut_linkage(tree, 2), [0, 0, 0, 0, 1])
    assert same_partition(cut_linkage(tree, 3), [0, 0, 1, 1, 2])


def test_duplicated_centroids_merge_first_at_height_zero():
    tree = ward_linkage(np.array([[1.0, 2.0], [1.0, 2.0], [5.0, 5.0]]), [3, 4, 1])
    assert tree[0, 2] == 0 and tree[1, 2] > 0


@pytest.mark.parametrize(
    "centroids, weights, message",
    [
        ([[1.0]], None, "2 to"),
        (np.zeros((MAX_CENTROIDS + 1, 1)), None, "n_micro"),
        ([1.0, 2.0, 3.0], None, "2-D"),
        ([[0.0], [np.nan]], None, "NaN"),
        ([[0.0], [1.0]], [1.0], "one per centroid"),
        ([[0.0], [1.0]], [1.0, 0.0], "positive"),
        ([[0.0], [1.0]], [1.0, np.inf], "infinite"),
    ],
)
def test_bad_input_is_explained(centroids, weights, message):
    with pytest.raises(NanoSIMSError, match=message):
        ward_linkage(centroids, weights)

"""Fast Ward clustering of every pixel, its cut, regrouping of KMeans clusters and the dendrogram."""

import re
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from nanosims_helpers import hierarchical
from nanosims_helpers.clustering import ClusterResult
from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.hierarchical import (
    WardTree,
    compare_with_exact,
    cut_tree,
    exact_ward_labels,
    hierarchical_map,
    regroup_clusters,
    ward_tree,
)
from nanosims_helpers.metrics import adjusted_rand
from nanosims_helpers.plot.dendrogram import plot_dendrogram
from nanosims_helpers.preprocessing import preprocess
from nanosims_helpers.teaching.synthetic import simulate_soil_image
from nanosims_helpers.ward import ward_linkage


def blobs(shape=(40, 50), centres=((0.0, 0.0), (4.0, 0.0), (0.0, 6.0)), seed=0):
    """Image whose pixels come from well-separated blobs, in horizontal bands; and the truth."""
    rng = np.random.default_rng(seed)
    truth = (np.arange(shape[0])[:, None] * len(centres) // shape[0]).repeat(shape[1], axis=1)
    features = np.asarray(centres)[truth] + rng.normal(scale=0.3, size=(*shape, len(centres[0])))
    return features, truth


@pytest.fixture(scope="module")
def soil_64():
    image, truth = simulate_soil_image((64, 64), random_state=1)
    return preprocess(image.counts), truth


@pytest.fixture(scope="module")
def tree_64(soil_64):
    return ward_tree(soil_64[0], n_micro=300)


def test_tree_holds_every_pixel(soil_64, tree_64):
    features, _ = soil_64
    table = features.reshape(-1, features.shape[2])
    assert isinstance(tree_64, WardTree) and tree_64.shape == (64, 64)
    assert tree_64.micro_labels.shape == (64, 64) and tree_64.n_micro == 300
    assert tree_64.weights.sum() == 64 * 64 and np.all(tree_64.weights > 0)
    assert tree_64.linkage.shape == (299, 4)
    # Each centroid is the mean of its pixels: what weighted Ward needs.
    for micro in (0, 150, 299):
        members = table[tree_64.micro_labels.ravel() == micro]
        assert len(members) == tree_64.weights[micro]
        np.testing.assert_allclose(tree_64.centroids[micro], members.mean(axis=0))


def test_fast_ward_agrees_with_exact_ward(soil_64):
    features, truth = soil_64
    exact = exact_ward_labels(features, 4)
    scores = [adjusted_rand(hierarchical_map(features, 4, random_state=seed).labels, exact) for seed in (0, 1, 2)]
    assert min(scores) >= 0.9, scores
    assert adjusted_rand_score(truth.ravel(), exact.ravel()) > 0.8  # the sample has real phases to find


def test_micro_clusters_count_as_the_pixels_they_hold():
    """Groups of identical pixels: 1200 at 0, 400 at 4, 600 at 7, 400 at 13. Ward on the pixels
    merges 4 with 7, then 13 with them, leaving the 1200 pixels at 0 alone. Ward on the four values
    without their pixel counts cuts {0, 4, 7} | {13} instead (ARI 0.05), and KMeans another way (0.48)."""
    values = np.repeat([0.0, 4.0, 7.0, 13.0], [1200, 400, 600, 400])
    features = np.stack([values, 10.0 - values], axis=-1).reshape(40, 65, 2)  # > n_micro pixels
    exact = exact_ward_labels(features, 2)
    assert np.bincount(exact.ravel()).tolist() == [1400, 1200] and len(set(exact.ravel()[:1200])) == 1
    for seed in (0, 1):
        assert adjusted_rand(hierarchical_map(features, 2, random_state=seed).labels, exact) == 1.0


def test_small_images_get_the_exact_tree():
    # Fewer pixels than micro-clusters: one leaf per pixel value, so the tree is exact Ward.
    features, _ = blobs((12, 10))
    assert ward_tree(features).n_micro == 120
    result = compare_with_exact(features, 3)
    assert result.adjusted_rand == 1.0
    np.testing.assert_array_equal(result.fast_labels, result.exact_labels)


def test_blobs_are_recovered_and_numbered_by_size():
    features, truth = blobs((60, 40), centres=((0.0, 0.0), (5.0, 0.0), (0.0, 5.0), (5.0, 5.0)))
    features[:5] = features[50:55]  # first band smaller, last one larger
    labels = cut_tree(ward_tree(features, n_micro=200), n_clusters=4)
    truth[:5] = truth[50:55]
    assert adjusted_rand_score(truth.ravel(), labels.ravel()) == 1.0
    sizes = np.bincount(labels.ravel())
    assert sizes.tolist() == sorted(sizes, reverse=True)


def test_cut_by_height_matches_cut_by_number(tree_64):
    heights = tree_64.linkage[:, 2]
    for k in (2, 4, 7):
        between = (heights[-k] + heights[-k + 1]) / 2
        np.testing.assert_array_equal(
            cut_tree(tree_64, height=between), cut_tree(tree_64, n_clusters=k)
        )
    assert np.unique(cut_tree(tree_64, height=0.0)).size == 300


def test_same_seed_same_labels_and_seed_matters(soil_64):
    features, _ = soil_64
    first = ward_tree(features, n_micro=100, random_state=3)
    np.testing.assert_array_equal(first.micro_labels, ward_tree(features, n_micro=100, random_state=3).micro_labels)
    assert not np.array_equal(first.micro_labels, ward_tree(features, n_micro=100, random_state=4).micro_labels)


def test_micro_clusters_fitted_on_a_sample_label_every_pixel(soil_64):
    features, _ = soil_64
    tree = ward_tree(features, n_micro=50, fit_sample_size=500)
    assert tree.weights.sum() == 64 * 64 and set(np.unique(tree.micro_labels)) == set(range(tree.n_micro))


def test_pixel_tables_are_accepted():
    features, _ = blobs()
    tree = ward_tree(features.reshape(-1, 2), n_micro=100)
    assert tree.shape == (2000,) and cut_tree(tree, n_clusters=3).shape == (2000,)


def test_few_distinct_values_give_few_leaves():
    features = np.zeros((50, 50, 2))
    features[:20] = [1.0, 0.0]
    features[40:] = [0.0, 3.0]
    tree = ward_tree(features, n_micro=100)
    assert tree.n_micro == 3
    assert np.bincount(cut_tree(tree, n_clusters=3).ravel()).tolist() == [1000, 1000, 500]
    with pytest.raises(NanoSIMSError, match="only 3 distinct values"):
        hierarchical_map(features, 4)


def test_a_sample_of_identical_pixels_is_explained():
    features = np.zeros((64, 64, 1))
    features[0, 0] = 1.0
    with pytest.raises(NanoSIMSError, match="larger fit_sample_size"):
        ward_tree(features, n_micro=10, fit_sample_size=10)


def test_hierarchical_map_returns_a_cluster_result(soil_64):
    features, _ = soil_64
    result = hierarchical_map(features, 3)
    assert isinstance(result, ClusterResult) and result.pca is None and result.n_clusters == 3
    assert result.features is not None and result.features.shape == features.shape
    for cluster in range(3):
        np.testing.assert_allclose(result.centers[cluster], features[result.labels == cluster].mean(axis=0))


def test_exact_ward_warns_about_its_cost(monkeypatch):
    features, _ = blobs((10, 10))
    monkeypatch.setattr(hierarchical, "_EXACT_WARN_PIXELS", 50)
    with pytest.warns(UserWarning, match="takes about"):
        exact_ward_labels(features, 3)
    monkeypatch.setattr(hierarchical, "_EXACT_WARN_PIXELS", 100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert exact_ward_labels(features, 3).shape == (10, 10)


def kmeans_12(features):
    table = features.reshape(-1, features.shape[-1])
    model = KMeans(12, n_init=1, random_state=0).fit(table)
    return model.labels_.reshape(features.shape[:-1]), model.cluster_centers_


def test_regroup_merges_over_split_kmeans_back_into_the_blobs():
    features, truth = blobs()
    labels, centres = kmeans_12(features)
    regrouped = regroup_clusters(labels, centres, 3)
    assert regrouped.labels.shape == labels.shape
    assert adjusted_rand_score(truth.ravel(), regrouped.labels.ravel()) == 1.0
    np.testing.assert_array_equal(regrouped.labels, regrouped.mapping[labels])
    assert regrouped.weights.tolist() == np.bincount(labels.ravel()).tolist()
    assert regrouped.linkage.shape == (11, 4)
    sizes = np.bincount(regrouped.labels.ravel())
    assert sizes.tolist() == sorted(sizes, reverse=True)


def test_regroup_weighs_clusters_by_pixel_count():
    labels = np.array([0, 1, 2])
    centres = np.array([[0.0], [1.0], [2.2]])
    assert regroup_clusters(labels, centres, 2).mapping.tolist() == [0, 0, 1]
    # Two big clusters resist merging; the one-pixel cluster joins its nearest big one.
    assert regroup_clusters(labels, centres, 2, sizes=[1000, 1000, 1]).mapping.tolist() == [1, 0, 0]


def test_dendrogram_shows_the_top_of_the_tree_with_pixel_counts(tree_64):
    ax = plot_dendrogram(tree_64, n_clusters=4)
    labels = [tick.get_text() for tick in ax.get_xticklabels()]
    assert len(labels) == 30 and all(text.endswith("px)") for text in labels)
    counts = [int(re.search(r"\(([\d,]+) px\)", text).group(1).replace(",", "")) for text in labels]
    assert sum(counts) == 64 * 64  # the 30 branches hold every pixel once
    heights = tree_64.linkage[:, 2]
    cut = [line.get_ydata()[0] for line in ax.get_lines()]
    assert len(cut) == 1 and heights[-4] < cut[0] < heights[-3]


def test_dendrogram_of_a_regrouping_and_of_a_linkage():
    features, _ = blobs()
    labels, centres = kmeans_12(features)
    fig, ax = plt.subplots()
    assert plot_dendrogram(regroup_clusters(labels, centres, 3), ax=ax, cut_height=1.0) is ax
    leaf_labels = [tick.get_text() for tick in ax.get_xticklabels()]
    assert len(leaf_labels) == 12 and all(re.fullmatch(r"\d+ \([\d,]+ px\)", text) for text in leaf_labels)
    ax = plot_dendrogram(ward_linkage(centres), show_sizes=False, truncate=None)
    assert [tick.get_text() for tick in ax.get_xticklabels()] == []


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda f, t: ward_tree(f[:, :, 0].ravel()), "2-D or 3-D"),
        (lambda f, t: ward_tree(np.where(f > 1.0, np.nan, f)), "NaN"),
        (lambda f, t: ward_tree(np.ones((8, 8, 2))), "constant"),
        (lambda f, t: ward_tree(f, n_micro=1), "at least 2"),
        (lambda f, t: ward_tree(f, n_micro=10_000), "at most"),
        (lambda f, t: ward_tree(f, n_micro=2.5), "whole number"),
        (lambda f, t: ward_tree(f, n_micro=100, fit_sample_size=50), "fit_sample_size"),
        (lambda f, t: cut_tree(t), "exactly one"),
        (lambda f, t: cut_tree(t, n_clusters=2, height=1.0), "exactly one"),
        (lambda f, t: cut_tree(t, n_clusters=1), "at least 2"),
        (lambda f, t: cut_tree(t, n_clusters=301), "micro-clusters"),
        (lambda f, t: cut_tree(t, height=-1.0), "height"),
        (lambda f, t: cut_tree(t, height=1e9), "one cluster"),
        (lambda f, t: cut_tree(t.linkage, n_clusters=2), "WardTree"),
        (lambda f, t: hierarchical_map(f.reshape(-1, 7), 3), "3-D"),
        (lambda f, t: hierarchical_map(f, 1), "at least 2"),
        (lambda f, t: exact_ward_labels(f, 0), "at least 2"),
        (lambda f, t: regroup_clusters([0, 1, 3], [[0.0], [1.0], [2.0]], 2), "0 .. 2"),
        (lambda f, t: regroup_clusters([0, 0, 2], [[0.0], [1.0], [2.0]], 2), "no pixels"),
        (lambda f, t: regroup_clusters([0, 1, 2], [[0.0], [1.0], [2.0]], 4), "at most 3"),
        (lambda f, t: regroup_clusters([0, 1, 2], [[0.0], [1.0], [2.0]], 2, sizes=[1, 2]), "sizes"),
        (lambda f, t: regroup_clusters([0.0, 1.0], [[0.0], [1.0]], 2), "integer"),
        (lambda f, t: plot_dendrogram("tree"), "WardTree"),
        (lambda f, t: plot_dendrogram(t, truncate=1), "truncate"),
        (lambda f, t: plot_dendrogram(t, cut_height=1.0, n_clusters=3), "not both"),
        (lambda f, t: plot_dendrogram(t, n_clusters=301), "n_clusters"),
    ],
)
def test_bad_input_is_explained(soil_64, tree_64, call, message):
    with pytest.raises(NanoSIMSError, match=message):
        call(soil_64[0], tree_64)

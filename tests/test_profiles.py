"""Tests of per-cluster profiles: numbers against plain NumPy, table layout, bad input."""

import numpy as np
import pytest

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.profiles import (
    PROFILE_COLUMNS,
    check_masses,
    cluster_profiles,
    pixels_and_labels,
    profile_matrix,
    split_by_cluster,
)
from nanosims_helpers.validation import check_cluster_labels

MASSES = ["16O", "12C", "56Fe16O"]  # deliberately not alphabetical


@pytest.fixture
def values_and_labels():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, size=(12, 15))
    values = rng.gamma(2.0, 1.0 + labels[..., None], size=(12, 15, len(MASSES)))
    return values, labels


def test_statistics_match_numpy(values_and_labels):
    values, labels = values_and_labels
    table = cluster_profiles(values, labels, MASSES)
    assert list(table.columns) == list(PROFILE_COLUMNS)
    assert len(table) == 4 * len(MASSES)
    for row in table.itertuples():
        pixels = values[labels == row.cluster][:, MASSES.index(row.mass)]
        assert row.mean == pytest.approx(pixels.mean())
        assert row.std == pytest.approx(pixels.std())
        assert (row.q25, row.median, row.q75) == pytest.approx(tuple(np.percentile(pixels, [25, 50, 75])))
        assert row.pixels == pixels.size
        assert row.area_fraction == pytest.approx(pixels.size / labels.size)


def test_rows_sorted_by_cluster_then_given_mass_order(values_and_labels):
    table = cluster_profiles(*values_and_labels, MASSES)
    assert table["cluster"].tolist() == [c for c in range(4) for _ in MASSES]
    assert table["mass"].astype(str).tolist() == MASSES * 4
    matrix = table.pivot(index="cluster", columns="mass", values="mean")
    assert list(matrix.columns) == MASSES


def test_area_fractions_sum_to_one(values_and_labels):
    table = cluster_profiles(*values_and_labels, MASSES)
    assert table.drop_duplicates("cluster")["area_fraction"].sum() == pytest.approx(1.0)


def test_image_and_pixel_table_give_the_same_profiles(values_and_labels):
    values, labels = values_and_labels
    from_image = cluster_profiles(values, labels, MASSES)
    from_table = cluster_profiles(values.reshape(-1, len(MASSES)), labels.ravel(), MASSES)
    assert from_image.equals(from_table)


def test_profile_matrix_is_the_mean_of_each_cluster(values_and_labels):
    values, labels = values_and_labels
    matrix = profile_matrix(values, labels)
    expected = np.array([values[labels == c].mean(axis=0) for c in range(4)])
    np.testing.assert_allclose(matrix, expected)
    table = cluster_profiles(values, labels, MASSES)
    pivot = table.pivot(index="cluster", columns="mass", values="mean")
    np.testing.assert_allclose(pivot.to_numpy(), expected)


def test_split_by_cluster_keeps_pixel_order():
    parts = split_by_cluster(np.arange(6), np.array([2, 0, 2, 1, 0, 2]), 3)
    assert [part.tolist() for part in parts] == [[1, 4], [3], [0, 2, 5]]


def test_pixels_and_labels_returns_table_and_k():
    table, flat, k = pixels_and_labels(np.ones((3, 4, 2)), np.array([[0, 1, 1, 1]] * 3))
    assert table.shape == (12, 2) and flat.shape == (12,) and k == 2


@pytest.mark.parametrize(
    "masses, match",
    [(["12C", "16O"], "2 name"), (["12C", "16O", "12C"], "repeated"), ("12C", "1 name")],
)
def test_bad_masses(values_and_labels, masses, match):
    with pytest.raises(NanoSIMSError, match=match):
        cluster_profiles(*values_and_labels, masses)


def test_check_masses_accepts_tuples():
    assert check_masses(("12C", "16O"), 2) == ["12C", "16O"]


@pytest.mark.parametrize(
    "labels, match",
    [
        (np.zeros((15, 12), int), r"label map of shape \(15, 12\)"),
        (np.zeros(100, int), "100 labels for 180 pixels"),
        (np.zeros((12, 15)), "integer"),
        (np.full((12, 15), -1), "negative"),
        (np.where(np.arange(180).reshape(12, 15) < 90, 0, 2), r"cluster\(s\) \[1\] have no pixels"),
    ],
)
def test_bad_labels(values_and_labels, labels, match):
    with pytest.raises(NanoSIMSError, match=match):
        cluster_profiles(values_and_labels[0], labels, MASSES)
    with pytest.raises(NanoSIMSError, match=match):
        profile_matrix(values_and_labels[0], labels)


def test_flat_labels_work_for_an_image(values_and_labels):
    values, labels = values_and_labels
    flat, k = check_cluster_labels(labels.ravel(), values.shape[:-1])
    assert k == 4 and flat.tolist() == labels.ravel().tolist()


def test_nan_values_are_refused(values_and_labels):
    values, labels = values_and_labels
    values = values.copy()
    values[0, 0, 0] = np.nan
    with pytest.raises(NanoSIMSError, match="NaN"):
        cluster_profiles(values, labels, MASSES)

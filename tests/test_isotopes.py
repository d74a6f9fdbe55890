"""Isotope ratios per cluster: the error formula against Poisson draws, the test, bad inputs."""

import warnings

import numpy as np
import pytest

from nanosims_helpers import NanoSIMSError, NanoSIMSImage
from nanosims_helpers.isotopes import (
    AIR_15N_14N,
    ISOTOPE_COLUMNS,
    VPDB_13C_12C,
    benjamini_hochberg,
    isotope_table,
    parse_ratios,
    ratio_of_sums,
)


def _poisson_image(true_ratios, denominator_means, pixels_per_cluster, rng):
    """An image of clusters of pixels side by side, 13C and 12C Poisson around the given means."""
    k = len(true_ratios)
    labels = np.repeat(np.arange(k), pixels_per_cluster).reshape(1, -1)
    d_mean = np.repeat(denominator_means, pixels_per_cluster)
    n_mean = d_mean * np.repeat(true_ratios, pixels_per_cluster)
    counts = np.stack([rng.poisson(d_mean), rng.poisson(n_mean)], axis=-1).astype(float)[None]
    return NanoSIMSImage(counts, ("12C", "13C")), labels


def test_one_standard_error_covers_the_true_ratio_68_percent_of_the_time():
    rng = np.random.default_rng(13)
    covered = []
    for _ in range(5):
        true_ratios = rng.uniform(0.01, 0.06, size=400)
        d_means = rng.uniform(150, 600, size=400)  # 2 to 36 minor-isotope counts per pixel, 6 pixels
        image, labels = _poisson_image(true_ratios, d_means, 6, rng)
        table = isotope_table(image, labels, "13C/12C")
        covered.append(np.abs(table["ratio_of_sums"] - true_ratios) <= table["ratio_se"])
    coverage = np.concatenate(covered).mean()
    assert 0.65 <= coverage <= 0.71, coverage


def test_counting_error_of_a_ratio_by_hand():
    ratio, se = ratio_of_sums([40, 60], [4000, 6000])
    assert ratio == pytest.approx(0.01)
    assert se == pytest.approx(0.01 * np.sqrt(1 / 100 + 1 / 10000))


def test_ratio_of_sums_is_unbiased_where_the_mean_of_pixel_ratios_is_not():
    rng = np.random.default_rng(1)
    image, labels = _poisson_image(np.full(2, 0.5), np.array([4.0, 4000.0]), 20000, rng)
    table = isotope_table(image, labels, "13C/12C")
    low, high = table.iloc[0], table.iloc[1]
    assert low["ratio_of_sums"] == pytest.approx(0.5, rel=0.02)
    assert low["mean_pixel_ratio"] > 0.55  # E[n/d] > E[n]/E[d] at 4 counts per pixel
    assert high["mean_pixel_ratio"] == pytest.approx(0.5, rel=0.01)
    assert low["pixels_zero_denominator"] == pytest.approx(20000 * np.exp(-4), rel=0.2)


def test_atom_percent_reference_and_enrichment_of_named_clusters():
    counts = np.zeros((1, 4, 4))
    counts[0, :, 0], counts[0, :, 2] = 10000.0, 5000.0  # 12C, 12C14N
    counts[0, :2, 1], counts[0, 2:, 1] = 112.0, 500.0  # 13C: natural, 5 %
    counts[0, :2, 3], counts[0, 2:, 3] = 18.0, 18.0  # 12C15N: natural in both
    image = NanoSIMSImage(counts, ("12C", "13C", "12C14N", "12C15N"))
    table = isotope_table(image, np.array([[0, 0, 1, 1]]), names=["soil", "cells"])
    assert table["name"].tolist() == ["soil", "soil", "cells", "cells"]
    cells_13c = table[(table["name"] == "cells") & (table["ratio"] == "13C/12C")].iloc[0]
    assert cells_13c["atom_percent"] == pytest.approx(100 * 0.05 / 1.05)
    assert cells_13c["reference_ratio"] == VPDB_13C_12C
    assert cells_13c["enriched"] and cells_13c["z"] > 10
    nitrogen = table[table["ratio"] == "12C15N/12C14N"]
    assert (nitrogen["isotope"] == "15N/14N").all() and (nitrogen["reference_ratio"] == AIR_15N_14N).all()
    assert not nitrogen["enriched"].any()
    assert not table.loc[table["name"] == "soil", "enriched"].any()


def test_p_values_are_uniform_when_nothing_is_enriched():
    rng = np.random.default_rng(5)
    image, labels = _poisson_image(np.full(300, VPDB_13C_12C), np.full(300, 500.0), 4, rng)
    table = isotope_table(image, labels, "13C/12C")
    assert 0.02 <= (table["p_value"] < 0.05).mean() <= 0.09
    assert not table["enriched"].any()


def test_benjamini_hochberg_matches_the_step_up_rule():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    adjusted = benjamini_hochberg(p)
    # Reference values from the definition: min over j >= i of p_j * m / j.
    expected = [min(p[j] * 10 / (j + 1) for j in range(i, 10)) for i in range(10)]
    np.testing.assert_allclose(adjusted, expected)
    assert (benjamini_hochberg(p[::-1]) == adjusted[::-1]).all()


@pytest.fixture
def small_image():
    counts = np.full((2, 3, 3), 100.0)
    return NanoSIMSImage(counts, ("12C", "13C", "16O"))


def test_missing_mass_lists_the_masses_of_the_image(small_image):
    with pytest.raises(NanoSIMSError, match=r"no mass '12C15N'.*\['12C', '13C', '16O'\]"):
        isotope_table(small_image, np.zeros((2, 3), int))


def test_a_ratio_of_a_mass_to_itself_is_refused(small_image):
    with pytest.raises(NanoSIMSError, match="divides a mass by itself"):
        isotope_table(small_image, np.zeros((2, 3), int), "13C/13 C")


def test_a_cluster_of_one_pixel_is_refused(small_image):
    labels = np.array([[0, 0, 0], [0, 0, 1]])
    with pytest.raises(NanoSIMSError, match="cluster 1 has 1 pixel"):
        isotope_table(small_image, labels, "13C/12C")


def test_a_cluster_without_counts_is_refused():
    counts = np.full((1, 4, 2), 50.0)
    counts[0, 2:] = 0.0
    image = NanoSIMSImage(counts, ("12C", "13C"))
    with pytest.raises(NanoSIMSError, match="cluster 1 has no 13C/12C counts"):
        isotope_table(image, np.array([[0, 0, 1, 1]]), "13C/12C")


def test_a_zero_denominator_gives_nan_and_a_warning_never_inf():
    counts = np.full((1, 4, 2), 50.0)
    counts[0, 2:, 0] = 0.0  # no 12C in cluster 1, 13C present
    image = NanoSIMSImage(counts, ("12C", "13C"))
    with pytest.warns(UserWarning, match="denominator counts summing to zero.*cluster 1"):
        table = isotope_table(image, np.array([[0, 0, 1, 1]]), "13C/12C")
    assert np.isnan(table["ratio_of_sums"][1]) and not np.isinf(table.select_dtypes("number").to_numpy()).any()
    assert table["atom_percent"][1] == 100.0


def test_unknown_ratio_needs_a_reference_and_accepts_one():
    image = NanoSIMSImage(np.full((1, 4, 2), 50.0), ("32S", "34S"))
    with pytest.raises(NanoSIMSError, match="no natural-abundance reference for 34S/32S"):
        isotope_table(image, np.array([[0, 0, 1, 1]]), "34S/32S")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = isotope_table(image, np.array([[0, 0, 1, 1]]), [("34S", "32S", 0.0442)])
    assert (table["reference_ratio"] == 0.0442).all()


@pytest.mark.parametrize("bad", ["13C", "13C/12C/1", "/12C", [("13C",)]])
def test_unreadable_ratios_say_how_to_write_them(bad):
    with pytest.raises(NanoSIMSError, match="numerator/denominator|reference ratio"):
        parse_ratios(bad)


def test_columns_come_in_the_documented_order(small_image):
    table = isotope_table(small_image, np.array([[0, 0, 0], [1, 1, 1]]), "13C/12C")
    assert list(table.columns) == ["cluster", "name", *ISOTOPE_COLUMNS]


def test_alpha_must_be_a_fraction(small_image):
    with pytest.raises(NanoSIMSError, match="alpha=5"):
        isotope_table(small_image, np.array([[0, 0, 0], [1, 1, 1]]), "13C/12C", alpha=5)

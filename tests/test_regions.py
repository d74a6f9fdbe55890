"""Regions of interest: the labelled hotspots of the sample come back with their true atom %."""

import numpy as np
import pytest
from skimage import measure

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.isotopes import atom_percent
from nanosims_helpers.preprocessing import ratio_image
from nanosims_helpers.regions import cluster_regions, region_table, threshold_regions
from nanosims_helpers.teaching.samples import SAMPLES, load_sample
from nanosims_helpers.teaching.synthetic import PHASES, simulate_soil_image

HOTSPOT = PHASES.index("labelled hotspot")


@pytest.fixture(scope="module")
def labelled():
    image, truth = load_sample("soil_512_labelled")
    _, same_truth, expected = simulate_soil_image(**SAMPLES["soil_512_labelled"], return_expected=True)
    assert np.array_equal(truth, same_truth)
    return image, truth, expected


# Found on one isotope system, measured on the other, so that the selection does not bias the ratio.
@pytest.mark.parametrize(
    "found_on, threshold, measured",
    [(("12C15N", "12C14N"), 0.01, "13C/12C"), (("13C", "12C"), 0.02, "12C15N/12C14N")],
)
def test_hotspots_come_back_as_regions_with_their_simulated_atom_percent(labelled, found_on, threshold, measured):
    image, truth, expected = labelled
    regions = threshold_regions(ratio_image(image, *found_on), threshold, min_region_pixels=3)
    table = region_table(image, regions, measured).set_index("region")
    num, den = (image.mass_index(m) for m in measured.split("/"))
    hotspots = [p for p in measure.regionprops(measure.label(truth == HOTSPOT)) if p.area >= 10]
    assert len(hotspots) >= 20
    found = agree = 0
    for hotspot in hotspots:
        overlap = np.bincount(regions[hotspot.slice][hotspot.image])
        overlap[0] = 0
        if overlap.max() < hotspot.area / 2:
            continue
        found += 1
        region = overlap.argmax()
        inside = regions == region
        simulated = atom_percent(expected[inside, num].sum() / expected[inside, den].sum())
        row = table.loc[region]
        agree += abs(row["atom_percent"] - simulated) <= 2 * row["atom_percent_se"]
    assert found >= 0.9 * len(hotspots)
    assert agree >= 0.9 * len(hotspots), (agree, len(hotspots))


def test_regions_of_a_cluster_have_area_centroid_and_names():
    labels = np.zeros((6, 8), dtype=int)
    labels[1:3, 1:4] = 1  # 6 px
    labels[4:6, 5:8] = 1  # 6 px
    labels[0, 7] = 1  # 1 px, dropped
    counts = np.zeros((6, 8, 2))
    counts[..., 0], counts[..., 1] = 1000.0, 11.0
    counts[4:6, 5:8, 1] = 60.0
    image = NanoSIMSImage(counts, ("12C", "13C"), pixel_size_um=0.2)
    regions = cluster_regions(labels, clusters=[1], min_region_pixels=2)
    assert sorted(np.unique(regions)) == [0, 1, 2]
    table = region_table(image, regions, "13C/12C", labels=labels, names=["soil", "cells"])
    assert table["area_px"].tolist() == [6, 6]
    assert table["area_um2"].tolist() == pytest.approx([0.24, 0.24])
    assert table[["centroid_y", "centroid_x"]].values.tolist() == [[1.5, 2.0], [4.5, 6.0]]
    assert table["name"].tolist() == ["cells", "cells"] and table["cluster"].tolist() == [1, 1]
    assert table["enriched"].tolist() == [False, True]
    assert cluster_regions(labels, min_region_pixels=2).max() == 3  # cluster 0 is one region too


def test_region_without_counts_and_one_pixel_region_are_refused():
    counts = np.full((3, 3, 2), 20.0)
    counts[0, :2] = 0.0
    image = NanoSIMSImage(counts, ("12C", "13C"))
    with pytest.raises(NanoSIMSError, match="region 1 has no 13C/12C counts"):
        region_table(image, np.array([[1, 1, 0], [0, 0, 0], [2, 2, 2]]), "13C/12C")
    with pytest.raises(NanoSIMSError, match="region 2 has 1 pixel"):
        region_table(image, np.array([[0, 0, 0], [0, 0, 0], [0, 0, 2]]), "13C/12C")
    with pytest.raises(NanoSIMSError, match="min_region_pixels"):
        cluster_regions(np.zeros((3, 3), int), min_region_pixels=1)


def test_area_without_pixel_size_is_nan_with_a_warning():
    image = NanoSIMSImage(np.full((2, 2, 2), 20.0), ("12C", "13C"))
    with pytest.warns(UserWarning, match="no pixel size"):
        table = region_table(image, np.ones((2, 2), int), "13C/12C")
    assert np.isnan(table["area_um2"][0])


def test_expected_counts_are_the_poisson_means_of_the_image(labelled):
    image, _, expected = labelled
    bright = expected > 20
    z = (image.counts[bright] - expected[bright]) / np.sqrt(expected[bright])
    assert abs(np.median(z)) < 0.05
    assert np.median(np.abs(z)) == pytest.approx(0.674, abs=0.03)  # that of a standard normal


def test_rows_come_region_by_region_with_each_ratio():
    counts = np.full((2, 4, 4), 100.0)
    image = NanoSIMSImage(counts, ("12C", "13C", "12C14N", "12C15N"), pixel_size_um=0.1)
    table = region_table(image, np.array([[1, 1, 2, 2], [1, 1, 2, 2]]))
    assert table[["region", "ratio"]].values.tolist() == [
        [1, "13C/12C"], [1, "12C15N/12C14N"], [2, "13C/12C"], [2, "12C15N/12C14N"]]


def test_a_control_region_is_the_reference_of_the_others():
    from scipy import stats

    counts = np.zeros((2, 6, 2))
    counts[..., 0] = 2500.0
    counts[:, :2, 1], counts[:, 2:4, 1], counts[:, 4:, 1] = 28.0, 36.0, 29.0  # control, cells, soil
    image = NanoSIMSImage(counts, ("12C", "13C"), pixel_size_um=0.1)
    regions = np.repeat([[4, 4, 7, 7, 9, 9]], 2, axis=0)
    table = region_table(image, regions, "13C/12C", control=4).set_index("region")
    assert np.isnan(table.loc[4, "p_value"]) and table.loc[7, "reference_ratio"] == pytest.approx(112 / 10000)
    expected = stats.fisher_exact([[144, 10000], [112, 10000]], alternative="greater").pvalue
    assert table.loc[7, "p_value"] == pytest.approx(expected)
    with pytest.raises(NanoSIMSError, match="control=5: no such region"):
        region_table(image, regions, "13C/12C", control=5)

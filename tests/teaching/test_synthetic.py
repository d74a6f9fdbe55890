"""Tests of the soil image simulator: determinism, counts, isotopes, phases, hot pixels, errors."""

import numpy as np
import pytest
from scipy import ndimage

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.teaching.synthetic import PHASES, PIXEL_SIZE_UM, SOIL_MASSES, simulate_soil_image

ORGANIC, HOTSPOT = PHASES.index("organic matter"), PHASES.index("labelled hotspot")


@pytest.fixture(scope="module")
def soil():
    """A 128 x 128 image without hotspots."""
    return simulate_soil_image((128, 128), random_state=3)


@pytest.fixture(scope="module")
def labelled():
    """A 128 x 128 image with 5 atom % labelled hotspots."""
    return simulate_soil_image((128, 128), n_hotspots=12, enrichment=0.05, random_state=4)


def ratio(image, truth, phase, numerator, denominator):
    """Summed ratio over the pixels of a phase, leaving out the 0.1 % brightest (hot pixels)."""
    top, bottom = image.channel(numerator), image.channel(denominator)
    keep = (truth == phase) & (top <= np.quantile(top, 0.999)) & (bottom <= np.quantile(bottom, 0.999))
    return top[keep].sum() / bottom[keep].sum()


def test_same_seed_same_image_other_seed_other_image():
    first, truth = simulate_soil_image((48, 40), n_hotspots=3, random_state=7)
    again, truth_again = simulate_soil_image((48, 40), n_hotspots=3, random_state=7)
    other, truth_other = simulate_soil_image((48, 40), n_hotspots=3, random_state=8)
    np.testing.assert_array_equal(first.counts, again.counts)
    np.testing.assert_array_equal(truth, truth_again)
    assert not np.array_equal(first.counts, other.counts)
    assert not np.array_equal(truth, truth_other)


def test_shapes_masses_and_whole_counts():
    image, truth = simulate_soil_image((48, 40), n_planes=2)
    assert image.shape == (48, 40, len(SOIL_MASSES))
    assert image.masses == SOIL_MASSES
    assert image.pixel_size_um == PIXEL_SIZE_UM
    assert truth.shape == (48, 40) and np.issubdtype(truth.dtype, np.integer)
    assert set(np.unique(truth)) <= set(range(len(PHASES)))
    assert image.counts.min() >= 0
    np.testing.assert_array_equal(image.counts, np.round(image.counts))


def test_every_phase_covers_a_reasonable_area(soil):
    _, truth = soil
    fractions = np.bincount(truth.ravel(), minlength=len(PHASES)) / truth.size
    assert (fractions[:HOTSPOT] >= 0.08).all(), fractions
    assert fractions[HOTSPOT] == 0


def test_phases_are_smooth_regions_not_salt_and_pepper(soil):
    _, truth = soil
    same_as_right = np.mean(truth[:, 1:] == truth[:, :-1])
    same_as_below = np.mean(truth[1:, :] == truth[:-1, :])
    assert min(same_as_right, same_as_below) > 0.85  # about 0.3 for random labels


def test_phases_have_their_signature_masses(soil):
    image, truth = soil
    median = {
        (phase, mass): np.median(image.channel(mass)[truth == PHASES.index(phase)])
        for phase in PHASES[:HOTSPOT]
        for mass in SOIL_MASSES
    }
    assert median["organic matter", "12C14N"] > 20 * median["pore/resin", "12C14N"]
    assert median["pore/resin", "12C"] > 10 * median["aluminosilicate", "12C"]
    assert median["aluminosilicate", "27Al16O"] > 10 * median["iron oxide", "27Al16O"]
    assert median["iron oxide", "56Fe16O"] > 10 * median["aluminosilicate", "56Fe16O"]
    assert median["aluminosilicate", "16O"] > 5 * median["organic matter", "16O"]


def test_counts_are_realistic_medians_heavy_tails_and_zeros(soil):
    image, truth = soil
    medians = np.median(image.pixels(), axis=0)
    assert 10 <= medians[SOIL_MASSES.index("12C")] <= 10_000
    assert 10 <= medians[SOIL_MASSES.index("16O")] <= 10_000
    organic_c = image.channel("12C")[truth == ORGANIC]
    # Poisson noise alone would put the 99th percentile about 5 % above the median.
    assert np.quantile(organic_c, 0.99) > 2 * np.median(organic_c)
    for minor in ("13C", "12C15N"):
        assert np.mean(image.channel(minor) == 0) > 0.05, minor
    assert np.mean(image.channel("12C15N") == 0) > 0.3
    assert np.mean(image.channel("12C") == 0) < 0.01


def test_natural_isotope_ratios_in_organic_matter(soil):
    image, truth = soil
    assert ratio(image, truth, ORGANIC, "13C", "12C") == pytest.approx(0.0112, rel=0.05)
    assert ratio(image, truth, ORGANIC, "12C15N", "12C14N") == pytest.approx(0.00368, rel=0.1)


def test_hotspots_replace_organic_matter_only(labelled):
    _, truth = labelled
    _, without = simulate_soil_image((128, 128), n_hotspots=0, random_state=4)
    hotspot = truth == HOTSPOT
    assert hotspot.sum() >= 12
    assert (without[hotspot] == ORGANIC).all()
    np.testing.assert_array_equal(truth[~hotspot], without[~hotspot])


def test_hotspots_are_enriched(labelled):
    image, truth = labelled
    enriched = 0.05 / 0.95
    assert ratio(image, truth, HOTSPOT, "13C", "12C") == pytest.approx(enriched, rel=0.15)
    assert ratio(image, truth, HOTSPOT, "12C15N", "12C14N") == pytest.approx(enriched, rel=0.15)
    assert ratio(image, truth, ORGANIC, "13C", "12C") < enriched / 3


def test_enrichment_sets_the_hotspot_ratio():
    image, truth = simulate_soil_image((96, 96), n_hotspots=10, enrichment=0.2, random_state=5)
    assert ratio(image, truth, HOTSPOT, "13C", "12C") == pytest.approx(0.25, rel=0.1)


def test_hot_pixels_present_and_few(soil):
    image, _ = soil
    counts = image.counts
    footprint = np.ones((3, 3, 1), dtype=bool)
    footprint[1, 1, 0] = False
    brightest_neighbour = ndimage.maximum_filter(counts, footprint=footprint, mode="nearest")
    hot = (counts > 3 * brightest_neighbour + 10) & (counts > np.quantile(counts, 0.999, axis=(0, 1)))
    assert 1 <= hot.sum() <= 0.001 * counts[..., 0].size


def test_count_scale_scales_the_counts():
    full, _ = simulate_soil_image((64, 64), count_scale=1.0, random_state=2)
    low, _ = simulate_soil_image((64, 64), count_scale=0.25, random_state=2)
    assert low.counts.sum() / full.counts.sum() == pytest.approx(0.25, rel=0.05)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"shape": (8, 64)}, "shape"),
        ({"shape": "big"}, "shape"),
        ({"n_planes": 0}, "n_planes"),
        ({"n_planes": 2.5}, "n_planes"),
        ({"count_scale": -1.0}, "count_scale"),
        ({"count_scale": float("nan")}, "count_scale"),
        ({"count_scale": "high"}, "count_scale"),
        ({"n_hotspots": -1}, "n_hotspots"),
        ({"enrichment": 1.0}, "enrichment"),
        ({"enrichment": 0.0}, "enrichment"),
        ({"enrichment": None}, "enrichment"),
    ],
)
def test_bad_arguments_raise_a_clear_error(kwargs, word):
    with pytest.raises(NanoSIMSError, match=word):
        simulate_soil_image(**kwargs)

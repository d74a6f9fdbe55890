"""Tests of the realistic simulator: the physics the issue asks for, measured on its output."""

import numpy as np
import pytest
from scipy import ndimage

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.teaching.realistic import (
    RARE_PHASE,
    REALISTIC_MASSES,
    REALISTIC_PHASES,
    RealisticSettings,
    simulate_realistic_image,
)
from nanosims_helpers.teaching.synthetic import NATURAL_13C_RATIO, NATURAL_15N_RATIO

CELLS = REALISTIC_PHASES.index("labelled cells")
PLANT = REALISTIC_PHASES.index("plant debris")
MICROBIAL = REALISTIC_PHASES.index("microbial organic matter")
RESIN = REALISTIC_PHASES.index("pore/resin")
CLAY = REALISTIC_PHASES.index("clay")


@pytest.fixture(scope="module")
def sample():
    return simulate_realistic_image((256, 256), random_state=3)


def _mass(name):
    return REALISTIC_MASSES.index(name)


def _interior(truth, phase, margin=4):
    return ndimage.binary_erosion(truth == phase, iterations=margin)


def test_planes_are_kept_and_sum_to_the_counts(sample):
    image = sample.image
    assert image.planes.shape == (6, 256, 256, len(REALISTIC_MASSES))
    np.testing.assert_array_equal(image.planes.sum(axis=0), image.counts)
    assert image.masses == REALISTIC_MASSES
    assert sample.phase_names == REALISTIC_PHASES
    assert set(np.unique(sample.truth)) == set(range(len(REALISTIC_PHASES)))


def test_counts_are_low_as_in_real_images(sample):
    counts, truth = sample.image.counts, sample.truth
    carbon = np.isin(truth, [RESIN, PLANT, MICROBIAL])
    assert 200 <= counts[carbon, _mass("12C")].mean() <= 350
    assert 1 <= counts[carbon, _mass("13C")].mean() < 10
    assert counts[truth != CELLS, _mass("12C15N")].mean() < 0.5
    assert counts[truth == CELLS, _mass("12C15N")].mean() > 3


def test_planes_have_poisson_noise(sample):
    """Two planes of the same expectation differ by Poisson noise: var(a - b) = 2 * mean."""
    planes, expected = sample.image.planes, sample.expected / 6
    hot = np.abs(planes[0] - planes[1]) > 10 * np.sqrt(expected + 1)
    ratio = ((planes[0] - planes[1])[~hot] ** 2).sum() / (2 * expected[~hot]).sum()
    assert ratio == pytest.approx(1.0, abs=0.03)


def test_organic_phases_differ_mainly_in_n_to_c(sample):
    expected, truth = sample.expected, sample.truth

    def n_to_c(phase):
        inside = _interior(truth, phase, 2)
        return expected[inside, _mass("12C14N")].sum() / expected[inside, _mass("12C")].sum()

    assert 3.0 <= n_to_c(MICROBIAL) / n_to_c(PLANT) <= 4.0


def test_ion_yield_falls_by_a_factor_3_to_4_across_the_field(sample):
    """Fit log 16O of clay against position: the plane's corner-to-corner factor is 3-4."""
    inside = _interior(sample.truth, CLAY)
    ys, xs = np.nonzero(inside)
    design = np.column_stack([np.ones(ys.size), ys, xs])
    coefficients = np.linalg.lstsq(design, np.log(sample.expected[inside, _mass("16O")]), rcond=None)[0]
    factor = np.exp(abs(coefficients[1]) * 255 + abs(coefficients[2]) * 255)
    assert 2.5 <= factor <= 5.0


def test_beam_blur_mixes_boundary_pixels(sample):
    """Clay pixels next to resin have far less 16O than clay away from boundaries."""
    truth, oxygen = sample.truth, sample.expected[..., _mass("16O")]
    near_resin = (truth == CLAY) & ndimage.binary_dilation(truth == RESIN)
    assert near_resin.sum() > 100
    assert np.median(oxygen[near_resin]) < 0.85 * np.median(oxygen[_interior(truth, CLAY)])


def test_isotopes_are_natural_away_from_cells_and_enriched_in_cells():
    sample = simulate_realistic_image((128, 128), enrichment=0.06, random_state=5)
    expected, truth = sample.expected, sample.truth
    far = ~ndimage.binary_dilation(truth == CELLS, iterations=8)
    np.testing.assert_allclose(expected[far, _mass("13C")] / expected[far, _mass("12C")], NATURAL_13C_RATIO)
    np.testing.assert_allclose(expected[far, _mass("12C15N")] / expected[far, _mass("12C14N")], NATURAL_15N_RATIO)
    atom_13c = expected[..., _mass("13C")] / (expected[..., _mass("13C")] + expected[..., _mass("12C")])
    atom_15n = expected[..., _mass("12C15N")] / (expected[..., _mass("12C15N")] + expected[..., _mass("12C14N")])
    for atom in (atom_13c, atom_15n):
        assert 0.9 * 0.06 <= atom[truth == CELLS].max() <= 0.06


def test_cells_are_small_disks_on_about_one_percent(sample):
    cells = sample.truth == CELLS
    assert 0.008 <= cells.mean() <= 0.02
    regions, n_regions = ndimage.label(cells)
    sizes = np.bincount(regions.ravel())[1:]
    assert n_regions >= 15
    assert np.median(sizes) <= np.pi * 4.5**2  # radius 2-4 px, some touching


def test_hot_pixels_are_bursts_in_one_plane(sample):
    planes, expected = sample.image.planes, sample.expected / 6
    excess = (planes - expected) / np.sqrt(expected + 1)
    hot = excess > 15
    assert 10 <= hot.sum() <= 500
    assert hot.sum(axis=0).max() == 1  # one plane at a time


def test_same_seed_same_sample_other_seed_other():
    a = simulate_realistic_image((32, 32), random_state=1)
    b = simulate_realistic_image((32, 32), random_state=1)
    c = simulate_realistic_image((32, 32), random_state=2)
    np.testing.assert_array_equal(a.image.planes, b.image.planes)
    np.testing.assert_array_equal(a.truth, b.truth)
    assert not np.array_equal(a.image.counts, c.image.counts)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"shape": (8, 8)}, "16"),
        ({"n_planes": 0}, "n_planes"),
        ({"enrichment": 1.5}, "enrichment"),
        ({"count_scale": -1}, "count_scale"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(NanoSIMSError, match=match):
        simulate_realistic_image(**kwargs)


def test_rare_phase_is_small_bright_carbon_particles():
    settings = RealisticSettings(rare_fraction=0.006)
    sample = simulate_realistic_image((192, 192), settings=settings, random_state=2)
    assert sample.phase_names == (*REALISTIC_PHASES, RARE_PHASE)
    rare = sample.truth == len(REALISTIC_PHASES)
    assert 0.006 <= rare.mean() <= 0.012  # painted until the share is reached; the last disk overshoots
    regions, n_regions = ndimage.label(rare)
    assert n_regions >= 10
    assert np.median(np.bincount(regions.ravel())[1:]) <= np.pi * 3.0**2
    # particle cores against resin, the most similar phase: over twice the 12C, and less 16O and far
    # less 12C14N per 12C, even through the beam blur
    core = ndimage.binary_erosion(rare)
    resin = ndimage.binary_erosion(sample.truth == REALISTIC_PHASES.index("pore/resin"), iterations=2)
    c, o, cn = (REALISTIC_MASSES.index(m) for m in ("12C", "16O", "12C14N"))
    assert sample.expected[core, c].mean() > 2 * sample.expected[resin, c].mean()
    per_c = sample.expected[..., [o, cn]] / sample.expected[..., [c]]
    assert per_c[core].mean(axis=0)[0] < 0.8 * per_c[resin].mean(axis=0)[0]
    assert per_c[core].mean(axis=0)[1] < 0.5 * per_c[resin].mean(axis=0)[1]


def test_settings_change_what_they_name():
    flat = simulate_realistic_image((64, 64), settings=RealisticSettings(
        yield_ramp=(1.0, 1.0), wobble_sigma=0.0, beam_sigma_px=0.0, composition_sigma=0.0, cell_fraction=0.0),
        random_state=1)
    assert not np.any(flat.truth == REALISTIC_PHASES.index("labelled cells"))
    # no yield field, no composition noise, no blur: every pixel holds exactly its phase's means
    clay = flat.truth == REALISTIC_PHASES.index("clay")
    np.testing.assert_allclose(flat.expected[clay], np.broadcast_to(flat.expected[clay][0], flat.expected[clay].shape))
    blurred = simulate_realistic_image((64, 64), settings=RealisticSettings(beam_sigma_px=2.0), random_state=1)
    sharp = simulate_realistic_image((64, 64), settings=RealisticSettings(beam_sigma_px=0.0), random_state=1)
    np.testing.assert_array_equal(blurred.truth, sharp.truth)
    assert np.abs(np.diff(blurred.expected, axis=1)).mean() < 0.7 * np.abs(np.diff(sharp.expected, axis=1)).mean()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"cell_fraction": 0.5}, "cell_fraction"),
        ({"rare_fraction": -0.1}, "rare_fraction"),
        ({"yield_ramp": (4.0, 3.0)}, "yield_ramp"),
        ({"beam_sigma_px": -1.0}, "beam_sigma_px"),
        ({"major_means": ((1.0, 2.0),)}, "major_means"),
    ],
)
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(NanoSIMSError, match=match):
        RealisticSettings(**kwargs)


def test_cells_are_numbered_one_by_one(sample):
    assert np.array_equal(sample.cells > 0, sample.truth == CELLS)
    regions, n_regions = ndimage.label(sample.truth == CELLS, structure=np.ones((3, 3)))
    assert sample.cells.max() == n_regions
    for cell in range(1, n_regions + 1):  # each number is one connected patch
        assert ndimage.label(sample.cells == cell, structure=np.ones((3, 3)))[1] == 1


def test_each_cell_gets_its_own_13c_label_and_natural_nitrogen():
    settings = RealisticSettings(cell_13c=(0.03, 0.08), cell_15n=(0.0037, 0.0037), beam_sigma_px=0.0)
    sample = simulate_realistic_image((128, 128), settings=settings, random_state=4)
    expected, cells = sample.expected, sample.cells
    index = np.arange(1, cells.max() + 1)

    def atom(minor, major):
        n = ndimage.sum_labels(expected[..., _mass(minor)], cells, index)
        return n / (n + ndimage.sum_labels(expected[..., _mass(major)], cells, index))

    carbon, nitrogen = atom("13C", "12C"), atom("12C15N", "12C14N")
    assert carbon.size >= 5 and np.all((carbon >= 0.03) & (carbon <= 0.08))
    assert np.unique(carbon.round(6)).size == carbon.size  # one draw per cell
    np.testing.assert_allclose(nitrogen, 0.0037)
    outside = sample.truth != CELLS
    np.testing.assert_allclose(expected[outside, _mass("13C")] / expected[outside, _mass("12C")], NATURAL_13C_RATIO)


def test_the_yield_tilt_drifts_each_element_but_not_the_isotope_ratios():
    flat = {"yield_ramp": (1.0, 1.0), "wobble_sigma": 0.0, "composition_sigma": 0.0, "beam_sigma_px": 0.0}
    tilted = simulate_realistic_image((96, 96), settings=RealisticSettings(**flat, yield_tilt=3.0), random_state=2)
    level = simulate_realistic_image((96, 96), settings=RealisticSettings(**flat), random_state=2)
    clay = tilted.truth == CLAY

    def log_o_to_al(sample):
        return np.log(sample.expected[clay, _mass("16O")] / sample.expected[clay, _mass("27Al16O")])

    assert np.ptp(log_o_to_al(level)) < 1e-9  # no tilt: one composition everywhere in the clay
    drift = np.ptp(log_o_to_al(tilted))  # two elements, each by up to a factor 3 across the field
    assert 0.05 < drift <= 2 * np.log(3.0) + 1e-9
    np.testing.assert_allclose(tilted.expected[clay, _mass("13C")] / tilted.expected[clay, _mass("12C")],
                               NATURAL_13C_RATIO)


@pytest.mark.parametrize("kwargs, match", [
    ({"cell_13c": (0.5, 2.0)}, "cell_13c"),
    ({"cell_15n": (0.1,)}, "cell_15n"),
    ({"yield_tilt": 0.5}, "yield_tilt"),
])
def test_bad_cell_labels_and_tilts_are_refused(kwargs, match):
    with pytest.raises(NanoSIMSError, match=match):
        RealisticSettings(**kwargs)

"""Tests of nanosims_helpers.spatial and the composition preprocessing it uses."""

import numpy as np
import pytest
from scipy import ndimage
from sklearn.metrics import adjusted_rand_score

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.preprocessing import composition_transform
from nanosims_helpers.spatial import assign_phases, core_mask, edge_strength, potts_icm, smooth_counts, spatial_map
from nanosims_helpers.teaching.realistic import REALISTIC_PHASES, simulate_realistic_image
from nanosims_helpers.teaching.synthetic import simulate_soil_image


def step_image():
    """Two phases, left and right, of different composition."""
    counts = np.zeros((16, 16, 2))
    counts[:, :8] = [30.0, 3.0]
    counts[:, 8:] = [3.0, 40.0]
    return counts


def test_smooth_counts_keeps_the_total_and_never_mixes_masses():
    counts = np.zeros((9, 9, 2))
    counts[4, 4, 0] = 10.0
    counts[0, 0, 0] = 5.0  # in a corner: reflected, not lost
    smoothed = smooth_counts(counts, 1.0)
    assert smoothed[..., 0].sum() == pytest.approx(15.0)
    assert np.all(smoothed[..., 1] == 0)
    assert smoothed[4, 4, 0] < 10.0 and smoothed[4, 5, 0] > 0
    assert smoothed[4, 5, 0] == pytest.approx(smoothed[5, 4, 0])
    np.testing.assert_array_equal(smooth_counts(counts, 0), counts)


@pytest.mark.parametrize("sigma", [-1.0, np.nan, "1", True])
def test_smooth_counts_refuses_a_bad_width(sigma):
    with pytest.raises(NanoSIMSError, match="sigma_px"):
        smooth_counts(np.ones((4, 4, 1)), sigma)


def test_edge_strength_is_zero_in_flat_regions_and_peaks_on_the_boundary():
    strength = edge_strength(step_image())
    assert strength[:, :3].max() == pytest.approx(0, abs=1e-3)
    assert set(np.argmax(strength, axis=1)) <= {7, 8}


def test_core_mask_keeps_the_share_asked_for_away_from_boundaries():
    core = core_mask(step_image(), 0.5)
    assert core.mean() == pytest.approx(0.5, abs=0.13)
    assert not core[:, 7:9].any() and core[:, :4].all()
    with pytest.raises(NanoSIMSError, match="quantile"):
        core_mask(step_image(), 0.0)


def test_potts_removes_isolated_pixels_but_keeps_regions():
    rng = np.random.default_rng(0)
    costs = np.zeros((20, 20, 2))
    costs[..., 1] = 1.0  # label 0 everywhere ...
    costs[5:12, 5:12] = [1.0, 0.0]  # ... but a 7 x 7 region of label 1
    region = costs[..., 1] == 0
    rim = ndimage.binary_dilation(region) & ~ndimage.binary_erosion(region)
    flips = (rng.random((20, 20)) < 0.05) & ~rim  # and noise: single pixels preferring the other label
    costs[flips] = costs[flips][:, ::-1]
    start = costs.argmin(axis=2)
    cleaned = potts_icm(costs, start, beta=0.4)
    expected = np.zeros((20, 20), dtype=int)
    expected[5:12, 5:12] = 1
    assert (start != expected).sum() >= 10
    np.testing.assert_array_equal(cleaned, expected)
    np.testing.assert_array_equal(potts_icm(costs, start, beta=0.0), start)


def test_potts_counts_the_eight_neighbours():
    """A pixel whose 4 diagonal neighbours agree with it keeps its label against 4 side neighbours."""
    labels = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    costs = np.zeros((3, 3, 2))
    costs[1, 1] = [0.2, 0.0]  # the centre slightly prefers its own label 1
    cleaned = potts_icm(costs, labels, beta=1.0, n_sweeps=1)
    assert cleaned[1, 1] == 1


@pytest.mark.parametrize("kwargs, match", [
    ({"labels": np.zeros((2, 2), dtype=int)}, "labels"),
    ({"labels": np.full((3, 3), 2)}, "labels"),
    ({"beta": -1.0}, "beta"),
    ({"n_sweeps": 0}, "n_sweeps"),
])
def test_potts_refuses_bad_arguments(kwargs, match):
    arguments = {"costs": np.zeros((3, 3, 2)), "labels": np.zeros((3, 3), dtype=int), **kwargs}
    with pytest.raises(NanoSIMSError, match=match):
        potts_icm(**arguments)


def test_composition_features_ignore_the_ion_yield():
    """Multiplying all masses of each pixel by a yield field acts as one factor on the whole image.

    (Each pixel is rescaled to the image's mean total, which the field changes as a whole.)
    """
    counts = simulate_realistic_image((32, 32), random_state=0).image.counts
    yy, xx = np.mgrid[:32, :32]
    ion_yield = np.exp((yy + xx) / 62 * np.log(4.0))[:, :, None]  # x4 corner to corner
    overall = (counts * ion_yield).sum(axis=2).mean() / counts.sum(axis=2).mean()
    np.testing.assert_allclose(composition_transform(counts * ion_yield), composition_transform(counts * overall))
    assert not np.allclose(composition_transform(counts * ion_yield), composition_transform(counts))
    assert composition_transform(counts).std(axis=(0, 1)) == pytest.approx(1.0)


def test_spatial_map_is_not_split_by_a_yield_gradient():
    """Two phases under a x4 yield ramp: one cluster each, not a bright and a dim half."""
    rng = np.random.default_rng(1)
    truth = np.zeros((48, 48), dtype=int)
    truth[ndimage.gaussian_filter(rng.normal(size=(48, 48)), 4) > 0] = 1
    means = np.array([[200.0, 20.0, 5.0], [60.0, 150.0, 30.0]])[truth]
    ion_yield = np.exp(np.linspace(-0.7, 0.7, 48))[None, :, None]
    counts = rng.poisson(means * ion_yield).astype(float)
    labels = spatial_map(counts, 2).labels
    assert adjusted_rand_score(truth.ravel(), labels.ravel()) > 0.95


@pytest.mark.parametrize("random_state", [0, 1, 2])
def test_spatial_map_finds_small_labelled_cells(random_state):
    """On a small image the cells are ~160 pixels: the merge must not fold them into organic matter."""
    sample = simulate_realistic_image((128, 128), random_state=4)
    labels = spatial_map(sample.image.counts, len(REALISTIC_PHASES), random_state=random_state).labels
    cells = sample.truth == REALISTIC_PHASES.index("labelled cells")
    best = max(2 * np.sum(cells & (labels == c)) / (cells.sum() + np.sum(labels == c)) for c in np.unique(labels))
    assert best >= 0.8


def test_spatial_map_errors():
    with pytest.raises(NanoSIMSError, match="constant image"):
        spatial_map(np.ones((8, 8, 2)), 2)
    with pytest.raises(NanoSIMSError, match="at least 2"):
        spatial_map(step_image(), 1)
    with pytest.raises(NanoSIMSError, match="3-D"):
        spatial_map(np.ones((8, 8)), 2)


def test_composition_does_not_blow_up_nearly_empty_pixels():
    """A pixel with 1 ion is scaled up by at most COMPOSITION_MAX_GAIN, not to the mean total."""
    counts = np.tile([[[60.0, 40.0]]], (4, 4, 1))
    counts[0, 0] = [1.0, 0.0]
    counts[0, 1] = [100.0, 0.0]  # as pure, but bright
    values = composition_transform(counts)
    assert values[0, 0, 0] < values[0, 1, 0] - 1.0
    np.testing.assert_allclose(values[0, 0, 1], values[0, 1, 1])


def test_spatial_map_keeps_an_empty_background_in_one_cluster():
    """Around a particle the counts are near zero: one background cluster, not salt and pepper."""
    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[:64, :64]
    particle = (yy - 32) ** 2 + (xx - 32) ** 2 < 20**2
    inner = (yy - 32) ** 2 + (xx - 38) ** 2 < 8**2
    means = np.where(particle[..., None], [300.0, 100.0, 20.0], [0.3, 0.1, 0.05])
    means[inner] = [150.0, 250.0, 20.0]
    labels = spatial_map(rng.poisson(means).astype(float), 3).labels
    background = labels[~ndimage.binary_dilation(particle, iterations=3)]
    assert np.mean(background == np.bincount(background).argmax()) > 0.99  # 0.48 without the cap
    truth = particle.astype(int) + inner
    assert adjusted_rand_score(truth.ravel(), labels.ravel()) > 0.9


def test_a_hot_pixel_does_not_take_a_cluster():
    """A burst of counts in one pixel looks flat at its centre, but a phase needs more than a pixel.

    On this small soil image (4 phases, a few hot pixels) a hot pixel used to take one of the 4
    clusters, and two phases shared another.
    """
    image, truth = simulate_soil_image((48, 48), random_state=1)
    labels = spatial_map(image.counts, 4).labels
    assert np.bincount(labels.ravel()).min() >= 100
    assert adjusted_rand_score(truth.ravel(), labels.ravel()) > 0.95


def test_assign_phases_takes_the_nearest_centre_by_squared_distance_the_lower_number_on_a_tie():
    features = np.array([[[1.0, 0.0], [0.0, 0.0], [2.0, 0.0]]])
    assert assign_phases(features, [[0.0, 0.0], [2.0, 0.0]], beta=0.0).tolist() == [[0, 0, 1]]
    assert assign_phases(features, [[2.0, 0.0], [0.0, 0.0]], beta=0.0).tolist() == [[0, 1, 0]]
    # (1, 1) is nearer in squared distance (2 against 3.61), (1.9, 0) nearer in absolute distance
    assert assign_phases(np.zeros((1, 1, 2)), [[1.9, 0.0], [1.0, 1.0]], beta=0.0).tolist() == [[1]]
    with pytest.raises(NanoSIMSError, match="3 feature"):
        assign_phases(features, [[0.0, 1.0, 2.0], [2.0, 3.0, 4.0]])

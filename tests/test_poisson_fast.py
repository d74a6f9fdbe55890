"""The counting model's fast paths give what the plain computations give (tests/test_poisson_model.py: the model)."""

import numpy as np
import pytest
from scipy import ndimage, stats

from nanosims_helpers import poisson_model
from nanosims_helpers.poisson_model import PhaseModel, deviance


def blocky_labels(rng, shape=(40, 36), n_phases=4):
    return ndimage.zoom(rng.integers(0, n_phases, (shape[0] // 6 + 1, shape[1] // 6 + 1)), 6, order=0)[
        : shape[0], : shape[1]]


def test_expected_counts_follow_the_labels_through_the_blur():
    """``m = y * blur(mu[z])`` against scipy's Gaussian filter, also after the labels change (the blurred
    phase indicators are kept between calls)."""
    rng = np.random.default_rng(0)
    labels = blocky_labels(rng)
    mu = np.array([[30.0, 2.0, 5.0], [3.0, 40.0, 1.0], [10.0, 10.0, 10.0], [0.5, 1.0, 80.0]])
    ion_yield = np.exp(rng.normal(0, 0.1, labels.shape))
    model = PhaseModel(np.zeros(labels.shape + (3,), np.float32), labels, mu, ion_yield, beam_sigma_px=1.0)
    for step in range(3):
        direct = ion_yield[..., None] * ndimage.gaussian_filter(mu[model.labels], (1.0, 1.0, 0), truncate=2.0)
        np.testing.assert_allclose(model.expected(), direct, rtol=1e-4)
        picked = rng.choice(labels.size, 50, replace=False)  # the (pixel, phase) shares taken plane by plane
        np.testing.assert_allclose(model.expected_at(picked), direct.reshape(-1, 3)[picked], rtol=1e-4)
        changed = model.labels.copy()
        changed[5 + step: 12, 3: 9 + step] = (step + 1) % 4
        model.labels = changed


def test_best_two_gives_the_cheapest_other_phase_and_leaves_the_costs_alone():
    rng = np.random.default_rng(1)
    costs = rng.normal(size=(6, 5, 4)).astype(np.float32)
    labels = rng.integers(0, 4, (6, 5))
    kept = costs.copy()
    others = np.where(np.arange(4) == labels[..., None], np.inf, costs)
    np.testing.assert_array_equal(poisson_model._best_two(costs, labels), others.argmin(axis=-1))
    np.testing.assert_array_equal(costs, kept)


def test_the_ramp_is_the_weighted_least_squares_plane():
    """Against numpy's least squares on the explicit design matrix, weights included."""
    rng = np.random.default_rng(2)
    values = rng.normal(size=(30, 20))
    weights = rng.uniform(0.1, 5.0, size=(30, 20))
    rows, cols = np.indices(values.shape)
    design = np.stack([np.ones(values.size), rows.ravel() / 30, cols.ravel() / 20], axis=1)
    root = np.sqrt(weights.ravel())
    coefficients = np.linalg.lstsq(design * root[:, None], values.ravel() * root, rcond=None)[0]
    np.testing.assert_allclose(poisson_model._weighted_plane(values, weights), (design @ coefficients).reshape(30, 20),
                               atol=1e-10)


def test_deviance_in_blocks_is_the_deviance_of_every_pixel(monkeypatch):
    """Large images are scored in blocks of rows: every row, the last partial block too, against scipy."""
    monkeypatch.setattr(poisson_model, "BLOCK_PIXELS", 14)
    rng = np.random.default_rng(3)
    means = rng.uniform(0.5, 60.0, size=(11, 4, 3))
    counts = rng.poisson(means).astype(float)
    saturated = stats.poisson.logpmf(counts, np.maximum(counts, 1e-300))
    expected = 2 * (saturated - stats.poisson.logpmf(counts, means)).sum(axis=-1)
    np.testing.assert_allclose(deviance(counts, means, 0.0), expected, rtol=1e-6)


def test_proposal_costs_in_blocks_are_the_poisson_likelihood_of_each_phase(monkeypatch):
    """The pure costs, computed in blocks of rows: differences between phases are Poisson log-likelihood
    ratios of the smoothed counts (scaled by the pooling factor), checked against scipy."""
    monkeypatch.setattr(poisson_model, "BLOCK_PIXELS", 10)
    rng = np.random.default_rng(4)
    mu = np.array([[30.0, 2.0], [3.0, 40.0], [9.0, 9.0]])
    smoothed = rng.poisson(20.0, size=(7, 5, 2)).astype(np.float32)
    ion_yield = rng.uniform(0.8, 1.2, size=(7, 5))
    model = PhaseModel(smoothed, np.zeros((7, 5), int), mu, ion_yield)
    costs = poisson_model._pure_costs(model, smoothed)
    pooled = 1.0 / (4.0 * np.pi * poisson_model.PROPOSAL_SMOOTHING_PX**2)
    loglik = np.stack([stats.poisson.logpmf(smoothed, ion_yield[..., None] * m).sum(axis=-1) for m in mu], -1)
    np.testing.assert_allclose((costs - costs[..., :1]) * pooled, -(loglik - loglik[..., :1]), rtol=1e-4, atol=1e-3)
    assert costs.shape == (7, 5, 3)


@pytest.mark.parametrize("sigma", [0.0, 1.0])
def test_update_compositions_reaches_the_maximum_likelihood_of_the_blurred_model(sigma):
    """Many EM steps from a wrong start end where scipy's optimiser of the same likelihood ends.

    The yield differs between the phases' pixels, so that a boundary pixel's share of each phase
    (not its label) must weigh its yield.
    """
    from scipy.optimize import minimize

    rng = np.random.default_rng(5)
    labels = blocky_labels(rng, (24, 24), 2)
    mu = np.array([[25.0, 4.0], [6.0, 30.0]])
    ion_yield = np.where(labels == 0, 1.6, 0.6) * np.exp(rng.normal(0, 0.1, labels.shape))
    counts = rng.poisson(ion_yield[..., None] * ndimage.gaussian_filter(mu[labels], (sigma, sigma, 0), truncate=2.0))
    model = PhaseModel(counts.astype(np.float32), labels, np.full((2, 2), 10.0), ion_yield, beam_sigma_px=sigma)
    poisson_model.update_compositions(model, n_iter=300)

    def nll(flat):
        means = ion_yield[..., None] * ndimage.gaussian_filter(np.exp(flat).reshape(2, 2)[labels], (sigma, sigma, 0),
                                                               truncate=2.0)
        return float((means - counts * np.log(means)).sum())

    best = np.exp(minimize(nll, np.log(np.full(4, 10.0)), method="Nelder-Mead",
                           options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000}).x).reshape(2, 2)
    np.testing.assert_allclose(model.compositions, best, rtol=2e-3)


@pytest.mark.parametrize(("shape", "sigma"), [((40, 36), 1.0), ((9, 200), 2.0), ((3, 400), 1.5), ((25, 25), 0.0)])
def test_moved_labels_carry_the_blurred_indicators_over_as_a_full_blur_gives_them(shape, sigma):
    """Pixels moved a few at a time (edges and corners included, and images narrower than the point
    spread, whose edges reflect more than once): the shares kept on the model equal scipy's blur of
    the new labels, and every pixel whose shares changed is in the returned mask."""
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 4, shape)
    model = PhaseModel(np.zeros(shape + (2,), np.float32), labels, rng.uniform(1.0, 50.0, (4, 2)), np.ones(shape),
                       beam_sigma_px=sigma)
    edges = np.flatnonzero(np.pad(np.zeros((shape[0] - 2, shape[1] - 2), bool), 1, constant_values=True))
    for step in range(4):
        pixels = np.union1d(rng.choice(labels.size, 3, replace=False), rng.choice(edges, 2, replace=False))
        kept = model.shares().copy()
        changed = model.move(pixels, (model.labels.ravel()[pixels] + rng.integers(1, 4, pixels.size)) % 4)
        assert model._shares_current()  # carried over, not blurred again
        blurred = np.stack([ndimage.gaussian_filter((model.labels == phase).astype(float), sigma, truncate=2.0)
                            for phase in range(4)], axis=-1).reshape(-1, 4)
        np.testing.assert_allclose(model.shares(), blurred, atol=1e-6)
        assert np.all(changed.ravel()[np.any(np.abs(blurred - kept) > 1e-6, axis=1)])


def _windowed_change_by_scipy(model, pixel, candidate):
    """The definition of :func:`flip_costs` for one pixel, offset by offset with scipy's distributions."""
    height, width, _ = model.counts.shape
    kernel = poisson_model._kernel(model.beam_sigma_px)
    radius = kernel.shape[0] // 2
    row, col = divmod(int(pixel), width)
    expected = model.expected().astype(float)
    step = model.compositions[candidate] - model.compositions[model.labels[row, col]]
    total = 0.0
    for dy, dx in zip(*np.nonzero(kernel >= 0.1 * kernel.max())):
        y, x = row + dy - radius, col + dx - radius
        if 0 <= y < height and 0 <= x < width:
            before = expected[y, x]
            after = before + kernel[dy, dx] * model.ion_yield[y, x] * step
            counts = model.counts[y, x].astype(float)
            if model.phi > 0:
                size = 1.0 / model.phi
                change = (stats.nbinom.logpmf(counts, size, size / (size + before))
                          - stats.nbinom.logpmf(counts, size, size / (size + after)))
            else:
                change = stats.poisson.logpmf(counts, before) - stats.poisson.logpmf(counts, after)
            total += np.clip(change, -poisson_model.MAX_COUNT_COST, poisson_model.MAX_COUNT_COST).sum()
    return total


@pytest.mark.parametrize("phi", [0.0, 0.02])
def test_flip_costs_in_parts_follow_the_window_to_the_image_edges(monkeypatch, phi):
    """Every pixel of a small image (corners and edges, where part of the window is outside), two
    candidates each, scored in blocks and cache-sized parts: scipy's likelihood, offset by offset,
    each count's share bounded, nothing outside the image."""
    monkeypatch.setattr(poisson_model, "TABLE_PIXELS", 50)
    monkeypatch.setattr(poisson_model, "CACHE_PIXELS", 16)
    rng = np.random.default_rng(7)
    labels = blocky_labels(rng, (11, 9), 3)
    mu = np.array([[30.0, 2.0, 5.0], [3.0, 40.0, 1.0], [400.0, 10.0, 0.3]])
    ion_yield = rng.uniform(0.7, 1.3, labels.shape)
    counts = rng.poisson(ion_yield[..., None] * mu[labels]).astype(np.float32)
    model = PhaseModel(counts, labels, mu, ion_yield, phi=phi, beam_sigma_px=1.0)
    pixels = np.repeat(np.arange(labels.size), 2)
    candidates = (labels.ravel()[pixels] + np.tile([1, 2], labels.size)) % 3
    fast = poisson_model.flip_costs(model, model.expected(), pixels, candidates)
    reference = [_windowed_change_by_scipy(model, pixel, candidate) for pixel, candidate in zip(pixels, candidates)]
    np.testing.assert_allclose(fast, reference, rtol=1e-4, atol=0.01)  # float32 sums of terms near 3000


@pytest.mark.parametrize("start", [0.0, 1.0, 2.0])
def test_the_point_spread_scored_near_boundaries_is_the_one_of_the_whole_image(monkeypatch, start):
    """A blur of 1.5 px, chosen by update_blur (which scores only pixels near a boundary, in blocks,
    stepping from the current spread) and by the likelihood of every pixel under each point spread
    (scipy's blur and Poisson)."""
    monkeypatch.setattr(poisson_model, "BLOCK_PIXELS", 100)
    rng = np.random.default_rng(8)
    labels = blocky_labels(rng, (40, 36), 3)
    mu = np.array([[30.0, 2.0], [3.0, 40.0], [12.0, 12.0]])
    counts = rng.poisson(ndimage.gaussian_filter(mu[labels], (1.5, 1.5, 0), truncate=2.0)).astype(np.float32)
    model = PhaseModel(counts, labels, mu, np.ones(labels.shape), beam_sigma_px=start)
    poisson_model.update_blur(model)
    whole = {sigma: -stats.poisson.logpmf(counts, np.maximum(ndimage.gaussian_filter(
        mu[labels], (sigma, sigma, 0), truncate=2.0), 1e-6)).sum() for sigma in poisson_model.BEAM_SIGMAS_PX}
    assert model.beam_sigma_px == min(whole, key=whole.get) == 1.5


def test_the_observed_totals_are_kept_until_the_counts_change():
    rng = np.random.default_rng(9)
    counts = rng.poisson(5.0, (12, 10, 3)).astype(np.float32)
    model = PhaseModel(counts, np.zeros((12, 10), int), np.ones((1, 3)), np.ones((12, 10)))
    totals, smoothed = model.observed_totals(3.0)
    np.testing.assert_allclose(smoothed, ndimage.gaussian_filter(counts.sum(axis=-1).astype(float), 3.0), rtol=1e-6)
    model.counts = counts[::-1].copy()
    np.testing.assert_allclose(model.observed_totals(3.0)[1],
                               ndimage.gaussian_filter(counts[::-1].sum(axis=-1).astype(float), 3.0), rtol=1e-6)


def test_the_expected_counts_kept_between_sweeps_are_those_of_the_labels(monkeypatch):
    """relabel updates the expected counts only around moved pixels: at every sweep they equal the
    expected counts of the labels computed afresh (scipy's blur)."""
    rng = np.random.default_rng(10)
    truth = blocky_labels(rng, (48, 40), 3)
    mu = np.array([[30.0, 2.0, 5.0], [3.0, 40.0, 1.0], [10.0, 10.0, 30.0]])
    counts = rng.poisson(ndimage.gaussian_filter(mu[truth], (1.0, 1.0, 0), truncate=2.0)).astype(np.float32)
    labels = truth.copy()
    labels[rng.random(truth.shape) < 0.006] = 2  # a few wrong pixels (few: the shares and means are carried over)
    model = PhaseModel(counts, labels, mu, np.ones(truth.shape), phi=0.01)
    original, sweeps = poisson_model.flip_costs, []

    def checked(model, expected, indices, candidates):
        direct = ndimage.gaussian_filter(mu[model.labels], (1.0, 1.0, 0), truncate=2.0)
        np.testing.assert_allclose(expected, direct, rtol=1e-4, atol=1e-4)
        sweeps.append(indices.size)
        return original(model, expected, indices, candidates)

    monkeypatch.setattr(poisson_model, "flip_costs", checked)
    poisson_model.relabel(model, np.full(truth.shape, -1), n_sweeps=4)
    assert len(sweeps) >= 3 and np.mean(model.labels == truth) > np.mean(labels == truth)


def test_the_vote_margin_counts_the_candidates_neighbours_less_the_pixels_own():
    """Against the spatial method's count of each label among the 8 neighbours (edges and corners included)."""
    from nanosims_helpers.spatial import neighbour_votes

    rng = np.random.default_rng(11)
    labels = rng.integers(0, 3, (7, 6))
    pixels = np.arange(labels.size)
    candidates = rng.integers(0, 3, labels.size)
    votes = neighbour_votes(labels, 3).reshape(-1, 3).astype(int)
    expected = votes[pixels, candidates] - votes[pixels, labels.ravel()]
    np.testing.assert_array_equal(poisson_model._votes(labels, pixels, candidates), expected)


def _distinctness_by_hand(model, alternative):
    """:func:`phase_distinctness` from its definition, pixel by pixel: Poisson deviance (scipy) of
    each pixel of phase b when b's pixels take their alternative within the window of the blur."""
    kernel = poisson_model._kernel(model.beam_sigma_px)
    radius = kernel.shape[0] // 2
    height, width, _ = model.counts.shape
    expected = model.expected().astype(float)
    values = {phase: [] for phase in range(model.n_phases)}
    for y in range(height):
        for x in range(width):
            phase = model.labels[y, x]
            mean = expected[y, x].copy()
            for dy, dx in zip(*np.nonzero(kernel >= 0.1 * kernel.max())):
                v, u = y + dy - radius, x + dx - radius
                if 0 <= v < height and 0 <= u < width and model.labels[v, u] == phase:
                    step = model.compositions[alternative[v, u]] - model.compositions[phase]
                    mean += kernel[dy, dx] * model.ion_yield[y, x] * step
            counts = model.counts[y, x].astype(float)
            ratio = stats.poisson.logpmf(counts, counts) - stats.poisson.logpmf(counts, mean)
            values[phase].append(2.0 * ratio.sum())
    return np.array([np.median(values[phase]) for phase in range(model.n_phases)])


def test_phase_distinctness_is_the_median_deviance_without_the_phase():
    rng = np.random.default_rng(4)
    labels = blocky_labels(rng, (18, 16), 3)
    mu = np.array([[30.0, 2.0, 5.0], [25.0, 4.0, 5.0], [3.0, 40.0, 1.0]])
    ion_yield = rng.uniform(0.8, 1.2, labels.shape)
    counts = rng.poisson(ion_yield[..., None] * mu[labels]).astype(np.float32)
    model = PhaseModel(counts, labels, mu, ion_yield, phi=0.0, beam_sigma_px=1.0)
    costs = rng.normal(size=labels.shape + (3,)).astype(np.float32)
    np.testing.assert_allclose(poisson_model.phase_distinctness(model, costs),
                               _distinctness_by_hand(model, poisson_model._best_two(costs, labels)), rtol=1e-4)


def test_phase_distinctness_of_a_large_phase_is_taken_on_evenly_spaced_pixels(monkeypatch):
    """A phase whose upper half the other phase explains and whose lower half it does not: the
    median over pixels spread over the whole phase is the median of all its pixels (within
    counting noise), not that of its first rows."""
    rng = np.random.default_rng(5)
    labels = np.zeros((60, 40), dtype=int)
    labels[:, 30:] = 1
    counts = np.empty((60, 40, 2), dtype=np.float32)
    counts[:30] = rng.poisson([20.0, 20.0], (30, 40, 2))  # the upper half of phase 0 as phase 1
    counts[30:] = rng.poisson([20.0, 60.0], (30, 40, 2))
    counts[:, 30:] = rng.poisson([20.0, 20.0], (60, 10, 2))
    model = PhaseModel(counts, labels, np.array([[20.0, 40.0], [20.0, 20.0]]), np.ones((60, 40)), phi=0.0,
                       beam_sigma_px=0.0)
    costs = np.zeros((60, 40, 2), dtype=np.float32)
    every = poisson_model.phase_distinctness(model, costs)
    monkeypatch.setattr(poisson_model, "DISTINCTNESS_PIXELS", 300)
    sampled = poisson_model.phase_distinctness(model, costs)
    assert sampled[0] == pytest.approx(every[0], rel=0.1)
    upper = deviance(counts[:8, :30], np.array([20.0, 20.0]), 0.0)  # the first 300 pixels of phase 0
    assert abs(sampled[0] - every[0]) < abs(np.median(upper) - every[0]) / 5

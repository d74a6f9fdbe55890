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

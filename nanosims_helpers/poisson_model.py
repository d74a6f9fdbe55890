"""A counting-statistics model of the image: phases, ion yield, beam blur and a Potts prior.

What the instrument does, written as a model that :func:`poisson_map` fits to the counts:

* every pixel ``i`` belongs to one phase ``z_i``, a composition ``mu[z]`` (mean counts of each
  mass per pixel at the mean ion yield);
* the beam blurs: the expected counts of a pixel are the Gaussian-weighted mixture of the
  compositions of the pixels around it (:data:`BEAM_SIGMA_PX`), times a smooth ion-yield field
  ``y`` (:data:`YIELD_SIGMA_PX`) that multiplies all masses of a pixel alike;
* the counts are Poisson about that mean, widened by the grain-to-grain variation of the
  composition within a phase: negative binomial, variance ``m + phi m^2`` with one ``phi``
  estimated from the image (:func:`negative_binomial_nll`);
* neighbours tend to share a phase: a Potts prior, each of the 8 neighbours with the same phase
  is worth :data:`POTTS_BETA` (log-likelihood units).

A boundary pixel is therefore explained as a blur of its neighbours' phases, never as a phase
of its own, and a dim 13C count of 3 weighs what Poisson statistics say it weighs, beside a
12C count of 300. The phase means follow from the counts by expectation maximisation
(:func:`update_compositions`, blur included), the labels by iterated conditional modes with
the exact change of the likelihood in the 5 x 5 window a pixel's phase reaches
(:func:`flip_costs`).

Which phases there are is decided by the same statistics, pixel by pixel (:func:`phase_distinctness`):

* **births**: pixels that no phase explains (their negative-binomial deviance, a likelihood-ratio
  statistic with one degree of freedom per mass, above the chi-square quantile at
  :data:`ALPHA`), in connected groups of at least :data:`MIN_PHASE_PIXELS`, become a new phase
  (the small bright particles that no over-clustering of phase interiors proposes);
* **deaths**: a phase goes when its pixels are explained without it: the median deviance of its
  pixels, with the phase replaced by the best other (blur included), stays below the same
  quantile. A small phase with many counts per pixel stays; a large one whose pixels cannot be
  told apart from another's within counting noise goes, whatever its size.

Small particles need one more step (:func:`_grow_small_phases`): their rim pixels are mixtures
under the beam, and a rim labelled as the surroundings leaves the particle's composition too
bright, so that no single pixel can take the rim back. A phase of small objects is grown by a
ring of pixels, its composition refitted, where that explains the image better.

Started from more phases than asked for (micro-clusters of the phase interiors, as in
:mod:`nanosims_helpers.spatial`), the fit removes phases, least distinct first, down to
``n_clusters``; with ``n_clusters=None`` it stops when every phase left is distinct
(:func:`count_phases`), judged again once the final labels are fitted (a phase of mixed boundary
pixels thins there to rings that the blurred neighbours explain). The posterior probability of
each pixel's phase against its best alternative is returned as a confidence map.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage
from scipy.stats import chi2
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from .clustering import ClusterResult, fit_kmeans
from .hierarchical import largest_first
from .preprocessing import preprocess
from .spatial import FIT_SMOOTHING_PX, core_mask, potts_sweeps, smooth_counts
from .validation import check_features, check_n_clusters

__all__ = [
    "ALPHA", "BEAM_SIGMA_PX", "MIN_PHASE_PIXELS", "POTTS_BETA", "YIELD_SIGMA_PX", "PhaseModel", "count_phases",
    "deviance", "flip_costs", "negative_binomial_nll", "objective", "phase_distinctness", "poisson_map",
    "update_compositions",
]

#: Standard deviation of the beam's Gaussian point spread, in pixels, the fit starts from.
BEAM_SIGMA_PX = 1.0
#: Point spreads the fit chooses from, by likelihood (:func:`update_blur`): instruments and
#: settings differ, and a model blurred more or less than the image misplaces every boundary.
BEAM_SIGMAS_PX = (0.0, 0.5, 1.0, 1.5, 2.0)
#: Smoothing (pixels) of the ion-yield field: slower than phases vary, faster than a ramp.
YIELD_SIGMA_PX = 12.0
#: Weight of one agreeing neighbour (of 8) in the Potts prior, in log-likelihood units.
POTTS_BETA = 1.0
#: Significance level of the per-pixel goodness-of-fit test behind births and deaths.
ALPHA = 1e-3
#: Fewest connected unexplained pixels that may become a phase (single hot pixels do not).
MIN_PHASE_PIXELS = 4
#: Phases of which more than this share of the pixels touch another phase are small objects
#: (particles a few pixels across), whose rim the fit may have given to their surroundings.
SMALL_PHASE_RIM_SHARE = 0.5
#: Micro-clusters the fit starts from: at least this many, or ``n_clusters`` + :data:`EXTRA_START_PHASES`.
MIN_START_PHASES = 12
#: Micro-clusters beyond ``n_clusters`` the fit starts from (it removes the least distinct).
EXTRA_START_PHASES = 6
#: Most phases added for unexplained pixels.
MAX_BIRTHS = 4
#: Most pixels the starting micro-clusters are fitted on (a random sample of the interiors).
FIT_SAMPLE_SIZE = 10_000
#: KMeans starts of the micro-clusters (the best kept). With one, the labelled cells of the
#: realistic sample got no micro-cluster of their own from 1 of 20 random starts and were lost
#: (F1 0.12; 5 images x 4 values of ``random_state``, ``bench_pipelines --starts 4``); with two,
#: from none (F1 0.93 or more).
START_KMEANS_INIT = 2
#: Sweeps of iterated conditional modes after each change of the phases.
ICM_SWEEPS = 3
#: Most a single count may change the cost of a move, in log-likelihood units: a burst of counts
#: in one mass of one pixel (a hot pixel) then cannot outvote its neighbours, while a phase that
#: differs in two masses (the 13C and 15N of labelled cells) still can. The likelihood of a count
#: that may be an outlier with a small probability (about exp(-10)) is bounded so.
MAX_COUNT_COST = 10.0
#: Smoothing (pixels) of the counts for proposing each pixel's phase (not for the likelihood).
PROPOSAL_SMOOTHING_PX = 0.7
#: Pixels per part of :func:`flip_costs`'s work: its temporaries then stay in the processor's cache.
CACHE_PIXELS = 8192
#: Most pixels :func:`flip_costs` scores from one table of their windows (up to 13 pixels each, 29
#: numbers a pixel): bounded memory on large images.
TABLE_PIXELS = 1 << 15
#: Most pixels of a phase :func:`phase_distinctness` takes the median over (evenly spaced).
DISTINCTNESS_PIXELS = 4096
#: Pixels per block of rows where whole-image temporaries of (pixel, mass) or (pixel, phase)
#: arrays would be large (2048 x 2048 images).
BLOCK_PIXELS = 1 << 18

_NEIGHBOURS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]
_CROSS = ndimage.generate_binary_structure(2, 1)  # a ring of one pixel: the 4 nearest neighbours
_FLOOR = 1e-6  # smallest expected count in a logarithm


def negative_binomial_nll(counts, means, phi: float) -> np.ndarray:
    """Negative log-likelihood of ``counts`` under a negative binomial of mean ``means``, without
    the terms that depend on the counts alone.

    Variance ``means + phi * means**2``; ``phi = 0`` is the Poisson ``means - counts log(means)``.

    Examples
    --------
    >>> round(float(negative_binomial_nll(3.0, 3.0, 0.0)), 6), round(float(3.0 - 3.0 * np.log(3.0)), 6)
    (-0.295837, -0.295837)
    """
    shape = np.broadcast(counts, means).shape
    means = np.array(np.broadcast_to(np.maximum(means, _FLOOR), shape), ndmin=1)  # new: _nll_into overwrites it
    size = 1.0 / phi if phi > 0 else None
    return _nll_into(counts, means, size, None if size is None else counts + size).reshape(shape)


def _nll_into(counts, means, size, weight):
    """:func:`negative_binomial_nll` of ``means`` (at least the floor; overwritten) with ``size = 1 / phi``
    (None: Poisson) and ``weight = counts + size``: ``(x + 1/phi) log(1/phi + m) - x log m``."""
    if size is None:  # Poisson: m - x log m
        nll = np.log(means)
        nll *= counts
        np.subtract(means, nll, out=nll)
        return nll
    nll = means + size
    np.log(nll, out=nll)
    nll *= weight
    np.log(means, out=means)
    means *= counts
    nll -= means
    return nll


def deviance(counts, means, phi: float) -> np.ndarray:
    """Per-pixel negative-binomial deviance, summed over the mass axis (last).

    Twice the log-likelihood ratio of the saturated model (each count its own mean) against
    ``means``: about chi-square with one degree of freedom per mass when ``means`` are right.

    Examples
    --------
    >>> float(deviance(np.array([[4.0, 0.0]]), np.array([[4.0, 0.0]]), 0.0)[0])
    0.0
    >>> round(float(deviance(np.array([[6.0]]), np.array([[4.0]]), 0.0)[0]), 4)  # 2 (6 log 1.5 - 2)
    0.8656
    """
    counts = np.asarray(counts)
    counts = counts if counts.dtype.kind == "f" else counts.astype(float)
    means = np.broadcast_to(means, counts.shape)
    result = np.empty(counts.shape[:-1], dtype=counts.dtype)
    for block in _row_blocks(counts):  # bounded temporaries on large images
        saturated = negative_binomial_nll(counts[block], np.maximum(counts[block], _FLOOR), phi)
        result[block] = 2.0 * _mass_sum(negative_binomial_nll(counts[block], means[block], phi) - saturated)
    return result



def _row_blocks(values: np.ndarray):
    """Slices of the first axis covering about :data:`BLOCK_PIXELS` pixels each."""
    per_row = max(int(np.prod(values.shape[1:-1], dtype=np.int64)), 1)
    step = max(BLOCK_PIXELS // per_row, 1)
    return [slice(start, start + step) for start in range(0, max(values.shape[0], 1), step)]


def _mass_sum(values: np.ndarray) -> np.ndarray:
    """Sum over the last (mass) axis, as a matrix product: several times faster than ``sum`` on so short an axis."""
    return values @ np.ones(values.shape[-1], dtype=values.dtype)


def _line(sigma_px: float) -> np.ndarray:
    """The 1-D point spread (normalised), as ``ndimage.gaussian_filter`` with ``truncate=2`` uses it."""
    if sigma_px <= 0:
        return np.ones(1)
    offsets = np.arange(-int(2.0 * sigma_px + 0.5), int(2.0 * sigma_px + 0.5) + 1)
    line = np.exp(-0.5 * (offsets / sigma_px) ** 2)
    return line / line.sum()


def _kernel(sigma_px: float) -> np.ndarray:
    """The 2-D point spread (normalised), as ``ndimage.gaussian_filter`` with ``truncate=2`` uses it."""
    line = _line(sigma_px)
    return np.outer(line, line)


@functools.lru_cache(maxsize=16)
def _reach(length: int, sigma_px: float) -> np.ndarray:
    """How much a position of an axis of ``length`` adds to each position around it under the 1-D
    point spread with reflected edges (``mode="reflect"``), (length, 2 r + 1) float32: entry
    ``[p, t]`` is the weight of ``p`` in the blur at ``p + t - r`` (0 where that is outside).

    Examples
    --------
    >>> _reach(3, 1.0)[0].astype(float).round(3).tolist()  # to -2, -1 (outside), 0 (twice: reflected), 1, 2
    [0.0, 0.0, 0.647, 0.299, 0.054]
    """
    line = _line(sigma_px)
    radius = line.size // 2
    position = np.arange(length)[:, None, None]
    target = position + np.arange(2 * radius + 1)[None, :, None] - radius
    source = (target + np.arange(-radius, radius + 1)) % (2 * length)  # reflected, as often as needed
    source = np.where(source >= length, 2 * length - 1 - source, source)
    weights = ((source == position) * line).sum(axis=-1)
    weights[(target[..., 0] < 0) | (target[..., 0] >= length)] = 0.0
    return weights.astype(np.float32)


@dataclass
class PhaseModel:
    """The state of the fit: the counts, and what the model says about them.

    Attributes
    ----------
    counts : ndarray, shape (y, x, mass)
    labels : ndarray of int, shape (y, x)
        Phase of every pixel.
    compositions : ndarray, shape (phase, mass)
        Mean counts per pixel of each phase at the mean ion yield.
    ion_yield : ndarray, shape (y, x)
        Smooth ion-yield field, mean 1.
    phi : float
        Extra-Poisson variance of the counts (composition variation within a phase).
    beam_sigma_px, beta : float
        Point spread and Potts weight.
    """

    counts: np.ndarray
    labels: np.ndarray
    compositions: np.ndarray
    ion_yield: np.ndarray
    phi: float = 0.0
    beam_sigma_px: float = BEAM_SIGMA_PX
    beta: float = POTTS_BETA
    _shares: tuple | None = field(default=None, init=False, repr=False, compare=False)
    _observed: tuple | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def n_phases(self) -> int:
        return self.compositions.shape[0]

    def shares(self) -> np.ndarray:
        """Share of each phase in each pixel's point spread, (y * x, phase) float32: the blurred
        indicator of each phase. Kept while the labels (the same array), the point spread and the
        number of phases stay: the fit replaces the label array whenever a label changes, and
        :meth:`move` carries the shares over to the new labels."""
        if not self._shares_current():
            self._shares = None  # let the old shares go first
            # phase first: ndimage blurs contiguous planes faster than strided (y, x, phase) lines
            shares = np.empty((self.n_phases,) + self.labels.shape, dtype=np.float32)
            for phase, plane in enumerate(shares):
                plane[...] = self.labels == phase
                if self.beam_sigma_px > 0:
                    ndimage.gaussian_filter(plane, self.beam_sigma_px, mode="reflect", truncate=2.0, output=plane)
            self._shares = (self.labels, self.beam_sigma_px, self.n_phases, shares.reshape(self.n_phases, -1).T)
        return self._shares[3]

    def _shares_current(self) -> bool:
        return self._shares is not None and self._shares[0] is self.labels and self._shares[1:3] == (
            self.beam_sigma_px, self.n_phases)

    def observed_totals(self, sigma_px: float) -> tuple[np.ndarray, np.ndarray]:
        """The counts summed over the masses (y, x) and their Gaussian smoothing of ``sigma_px``
        (reflected edges), float64: the counts never change, so the smoothing is kept (float32)."""
        observed = _mass_sum(self.counts).astype(float)
        if self._observed is None or self._observed[0] is not self.counts or self._observed[1] != sigma_px:
            smoothed = ndimage.gaussian_filter(observed, sigma_px, mode="reflect").astype(np.float32)
            self._observed = (self.counts, sigma_px, smoothed)
        return observed, self._observed[2].astype(float)

    def move(self, pixels: np.ndarray, phases: np.ndarray) -> np.ndarray:
        """Give the pixels (distinct flat indices) new phases; return a mask (y, x) of the pixels
        whose expected counts change (those within the point spread's radius of a moved pixel).

        Kept shares follow, when few pixels move, without blurring every phase again: the blur is
        linear, so each moved pixel's point spread (reflected at the image's edges,
        :func:`_reach`) is taken from its old phase's share and added to its new one's.
        """
        height, width = self.labels.shape
        along_y, along_x = _reach(height, self.beam_sigma_px), _reach(width, self.beam_sigma_px)
        size = along_y.shape[1]
        flat = self.labels.ravel().copy()
        old, flat[pixels] = flat[pixels], phases
        # each moved pixel costs about 5 of the window's updates per share of a full blur
        carried = self._shares_current() and 5 * size**2 * pixels.size < self.n_phases * flat.size
        self.labels = flat.reshape(height, width)
        changed = np.zeros(flat.size, dtype=bool)
        changed[pixels] = True
        changed = ndimage.maximum_filter(changed.reshape(height, width), size, mode="constant")
        if not carried:
            return changed
        rows, cols = np.divmod(pixels, width)
        planes = self._shares[3].T.reshape(-1)  # (phase, pixel), a view
        for dy in range(size):
            for dx in range(size):
                weight = along_y[rows, dy] * along_x[cols, dx]
                reached = np.flatnonzero(weight)
                at = (rows[reached] + dy - size // 2) * width + cols[reached] + dx - size // 2
                planes[old[reached] * flat.size + at] -= weight[reached]
                planes[phases[reached] * flat.size + at] += weight[reached]
        self._shares = (self.labels,) + self._shares[1:]
        return changed

    def expected(self, rows: slice = slice(None)) -> np.ndarray:
        """Expected counts (y, x, mass) of the image's ``rows``, float32: the blurred compositions of the
        labels, times the yield.

        ``blur(mu[z]) = shares @ mu``: the blur is linear, so one blur of the phase indicators
        serves every composition.
        """
        start, stop, _ = rows.indices(self.labels.shape[0])
        width = self.labels.shape[1]
        return self.expected_at(slice(start * width, stop * width)).reshape(stop - start, width, -1)

    def expected_at(self, pixels) -> np.ndarray:
        """Expected counts (pixel, mass) of the pixels of ``pixels`` (flat indices or a slice), float32."""
        shares = self.shares()
        # the shares are (phase, pixel) planes seen as (pixel, phase): picked plane by plane
        picked = shares[pixels] if isinstance(pixels, slice) else np.take(shares.T, pixels, axis=1).T
        blurred = picked @ self.compositions.astype(np.float32)
        blurred *= self.ion_yield.ravel()[pixels, None].astype(np.float32)
        return blurred


def update_compositions(model: PhaseModel, n_iter: int = 2) -> None:
    """Maximum-likelihood compositions for fixed labels, yield and blur (Poisson EM, in place).

    The blurred model is linear in the compositions, ``m = y * S mu`` with ``S`` the shares of
    the phases in each pixel's point spread (:meth:`PhaseModel.shares`); the multiplicative EM
    step ``mu_k <- mu_k * (S^T (y x / m))_k / (S^T y)_k`` never lowers the likelihood and keeps
    the compositions positive. Boundary pixels pull no phase towards their neighbours: they are
    explained as the mixtures they are.
    """
    shares = model.shares()
    n_masses = model.compositions.shape[1]
    ion_yield = model.ion_yield.astype(np.float32)[..., None]
    exposure = shares.T @ ion_yield.ravel()
    width = model.labels.shape[1]
    for _ in range(n_iter):
        sums = np.zeros(model.compositions.shape)
        for block in _row_blocks(model.counts):
            start, stop, _ = block.indices(model.labels.shape[0])
            ratio = model.counts[block] / np.maximum(model.expected(block), np.float32(_FLOOR))
            ratio *= ion_yield[block]
            sums += shares[start * width: stop * width].T @ ratio.reshape(-1, n_masses)
        model.compositions = model.compositions * sums / np.maximum(exposure, _FLOOR)[:, None]


def update_yield(model: PhaseModel, sigma_px: float = YIELD_SIGMA_PX) -> None:
    """The ion yield: a plane in log yield for the ramp, times the smoothed local ratio (in place).

    ``G * sum(counts) / G * sum(model)`` is the maximum-likelihood yield of a Poisson model in
    which the yield is constant over the Gaussian window ``G``; on a ramp the window, reflected at
    the image's edges, flattens it there. So the ramp is taken out first, as the plane fitted to
    the log ratio of observed to modelled totals (weighted by the modelled totals), and the
    window smooths what is left. The field is scaled to mean 1 and the compositions take the
    overall factor.
    """
    totals = model.compositions.sum(axis=1).astype(np.float32)
    modelled = (model.shares() @ totals).reshape(model.labels.shape).astype(float)
    observed, smoothed = model.observed_totals(sigma_px)
    ramp = np.exp(_weighted_plane(np.log((observed + 0.5) / (modelled + 0.5)), modelled))
    field = ramp * smoothed / np.maximum(ndimage.gaussian_filter(modelled * ramp, sigma_px, mode="reflect"), _FLOOR)
    scale = field.mean()
    model.ion_yield = field / scale
    model.compositions = model.compositions * scale


def _weighted_plane(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The plane ``a + b y / height + c x / width`` closest to ``values`` (y, x) in weighted least squares,
    evaluated on the grid (normal equations from the row and column sums: no (pixels x 3) design
    matrix and no whole-image temporary per entry on large images)."""
    height, width = values.shape
    rows, cols = np.arange(height) / height, np.arange(width) / width
    weight_rows, weight_cols = weights.sum(axis=1), weights.sum(axis=0)
    cross = rows @ weights @ cols
    gram = np.array([[weight_rows.sum(), weight_rows @ rows, weight_cols @ cols],
                     [weight_rows @ rows, weight_rows @ rows**2, cross],
                     [weight_cols @ cols, cross, weight_cols @ cols**2]])
    weighted = weights * values
    moments = np.array([weighted.sum(), weighted.sum(axis=1) @ rows, weighted.sum(axis=0) @ cols])
    a, b, c = np.linalg.lstsq(gram, moments, rcond=None)[0]
    return a + b * rows[:, None] + c * cols[None, :]


def update_blur(model: PhaseModel, sigmas=None) -> None:
    """Take the point spread (of ``sigmas``, default :data:`BEAM_SIGMAS_PX`) under which the labels
    and compositions explain the counts best (in place).

    The likelihood has one optimum over the point spread (too narrow or too wide misplaces every
    boundary more): from the current spread (or the nearest one in ``sigmas``) the search steps to
    the better of the next narrower and wider while the likelihood improves. Only the pixels with
    another phase within the widest spread's reach are scored: elsewhere every spread gives the
    phase's own composition, and the same likelihood.
    """
    sigmas = sorted(BEAM_SIGMAS_PX if sigmas is None else sigmas)
    reach = _line(sigmas[-1]).size
    mixed = np.flatnonzero(ndimage.maximum_filter(model.labels, reach) != ndimage.minimum_filter(model.labels, reach))
    counts = model.counts.reshape(-1, model.counts.shape[2])
    likelihood = {}

    def cost(index: int) -> float:
        if index not in likelihood:
            model.beam_sigma_px = sigmas[index]
            likelihood[index] = sum(  # in blocks: bounded temporaries on large images
                float(negative_binomial_nll(np.take(counts, part, axis=0), model.expected_at(part), model.phi).sum())
                for part in (mixed[block] for block in _row_blocks(mixed[:, None])))
        return likelihood[index]

    best = int(np.argmin([abs(sigma - model.beam_sigma_px) for sigma in sigmas]))
    cost(best)  # first, while the shares kept are those of the current spread
    while True:
        step = min((index for index in (best - 1, best + 1) if 0 <= index < len(sigmas)), key=cost, default=best)
        if cost(step) >= cost(best):
            break
        best = step
    model.beam_sigma_px = sigmas[best]


def update_dispersion(model: PhaseModel, expected: np.ndarray) -> None:
    """Estimate ``phi`` from the phase interiors (in place).

    Robust moments: the median squared residual over 0.4549 (the median of a chi-square with one
    degree of freedom) estimates the variance ``m + phi m^2`` of counts whose mean is above 20;
    ``phi`` is the median of ``(variance - m) / m^2``. With fewer than 50 such counts, 0.
    """
    labels = model.labels
    inner = ndimage.maximum_filter(labels, 5) == ndimage.minimum_filter(labels, 5)
    means, counts = expected[inner], model.counts[inner]
    bright = means > 20
    if np.count_nonzero(bright) < 50:
        model.phi = 0.0
        return
    means, counts = means[bright], counts[bright]
    model.phi = max(float(np.median(((counts - means) ** 2 / 0.4549 - means) / means**2)), 0.0)


def _pure_costs(model: PhaseModel, smoothed: np.ndarray) -> np.ndarray:
    """Poisson negative log-likelihood of the lightly smoothed counts under each phase alone, (y, x, phase).

    Smoothing pools the ions of neighbours and shrinks their variance by ``sum(G^2)``; the
    costs are scaled up by the same factor so that they keep the weight of the counts pooled.
    With the yield a factor of the mean, ``x log(y mu) = x log(y) + x log(mu)``: one matrix
    product, whatever the number of phases.
    """
    pooled = np.float32(1.0 / (4.0 * np.pi * PROPOSAL_SMOOTHING_PX**2))
    n_masses = smoothed.shape[2]
    table = smoothed.reshape(-1, n_masses)
    ion_yield = model.ion_yield.reshape(-1, 1)
    mu = np.maximum(model.compositions, _FLOOR).astype(np.float32)
    costs = np.empty((table.shape[0], mu.shape[0]), dtype=np.float32)
    for block in _row_blocks(table):
        local_yield = ion_yield[block].astype(np.float32)
        part = local_yield * mu.sum(axis=1)
        part -= table[block].astype(np.float32) @ np.log(mu).T
        part -= _mass_sum(table[block].astype(np.float32))[:, None] * np.log(np.maximum(local_yield, _FLOOR))
        costs[block] = part / pooled
    return costs.reshape(smoothed.shape[:2] + (mu.shape[0],))


def _proposals(costs: np.ndarray, labels: np.ndarray, margin: float) -> np.ndarray:
    """The cheapest phase of each pixel where it beats the pixel's own by more than ``margin``, else -1."""
    best = costs.argmin(axis=-1)
    own = np.take_along_axis(costs, labels[..., None], -1)[..., 0]
    gap = own - np.take_along_axis(costs, best[..., None], -1)[..., 0]
    return np.where(gap > margin, best, -1)


def _best_two(costs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The cheapest phase other than each pixel's own."""
    own = np.take_along_axis(costs, labels[..., None], -1)
    np.put_along_axis(costs, labels[..., None], np.inf, axis=-1)  # in place (no copy of all costs) ...
    best = costs.argmin(axis=-1)
    np.put_along_axis(costs, labels[..., None], own, axis=-1)  # ... and restored
    return best


def flip_costs(model: PhaseModel, expected: np.ndarray, indices: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Change of the negative log-likelihood if each pixel of ``indices`` took its candidate phase.

    A pixel's phase reaches the expected counts of the pixels of its point-spread window; the
    change is summed over the window offsets that carry at least a tenth of the centre's weight
    (13 of the 25 at sigma 1 px, 92 % of the weight), the other labels fixed, each count's share
    bounded by :data:`MAX_COUNT_COST`. Pixels outside the image count nothing.

    Parameters
    ----------
    model : PhaseModel
    expected : ndarray, shape (y, x, mass)
        ``model.expected()`` for the current labels.
    indices : ndarray of int
        Flat pixel indices.
    candidates : ndarray of int
        The phase each pixel would take.

    Returns
    -------
    ndarray of float, one per pixel: negative when the candidate explains the counts better.
    """
    height, width, n_masses = model.counts.shape
    radius, padded_width, shifts = _window(model.beam_sigma_px, width)
    mu = model.compositions.astype(np.float32)
    total = np.empty(indices.size, dtype=np.float32)
    for start in range(0, indices.size, TABLE_PIXELS):  # bounded tables when many pixels move
        chunk = slice(start, start + TABLE_PIXELS)
        rows, cols = np.divmod(indices[chunk], width)
        corner = rows * padded_width + cols  # the window's first pixel, in the padded image
        where, table = _window_table(model, expected, [corner + shift for shift, _ in shifts], radius)
        step = (mu[candidates[chunk]] - mu[model.labels.ravel()[indices[chunk]]]).T
        for first in range(0, step.shape[1], CACHE_PIXELS):  # temporaries that stay in the cache
            part = slice(first, first + CACHE_PIXELS)
            total[chunk][part] = _window_change(table, [np.take(where, corner[part] + shift) for shift, _ in shifts],
                                                [weight for _, weight in shifts], step[:, part], model.phi)
    return total


def _window(sigma_px: float, width: int) -> tuple[int, int, list]:
    """The window a pixel's phase reaches under the point spread ``sigma_px``, in an image of
    ``width`` columns padded by the window's radius: ``(radius, padded width, [(offset of each
    window pixel from the window's first pixel, flat in the padded image, its weight), ...])``,
    the offsets that carry at least a tenth of the centre's weight (13 of 25 at 1 px).

    Examples
    --------
    >>> radius, padded_width, offsets = _window(1.0, 10)
    >>> radius, padded_width, len(offsets), int(offsets[0][0]), round(float(offsets[0][1]), 3)
    (2, 14, 13, 2, 0.022)
    """
    kernel = _kernel(sigma_px)
    radius = kernel.shape[0] // 2
    padded_width = width + 2 * radius
    near = zip(*np.nonzero(kernel >= 0.1 * kernel.max()))
    return radius, padded_width, [(dy * padded_width + dx, np.float32(kernel[dy, dx])) for dy, dx in near]


def _window_table(model: PhaseModel, expected: np.ndarray, reached, radius: int):
    """The pixels that ``reached`` (index arrays into the image padded by ``radius``) name, and a
    table of them: counts, counts + 1/phi, expected counts, their negative log-likelihood and the
    yield, (4 mass + 1, pixel + 1) float32, its last column for outside the image (no counts, a
    mean of 1 and no yield: a move reaches nothing there). Mass first, so that each quantity of a
    gathered window is one contiguous block. Returns ``(where, table)``: ``where`` maps padded
    pixels to columns."""
    height, width, n_masses = model.counts.shape
    needed = np.zeros((height + 2 * radius) * (width + 2 * radius), dtype=bool)
    for at in reached:
        needed[at] = True
    needed = needed.reshape(height + 2 * radius, width + 2 * radius)[radius: radius + height, radius: radius + width]
    pixels = np.flatnonzero(needed)
    where = np.full((height + 2 * radius, width + 2 * radius), pixels.size, dtype=np.int32)
    where[radius: radius + height, radius: radius + width][needed] = np.arange(pixels.size)
    table = np.empty((4 * n_masses + 1, pixels.size + 1), dtype=np.float32)
    counts, means = table[:n_masses], table[2 * n_masses: 3 * n_masses]
    counts[:, :-1] = np.take(model.counts.reshape(-1, n_masses), pixels, axis=0).T
    means[:, :-1] = np.take(expected.reshape(-1, n_masses), pixels, axis=0).T
    counts[:, -1], means[:, -1], table[-1] = 0.0, 1.0, np.append(np.take(model.ion_yield.ravel(), pixels), 0.0)
    table[n_masses: 2 * n_masses] = counts + np.float32(1.0 / model.phi if model.phi > 0 else 0.0)
    table[3 * n_masses: 4 * n_masses] = negative_binomial_nll(counts, means, model.phi)
    return where.ravel(), table


def _window_change(table: np.ndarray, columns, weights, step: np.ndarray, phi: float) -> np.ndarray:
    """Sum over the window's offsets (``columns`` of ``table``, :func:`_window_table`, and their
    ``weights``) of the change of the negative log-likelihood when the mean moves by
    ``weight * yield * step`` (mass, pixel), each count's share bounded by :data:`MAX_COUNT_COST`."""
    n_masses = step.shape[0]
    total = np.zeros(step.shape[1], dtype=np.float32)
    size = np.float32(1.0 / phi) if phi > 0 else None
    for at, weight in zip(columns, weights):
        window = np.take(table, at, axis=1, mode="clip")  # valid indices: "clip" skips the checks
        counts, means, before = (window[k * n_masses: (k + 1) * n_masses] for k in (0, 2, 3))
        after = (weight * window[-1]) * step
        after += means
        np.maximum(after, np.float32(_FLOOR), out=after)
        change = _nll_into(counts, after, size, window[n_masses: 2 * n_masses])
        change -= before
        total += np.ones(n_masses, dtype=np.float32) @ np.clip(change, -MAX_COUNT_COST, MAX_COUNT_COST, out=change)
    return total


def _votes(labels: np.ndarray, pixels: np.ndarray, phases: np.ndarray) -> np.ndarray:
    """How many more of the 8 neighbours of each pixel have the given phase than the pixel's own."""
    width = labels.shape[1] + 2
    padded = np.pad(labels, 1, constant_values=-1).ravel()
    rows, cols = np.divmod(pixels, labels.shape[1])
    centre = (rows + 1) * width + cols + 1
    own = np.take(padded, centre)
    margin = np.zeros(pixels.size)
    for dy, dx in _NEIGHBOURS:
        around = np.take(padded, centre + dy * width + dx)
        margin += around == phases
        margin -= around == own
    return margin


def _boundary(labels: np.ndarray) -> np.ndarray:
    """True for the pixels with a neighbour (of 8) of another phase."""
    height, width = labels.shape
    padded = np.pad(labels, 1, mode="edge")
    differs = np.zeros(labels.shape, dtype=bool)
    for dy, dx in _NEIGHBOURS:
        differs |= padded[1 + dy: 1 + dy + height, 1 + dx: 1 + dx + width] != labels
    return differs


def _most_frequent(other: np.ndarray) -> np.ndarray:
    """The most frequent value >= 0 of each column of ``other`` (the first row's on a tie; -1: none)."""
    best, best_count = np.full(other.shape[1], -1, dtype=other.dtype), np.zeros(other.shape[1], dtype=np.uint8)
    for layer in other:
        count = (other == layer).sum(axis=0, dtype=np.uint8) * (layer >= 0)
        better = count > best_count
        best, best_count = np.where(better, layer, best), np.where(better, count, best_count)
    return best


def _neighbour_candidates(labels: np.ndarray, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of the ``pixels`` (flat indices), the most frequent phase among its 8 neighbours
    other than its own, and the runner-up (-1: none)."""
    small = labels.astype(np.int16)  # phases are few: small integers keep the 8 gathered rows light
    width = labels.shape[1] + 2
    padded = np.pad(small, 1, mode="edge").ravel()
    rows, cols = np.divmod(pixels, labels.shape[1])
    centre = (rows + 1) * width + cols + 1
    other = np.stack([np.take(padded, centre + dy * width + dx) for dy, dx in _NEIGHBOURS])
    other[other == small.ravel()[pixels]] = -1
    first = _most_frequent(other)
    other[other == first] = -1
    return first.astype(np.intp), _most_frequent(other).astype(np.intp)


def _label_changes(model: PhaseModel, expected: np.ndarray, proposals: np.ndarray, active=True):
    """Pixels (of ``active``), candidate phases and cost changes (likelihood and Potts) of their moves."""
    labels = model.labels
    flat, active = labels.ravel(), np.broadcast_to(active, labels.shape).ravel()
    # the runner-up too: the rim pixel of a small particle often has more neighbours of the
    # surrounding phase than of the particle's own
    neighbour, second = np.full(flat.size, -1), np.full(flat.size, -1)
    scored = np.flatnonzero(_boundary(labels).ravel() & active)
    neighbour[scored], second[scored] = _neighbour_candidates(labels, scored)
    proposals = proposals.ravel()
    proposals = np.where((proposals == neighbour) | (proposals == second), -1, proposals)
    pixel_list, candidate_list = [], []
    for candidate in (neighbour, second, proposals):  # each move scored once
        pixels = np.flatnonzero((candidate >= 0) & (candidate != flat) & active)
        pixel_list.append(pixels)
        candidate_list.append(candidate[pixels])
    pixels, candidates = np.concatenate(pixel_list), np.concatenate(candidate_list)
    change = flip_costs(model, expected, pixels, candidates) - model.beta * (
        _votes(labels, pixels, candidates))
    return pixels, candidates, change


def relabel(model: PhaseModel, proposals: np.ndarray, n_sweeps: int = ICM_SWEEPS, expected=None) -> None:
    """Iterated conditional modes on the blurred likelihood and the Potts prior (in place).

    Each sweep scores, for every pixel, the most frequent other phase among its neighbours and
    its proposal (the cheapest phase of the smoothed counts), and moves the pixels whose best
    move lowers the cost most within their 3 x 3 neighbourhood (so that no two neighbours move
    at once on stale costs). After the first sweep only pixels near a move are scored again.
    ``expected``: ``model.expected()`` if the caller has it (updated in place), else computed.
    """
    shape = model.labels.shape
    active = np.ones(shape, dtype=bool)
    expected = model.expected() if expected is None else expected
    for _ in range(n_sweeps):
        pixels, candidates, change = _label_changes(model, expected, proposals, active)
        gain = np.zeros(shape[0] * shape[1])
        best = np.full(gain.size, -1)
        order = np.argsort(change)[::-1]  # the largest gains written last
        gain[pixels[order]] = -change[order]
        best[pixels[order]] = candidates[order]
        gain = gain.reshape(shape)
        moves = (gain > 0) & (gain >= ndimage.maximum_filter(gain, 3, mode="constant"))
        if not moves.any():
            break
        moved = np.flatnonzero(moves)
        changed = model.move(moved, best[moved])
        if 4 * np.count_nonzero(changed) < changed.size:
            changed = np.flatnonzero(changed)
            expected.reshape(-1, expected.shape[2])[changed] = model.expected_at(changed)
        else:
            del expected  # before the new one is made: large images
            expected = model.expected()
        active = ndimage.maximum_filter(moves, 5, mode="constant")


def confidence_map(model: PhaseModel, costs: np.ndarray) -> np.ndarray:
    """Posterior probability of each pixel's phase against its best alternative, (y, x) in [0, 1].

    ``1 / (1 + exp(-c))``, where ``c`` is the cost (likelihood and Potts) of the cheapest move of
    the pixel to a neighbour's phase or to the cheapest other phase of the smoothed counts
    (``costs``), the rest of the map fixed: about 0.5 on a boundary that could lie a pixel either
    way, near 1 inside phases, below 0.5 on the few pixels where a move would pay but the
    iterations stopped before it. A pixel whose 8 neighbours all share its phase and whose counts
    favour it is not scored move by move: its ``c`` is taken as the Potts cost of leaving them,
    ``8 beta``, plus its margin in ``costs`` (a lower bound).
    """
    labels = model.labels
    shape = labels.shape
    alternatives = _best_two(costs, labels)
    margin = np.take_along_axis(costs, alternatives[..., None], -1)[..., 0] - np.take_along_axis(
        costs, labels[..., None], -1)[..., 0]
    settled = ~_boundary(labels) & (margin > 0)
    proposals = np.where(settled, labels, alternatives)
    pixels, _, change = _label_changes(model, model.expected(), proposals)
    lowest = (8.0 * model.beta + np.maximum(margin, 0)).ravel().astype(float)
    unsettled = np.flatnonzero(~settled.ravel())
    lowest[unsettled] = np.inf
    np.minimum.at(lowest, pixels, change)
    return 1.0 / (1.0 + np.exp(-np.clip(lowest, -50, 50))).reshape(shape)


def phase_distinctness(model: PhaseModel, costs: np.ndarray) -> np.ndarray:
    """For each phase, the median deviance of its pixels when it is replaced by the best other.

    Every pixel of phase b takes its cheapest other phase (``costs``), and the expected counts
    of the pixels of b are recomputed with the blur (only pixels of b moved); the deviance of
    each of b's pixels under that model (chi-square with one degree of freedom per mass if b is
    not needed) is taken at its median. The blur is summed over the window offsets of
    :func:`flip_costs`. Above ``chi2.ppf(1 - ALPHA, n_masses)``, most of b's
    pixels are not explained without b: b is a phase of its own. The median of a phase of more
    than :data:`DISTINCTNESS_PIXELS` pixels is taken over that many of them, evenly spaced in
    the order of the image's rows (its standard error then about 2 % of the deviances' spread).
    """
    labels, mu = model.labels, model.compositions.astype(np.float32)
    radius, padded_width, shifts = _window(model.beam_sigma_px, labels.shape[1])
    padded_labels = np.pad(labels, radius, constant_values=-1).ravel()
    padded_alternative = np.pad(_best_two(costs, labels), radius).ravel()
    flat = labels.ravel()
    order = np.argsort(flat, kind="stable")
    bounds = np.searchsorted(flat[order], np.arange(model.n_phases + 1))
    pixels = np.concatenate([order[a:b][:: -(-(b - a) // DISTINCTNESS_PIXELS)] if b > a else order[:0]
                             for a, b in zip(bounds[:-1], bounds[1:])])
    rows, cols = np.divmod(pixels, labels.shape[1])
    corner = rows * padded_width + cols  # the window's first pixel, in the padded image
    own = flat[pixels]
    shift = np.zeros((pixels.size, mu.shape[1]), dtype=np.float32)
    for offset, weight in shifts:
        at = corner + offset
        same = np.take(padded_labels, at) == own  # only pixels of the phase moved
        shift += (weight * same)[:, None] * (mu[np.take(padded_alternative, at)] - mu[own])
    shift *= model.ion_yield.ravel()[pixels, None].astype(np.float32)
    values = deviance(np.take(model.counts.reshape(flat.size, -1), pixels, axis=0),
                      model.expected_at(pixels) + shift, model.phi)
    counted = np.searchsorted(own, np.arange(model.n_phases + 1))  # own is sorted by phase
    return np.array([np.median(values[a:b]) if b > a else -np.inf for a, b in zip(counted[:-1], counted[1:])])


def _threshold(n_masses: int) -> float:
    return float(chi2.ppf(1.0 - ALPHA, n_masses))


def _nearest_centre(table: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The nearest centre of each row: ``|f - c|^2`` less ``|f|^2`` (the same for every centre), one matrix product."""
    return np.argmin((centres**2).sum(axis=1) - 2.0 * table @ centres.T, axis=-1)


def _start(counts: np.ndarray, n_start: int, random_state, masses=None) -> np.ndarray:
    """Starting labels: micro-clusters of the phase interiors (composition features), nearest centre."""
    features = preprocess(smooth_counts(counts, FIT_SMOOTHING_PX), "composition", masses=masses)
    n_pixels = counts.shape[0] * counts.shape[1]
    table = features.reshape(n_pixels, -1)
    core = np.flatnonzero(core_mask(features).ravel())
    rng = np.random.default_rng(random_state)
    if core.size > FIT_SAMPLE_SIZE:
        core = rng.choice(core, FIT_SAMPLE_SIZE, replace=False)
    n_start = min(n_start, np.unique(table[core], axis=0).shape[0])
    model = KMeans(n_start, n_init=START_KMEANS_INIT, random_state=random_state)
    with threadpool_limits(limits=1):
        fit_kmeans(model, table[core])
    centres = model.cluster_centers_
    # in blocks of rows, so that no (pixel x centre) table of the whole image is made
    return np.concatenate([_nearest_centre(features[block], centres) for block in _row_blocks(features)])


def _fit(model: PhaseModel, smoothed: np.ndarray, n_sweeps: int = 0) -> None:
    """Yield, compositions and dispersion, then labels (in place).

    The labels come from ``n_sweeps`` of :func:`relabel` (the blurred likelihood), or with
    ``n_sweeps=0`` from the proposal costs with the Potts clean-up (fast, for the phases to settle).
    """
    update_yield(model)
    update_compositions(model, 2 if n_sweeps else 1)
    costs = _pure_costs(model, smoothed)  # of the yield and the compositions alone
    if n_sweeps:
        proposals = _proposals(costs, model.labels, 4.0 * model.beta)
        del costs  # before the expected counts: large images
        expected = model.expected()
        update_dispersion(model, expected)
        relabel(model, proposals, n_sweeps, expected)
    else:
        update_dispersion(model, model.expected())
        model.labels = potts_sweeps(costs, costs.argmin(axis=-1), model.beta, n_sweeps=2)


def _drop(model: PhaseModel, phases, costs: np.ndarray) -> None:
    """Remove ``phases``: their pixels take their cheapest remaining phase."""
    keep = np.setdiff1d(np.arange(model.n_phases), phases)
    remaining = costs[..., keep]
    moved = np.isin(model.labels, phases)
    new = np.searchsorted(keep, model.labels)
    new[moved] = remaining[moved].argmin(axis=-1)
    model.labels, model.compositions = new, model.compositions[keep]


def _births(model: PhaseModel, smoothed: np.ndarray, random_state) -> None:
    """Add phases for the connected groups of pixels that no phase explains (at most MAX_BIRTHS).

    The unexplained pixels (deviance above the chi-square quantile) in groups of at least
    :data:`MIN_PHASE_PIXELS` are split by composition (KMeans on the log of their yield-corrected
    counts) into as many new phases as there are groups, up to :data:`MAX_BIRTHS`.
    """
    unexplained = deviance(model.counts, model.expected(), model.phi) > _threshold(model.counts.shape[2])
    groups, n_groups = ndimage.label(unexplained, np.ones((3, 3)))
    sizes = np.bincount(groups.ravel())
    sizes[0] = 0
    grouped = sizes[groups] >= MIN_PHASE_PIXELS
    n_new = min(MAX_BIRTHS, int(np.count_nonzero(sizes >= MIN_PHASE_PIXELS)))
    if n_new == 0:
        return
    pixels = model.counts[grouped] / model.ion_yield[grouped][:, None]
    kinds = np.zeros(pixels.shape[0], dtype=int)
    if n_new > 1 and np.unique(pixels, axis=0).shape[0] > n_new:
        with threadpool_limits(limits=1):
            kinds = KMeans(n_new, n_init=1, random_state=random_state).fit_predict(np.log1p(pixels))
    new = np.stack([pixels[kinds == kind].mean(axis=0) for kind in range(kinds.max() + 1)])
    labels = model.labels.copy()
    labels[grouped] = model.n_phases + kinds
    model.compositions = np.vstack([model.compositions, np.maximum(new, _FLOOR)])
    model.labels = labels
    _fit(model, smoothed)


def _independent_weakest(scores: np.ndarray, alternatives: np.ndarray, limit: float, n_drop: int) -> list[int]:
    """Up to ``n_drop`` phases to remove at once, weakest first: each below ``limit`` (the first
    one whatever its score) and none the usual replacement of another one removed with it."""
    chosen: list[int] = []
    for phase in np.argsort(scores):
        if len(chosen) == n_drop or (chosen and scores[phase] > limit):
            break
        if all(alternatives[phase] != other and alternatives[other] != phase for other in chosen):
            chosen.append(int(phase))
    return chosen


def _deaths(model: PhaseModel, smoothed: np.ndarray, n_clusters: int | None) -> None:
    """Remove the least distinct phases, down to ``n_clusters`` (None: while any is not distinct)."""
    limit = _threshold(model.counts.shape[2])
    costs = _pure_costs(model, smoothed)
    while model.n_phases > (n_clusters or 1):
        scores = phase_distinctness(model, costs)
        if n_clusters is None and scores.min() > limit:
            return
        alternatives = _main_alternatives(model.labels, _best_two(costs, model.labels), model.n_phases)
        n_drop = model.n_phases - n_clusters if n_clusters else model.n_phases - 1
        _drop(model, _independent_weakest(scores, alternatives, limit, n_drop), costs)
        update_compositions(model)
        costs = _pure_costs(model, smoothed)


def objective(model: PhaseModel) -> float:
    """What the fit minimises: the negative log-likelihood of the counts (negative binomial, without
    the terms in the counts alone) less ``beta`` per pair of neighbours (of 8) in the same phase."""
    nll = sum(float(negative_binomial_nll(model.counts[block], model.expected(block), model.phi).sum(dtype=float))
              for block in _row_blocks(model.counts))
    labels = model.labels
    agreeing = sum(int(np.count_nonzero(a == b)) for a, b in (
        (labels[1:], labels[:-1]), (labels[:, 1:], labels[:, :-1]),
        (labels[1:, 1:], labels[:-1, :-1]), (labels[1:, :-1], labels[:-1, 1:])))
    return nll - model.beta * agreeing


def _grow_small_phases(model: PhaseModel) -> None:
    """Grow each phase of small objects by a ring of pixels, with its composition, where that lowers
    :func:`objective` (in place).

    The rim pixels of a particle a few pixels across are mixtures under the beam; labelled as
    another phase, they leave the particle's composition to explain their counts from its core
    alone, and the composition comes out too bright for the particle as a whole. Each move of
    one pixel then costs (the core is over-explained), and iterated conditional modes cannot
    take the rim back: the particle stays eroded, the smallest particles are lost. The joint
    move (the ring and the composition refitted by :func:`update_compositions`) is taken only
    if it explains the image better; it is tried for the phases of which more than
    :data:`SMALL_PHASE_RIM_SHARE` of the pixels touch another phase.
    """
    labels = model.labels
    rim_share = np.bincount(labels.ravel(), weights=_boundary(labels).ravel(), minlength=model.n_phases) / np.maximum(
        np.bincount(labels.ravel(), minlength=model.n_phases), 1)
    for phase in np.flatnonzero(rim_share > SMALL_PHASE_RIM_SHARE):
        before, kept = objective(model), (model.labels, model.compositions)
        grown = model.labels.copy()
        grown[ndimage.binary_dilation(model.labels == phase, _CROSS)] = phase
        model.labels = grown
        update_compositions(model, 3)
        if objective(model) >= before:
            model.labels, model.compositions = kept


def _main_alternatives(labels: np.ndarray, alternative: np.ndarray, n_phases: int) -> np.ndarray:
    """For each phase, the phase its pixels would most often take instead."""
    table = np.zeros((n_phases, n_phases), dtype=np.int64)
    np.add.at(table, (labels.ravel(), alternative.ravel()), 1)
    return table.argmax(axis=1)


def fit_phases(counts, n_clusters: int | None, *, masses=None, random_state=0,
               refits: int = 2) -> tuple[PhaseModel, np.ndarray]:
    """Fit the model (module docstring) with ``n_clusters`` phases, or as many as are distinct.

    ``refits``: rounds of yield, compositions and labels (:data:`ICM_SWEEPS` each) once the
    phases are chosen; the second moves few pixels (the split-half check makes do with one).
    """
    values = check_features(counts, "counts", ndim=(3,))
    n_pixels = values.shape[0] * values.shape[1]
    if n_clusters is not None:
        n_clusters = check_n_clusters(n_clusters, n_pixels)
    n_start = max(MIN_START_PHASES, (n_clusters or 0) + EXTRA_START_PHASES)
    labels = _start(values, n_start, random_state, masses)
    n_start = int(labels.max()) + 1
    model = PhaseModel(values.astype(np.float32), labels, _mean_counts(values, labels, n_start),
                       np.ones(values.shape[:2]), beam_sigma_px=BEAM_SIGMA_PX)
    smoothed = smooth_counts(values, PROPOSAL_SMOOTHING_PX).astype(np.float32)
    _fit(model, smoothed)
    update_blur(model)
    _fit(model, smoothed, 2)  # mixed boundary pixels explained by the blur before births are sought
    _births(model, smoothed, random_state)
    _deaths(model, smoothed, n_clusters)
    update_blur(model, [sigma for sigma in BEAM_SIGMAS_PX if abs(sigma - model.beam_sigma_px) <= 0.5])
    _grow_small_phases(model)
    for _ in range(refits):
        _fit(model, smoothed, ICM_SWEEPS)
    while n_clusters is None:  # judged again on the labels of the blurred likelihood
        n_phases = model.n_phases
        _deaths(model, smoothed, None)
        if model.n_phases == n_phases:
            break
        _fit(model, smoothed, ICM_SWEEPS)
    update_compositions(model)
    return model, _pure_costs(model, smoothed)


def _phase_sums(flat: np.ndarray, table: np.ndarray, n_phases: int) -> np.ndarray:
    """Sum of the rows of ``table`` (pixel, mass) over each phase of ``flat``, (phase, mass)."""
    n_masses = table.shape[1]
    index = (flat[:, None] * n_masses + np.arange(n_masses)).ravel()
    return np.bincount(index, weights=table.ravel(), minlength=n_phases * n_masses).reshape(n_phases, n_masses)


def _mean_counts(counts: np.ndarray, labels: np.ndarray, n_phases: int) -> np.ndarray:
    flat = labels.ravel()
    sums = _phase_sums(flat, counts.reshape(flat.size, -1), n_phases)
    return np.maximum(sums / np.maximum(np.bincount(flat, minlength=n_phases), 1)[:, None], _FLOOR)


def poisson_map(counts, n_clusters, *, masses=None, random_state=0) -> ClusterResult:
    """Cluster the pixels of a count image with the counting-statistics model (module docstring).

    Parameters
    ----------
    counts : array_like, shape (y, x, mass)
        Ion counts, not preprocessed.
    n_clusters : int or None
        Number of phases, k >= 2; None keeps every phase the counts tell apart (:func:`count_phases`).
    masses : sequence of str, optional
        Channel names, used only in warnings.
    random_state : int
        Seed of the starting micro-clusters.

    Returns
    -------
    ClusterResult
        ``labels`` (cluster 0 the largest), ``centers`` (each phase's mean counts per pixel at
        the mean ion yield), ``features`` (the counts divided by the fitted ion yield) and
        ``confidence`` (posterior probability of each pixel's phase, :func:`confidence_map`).

    Raises
    ------
    NanoSIMSError
        If ``counts`` is not a finite 3-D array, is constant, or ``n_clusters`` is out of range.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> means = np.zeros((24, 24, 2))
    >>> means[:, :10], means[:, 10:] = [30.0, 2.0], [2.0, 40.0]
    >>> result = poisson_map(rng.poisson(means).astype(float), 2)
    >>> result.labels[0, [0, 5, 18, 23]].tolist(), bool(result.confidence[:, 2:7].min() > 0.99)
    ([1, 1, 0, 0], True)
    """
    model, costs = fit_phases(counts, n_clusters, masses=masses, random_state=random_state)
    confidence = confidence_map(model, costs)
    sizes = np.bincount(model.labels.ravel(), minlength=model.n_phases)
    rank = largest_first(sizes)
    features = model.counts / model.ion_yield[..., None]
    return ClusterResult(rank[model.labels], model.compositions[np.argsort(rank)], features,
                         confidence=confidence)


def count_phases(counts, *, random_state=0) -> int:
    """The number of phases the counts tell apart: the fit of :func:`poisson_map` with ``n_clusters=None``.

    Exact on 20 of 20 realistic images with and without a rare charcoal phase
    (``benchmarks/bench_counted_k.py``).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> means = np.zeros((32, 32, 2))
    >>> means[:, :16], means[:, 16:] = [30.0, 2.0], [2.0, 40.0]
    >>> means[10:14, 5:9] = [300.0, 2.0]            # a small bright particle
    >>> count_phases(rng.poisson(means).astype(float))
    3
    """
    return fit_phases(counts, None, random_state=random_state)[0].n_phases

"""Simulated NanoSIMS images of a resin-embedded soil, with the true phase of every pixel.

The simulator builds a map of phases (pores filled with embedding resin, organic matter,
aluminosilicate and iron oxide grains, optional 13C/15N-labelled organic hotspots), gives each
phase a typical composition, and then adds what makes real images hard to cluster:

* smooth variation of the mean counts within each phase (grain-to-grain composition and a
  topography / ion-yield field) and pixel-to-pixel lognormal variation, so intensities have
  heavy tails;
* a beam blur, so pixels on phase boundaries are mixtures;
* Poisson counting noise in every plane (the image is the sum of the planes), which leaves many
  zeros in the minor isotopes 13C and 12C15N;
* a few hot pixels: bursts of counts in one mass of one plane.

Isotopes follow natural ratios (13C/12C = 0.0112, 15N/14N = 0.00368) except in labelled
hotspots, whose 13C and 15N atom fractions equal ``enrichment``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..errors import NanoSIMSError
from ..image import NanoSIMSImage
from ..validation import check_whole_number

SOIL_MASSES = ("12C", "13C", "16O", "12C14N", "12C15N", "27Al16O", "56Fe16O")
PHASES = ("pore/resin", "organic matter", "aluminosilicate", "iron oxide", "labelled hotspot")

NATURAL_13C_RATIO = 0.0112  # 13C/12C of the VPDB standard
NATURAL_15N_RATIO = 0.00368  # 15N/14N of air
PIXEL_SIZE_UM = 0.1  # side of a simulated pixel: 256 pixels cover a 25.6 um raster

# Mean counts per pixel, summed over planes, at count_scale=1, of the masses that do not depend
# on labelling: 12C, 16O, 12C14N, 27Al16O, 56Fe16O. One row per phase, in the order of PHASES.
# 13C and 12C15N follow from 12C and 12C14N through the isotope ratios.
_MAJOR_MEANS = np.array(
    [
        [2500.0, 300.0, 15.0, 1.0, 0.5],  # resin: carbon-rich, almost no nitrogen
        [3000.0, 400.0, 1500.0, 5.0, 3.0],  # organic matter: C and CN
        [150.0, 3000.0, 30.0, 800.0, 40.0],  # aluminosilicate: O and AlO
        [100.0, 2000.0, 20.0, 40.0, 600.0],  # iron oxide: O and FeO
        [3000.0, 400.0, 2200.0, 5.0, 3.0],  # labelled microbial hotspot: N-richer organic matter
    ]
)
_MAJOR_COLUMNS = (0, 2, 3, 5, 6)  # where the columns above go in SOIL_MASSES
# Each mass varies with the composition field of its major isotope (a column above), so isotope
# ratios stay put: 13C follows 12C, 12C15N follows 12C14N.
_FIELD_OF_MASS = (0, 0, 1, 2, 2, 3, 4)

_RESIN, _ORGANIC, _ALUMINOSILICATE, _IRON_OXIDE, _HOTSPOT = range(len(PHASES))
# Phases laid down one after another as thresholded smooth noise: (phase, area fraction,
# smoothing in pixels). Pixels left over are aluminosilicate (about 37 %).
_LAYERS = ((_IRON_OXIDE, 0.15, 4.0), (_RESIN, 0.18, 7.0), (_ORGANIC, 0.30, 5.0))
_HOTSPOT_RADIUS_PX = (1.5, 4.0)

_TOPOGRAPHY_SIGMA, _TOPOGRAPHY_SMOOTHING_PX = 0.2, 40.0
_COMPOSITION_SIGMA, _COMPOSITION_SMOOTHING_PX = 0.3, 3.0
_PIXEL_SIGMA = 0.25
_BEAM_SIGMA_PX = 0.5
_HOT_PIXEL_FRACTION = 2e-4
_HOT_PIXEL_BURST = (1.0, 5.0)  # burst size, in units of the brightest mean count of the mass


def simulate_soil_image(
    shape=(256, 256),
    *,
    n_planes: int = 4,
    count_scale: float = 1.0,
    n_hotspots: int = 0,
    enrichment: float = 0.05,
    random_state=0,
    return_expected: bool = False,
):
    """Simulate a NanoSIMS image of soil and return it with the true phase of each pixel.

    Parameters
    ----------
    shape : tuple of int
        (y, x) size in pixels, each at least 16.
    n_planes : int
        Number of planes (scans) summed into the image; each has its own counting noise.
    count_scale : float
        Factor on all mean counts. At 1, organic matter has about 3000 12C and 1500 12C14N
        counts per pixel; lower values mean fewer counts and noisier images.
    n_hotspots : int
        Number of small 13C/15N-labelled blobs placed inside organic matter.
    enrichment : float
        Atom fraction of 13C and of 15N in the hotspots, between 0 and 1 (natural: about
        0.011 and 0.0037).
    random_state : int or numpy.random.Generator
        Seed; the same seed gives the same image.
    return_expected : bool
        Also return the noise-free expected counts. The image and truth are the same with or
        without it (the same random draws).

    Returns
    -------
    image : NanoSIMSImage
        Counts (y, x, mass) for the masses in ``SOIL_MASSES``, pixel size ``PIXEL_SIZE_UM``.
    truth : ndarray of int, shape (y, x)
        Index into ``PHASES`` of every pixel.
    expected : ndarray of float, shape (y, x, mass)
        Only with ``return_expected``: the mean of the Poisson draws of every pixel and mass,
        summed over planes, after the composition, ion-yield and beam-blur steps and before the
        counting noise and the hot pixels. The true isotope ratio of a group of pixels is the
        ratio of their summed expected counts (so the blur at a hotspot's edge is part of it).

    Raises
    ------
    NanoSIMSError
        If an argument is out of range.

    Examples
    --------
    >>> image, truth = simulate_soil_image((32, 32), random_state=1)
    >>> image.shape, image.masses[:3], truth.shape
    ((32, 32, 7), ('12C', '13C', '16O'), (32, 32))
    >>> same, _, expected = simulate_soil_image((32, 32), random_state=1, return_expected=True)
    >>> bool((same.counts == image.counts).all()), expected.shape
    (True, (32, 32, 7))
    """
    shape = _check_shape(shape)
    _check_arguments(n_planes, count_scale, n_hotspots, enrichment)
    rng = np.random.default_rng(random_state)
    truth = _phase_map(shape, rng)
    _add_hotspots(truth, n_hotspots, rng)
    means = count_scale * _mean_counts(truth, enrichment, rng)
    counts = _count_planes(means, n_planes, rng)
    _add_hot_pixels(counts, means, rng)
    image = NanoSIMSImage(counts.astype(float), SOIL_MASSES, pixel_size_um=PIXEL_SIZE_UM)
    return (image, truth, means) if return_expected else (image, truth)


def _check_shape(shape) -> tuple[int, int]:
    try:
        ny, nx = (int(n) for n in shape)
    except (TypeError, ValueError) as exc:
        raise NanoSIMSError(f"shape: expected (y, x), two whole numbers, got {shape!r}.") from exc
    if min(ny, nx) < 16:
        raise NanoSIMSError(f"shape={shape!r}: the image must be at least 16 x 16 pixels.")
    return ny, nx


def _check_arguments(n_planes, count_scale, n_hotspots, enrichment) -> None:
    check_whole_number(n_planes, "n_planes", minimum=1)
    if not _is_real(count_scale) or not 0 < count_scale < np.inf:
        raise NanoSIMSError(f"count_scale={count_scale!r}: give a positive factor, e.g. 0.25 or 1.")
    check_whole_number(n_hotspots, "n_hotspots", minimum=0)
    if not _is_real(enrichment) or not 0 < enrichment < 1:
        raise NanoSIMSError(
            f"enrichment={enrichment!r}: give the atom fraction of 13C and 15N in the hotspots, "
            "between 0 and 1 (e.g. 0.05 for 5 atom %)."
        )


def _is_real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _smooth_noise(shape, smoothing_px: float, rng) -> np.ndarray:
    """Gaussian-filtered white noise rescaled to mean 0 and standard deviation 1.

    Filtered in Fourier space (so the field wraps around the edges): fast for wide filters.
    """
    spectrum = ndimage.fourier_gaussian(np.fft.rfft2(rng.standard_normal(shape)), smoothing_px, n=shape[1])
    field = np.fft.irfft2(spectrum, s=shape)
    return (field - field.mean()) / field.std()


def _phase_map(shape, rng, layers=_LAYERS, background: int = _ALUMINOSILICATE) -> np.ndarray:
    """Lay down ``layers`` of (phase, area fraction, smoothing) one after another on ``background``."""
    truth = np.full(shape, background, dtype=np.intp)
    free = np.ones(shape, dtype=bool)
    for phase, fraction, smoothing_px in layers:
        field = _smooth_noise(shape, smoothing_px, rng)
        share_of_free = fraction * truth.size / free.sum()
        threshold = np.quantile(field[free], 1.0 - share_of_free)
        chosen = free & (field > threshold)
        truth[chosen] = phase
        free &= ~chosen
    return truth


def _add_hotspots(truth: np.ndarray, n_hotspots: int, rng) -> None:
    """Turn ``n_hotspots`` small disks of organic matter into labelled hotspots (in place)."""
    organic = np.flatnonzero(truth == _ORGANIC)
    centres = rng.choice(organic, size=min(n_hotspots, organic.size), replace=False)
    radii = rng.uniform(*_HOTSPOT_RADIUS_PX, size=centres.size)
    yy, xx = np.ogrid[: truth.shape[0], : truth.shape[1]]
    is_organic = truth == _ORGANIC
    for (cy, cx), radius in zip(zip(*np.unravel_index(centres, truth.shape)), radii):
        disk = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2
        truth[disk & is_organic] = _HOTSPOT


def _isotope_ratio(atom_fraction: float) -> float:
    return atom_fraction / (1.0 - atom_fraction)


def _phase_means(enrichment: float, major_means=_MAJOR_MEANS, labelled: int = _HOTSPOT) -> np.ndarray:
    """Mean counts (phase, mass of ``SOIL_MASSES``) from the ``major_means`` of ``_MAJOR_COLUMNS``.

    13C and 12C15N follow from 12C and 12C14N at natural ratios, except in phase ``labelled``,
    whose 13C and 15N atom fractions are ``enrichment``.
    """
    n_phases = major_means.shape[0]
    table = np.zeros((n_phases, len(SOIL_MASSES)))
    table[:, _MAJOR_COLUMNS] = major_means
    ratio_13c = np.full(n_phases, NATURAL_13C_RATIO)
    ratio_15n = np.full(n_phases, NATURAL_15N_RATIO)
    ratio_13c[labelled] = ratio_15n[labelled] = _isotope_ratio(enrichment)
    table[:, 1] = ratio_13c * table[:, 0]
    table[:, 4] = ratio_15n * table[:, 3]
    return table


def _lognormal(values: np.ndarray, sigma: float) -> np.ndarray:
    """exp(sigma * values) scaled to mean 1 for standard normal values."""
    return np.exp(sigma * values - sigma**2 / 2)


def _mean_counts(truth: np.ndarray, enrichment: float, rng) -> np.ndarray:
    """Mean counts (y, x, mass) summed over planes, with within-phase variation and beam blur."""
    shape = truth.shape
    means = _phase_means(enrichment)[truth]
    composition = np.stack(
        [_smooth_noise(shape, _COMPOSITION_SMOOTHING_PX, rng) for _ in _MAJOR_COLUMNS], axis=-1
    )
    means *= _lognormal(composition, _COMPOSITION_SIGMA)[:, :, _FIELD_OF_MASS]
    ion_yield = _lognormal(_smooth_noise(shape, _TOPOGRAPHY_SMOOTHING_PX, rng), _TOPOGRAPHY_SIGMA)
    ion_yield *= _lognormal(rng.standard_normal(shape), _PIXEL_SIGMA)
    means *= ion_yield[:, :, None]
    return ndimage.gaussian_filter(means, (_BEAM_SIGMA_PX, _BEAM_SIGMA_PX, 0))


def _count_planes(means: np.ndarray, n_planes: int, rng) -> np.ndarray:
    """Sum of ``n_planes`` Poisson draws, each with mean ``means / n_planes``."""
    counts = np.zeros(means.shape, dtype=np.int64)
    for _ in range(n_planes):
        counts += rng.poisson(means / n_planes)
    return counts


def _add_hot_pixels(counts: np.ndarray, means: np.ndarray, rng) -> None:
    """Add bursts of counts to a few pixels, each in one mass of one plane (in place)."""
    ny, nx, n_masses = counts.shape
    n_hot = max(3, round(_HOT_PIXEL_FRACTION * ny * nx))
    ys, xs = rng.integers(ny, size=n_hot), rng.integers(nx, size=n_hot)
    masses = rng.integers(n_masses, size=n_hot)
    brightest = means.max(axis=(0, 1))[masses]
    counts[ys, xs, masses] += rng.poisson(rng.uniform(*_HOT_PIXEL_BURST, size=n_hot) * brightest)

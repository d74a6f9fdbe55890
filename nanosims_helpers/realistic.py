"""Realistic simulated NanoSIMS images of soil: what makes real images hard to cluster.

:func:`nanosims_helpers.synthetic.simulate_soil_image` makes images whose phases separate well.
:func:`simulate_realistic_image` adds what real measurements have and the clustering must survive:

* a strong multiplicative ion-yield field: a ramp of a factor 3 to 4 from one corner of the field
  to the other, times a slower wobble (all masses of a pixel scale together);
* a beam blur (Gaussian point spread, sigma 1 pixel), so every phase boundary has mixed pixels;
* low counts: about 200-350 12C counts per pixel in the carbon-rich phases summed over the 6
  planes, single digits of 13C, and well under one 12C15N count outside the labelled cells;
* two organic phases that differ mainly in their N/C ratio (plant debris and microbial organic
  matter, a factor of about 3.5 in 12C14N/12C);
* small 13C/15N-labelled cells (disks of radius 2-4 pixels, about 1 % of the pixels) at several
  atom % 13C and 15N, the target of a stable-isotope-probing study;
* Poisson counting noise in each of 6 planes, kept separately, and hot pixels (bursts of counts
  in one mass of one plane).

Besides the image and the true phase of every pixel it returns the noise-free expected counts,
so the true isotope ratio of any region is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .errors import NanoSIMSError
from .io.image import NanoSIMSImage
from .synthetic import (
    _FIELD_OF_MASS,
    _MAJOR_COLUMNS,
    PIXEL_SIZE_UM,
    SOIL_MASSES,
    _add_hot_pixels,
    _check_arguments,
    _check_shape,
    _lognormal,
    _phase_map,
    _phase_means,
    _smooth_noise,
)

__all__ = ["REALISTIC_MASSES", "REALISTIC_PHASES", "RealisticSample", "simulate_realistic_image"]

REALISTIC_MASSES = SOIL_MASSES
REALISTIC_PHASES = (
    "pore/resin",
    "plant debris",
    "microbial organic matter",
    "clay",
    "iron oxide",
    "labelled cells",
)
_RESIN, _PLANT, _MICROBIAL, _CLAY, _IRON_OXIDE, _CELLS = range(len(REALISTIC_PHASES))

# Mean counts per pixel summed over planes, at ion yield 1, of 12C, 16O, 12C14N, 27Al16O, 56Fe16O
# (the columns ``_MAJOR_COLUMNS`` of SOIL_MASSES), one row per phase. The two organic phases differ
# mainly in 12C14N/12C (0.09 against 0.33); the cells are microbial matter, labelled.
_MAJOR_MEANS = np.array(
    [
        [260.0, 30.0, 4.0, 0.3, 0.2],  # resin: carbon, almost no nitrogen or oxygen
        [330.0, 70.0, 30.0, 1.5, 0.8],  # plant debris: C-rich, N-poor
        [300.0, 80.0, 100.0, 1.5, 0.8],  # microbial organic matter: N-rich
        [25.0, 350.0, 4.0, 110.0, 6.0],  # clay: O and AlO
        [15.0, 260.0, 3.0, 6.0, 90.0],  # iron oxide: O and FeO
        [300.0, 80.0, 110.0, 1.5, 0.8],  # labelled cells: microbial, enriched in 13C and 15N
    ]
)
# (phase, area fraction, smoothing in pixels), laid one after another; the rest (about 36 %) is clay.
_LAYERS = ((_IRON_OXIDE, 0.12, 6.0), (_RESIN, 0.22, 12.0), (_PLANT, 0.14, 8.0), (_MICROBIAL, 0.16, 6.0))
_CELL_RADIUS_PX = (2.0, 4.0)
_CELL_FRACTION = 0.01

_YIELD_RAMP = (3.0, 4.0)  # factor of the ion yield from one corner of the field to the other
_WOBBLE_SIGMA, _WOBBLE_SMOOTHING_PX = 0.15, 30.0
_COMPOSITION_SIGMA, _COMPOSITION_SMOOTHING_PX = 0.12, 3.0
_BEAM_SIGMA_PX = 1.0


@dataclass(frozen=True)
class RealisticSample:
    """A simulated image with everything the simulator knows about it.

    Attributes
    ----------
    image : NanoSIMSImage
        Counts (y, x, mass) summed over planes, and the planes (plane, y, x, mass).
    truth : ndarray of int, shape (y, x)
        Index into ``phase_names`` of every pixel.
    expected : ndarray of float, shape (y, x, mass)
        Noise-free expected counts summed over planes (ion yield and beam blur included, hot
        pixels not): the true isotope ratio of a region is the ratio of its summed expected counts.
    phase_names : tuple of str
        Name of each phase index of ``truth``.
    """

    image: NanoSIMSImage
    truth: np.ndarray
    expected: np.ndarray
    phase_names: tuple[str, ...] = REALISTIC_PHASES


def simulate_realistic_image(
    shape=(256, 256), *, n_planes: int = 6, count_scale: float = 1.0, enrichment: float = 0.08, random_state=0
) -> RealisticSample:
    """Simulate a realistic NanoSIMS image of soil with labelled cells (see the module docstring).

    Parameters
    ----------
    shape : tuple of int
        (y, x) size in pixels, each at least 16.
    n_planes : int
        Number of planes; each has its own counting noise, and all are kept.
    count_scale : float
        Factor on all mean counts (1: about 200-350 12C counts per pixel in the carbon phases).
    enrichment : float
        Atom fraction of 13C and of 15N in the labelled cells, between 0 and 1 (natural: about
        0.011 and 0.0037).
    random_state : int or numpy.random.Generator
        Seed; the same seed gives the same sample.

    Returns
    -------
    RealisticSample
        ``image`` (with ``planes``), ``truth``, ``expected`` and ``phase_names``.

    Raises
    ------
    NanoSIMSError
        If an argument is out of range.

    Examples
    --------
    >>> sample = simulate_realistic_image((64, 64), random_state=1)
    >>> sample.image.planes.shape, sample.truth.shape, sample.expected.shape
    ((6, 64, 64, 7), (64, 64), (64, 64, 7))
    >>> sample.phase_names[sample.truth.max()]
    'labelled cells'
    """
    shape = _check_shape(shape)
    _check_arguments(n_planes, count_scale, 0, enrichment)
    rng = np.random.default_rng(random_state)
    truth = _phase_map(shape, rng, _LAYERS, _CLAY)
    _add_cells(truth, rng)
    expected = count_scale * _expected_counts(truth, enrichment, rng)
    planes = rng.poisson(expected / n_planes, size=(n_planes, *expected.shape))
    _add_hot_pixels(planes.reshape(-1, *planes.shape[2:]), expected / n_planes, rng)
    image = NanoSIMSImage.from_planes(planes.astype(float), REALISTIC_MASSES, pixel_size_um=PIXEL_SIZE_UM)
    return RealisticSample(image, truth, expected)


def _add_cells(truth: np.ndarray, rng) -> None:
    """Paint disks of labelled cells centred in organic matter until they cover ``_CELL_FRACTION`` (in place)."""
    organic = np.flatnonzero((truth == _PLANT) | (truth == _MICROBIAL))
    if organic.size == 0:
        raise NanoSIMSError("shape: the image is too small to hold organic matter and cells; use at least 32 x 32.")
    yy, xx = np.ogrid[: truth.shape[0], : truth.shape[1]]
    target = _CELL_FRACTION * truth.size
    while np.count_nonzero(truth == _CELLS) < target:
        cy, cx = np.unravel_index(rng.choice(organic), truth.shape)
        radius = rng.uniform(*_CELL_RADIUS_PX)
        truth[(yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2] = _CELLS


def _yield_field(shape, rng) -> np.ndarray:
    """Ion yield (y, x), mean about 1: a ramp of a factor 3-4 corner to corner, times a slow wobble."""
    angle = rng.uniform(0.0, 2.0 * np.pi)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    ramp = np.cos(angle) * yy / shape[0] + np.sin(angle) * xx / shape[1]
    ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min()) - 0.5  # -0.5 .. 0.5 across the field
    field = np.exp(np.log(rng.uniform(*_YIELD_RAMP)) * ramp)
    return field * _lognormal(_smooth_noise(shape, _WOBBLE_SMOOTHING_PX, rng), _WOBBLE_SIGMA)


def _expected_counts(truth: np.ndarray, enrichment: float, rng) -> np.ndarray:
    """Expected counts (y, x, mass) summed over planes: phase means, composition, ion yield, blur."""
    means = _phase_means(enrichment, _MAJOR_MEANS, _CELLS)[truth]
    composition = np.stack(
        [_smooth_noise(truth.shape, _COMPOSITION_SMOOTHING_PX, rng) for _ in _MAJOR_COLUMNS], axis=-1
    )
    means *= _lognormal(composition, _COMPOSITION_SIGMA)[:, :, _FIELD_OF_MASS]
    means *= _yield_field(truth.shape, rng)[:, :, None]
    return ndimage.gaussian_filter(means, (_BEAM_SIGMA_PX, _BEAM_SIGMA_PX, 0))


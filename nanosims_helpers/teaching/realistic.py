"""Realistic simulated NanoSIMS images of soil: what makes real images hard to cluster.

:func:`nanosims_helpers.teaching.synthetic.simulate_soil_image` makes images whose phases separate well.
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
  in one mass of one plane);
* optionally (:attr:`RealisticSettings.rare_fraction`), a rare phase: small, bright charcoal
  particles (carbon-rich, almost no N or O), a few pixels in radius, under 1 % of the image.

:class:`RealisticSettings` holds what varies from one measurement to the next (compositions, cells,
ion-yield ramp, blur, the rare phase); its defaults make the kit's sample ``realistic_256``.

Besides the image and the true phase of every pixel it returns the noise-free expected counts,
so the true isotope ratio of any region is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..errors import NanoSIMSError
from ..image import NanoSIMSImage
from ..validation import check_non_negative
from .synthetic import (
    _FIELD_OF_MASS,
    _MAJOR_COLUMNS,
    PIXEL_SIZE_UM,
    SOIL_MASSES,
    _add_hot_pixels,
    _check_arguments,
    _check_shape,
    _isotope_ratio,
    _lognormal,
    _phase_map,
    _phase_means,
    _smooth_noise,
)

__all__ = [
    "RARE_PHASE", "REALISTIC_MASSES", "REALISTIC_PHASES", "RealisticSample", "RealisticSettings",
    "simulate_realistic_image",
]

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
#: Name of the optional rare phase (:attr:`RealisticSettings.rare_fraction`), after the others.
RARE_PHASE = "charcoal"
# Charcoal: carbon-rich and bright (pyrogenic carbon), almost no N or O; at ion yield 1.
_RARE_MEANS = (700.0, 25.0, 2.0, 0.3, 0.2)


@dataclass(frozen=True)
class RealisticSettings:
    """What :func:`simulate_realistic_image` varies; the defaults make the kit's sample ``realistic_256``.

    Attributes
    ----------
    major_means : tuple of tuple of float
        Mean counts per pixel summed over planes, at ion yield 1, of 12C, 16O, 12C14N, 27Al16O and
        56Fe16O, one row per phase of :data:`REALISTIC_PHASES` (13C and 12C15N follow from the
        isotope ratios).
    layers : tuple of (int, float, float)
        (phase, area fraction, smoothing in pixels), laid one after another; the rest is clay.
    cell_fraction : float
        Share of the pixels covered by labelled cells, 0 to 0.2 (0: no cells).
    cell_radius_px : (float, float)
        Range of the cells' radii in pixels.
    yield_ramp : (float, float)
        Range of the ion-yield factor from one corner of the field to the other (1: no ramp).
    wobble_sigma : float
        Log-standard deviation of the slow ion-yield wobble.
    composition_sigma : float
        Log-standard deviation of the grain-to-grain composition variation within a phase.
    beam_sigma_px : float
        Standard deviation of the beam's Gaussian point spread in pixels (0: no blur).
    rare_fraction : float
        Share of the pixels covered by small :data:`RARE_PHASE` particles, 0 to 0.05 (0: none;
        the phase is then not among the sample's ``phase_names``).
    rare_radius_px : (float, float)
        Range of the particles' radii in pixels.
    rare_means : tuple of float
        The particles' mean counts, as a row of ``major_means``.
    cell_13c : (float, float) or None
        Range of the 13C atom fraction of the labelled cells, drawn per cell (a connected patch
        of the phase); None: every cell at the simulator's ``enrichment``.
    cell_15n : (float, float) or None
        The same for 15N; ``(0.0037, 0.0037)`` leaves the cells' nitrogen natural (a 13C-only
        label, as with 13C-glucose).
    yield_tilt : float
        Mass-dependent ion yield (differential charging, matrix effects): across the field, along
        a second direction, the yield of each element's ions (C, O, CN, AlO, FeO) changes by its
        own factor, drawn between ``1 / yield_tilt`` and ``yield_tilt`` (1: none), so the phases'
        compositions drift across the field. Isotope ratios are not changed.

    Examples
    --------
    >>> RealisticSettings().beam_sigma_px
    1.0
    >>> RealisticSettings(rare_fraction=0.005).phase_names[-1]
    'charcoal'
    """

    major_means: tuple = tuple(tuple(row) for row in _MAJOR_MEANS.tolist())
    layers: tuple = _LAYERS
    cell_fraction: float = 0.01
    cell_radius_px: tuple = (2.0, 4.0)
    yield_ramp: tuple = (3.0, 4.0)
    wobble_sigma: float = 0.15
    composition_sigma: float = 0.12
    beam_sigma_px: float = 1.0
    rare_fraction: float = 0.0
    rare_radius_px: tuple = (1.5, 3.5)
    rare_means: tuple = _RARE_MEANS
    cell_13c: tuple | None = None
    cell_15n: tuple | None = None
    yield_tilt: float = 1.0

    def __post_init__(self):
        means = np.asarray(self.major_means, dtype=float)
        if means.shape != _MAJOR_MEANS.shape or not np.all(np.isfinite(means)) or means.min() < 0:
            raise NanoSIMSError(
                f"major_means: give {_MAJOR_MEANS.shape[0]} rows (one per phase of REALISTIC_PHASES) of "
                f"{_MAJOR_MEANS.shape[1]} mean counts, 0 or more."
            )
        for name, upper in (("cell_fraction", 0.2), ("rare_fraction", 0.05)):
            value = getattr(self, name)
            if not 0 <= value <= upper:
                raise NanoSIMSError(f"{name}={value!r}: give a share of the pixels between 0 and {upper}.")
        for name in ("cell_radius_px", "rare_radius_px", "yield_ramp"):
            low, high = getattr(self, name)
            if not 0 < low <= high < np.inf:
                raise NanoSIMSError(f"{name}={getattr(self, name)!r}: give a range (low, high) with 0 < low <= high.")
        for name in ("cell_13c", "cell_15n"):
            value = getattr(self, name)
            if value is not None and not (len(value) == 2 and 0 <= value[0] <= value[1] <= 1):
                raise NanoSIMSError(f"{name}={value!r}: give a range (low, high) of atom fractions in 0..1, or None.")
        if not 1 <= self.yield_tilt < np.inf:
            raise NanoSIMSError(f"yield_tilt={self.yield_tilt!r}: give a factor of 1 (no tilt) or more.")
        for name in ("wobble_sigma", "composition_sigma", "beam_sigma_px"):
            check_non_negative(getattr(self, name), name)

    @property
    def phase_names(self) -> tuple[str, ...]:
        """The names of the phases a sample made with these settings holds, in truth-map order."""
        return REALISTIC_PHASES + ((RARE_PHASE,) if self.rare_fraction > 0 else ())

    def means(self) -> np.ndarray:
        """Major-mass means (phase, 5) of every phase in :attr:`phase_names`."""
        rows = list(self.major_means) + ([self.rare_means] if self.rare_fraction > 0 else [])
        return np.array(rows, dtype=float)


_WOBBLE_SMOOTHING_PX = 30.0
_COMPOSITION_SMOOTHING_PX = 3.0


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
    cells : ndarray of int, shape (y, x)
        The labelled cells one by one: cell 1..n of every pixel of the phase "labelled cells"
        (connected patches, corners touching), 0 elsewhere.
    """

    image: NanoSIMSImage
    truth: np.ndarray
    expected: np.ndarray
    phase_names: tuple[str, ...] = REALISTIC_PHASES
    cells: np.ndarray | None = None


def simulate_realistic_image(
    shape=(256, 256), *, n_planes: int = 6, count_scale: float = 1.0, enrichment: float = 0.08,
    settings: RealisticSettings | None = None, random_state=0,
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
    settings : RealisticSettings, optional
        Compositions, cells, ion yield, blur and an optional rare phase; by default those of the
        sample ``realistic_256``.
    random_state : int or numpy.random.Generator
        Seed; the same seed gives the same sample.

    Returns
    -------
    RealisticSample
        ``image`` (with ``planes``), ``truth``, ``expected``, ``phase_names`` and ``cells``.

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
    if settings is None:
        settings = RealisticSettings()
    elif not isinstance(settings, RealisticSettings):
        raise NanoSIMSError(f"settings={settings!r}: give a RealisticSettings, or None for the defaults.")
    rng = np.random.default_rng(random_state)
    truth = _phase_map(shape, rng, settings.layers, _CLAY)
    _add_disks(truth, rng, _CELLS, settings.cell_fraction, settings.cell_radius_px, inside=(_PLANT, _MICROBIAL))
    if settings.rare_fraction > 0:
        _add_disks(truth, rng, len(REALISTIC_PHASES), settings.rare_fraction, settings.rare_radius_px)
    cells = ndimage.label(truth == _CELLS, structure=np.ones((3, 3)))[0]
    expected = count_scale * _expected_counts(truth, cells, enrichment, settings, rng)
    planes = rng.poisson(expected / n_planes, size=(n_planes, *expected.shape))
    _add_hot_pixels(planes.reshape(-1, *planes.shape[2:]), expected / n_planes, rng)
    image = NanoSIMSImage.from_planes(planes.astype(float), REALISTIC_MASSES, pixel_size_um=PIXEL_SIZE_UM)
    return RealisticSample(image, truth, expected, settings.phase_names, cells)


def _add_disks(truth: np.ndarray, rng, phase: int, fraction: float, radius_px, inside=None) -> None:
    """Paint disks of ``phase`` until they cover ``fraction`` of the pixels (in place).

    Each disk is centred on a pixel of the phases ``inside`` (any pixel not yet of ``phase`` if
    None) and covers whatever lies under it.
    """
    if fraction <= 0:
        return
    allowed = np.isin(truth, inside) if inside is not None else truth != phase
    centres = np.flatnonzero(allowed)
    if centres.size == 0:
        raise NanoSIMSError("shape: the image is too small to hold organic matter and cells; use at least 32 x 32.")
    yy, xx = np.ogrid[: truth.shape[0], : truth.shape[1]]
    target = fraction * truth.size
    while np.count_nonzero(truth == phase) < target:
        cy, cx = np.unravel_index(rng.choice(centres), truth.shape)
        radius = rng.uniform(*radius_px)
        truth[(yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2] = phase


def _ramp(shape, rng) -> np.ndarray:
    """A linear ramp (y, x) from -0.5 to 0.5 across the field, in a random direction."""
    angle = rng.uniform(0.0, 2.0 * np.pi)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    ramp = np.cos(angle) * yy / shape[0] + np.sin(angle) * xx / shape[1]
    return (ramp - ramp.min()) / (ramp.max() - ramp.min()) - 0.5


def _yield_field(shape, settings: RealisticSettings, rng) -> np.ndarray:
    """Ion yield (y, x), mean about 1: a ramp corner to corner (``settings.yield_ramp``), times a slow wobble."""
    ramp = _ramp(shape, rng)
    field = np.exp(np.log(rng.uniform(*settings.yield_ramp)) * ramp)
    return field * _lognormal(_smooth_noise(shape, _WOBBLE_SMOOTHING_PX, rng), settings.wobble_sigma)


def _tilt_fields(shape, tilt: float, rng) -> np.ndarray:
    """Yield of each element's ions (y, x, major column): its own factor of 1/tilt..tilt across the field."""
    ramp = _ramp(shape, rng)
    exponents = rng.uniform(-1.0, 1.0, size=len(_MAJOR_COLUMNS)) * np.log(tilt)
    return np.exp(ramp[:, :, None] * exponents)


def _label_cells(means: np.ndarray, cells: np.ndarray, enrichment: float, settings: RealisticSettings, rng) -> None:
    """Give each labelled cell its own 13C and 15N atom fractions (``settings.cell_13c``, ``cell_15n``), in place."""
    n_cells = int(cells.max())
    inside = cells > 0
    for minor, major, atom_range in ((1, 0, settings.cell_13c), (4, 3, settings.cell_15n)):
        fractions = np.full(n_cells, enrichment) if atom_range is None else rng.uniform(*atom_range, size=n_cells)
        means[inside, minor] = _isotope_ratio(fractions)[cells[inside] - 1] * means[inside, major]


def _expected_counts(truth: np.ndarray, cells: np.ndarray, enrichment: float, settings: RealisticSettings,
                     rng) -> np.ndarray:
    """Expected counts (y, x, mass) summed over planes: phase means, composition, ion yield, blur."""
    means = _phase_means(enrichment, settings.means(), _CELLS)[truth]
    composition = np.stack(
        [_smooth_noise(truth.shape, _COMPOSITION_SMOOTHING_PX, rng) for _ in _MAJOR_COLUMNS], axis=-1
    )
    means *= _lognormal(composition, settings.composition_sigma)[:, :, _FIELD_OF_MASS]
    means *= _yield_field(truth.shape, settings, rng)[:, :, None]
    if settings.yield_tilt > 1:
        means *= _tilt_fields(truth.shape, settings.yield_tilt, rng)[:, :, _FIELD_OF_MASS]
    if settings.cell_13c is not None or settings.cell_15n is not None:
        _label_cells(means, cells, enrichment, settings, rng)
    sigma = settings.beam_sigma_px
    return ndimage.gaussian_filter(means, (sigma, sigma, 0)) if sigma > 0 else means


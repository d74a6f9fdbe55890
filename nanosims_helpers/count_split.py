"""Splitting the counts of an image in two independent halves, and label maps that remember the split.

Ion counts are Poisson, so one measurement can be split into two independent measurements of the
same field, each with about half the counts (:func:`split_counts`):

* an image with two or more planes: half A is the sum of the even planes (1st, 3rd, ...), half B
  the sum of the odd planes (2nd, 4th, ...); with an odd number of planes the last plane is
  shared out by binomial thinning, so both halves get the same expected counts;
* an image with one plane: binomial thinning of every count, each ion going to half A or half B
  with probability 1/2. Only whole, raw counts can be thinned: load the file without the
  dead-time correction.

Two uses: choosing k by clustering each half apart (:mod:`nanosims_helpers.split_half`), and
keeping tests honest (:func:`hold_out_counts`): groups found on one half of the counts
(clusters, regions) are tested on the other half, which the search never saw, so each half is an
independent Poisson measurement and the test is valid whatever the search looked at (count
splitting or data fission: Neufeld et al. 2024, Biostatistics 25, 270-287; Leiner et al. 2023,
JASA 120, 318-331). A :class:`CountSplit` holds both halves and says how they were made; label
maps the kit finds on a split remember it (:func:`split_of`), so
:func:`~nanosims_helpers.isotopes.isotope_table` tests them on the right counts.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from .errors import NanoSIMSError
from .image import NanoSIMSImage, check_image

__all__ = [
    "MAKE_AN_IMAGE", "MIN_COUNTS_PER_PIXEL", "MIN_SPLIT_PIXELS", "CountSplit", "check_splittable", "hold_out_counts",
    "remember_split", "split_counts", "split_of", "with_split",
]

#: Fewest pixels an image needs to be split and clustered (16 x 16).
MIN_SPLIT_PIXELS = 256
#: Fewest counts per pixel, on average over the image and summed over the masses, for a split:
#: each half then holds at least one count per pixel on average.
MIN_COUNTS_PER_PIXEL = 2.0

#: How to make an image :func:`split_counts` can split, for the error a wrong argument gets.
MAKE_AN_IMAGE = "load one with load_image(path, keep_planes=True), or build one with NanoSIMSImage.from_planes"


def check_splittable(image) -> NanoSIMSImage:
    """``image`` if it is a NanoSIMSImage large and bright enough to split, else a NanoSIMSError saying why."""
    check_image(image, MAKE_AN_IMAGE)
    n_pixels = image.shape[0] * image.shape[1]
    if n_pixels < MIN_SPLIT_PIXELS:
        raise NanoSIMSError(
            f"{image.name}: {image.shape[0]} x {image.shape[1]} pixels are too few to split in two and cluster; "
            f"a split-half check needs at least {MIN_SPLIT_PIXELS} pixels (16 x 16)."
        )
    per_pixel = float(image.counts.sum()) / n_pixels
    if per_pixel < MIN_COUNTS_PER_PIXEL:
        raise NanoSIMSError(
            f"{image.name}: {per_pixel:.2g} counts per pixel on average (all masses together) are too few to "
            f"split in two; a split-half check needs at least {MIN_COUNTS_PER_PIXEL:g}. Bin the pixels "
            "(a coarser raster) or sum more planes first."
        )
    return image


def _thin(counts: np.ndarray, name: str, rng) -> tuple[np.ndarray, np.ndarray]:
    """Send each ion of ``counts`` to half A or B with probability 1/2; return (A, B)."""
    if counts.min() < 0 or not np.array_equal(counts, np.round(counts)):
        raise NanoSIMSError(
            f"{name}: binomial splitting needs whole, non-negative ion counts, but these hold fractions or "
            "negative values (dead-time-corrected or processed counts). Load the file without the "
            "dead-time correction (load_image(path, keep_planes=True)) to split it."
        )
    first = rng.binomial(counts.astype(np.int64), 0.5).astype(float)
    return first, counts - first


#: How :func:`_halves` splits an image with planes, and one without.
PLANE_SPLIT, THINNING = "odd/even planes", "binomial thinning"


def _halves(image: NanoSIMSImage, rng) -> tuple[np.ndarray, np.ndarray, str]:
    """Counts (y, x, mass) of halves A and B of ``image``, and how they were made (the module's rule)."""
    if image.n_planes < 2:
        return (*_thin(image.counts, image.name, rng), THINNING)
    planes = image.planes
    paired = planes.shape[0] // 2 * 2
    first, second = planes[0:paired:2].sum(axis=0), planes[1:paired:2].sum(axis=0)
    if paired < planes.shape[0]:  # an odd number of planes: the last one is thinned
        extra_first, extra_second = _thin(planes[-1], f"{image.name}, last plane", rng)
        first, second = first + extra_first, second + extra_second
    return first, second, PLANE_SPLIT


def split_counts(image: NanoSIMSImage, *, random_state=0) -> tuple[NanoSIMSImage, NanoSIMSImage]:
    """Split the counts of ``image`` into two independent halves (see the module description).

    Parameters
    ----------
    image : NanoSIMSImage
        Raw counts; with ``planes`` (``load_image(path, keep_planes=True)``) the planes are shared
        out, else every count is thinned.
    random_state : int or numpy.random.Generator
        Seed of the binomial thinning.

    Returns
    -------
    tuple of NanoSIMSImage
        Halves A and B, summed over their planes (no ``planes``); their counts add up to
        ``image.counts``. Masses, path and pixel size as ``image``.

    Raises
    ------
    NanoSIMSError
        If ``image`` is not a NanoSIMSImage, has fewer than :data:`MIN_SPLIT_PIXELS` pixels or fewer
        than :data:`MIN_COUNTS_PER_PIXEL` counts per pixel, or counts that must be thinned are not
        whole and non-negative.

    Examples
    --------
    >>> planes = np.random.default_rng(0).poisson(3.0, (4, 16, 16, 2)).astype(float)
    >>> image = NanoSIMSImage.from_planes(planes, ("12C", "16O"))
    >>> a, b = split_counts(image)
    >>> bool(np.array_equal(a.counts, planes[0::2].sum(axis=0)))
    True
    >>> bool(np.array_equal(a.counts + b.counts, image.counts))
    True
    >>> a, b = split_counts(NanoSIMSImage(image.counts, image.masses), random_state=1)  # one plane: thinned
    >>> bool(np.array_equal(a.counts + b.counts, image.counts)), bool((a.counts != planes[0::2].sum(axis=0)).any())
    (True, True)
    """
    image = check_splittable(image)
    first, second, _ = _halves(image, np.random.default_rng(random_state))
    return tuple(NanoSIMSImage(half, image.masses, image.path, image.pixel_size_um) for half in (first, second))


@dataclass(frozen=True, eq=False)
class CountSplit:
    """An image's counts in two independent halves: one to find groups on, one held out to test them.

    Made by :func:`hold_out_counts` (and by
    :func:`~nanosims_helpers.pipeline.cluster_image` given ``ratios``); read by
    :func:`~nanosims_helpers.isotopes.isotope_table` and
    :func:`~nanosims_helpers.regions.region_table`.

    Attributes
    ----------
    selection : NanoSIMSImage
        Every mass of the image, summed over planes; the held-out masses hold only half A of their
        counts. Find the clusters or regions on it.
    held_out : NanoSIMSImage or None
        Half B of the held-out masses (only those masses): counts the search never saw. None when
        no mass was held out.
    found_on : tuple of str
        The masses whose counts choose the groups: a test of any other mass of them, not held out,
        would be circular.
    kind : str
        ``"odd/even planes"``, ``"binomial thinning"`` (each ion to a half with probability 1/2)
        or ``"none"`` (nothing held out).
    random_state : int or None
        Seed of the thinning.

    Examples
    --------
    >>> image = NanoSIMSImage(np.full((2, 2, 2), 10.0), ("12C", "13C"))
    >>> split = hold_out_counts(image, ["13C"], random_state=0)
    >>> split.describe()
    'held-out half: binomial thinning, random_state 0'
    """

    selection: NanoSIMSImage
    held_out: NanoSIMSImage | None
    found_on: tuple[str, ...]
    kind: str = "none"
    random_state: int | None = None

    def describe(self) -> str:
        """What the held-out counts are, for the ``test_counts`` column of the tables."""
        seed = f", random_state {self.random_state}" if self.kind == THINNING else ""
        return f"held-out half: {self.kind}{seed}"

    def record(self) -> dict:
        """The split as plain values, for a JSON file (``STEM_scores.json``)."""
        return {
            "kind": self.kind,
            "fraction_held_out": 0.5 if self.held_out is not None else 0.0,
            "random_state": self.random_state,
            "held_out_masses": [] if self.held_out is None else list(self.held_out.masses),
            "found_on": list(self.found_on),
        }


def hold_out_counts(image: NanoSIMSImage, masses, *, found_on=None, random_state=0) -> CountSplit:
    """Split the counts of ``masses`` in two halves (the module's rule): find groups on one, test on the other.

    Only the masses to be tested need splitting: the others keep all their counts for the search,
    since different masses are independent Poisson measurements of the same pixels. Groups (clusters,
    regions) found on ``split.selection`` and tested on ``split.held_out`` give valid p-values and
    unbiased ratios, whatever the search looked at.

    Parameters
    ----------
    image : NanoSIMSImage
        Raw counts, with planes where kept (``load_image(path, keep_planes=True)``): two or more
        planes are shared out odd/even, else every count is thinned, which needs whole counts.
    masses : sequence of str
        The masses to hold half of out; none gives a split without held-out counts.
    found_on : sequence of str, optional
        The masses the groups will be found on; default every mass of ``image``.
    random_state : int
        Seed of the thinning.

    Returns
    -------
    CountSplit

    Raises
    ------
    NanoSIMSError
        If a mass is missing, or counts that must be thinned are not whole and non-negative (load
        the file without the dead-time correction).

    Examples
    --------
    >>> planes = np.random.default_rng(0).poisson([300.0, 3.3, 50.0], (2, 8, 8, 3)).astype(float)
    >>> image = NanoSIMSImage.from_planes(planes, ("12C", "13C", "16O"))
    >>> split = hold_out_counts(image, ["13C", "12C"])
    >>> split.held_out.masses, split.kind
    (('13C', '12C'), 'odd/even planes')
    >>> bool(np.array_equal(split.selection.channel("13C") + split.held_out.channel("13C"), image.channel("13C")))
    True
    >>> bool(np.array_equal(split.selection.channel("16O"), image.channel("16O")))  # not held out: all counts
    True
    """
    image = check_image(image, MAKE_AN_IMAGE)
    found_on = tuple(image.masses if found_on is None else (image.masses[image.mass_index(m)] for m in found_on))
    masses = list(dict.fromkeys(image.masses[image.mass_index(m)] for m in masses))
    if not masses:
        return CountSplit(image, None, found_on)
    part = image.select(masses)
    first, second, kind = _halves(part, np.random.default_rng(random_state))
    selection = image.counts.copy()
    selection[..., [image.mass_index(m) for m in masses]] = first
    seed = random_state if kind == THINNING else None
    return CountSplit(NanoSIMSImage(selection, image.masses, image.path, image.pixel_size_um),
                      NanoSIMSImage(second, part.masses, image.path, image.pixel_size_um), found_on, kind, seed)


#: Label and region maps the kit found, by id: (a weak reference to the map, its CountSplit).
_SPLITS: dict[int, tuple] = {}


def remember_split(labels: np.ndarray, split: CountSplit | None) -> None:
    """Remember that the map ``labels`` (this very array) was found on ``split`` (see :func:`split_of`).

    Kept as long as the array lives. A copy, or a map computed from it, is not remembered: the
    functions that derive maps (``merge_clusters``, ``cluster_regions``) pass the split on.
    """
    if split is None or not isinstance(labels, np.ndarray):
        return
    key = id(labels)
    _SPLITS[key] = (weakref.ref(labels), split)
    weakref.finalize(labels, _SPLITS.pop, key, None)


def split_of(labels) -> CountSplit | None:
    """The CountSplit the kit found the map ``labels`` on, or None for a map it did not make.

    Examples
    --------
    >>> image = NanoSIMSImage(np.full((2, 2, 2), 10.0), ("12C", "13C"))
    >>> labels = np.array([[0, 0], [1, 1]])
    >>> split_of(labels) is None
    True
    >>> remember_split(labels, hold_out_counts(image, ["13C"]))
    >>> split_of(labels).held_out.masses, split_of(labels.copy()) is None
    (('13C',), True)
    """
    entry = _SPLITS.get(id(labels))
    return entry[1] if entry is not None and entry[0]() is labels else None


def with_split(labels) -> tuple:
    """``(map, CountSplit or None)`` of a ClusterResult (its ``labels`` and ``split``) or of a map.

    Examples
    --------
    >>> with_split(np.zeros((2, 2), int))[1] is None
    True
    """
    if hasattr(labels, "labels") and hasattr(labels, "split"):  # a ClusterResult
        return labels.labels, labels.split or split_of(labels.labels)
    return labels, split_of(labels)

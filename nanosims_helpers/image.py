"""The image container the kit passes around: counts, mass names, source and pixel size.

Non-ion channels
----------------
Besides ion masses, a NanoSIMS file may hold images that are not counts of an ion species: the
secondary-electron image (``SE``; it shows topography, edges and charging) and similar detector
channels. They are loaded and plotted like any channel, but clustering them with the masses
splits a grain's edge into rings of "phases", so the kit leaves them out of clustering by default
(``cluster_image``, the command line, the explorer) and says so in a warning. The names it
recognises, compared without spaces and case, are :data:`NON_ION_CHANNELS`; give ``masses=``
to cluster one anyway.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import NanoSIMSError
from .validation import check_finite_array

#: Channel names that are not ion species (compared without spaces, case ignored): secondary
#: electrons (``SE``, ``SEI``, ``SED``, ``ESI``, spelled out or abbreviated) and the total-ion or
#: backscattered-electron images some exports add.
NON_ION_CHANNELS = (
    "SE", "SEI", "SED", "ESI", "secondary electrons", "secondary electron", "secondary-electron image",
    "BSE", "TIC", "total ion count",
)
_NON_ION_KEYS = frozenset(name.replace(" ", "").lower() for name in NON_ION_CHANNELS)


def normalize_mass_name(name: str) -> str:
    """Return a mass name without spaces, so that ``"12C 14N"`` matches ``"12C14N"``.

    Examples
    --------
    >>> normalize_mass_name(" 12C 14N ")
    '12C14N'
    """
    return "".join(str(name).split())


def is_ion_channel(name: str) -> bool:
    """Return False for a channel named in :data:`NON_ION_CHANNELS` (spaces and case ignored).

    Examples
    --------
    >>> [is_ion_channel(name) for name in ("12C 14N", "SE", "se", "Secondary electrons")]
    [True, False, False, False]
    """
    return normalize_mass_name(name).lower() not in _NON_ION_KEYS


@dataclass(frozen=True)
class NanoSIMSImage:
    """Ion counts of one NanoSIMS image, summed over planes.

    Attributes
    ----------
    counts : ndarray of float, shape (y, x, mass)
        Counts per pixel and mass.
    masses : tuple of str
        One name per mass channel, in the order of the last axis of ``counts``.
    path : pathlib.Path or None
        The file the image came from, if any.
    pixel_size_um : float or None
        Side of one pixel in micrometres, where the file records it.
    planes : ndarray of float, shape (plane, y, x, mass), or None
        The counts of every plane (after the same dead-time correction and alignment as
        ``counts``), where they were kept (``load_image(..., keep_planes=True)``, the realistic
        samples); ``counts`` is their sum. None for an image summed on loading.

    Examples
    --------
    >>> import numpy as np
    >>> image = NanoSIMSImage(np.ones((4, 5, 2)), ("12C", "16O"))
    >>> image.shape, image.channel("16O").shape, image.n_planes
    ((4, 5, 2), (4, 5), 1)
    >>> stack = NanoSIMSImage.from_planes(np.ones((3, 4, 5, 2)), ("12C", "16O"))
    >>> stack.n_planes, float(stack.counts[0, 0, 0])
    (3, 3.0)
    """

    counts: np.ndarray
    masses: tuple[str, ...]
    path: Path | None = None
    pixel_size_um: float | None = None
    planes: np.ndarray | None = None

    @classmethod
    def from_planes(cls, planes, masses, path=None, pixel_size_um=None) -> "NanoSIMSImage":
        """Build an image from (plane, y, x, mass) counts, keeping the planes."""
        where = str(path) if path is not None else "planes"
        planes = check_finite_array(planes, where, ndim=(4,))
        return cls(planes.sum(axis=0), masses, path, pixel_size_um, planes)

    def __post_init__(self):
        where = str(self.path) if self.path is not None else "counts"
        counts = check_finite_array(self.counts, where, ndim=(3,))
        masses = tuple(str(m) for m in self.masses)
        if len(masses) != counts.shape[2]:
            raise NanoSIMSError(
                f"{where}: {len(masses)} mass name(s) {list(masses)} for {counts.shape[2]} channel(s); "
                "give one name per channel."
            )
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "masses", masses)
        if self.planes is not None:
            planes = check_finite_array(self.planes, where, ndim=(4,))
            if planes.shape[1:] != counts.shape:
                raise NanoSIMSError(
                    f"{where}: planes of shape {planes.shape} do not match counts {counts.shape}; "
                    "give (plane, y, x, mass) counts whose sum over planes is ``counts``."
                )
            object.__setattr__(self, "planes", planes)
        if self.path is not None:
            object.__setattr__(self, "path", Path(self.path))

    @property
    def shape(self) -> tuple[int, int, int]:
        """(y, x, mass)."""
        return self.counts.shape

    @property
    def n_planes(self) -> int:
        """Number of planes kept (1 where only the sum is known)."""
        return 1 if self.planes is None else self.planes.shape[0]

    @property
    def name(self) -> str:
        """The file name, or ``"image"`` for an image built in memory."""
        return self.path.name if self.path is not None else "image"

    def mass_index(self, mass: str) -> int:
        """Return the channel index of ``mass`` (spaces ignored), or raise a clear error."""
        wanted = normalize_mass_name(mass)
        for index, name in enumerate(self.masses):
            if normalize_mass_name(name) == wanted:
                return index
        raise NanoSIMSError(f"{self.name}: no mass {mass!r}; this image has {list(self.masses)}.")

    def channel(self, mass: str) -> np.ndarray:
        """Return the (y, x) counts of one mass."""
        return self.counts[:, :, self.mass_index(mass)]

    def select(self, masses) -> "NanoSIMSImage":
        """Return a new image holding only ``masses``, in the order given."""
        masses = list(masses)
        if not masses:
            raise NanoSIMSError(f"{self.name}: select at least one mass from {list(self.masses)}.")
        indices = [self.mass_index(m) for m in masses]
        planes = None if self.planes is None else self.planes[..., indices]
        return NanoSIMSImage(
            self.counts[:, :, indices], tuple(self.masses[i] for i in indices), self.path, self.pixel_size_um, planes
        )

    @property
    def ion_masses(self) -> tuple[str, ...]:
        """The masses that are ion species: every channel but those of :data:`NON_ION_CHANNELS`."""
        return tuple(name for name in self.masses if is_ion_channel(name))

    def for_clustering(self, masses=None) -> "NanoSIMSImage":
        """Return the image holding the channels to cluster.

        With ``masses``, exactly those (as :meth:`select`, non-ion channels included if named).
        Without, every ion mass: the channels in :data:`NON_ION_CHANNELS` are left out, with a
        ``UserWarning`` naming them (see the module notes).

        Raises
        ------
        NanoSIMSError
            If a mass is not in the image, or every channel is a non-ion channel and ``masses``
            is not given.

        Examples
        --------
        >>> import warnings
        >>> image = NanoSIMSImage(np.ones((2, 2, 3)), ("12C", "SE", "16O"))
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     image.for_clustering().masses
        ('12C', '16O')
        >>> "['SE'] are left out of clustering" in str(caught[0].message)
        True
        >>> image.for_clustering(["12C", "SE"]).masses
        ('12C', 'SE')
        """
        if masses is not None:
            return self.select(masses)
        left_out = [name for name in self.masses if name not in self.ion_masses]
        if not left_out:
            return self
        if len(left_out) == len(self.masses):
            raise NanoSIMSError(
                f"{self.name}: every channel ({left_out}) is a non-ion channel (secondary electrons or similar), "
                "which the kit does not cluster by default; name them with masses=[...] to cluster them anyway."
            )
        warnings.warn(
            f"{self.name}: the non-ion channel(s) {left_out} are left out of clustering (they show topography, "
            "not an ion species); name them in masses=[...] (--masses on the command line) to include them.",
            UserWarning,
            stacklevel=2,
        )
        return self.select(self.ion_masses)

    def pixels(self) -> np.ndarray:
        """Return the counts as a (pixel, mass) table, a view where possible."""
        return self.counts.reshape(-1, self.counts.shape[2])


#: What :func:`check_image` tells a caller who passed something else.
MAKE_AN_IMAGE = "load one with load_image(path), or wrap an array with NanoSIMSImage(counts, masses)"


def check_image(image, advice: str = MAKE_AN_IMAGE):
    """Return ``image`` if it is a :class:`NanoSIMSImage`, else raise an error that ends in ``advice``.

    Examples
    --------
    >>> check_image(np.ones((2, 2, 1)))
    Traceback (most recent call last):
    ...
    nanosims_helpers.errors.NanoSIMSError: image: expected a NanoSIMSImage, got ndarray; load one with \
load_image(path), or wrap an array with NanoSIMSImage(counts, masses).
    """
    if not isinstance(image, NanoSIMSImage):
        raise NanoSIMSError(f"image: expected a NanoSIMSImage, got {type(image).__name__}; {advice}.")
    return image

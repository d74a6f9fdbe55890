"""The image container the kit passes around: counts, mass names, source and pixel size."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import NanoSIMSError
from ..validation import check_finite_array


def normalize_mass_name(name: str) -> str:
    """Return a mass name without spaces, so that ``"12C 14N"`` matches ``"12C14N"``.

    Examples
    --------
    >>> normalize_mass_name(" 12C 14N ")
    '12C14N'
    """
    return "".join(str(name).split())


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

    def pixels(self) -> np.ndarray:
        """Return the counts as a (pixel, mass) table, a view where possible."""
        return self.counts.reshape(-1, self.counts.shape[2])

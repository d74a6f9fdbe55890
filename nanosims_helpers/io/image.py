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

    Examples
    --------
    >>> import numpy as np
    >>> image = NanoSIMSImage(np.ones((4, 5, 2)), ("12C", "16O"))
    >>> image.shape, image.channel("16O").shape
    ((4, 5, 2), (4, 5))
    """

    counts: np.ndarray
    masses: tuple[str, ...]
    path: Path | None = None
    pixel_size_um: float | None = None

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
        if self.path is not None:
            object.__setattr__(self, "path", Path(self.path))

    @property
    def shape(self) -> tuple[int, int, int]:
        """(y, x, mass)."""
        return self.counts.shape

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
        return NanoSIMSImage(
            self.counts[:, :, indices], tuple(self.masses[i] for i in indices), self.path, self.pixel_size_um
        )

    def pixels(self) -> np.ndarray:
        """Return the counts as a (pixel, mass) table, a view where possible."""
        return self.counts.reshape(-1, self.counts.shape[2])

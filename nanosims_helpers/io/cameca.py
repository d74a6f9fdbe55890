"""Reading Cameca NanoSIMS ``.im`` images with the ``sims`` package (private; use ``loading``).

Dead-time correction
--------------------
An electron multiplier cannot count a second ion that arrives within its dead time ``tau``
of the previous one, so at high count rates it loses counts. The kit applies the usual
non-paralyzable correction to every frame, pixel and species before the frames are summed::

    N_true = N / (1 - N * tau / t_dwell)

``N`` is the counts of one pixel in one frame, ``tau`` the dead time of the species'
detector (``em deadtime`` in the header, in ns) and ``t_dwell`` the time the beam spends on
one pixel per frame (``time per pixel`` of the species' B field, in s). Species not counted
by an electron multiplier (for example secondary electrons, ``SE``) are left as they are.
"""

from __future__ import annotations

import warnings
from functools import partial
from pathlib import Path

import numpy as np

from ..errors import NanoSIMSError
from ..image import is_ion_channel

#: The dimensions of an image in ``sims.SIMS(path).data``.
_IMAGE_DIMS = ("species", "frame", "y", "x")


def read_cameca(path: Path, dead_time_correction: bool = False):
    """Read a Cameca ``.im`` image.

    Returns
    -------
    planes : ndarray of unsigned int, shape (frame, y, x, species)
        Counts of every frame as stored (a view of the data ``sims`` read).
    names : tuple of str
        The species names from the file, e.g. ``("12C", "12C 14N")``.
    pixel_size_um : float or None
        Raster size (nm) / 1000 / image width in pixels.
    correct : callable or None
        With ``dead_time_correction``, the function that corrects the float counts
        (y, x, species) of one frame; else None.

    Raises
    ------
    NanoSIMSError
        If ``sims`` cannot read the file, the file holds no image, or the dead-time
        correction is asked for and the header lacks what it needs.
    """
    simsobj = _open(path)
    data = simsobj.data
    names = tuple(str(name) for name in data.coords["species"].values)
    planes = np.moveaxis(data.values, 0, -1)
    correct = None
    if dead_time_correction:
        dead_times, dwell_times = _dead_time_parameters(path, simsobj.header, names)
        correct = partial(correct_dead_time, dead_time_s=dead_times, dwell_time_s=dwell_times, name=path.name)
    return planes, names, _pixel_size(simsobj.header), correct


def _open(path: Path):
    """Read ``path`` as ``sims.SIMS(path)`` does, closing the file, and check it holds an image."""
    import sims  # imported here: only .im files need it

    try:
        with open(path, "rb") as handle:
            simsobj = sims.SIMSReader(handle, filename=str(path))
            simsobj.peek()
            simsobj.read_header()
            simsobj.read_data()
    # sims raises many kinds of errors on damaged files (struct.error, ValueError, TypeError,
    # NotImplementedError, ...): every one means the same thing to the user.
    except Exception as exc:
        raise NanoSIMSError(
            f"{path.name}: cannot be read as a Cameca .im image ({type(exc).__name__}: {exc}). "
            "The file may be truncated or damaged: copy it again from the instrument computer."
        ) from exc
    data = getattr(simsobj, "data", None)
    if data is None or tuple(data.dims) != _IMAGE_DIMS:
        kind = simsobj.header.get("file type", "unknown")
        raise NanoSIMSError(
            f"{path.name}: this .im file holds no ion image (Cameca file type {kind}, for example "
            "an isotope, line-scan or beam-stability measurement). Load an image .im file."
        )
    return simsobj


def _pixel_size(header: dict) -> float | None:
    image = header.get("Image", {})
    raster_nm, width = image.get("raster", 0), image.get("width", 0)
    return raster_nm / 1000.0 / width if raster_nm and width else None


def _dead_time_parameters(path: Path, header: dict, names):
    """Dead time (s) and dwell time per pixel (s) of each species; dead time 0 if not an EM.

    An electron multiplier whose header records no dead time (or 0) is left uncorrected, with a warning.
    """
    dead_times, dwell_times, unknown = [], [], []
    try:
        for name in names:
            entry = header["MassTable"][name]
            bfield = header["BFields"][entry.get("b field index", 0)]
            trolley = bfield["Trolleys"][entry["trolley index"]]
            detector = header["Detectors"].get(trolley["detector label"], {})
            is_em = trolley["detector"] == "EM"
            dead_time = float(detector.get("em deadtime", 0.0)) * 1e-9 if is_em else 0.0
            if is_em and not dead_time > 0 and is_ion_channel(name):  # SE and the like are not ion counts
                unknown.append(name)
            dead_times.append(dead_time)
            dwell_times.append(float(bfield["time per pixel"]))
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise NanoSIMSError(
            f"{path.name}: the header lacks the detector dead time or the dwell time "
            f"({type(exc).__name__}: {exc}). Load it with dead_time_correction=False."
        ) from exc
    if unknown:
        warnings.warn(
            f"{path.name}: the header records no dead time for the electron multiplier(s) of {unknown}, so their "
            "counts are not dead-time corrected; correct them with nanosims_helpers.io.cameca.correct_dead_time "
            "and the detector's dead time (typically 44 ns) if their count rates are high.", UserWarning, stacklevel=4,
        )
    return np.array(dead_times), np.array(dwell_times)


def correct_dead_time(counts, dead_time_s, dwell_time_s, name: str = "counts") -> np.ndarray:
    """Return ``counts / (1 - counts * dead_time_s / dwell_time_s)`` (non-paralyzable detector).

    Parameters
    ----------
    counts : array_like, shape (..., species)
        Counts of one pixel in one frame (not summed over frames).
    dead_time_s, dwell_time_s : float or array_like, shape (species,)
        Detector dead time and beam dwell time per pixel, in seconds.
    name : str
        What to call the data in error messages.

    Raises
    ------
    NanoSIMSError
        If a count rate reaches the detector's limit (``counts * dead_time / dwell >= 1``).

    Examples
    --------
    >>> float(correct_dead_time(1000.0, dead_time_s=44e-9, dwell_time_s=1e-3)[()])  # 4.4 % lost
    1046.0251046025105
    """
    counts = np.asarray(counts, dtype=float)
    lost_fraction = counts * (np.asarray(dead_time_s, dtype=float) / np.asarray(dwell_time_s, dtype=float))
    if np.any(lost_fraction >= 1):
        raise NanoSIMSError(
            f"{name}: some pixels count faster than the detector can (counts x dead time / dwell time "
            ">= 1), so the dead-time correction is undefined. Load without dead_time_correction."
        )
    return counts / (1.0 - lost_fraction)

"""Load NanoSIMS images from TIFF stacks or Cameca ``.im`` files, and save them as TIFF.

Every image comes back as a :class:`~nanosims_helpers.image.NanoSIMSImage`: float counts
(y, x, mass), summed over planes (frames), with mass names and the pixel size where the
file records them. How the mass axis of a TIFF is found is described in
``nanosims_helpers.io.tiff``; the dead-time correction of ``.im`` files in
``nanosims_helpers.io.cameca``.

Aligning planes
---------------
The stage drifts a little between the planes of a long acquisition. With
``align_planes=True`` each plane is shifted by a whole number of pixels onto the first
plane before the planes are summed. The shift is found by phase correlation (see
:func:`estimate_shift`) of the plane's total counts (all masses added) with the first
plane's, so weak masses follow the strong ones. Pixels shifted in from outside the image
are zero, so a strip along the edges as wide as the drift holds counts from fewer planes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import NanoSIMSError
from ..image import NanoSIMSImage, check_image, normalize_mass_name
from . import cameca, tiff

#: File name endings ``load_image`` reads.
SUPPORTED_SUFFIXES = (".tif", ".tiff", ".im")


def load_image(
    path, masses=None, *, dead_time_correction=False, align_planes=False, keep_planes=False
) -> NanoSIMSImage:
    """Load a NanoSIMS image: a TIFF stack (``.tif``, ``.tiff``) or a Cameca ``.im`` file.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    masses : list of str, optional
        For files that name their channels (``.im``, ImageJ labels, OME): the masses to
        keep, in this order (spaces ignored: ``"12C14N"`` finds ``"12C 14N"``). For files
        without names: one name per channel, in file order. Default: every channel, named
        from the file, else ``"mass 1"``, ``"mass 2"``, ...
    dead_time_correction : bool
        ``.im`` only: correct every frame for the detector dead time before summing
        (non-paralyzable: ``N_true = N / (1 - N * tau / t_dwell)``).
    align_planes : bool
        Shift every plane onto the first by whole pixels before summing (see the module notes).
    keep_planes : bool
        Also keep every plane (after correction and alignment) as ``image.planes``, shape
        (plane, y, x, mass), for depth profiles and split-half checks. Costs one copy of the
        counts per plane in memory.

    Returns
    -------
    NanoSIMSImage
        Float counts (y, x, mass) summed over planes, mass names, path and pixel size, and the
        planes where ``keep_planes``.

    Raises
    ------
    NanoSIMSError
        If the file is missing, empty, not a supported or readable image, holds NaN,
        infinite or negative values, or ``masses`` does not fit the file.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> image = NanoSIMSImage(np.ones((4, 6, 2)), ("12C", "12C14N"), pixel_size_um=0.1)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     loaded = load_image(save_image_tiff(image, Path(folder) / "demo.tif"))
    >>> loaded.shape, loaded.masses, loaded.pixel_size_um
    ((4, 6, 2), ('12C', '12C14N'), 0.1)
    """
    path = _check_path(path)
    if path.suffix.lower() == ".im":
        planes, names, pixel_size, correct = cameca.read_cameca(path, dead_time_correction)
    else:
        if dead_time_correction:
            raise NanoSIMSError(
                f"{path.name}: dead_time_correction needs the dead time and dwell time that only "
                "Cameca .im files record. Load the .im file, or use dead_time_correction=False."
            )
        planes, names, pixel_size = tiff.read_tiff(path)
        correct = None
    _check_counts(path, planes)
    indices, names = _choose_channels(path, names, masses, planes.shape[3])
    if keep_planes:
        kept = np.stack(list(_corrected_planes(planes, correct, align_planes)))[..., indices]
        return NanoSIMSImage(kept.sum(axis=0), names, path, pixel_size, kept)
    counts = sum(_corrected_planes(planes, correct, align_planes))
    return NanoSIMSImage(counts[:, :, indices], names, path, pixel_size)


def save_image_tiff(image: NanoSIMSImage, path) -> Path:
    """Save ``image`` as an ImageJ hyperstack TIFF that :func:`load_image` reads back.

    The stack has axes CYX (one page per mass), or TCYX (one time point per plane, compressed)
    for an image that kept its planes, the mass names as ImageJ labels and
    the pixel size in the resolution tags (unit µm). Whole counts from 0 to 65535
    are stored as 16-bit integers, exactly; other counts as 32-bit floats (exact for
    whole counts up to 16 777 216, about 7 significant digits otherwise).

    Parameters
    ----------
    image : NanoSIMSImage
        The image to save.
    path : str or pathlib.Path
        The new file, ending in ``.tif`` or ``.tiff``; an existing file is replaced.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    NanoSIMSError
        If ``image`` is not a NanoSIMSImage, holds negative values or has a pixel size
        that is not positive, or ``path`` has another ending or its folder does not exist.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> image = NanoSIMSImage(np.zeros((2, 3, 1)), ("12C",))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save_image_tiff(image, Path(folder) / "zeros.tif").name
    'zeros.tif'
    """
    check_image(image)
    path = Path(path)
    if path.suffix.lower() not in (".tif", ".tiff"):
        raise NanoSIMSError(f"{path.name}: save_image_tiff writes TIFF files; end the name in .tif.")
    if not path.parent.is_dir():
        raise NanoSIMSError(f"{path}: the folder {path.parent} does not exist; create it first.")
    size = image.pixel_size_um
    if size is not None and not (np.isfinite(size) and size > 0):
        raise NanoSIMSError(
            f"{image.name}: pixel_size_um={size!r}; give a positive size in micrometres, or None."
        )
    if image.counts.min() < 0:
        raise NanoSIMSError(
            f"{image.name}: holds negative values, which are not ion counts; save the counts "
            "before preprocessing (scaling, z-scores, background subtraction)."
        )
    return tiff.write_counts(path, image.counts, image.masses, image.pixel_size_um, image.planes)


def estimate_shift(reference, moving) -> tuple[int, int]:
    """Return the whole-pixel shift (dy, dx) that moves ``moving`` onto ``reference``.

    Phase correlation: the normalised cross-power spectrum of the two images (their means
    removed) is transformed back, and its peak is the shift, in -n/2 .. n/2 along each axis.
    Shifting ``moving`` by (dy, dx) means ``moving[y, x]`` goes to ``[y + dy, x + dx]``.

    Parameters
    ----------
    reference, moving : array_like, shape (y, x)
        Two images of the same field, e.g. the total counts of two planes.

    Returns
    -------
    tuple of int
        (dy, dx).

    Raises
    ------
    NanoSIMSError
        If the images are not 2-D arrays of the same shape with finite values.

    Examples
    --------
    >>> import numpy as np
    >>> reference = np.random.default_rng(0).poisson(5.0, (32, 32))
    >>> estimate_shift(reference, np.roll(reference, (3, -2), axis=(0, 1)))
    (-3, 2)
    """
    reference = _check_plane(reference, "reference")
    moving = _check_plane(moving, "moving")
    if reference.shape != moving.shape:
        raise NanoSIMSError(f"moving: shape {moving.shape} differs from reference {reference.shape}.")
    cross = np.fft.rfft2(reference - reference.mean()) * np.conj(np.fft.rfft2(moving - moving.mean()))
    magnitude = np.abs(cross)
    cross = cross / np.maximum(magnitude, magnitude.max() * 1e-12 + np.finfo(float).tiny)
    correlation = np.fft.irfft2(cross, s=reference.shape)
    peak = np.unravel_index(np.argmax(correlation), correlation.shape)
    return tuple(int(p - n) if p > n // 2 else int(p) for p, n in zip(peak, correlation.shape))


# --- checks --------------------------------------------------------------------------------------


def _check_path(path) -> Path:
    """Return ``path`` as a Path to an existing, non-empty file with a supported ending."""
    try:
        path = Path(path)
    except TypeError as exc:
        raise NanoSIMSError(f"path: expected a file path, got {type(path).__name__}.") from exc
    if not path.exists():
        raise NanoSIMSError(f"{path}: no such file. Check the name and the folder (now {Path.cwd()}).")
    if path.is_dir():
        raise NanoSIMSError(
            f"{path}: is a folder, not a file. Give one .tif, .tiff or .im file in it, "
            "for example sorted(Path(folder).glob('*.im'))[0]."
        )
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise NanoSIMSError(
            f"{path.name}: cannot read '{path.suffix or 'no ending'}' files. load_image reads TIFF "
            "stacks (.tif, .tiff) and Cameca images (.im): export the image in one of these."
        )
    if path.stat().st_size == 0:
        raise NanoSIMSError(f"{path.name}: the file is empty (0 bytes). Copy or export it again.")
    return path


def _check_counts(path: Path, planes: np.ndarray) -> None:
    """Raise unless ``planes`` are finite, non-negative numbers (checked in their own dtype)."""
    if planes.dtype.kind not in "uif":
        raise NanoSIMSError(
            f"{path.name}: pixel values of type {planes.dtype} are not ion counts. "
            "Export the counts as integer or floating-point grey levels."
        )
    if planes.dtype.kind == "f":
        bad = ~np.isfinite(planes)
        if bad.any():
            raise NanoSIMSError(
                f"{path.name}: {int(bad.sum())} pixel value(s) are NaN or infinite. Replace them "
                "(for example by 0) in the software that wrote the file, then load it again."
            )
    if planes.dtype.kind != "u" and planes.min() < 0:
        raise NanoSIMSError(
            f"{path.name}: {int((planes < 0).sum())} pixel value(s) are negative (lowest "
            f"{planes.min():g}), but counts cannot be negative. Load the raw ion counts, not "
            "processed values (ratios, background-subtracted or scaled data)."
        )


def _check_plane(values, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or not np.isfinite(values).all():
        raise NanoSIMSError(f"{name}: expected a 2-D image of finite values, got shape {values.shape}.")
    return values


def _choose_channels(path: Path, names, masses, n_channels: int):
    """Return (channel indices, names) from the file's names and the ``masses`` argument."""
    if isinstance(masses, str):
        masses = [masses]
    if masses is not None:
        masses = [str(mass) for mass in masses]
        if not masses:
            raise NanoSIMSError(f"{path.name}: masses is empty; give at least one mass name, or None.")
    if names is not None:
        names = channel_names(names)
    if names is None and masses is None:
        return list(range(n_channels)), tuple(f"mass {i + 1}" for i in range(n_channels))
    if names is None:
        if len(masses) != n_channels:
            raise NanoSIMSError(
                f"{path.name}: the file has {n_channels} channel(s) without names, but masses gives "
                f"{len(masses)} name(s) {masses}. Give exactly one name per channel, in file order."
            )
        return list(range(n_channels)), tuple(masses)
    if masses is None:
        return list(range(n_channels)), tuple(names)
    return _select(path, names, masses)


def channel_names(names) -> tuple[str, ...]:
    """The file's channel names, each usable as a mass name: a blank one becomes ``"mass N"`` (its
    place, from 1), and one that repeats an earlier name gets ``" (N)"`` added, so every name is
    distinct, also once spaces are ignored.

    Examples
    --------
    >>> channel_names(("12C2", "", "16O", "16 O"))
    ('12C2', 'mass 2', '16O', '16 O (4)')
    """
    named, seen = [], set()
    for place, name in enumerate(names, start=1):
        name = str(name).strip() or f"mass {place}"
        if normalize_mass_name(name) in seen:
            name = f"{name} ({place})"
        seen.add(normalize_mass_name(name))
        named.append(name)
    return tuple(named)


def _select(path: Path, names, masses):
    lookup = {normalize_mass_name(name): index for index, name in reversed(list(enumerate(names)))}
    unknown = [mass for mass in masses if normalize_mass_name(mass) not in lookup]
    if unknown:
        raise NanoSIMSError(
            f"{path.name}: no mass {unknown} in this file. Available masses: {list(names)}; "
            "choose from these (spaces are ignored)."
        )
    indices = [lookup[normalize_mass_name(mass)] for mass in masses]
    return indices, tuple(names[i] for i in indices)


# --- alignment -----------------------------------------------------------------------------------


def _corrected_planes(planes: np.ndarray, correct=None, align: bool = False):
    """Yield the (y, x, mass) planes of ``planes`` one at a time, to spare memory when summed.

    Each plane is converted to float64, passed through ``correct`` (the dead-time correction)
    if given, and shifted onto the first plane if ``align`` (see the module notes).
    """
    reference = None
    for plane in planes:
        plane = plane.astype(np.float64)
        if correct is not None:
            plane = correct(plane)
        if align and reference is None:
            reference = plane.sum(axis=2)
        elif align:
            plane = _shift(plane, estimate_shift(reference, plane.sum(axis=2)))
        yield plane


def _shift(image: np.ndarray, shift: tuple[int, int]) -> np.ndarray:
    """Move ``image[y, x]`` to ``[y + dy, x + dx]``; what comes in from outside is zero."""
    out = np.zeros_like(image)
    target, source = zip(*(_overlap(d, n) for d, n in zip(shift, image.shape)))
    out[target] = image[source]
    return out


def _overlap(offset: int, size: int) -> tuple[slice, slice]:
    """(target, source) slices of one axis moved by ``offset``."""
    if offset >= 0:
        return slice(offset, size), slice(0, max(size - offset, 0))
    return slice(0, max(size + offset, 0)), slice(-offset, size)

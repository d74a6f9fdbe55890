"""Reading and writing TIFF stacks of ion counts (private; use :mod:`nanosims_helpers.io.loading`).

How the mass axis of a TIFF is found, in this order:

1. Metadata that names the axes: an ImageJ hyperstack or an OME-TIFF with a channel axis
   ``C``. ``C`` is the mass axis; ``Y`` and ``X`` are the image; every other axis
   (``Z`` slices, ``T`` frames, ...) is a plane axis and is summed later. An OME-TIFF
   without ``C`` has one channel; a plain ImageJ stack (no ``C``) follows rule 2.
2. Otherwise the TIFF structure and the shape. Leading axes beyond three are planes.
   Of the last three axes, the mass axis is the samples-per-pixel axis (``S``) if the file
   has one, else the one axis much smaller than the other two (at least 2 times), else the
   page axis (one page per mass). The two remaining axes are (y, x) in file order: the
   image is never transposed.

Mass names come from the OME channel names, or from the ImageJ slice labels (one per
channel, or one per image with the channels varying fastest, as ImageJ orders them).
"""

from __future__ import annotations

import contextlib
import logging
import warnings
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import tifffile

from ..errors import NanoSIMSError
from .files import replacing

#: An axis at least this many times smaller than both others is the mass axis (a NanoSIMS
#: image has at most 8 masses and is rarely under 64 pixels wide).
MUCH_SMALLER = 2

#: Length unit written into the kit's ImageJ TIFFs. ImageJ reads "um" as micrometres (shown as
#: "µm"), and so does the kit. The TIFF resolution unit stays "none": ImageJ then takes the unit
#: from its description; a per-centimetre tag would make ImageJ read pixels per cm as pixels per µm.
IMAGEJ_UNIT = "um"

#: Micrometres per unit of length, for the units ImageJ and OME files write.
_UM_PER_UNIT = {
    "um": 1.0, "µm": 1.0, "\u03bcm": 1.0, "\\u00b5m": 1.0, "micron": 1.0, "microns": 1.0,
    "micrometer": 1.0, "micrometre": 1.0, "nm": 1e-3, "nanometer": 1e-3, "mm": 1e3, "millimeter": 1e3,
}

#: File signatures, to say what a file that is not a TIFF actually is.
_SIGNATURES = {
    b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
    b"BM": "a BMP image", b"PK\x03\x04": "a ZIP archive", b"%PDF": "a PDF document",
}

#: What tifffile raises on broken files.
_READ_ERRORS = (
    tifffile.TiffFileError, ValueError, OSError, EOFError, IndexError, KeyError, TypeError,
    ElementTree.ParseError,
)

#: Words in tifffile's log messages that mean the file is damaged.
_DAMAGE_WORDS = ("invalid", "corrupt", "truncat", "missing", "incomplete")


# --- writing -------------------------------------------------------------------------------------


def counts_dtype(counts: np.ndarray) -> type:
    """Return ``np.uint16`` when ``counts`` are whole numbers in 0..65535, else ``np.float32``.

    ImageJ stores only 8- and 16-bit integers and 32-bit floats.

    Examples
    --------
    >>> counts_dtype(np.array([0.0, 3.0, 65535.0])).__name__, counts_dtype(np.array([0.5])).__name__
    ('uint16', 'float32')
    """
    whole = np.all(counts == np.round(counts))
    fits = counts.min() >= 0 and counts.max() <= np.iinfo(np.uint16).max
    return np.uint16 if whole and fits else np.float32


def write_imagej(
    path, stack: np.ndarray, axes: str, *, labels=None, pixel_size_um: float | None = None, compression=None
) -> Path:
    """Write ``stack`` as an ImageJ TIFF; ``path`` is replaced only once the new file is complete.

    Parameters
    ----------
    path : str or Path
        The TIFF file.
    stack : ndarray
        uint8, uint16 or float32 values, axes named by ``axes`` (``"YX"``, ``"CYX"``).
    axes : str
        ImageJ axis letters of ``stack``.
    labels : sequence of str, optional
        One ImageJ slice label per channel (the mass names).
    pixel_size_um : float, optional
        Pixel side in micrometres: the resolution tags hold pixels per micrometre, with unit
        :data:`IMAGEJ_UNIT`, so Fiji shows a scale bar in µm.
    compression : str, optional
        tifffile compression, e.g. ``"zlib"``; none by default.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_imagej(Path(folder) / "a.tif", np.zeros((2, 3), np.uint8), "YX", pixel_size_um=0.5)
    ...     read_tiff(path)[2]
    0.5
    """
    path = Path(path)
    metadata = {"axes": axes}
    if labels is not None:
        metadata["Labels"] = list(labels)
    resolution = None
    if pixel_size_um is not None:
        metadata["unit"] = IMAGEJ_UNIT
        resolution = (1.0 / pixel_size_um, 1.0 / pixel_size_um)
    with replacing(path) as partial:
        tifffile.imwrite(
            partial, stack, imagej=True, metadata=metadata, resolution=resolution, compression=compression
        )
    return path


def write_counts(path, counts: np.ndarray, masses, pixel_size_um: float | None, planes=None) -> Path:
    """Write (y, x, mass) ``counts`` as an ImageJ hyperstack, axes CYX, one label per mass.

    With ``planes`` (plane, y, x, mass) the planes are written instead, axes TCYX (one time
    point per plane), zlib-compressed: readers sum them back to ``counts``.
    """
    if planes is None:
        stack = np.ascontiguousarray(np.moveaxis(counts, 2, 0).astype(counts_dtype(counts)))
        return write_imagej(path, stack, "CYX", labels=masses, pixel_size_um=pixel_size_um)
    stack = np.ascontiguousarray(np.moveaxis(planes, 3, 1).astype(counts_dtype(planes)))
    return write_imagej(path, stack, "TCYX", labels=masses, pixel_size_um=pixel_size_um, compression="zlib")


# --- reading -------------------------------------------------------------------------------------


def read_tiff(path: Path):
    """Read a TIFF stack of ion counts.

    Returns
    -------
    planes : ndarray, shape (plane, y, x, mass)
        The counts in the file's own dtype.
    names : tuple of str or None
        Mass names from the ImageJ labels or OME channel names, if the file has them.
    pixel_size_um : float or None
        From the resolution tags (ImageJ unit, OME physical size, or centimetres).

    Raises
    ------
    NanoSIMSError
        If the file is not a TIFF or is damaged.
    """
    with _tifffile_log() as messages:
        try:
            with tifffile.TiffFile(path) as tif:
                data, axes, names, pixel_size = _read_open(tif)
        except _READ_ERRORS as exc:
            raise NanoSIMSError(_unreadable_message(path, exc)) from exc
    damage = [text for text in messages if any(word in text.lower() for word in _DAMAGE_WORDS)]
    if damage:
        raise NanoSIMSError(
            f"{path.name}: the TIFF file is damaged or truncated ({damage[0]}). "
            "Export the image again from the NanoSIMS software, or copy the file again."
        )
    for text in messages:
        warnings.warn(f"{path.name}: {text}", stacklevel=3)
    planes = _to_planes(data, axes)
    if names is not None and len(names) != planes.shape[3]:
        names = None
    return planes, names, pixel_size


def _read_open(tif: tifffile.TiffFile):
    """Return (data, axes named P/C/Y/X, names, pixel size) of an open TIFF."""
    series = tif.series[0]
    _check_extents(tif, series)
    data = series.asarray()
    if tif.is_ome:
        return data, _ome_axes(series.axes), *_ome_names_and_size(tif.ome_metadata)
    if tif.is_imagej and "C" in series.axes:
        axes = series.axes
    else:
        axes = _structure_axes(series.axes, data.shape)
    if tif.is_imagej:
        return data, axes, _imagej_names(tif, axes, data.shape), _imagej_pixel_size(tif)
    return data, axes, None, _tag_pixel_size(tif.pages[0])


def _check_extents(tif: tifffile.TiffFile, series) -> None:
    """Raise if the file holds fewer images than ImageJ declares, or data beyond its end."""
    size = tif.filehandle.size
    declared = tif.imagej_metadata.get("images", 1) if tif.is_imagej else 1
    found = series.size // max(tif.pages[0].size, 1)
    if found < declared:
        raise EOFError(f"ImageJ metadata declares {declared} images, the file holds {found}")
    for page in tif.pages:
        ends = np.add(page.dataoffsets, page.databytecounts)
        if ends.size and ends.max() > size:
            raise EOFError(f"image data ends at byte {ends.max()} but the file has {size} bytes")


@contextlib.contextmanager
def _tifffile_log():
    """Collect tifffile's warnings (it logs them) instead of printing them."""
    messages: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    logger = logging.getLogger("tifffile")
    handler = _Collect(logging.WARNING)
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _unreadable_message(path: Path, exc: Exception) -> str:
    """Explain why a .tif file could not be read."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    for signature, kind in _SIGNATURES.items():
        if head.startswith(signature):
            return (
                f"{path.name}: not a TIFF file, it is {kind} with a .tif name. "
                "Export the ion images from the NanoSIMS software as TIFF (or load the .im file)."
            )
    return (
        f"{path.name}: cannot be read as a TIFF file ({type(exc).__name__}: {exc}). "
        "The file may be truncated or damaged: export or copy it again."
    )


# --- axes ----------------------------------------------------------------------------------------


def _ome_axes(axes: str) -> str:
    """OME names every axis: samples (``S``) are the channels of an RGB file; else one channel."""
    if "C" in axes:
        return axes
    return axes.replace("S", "C") if "S" in axes else axes + "C"


def _structure_axes(axes: str, shape: tuple[int, ...]) -> str:
    """Name the axes of a TIFF without axis metadata: P (planes), C (mass), Y, X."""
    if len(shape) == 2:
        return "YXC"
    last = shape[-3:]
    if "S" in axes[-3:]:
        mass = axes[-3:].index("S")
    else:
        mass = _much_smaller_axis(last)
    letters = ["Y", "X"]
    letters.insert(mass, "C")
    return "P" * (len(shape) - 3) + "".join(letters)


def _much_smaller_axis(shape: tuple[int, int, int]) -> int:
    """Index of the axis at least ``MUCH_SMALLER`` times smaller than both others, else 0 (pages)."""
    for index, size in enumerate(shape):
        others = [s for i, s in enumerate(shape) if i != index]
        if size * MUCH_SMALLER <= min(others):
            return index
    return 0


def _to_planes(data: np.ndarray, axes: str) -> np.ndarray:
    """Reorder ``data`` to (plane, y, x, mass); ``axes`` may name one more axis, a last ``C``."""
    if len(axes) == data.ndim + 1:  # a single-channel file
        data = data[..., np.newaxis]
    order = [i for i, a in enumerate(axes) if a not in "YXC"] + [axes.index(a) for a in "YXC"]
    moved = np.transpose(data, order)
    return moved.reshape((-1,) + moved.shape[-3:])


# --- names and pixel size ------------------------------------------------------------------------


def _imagej_names(tif: tifffile.TiffFile, axes: str, shape) -> tuple[str, ...] | None:
    """Mass names from the ImageJ labels: one per channel, or one per image (channels vary fastest)."""
    labels = tif.imagej_metadata.get("Labels")
    if not labels or not any(str(label).strip() for label in labels):  # blank ones among them: named on loading
        return None
    if len(axes) != len(shape):  # a single-channel file
        return tuple(str(label).strip() for label in labels) if len(labels) == 1 else None
    stack_axes = [a for a in axes if a not in "YX"]
    n_channels = shape[axes.index("C")]
    n_images = int(np.prod([n for a, n in zip(axes, shape) if a not in "YX"]))
    if len(labels) == n_channels or (len(labels) == n_images and stack_axes[-1] == "C"):
        return tuple(str(label).strip() for label in labels[:n_channels])
    return None


def _imagej_pixel_size(tif: tifffile.TiffFile) -> float | None:
    unit = str(tif.imagej_metadata.get("unit", "")).strip().lower()
    if unit not in _UM_PER_UNIT:
        return None
    per_unit = _resolution(tif.pages[0])
    return None if per_unit is None else _UM_PER_UNIT[unit] / per_unit


def _tag_pixel_size(page) -> float | None:
    """Pixel size from the TIFF resolution tags, only when given per centimetre.

    Resolutions per inch are nearly always a screen setting (72 or 96 dpi), not a pixel size.
    """
    if page.resolutionunit != tifffile.RESUNIT.CENTIMETER:
        return None
    per_cm = _resolution(page)
    return None if per_cm is None else 1e4 / per_cm


def _resolution(page) -> float | None:
    """Pixels per unit along x, or None when the tag is missing or zero."""
    tag = page.tags.get("XResolution")
    if tag is None:
        return None
    numerator, denominator = tag.value
    return numerator / denominator if numerator and denominator else None


def _ome_names_and_size(xml: str) -> tuple[tuple[str, ...] | None, float | None]:
    """Channel names and PhysicalSizeX (in micrometres) of the first OME image."""
    root = ElementTree.fromstring(xml)
    pixels = next((e for e in root.iter() if e.tag.endswith("}Pixels") or e.tag == "Pixels"), None)
    if pixels is None:
        return None, None
    names = [c.get("Name", "").strip() for c in pixels if c.tag.endswith("Channel")]
    names = tuple(names) if names and any(names) else None  # blank ones among them: named on loading
    size = pixels.get("PhysicalSizeX")
    unit = pixels.get("PhysicalSizeXUnit", "µm").strip().lower()
    if size is None or unit not in _UM_PER_UNIT:
        return names, None
    return names, float(size) * _UM_PER_UNIT[unit]

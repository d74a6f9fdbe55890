"""Sample images shipped with the kit, each with its true phase map.

The samples are synthetic: made by ``python tools/make_samples.py`` with the parameters in
:data:`SAMPLES` (:func:`~nanosims_helpers.teaching.synthetic.simulate_soil_image`) and
:data:`REALISTIC_SAMPLES` (:func:`~nanosims_helpers.teaching.realistic.simulate_realistic_image`, planes
kept), and stored in the ``data/`` folder of the kit's repository as ImageJ TIFFs (counts) and
small uint8 TIFFs (truth, with the phase names in the TIFF description).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tifffile

from ..errors import NanoSIMSError
from ..io.loading import load_image, save_image_tiff
from .realistic import REALISTIC_PHASES, simulate_realistic_image
from .synthetic import PHASES, simulate_soil_image

#: Folder of the sample files: ``data/`` at the root of the kit's repository.
DATA_DIR = Path(__file__).resolve().parents[2] / "data"

#: Name -> keyword arguments of :func:`~nanosims_helpers.teaching.synthetic.simulate_soil_image`.
SAMPLES = {
    "soil_256": {"shape": (256, 256), "n_planes": 4, "count_scale": 1.0, "n_hotspots": 0, "random_state": 0},
    "soil_512_labelled": {
        "shape": (512, 512),
        "n_planes": 4,
        "count_scale": 0.25,
        "n_hotspots": 40,
        "enrichment": 0.05,
        "random_state": 0,
    },
}

#: Name -> keyword arguments of :func:`~nanosims_helpers.teaching.realistic.simulate_realistic_image`.
REALISTIC_SAMPLES = {"realistic_256": {"shape": (256, 256), "random_state": 0}}


def list_samples() -> list[str]:
    """Return the names of the sample images.

    Examples
    --------
    >>> list_samples()
    ['soil_256', 'soil_512_labelled', 'realistic_256']
    """
    return list(SAMPLES) + list(REALISTIC_SAMPLES)


def sample_phases(name: str) -> tuple[str, ...]:
    """Return the phase names of sample ``name``: its truth map holds indices into them.

    Examples
    --------
    >>> sample_phases("realistic_256")[-1]
    'labelled cells'
    """
    sample_paths(name)  # checks the name
    return REALISTIC_PHASES if name in REALISTIC_SAMPLES else PHASES


def sample_paths(name: str, folder=None) -> tuple[Path, Path]:
    """Return the paths of the counts TIFF and the truth TIFF of sample ``name`` in ``folder``.

    Parameters
    ----------
    name : str
        One of :func:`list_samples`.
    folder : path-like, optional
        Where the files are; default :data:`DATA_DIR`.

    Returns
    -------
    tuple of Path
        ``<name>.tif`` and ``<name>_truth.tif``.

    Raises
    ------
    NanoSIMSError
        If ``name`` is not a sample.

    Examples
    --------
    >>> [path.name for path in sample_paths("soil_256")]
    ['soil_256.tif', 'soil_256_truth.tif']
    """
    if name not in list_samples():
        raise NanoSIMSError(f"no sample named {name!r}; the samples are {list_samples()}.")
    folder = Path(DATA_DIR if folder is None else folder)
    return folder / f"{name}.tif", folder / f"{name}_truth.tif"


def load_sample(name: str):
    """Load a sample image and its true phase map.

    Parameters
    ----------
    name : str
        One of :func:`list_samples`.

    Returns
    -------
    image : NanoSIMSImage
        The counts, read with :func:`~nanosims_helpers.io.loading.load_image`; the realistic
        samples keep their planes (``image.planes``).
    truth : ndarray of int, shape (y, x)
        Index into :func:`sample_phases` of every pixel: :data:`~nanosims_helpers.teaching.synthetic.PHASES`
        for the ``soil_`` samples, :data:`~nanosims_helpers.teaching.realistic.REALISTIC_PHASES` for the
        ``realistic_`` ones (whose noise-free expected counts
        ``simulate_realistic_image(**REALISTIC_SAMPLES[name]).expected`` gives).

    Raises
    ------
    NanoSIMSError
        If ``name`` is not a sample or its files are missing.

    Examples
    --------
    >>> image, truth = load_sample("soil_256")
    >>> image.shape, truth.shape
    ((256, 256, 7), (256, 256))
    """
    image_path, truth_path = sample_paths(name)
    for path in (image_path, truth_path):
        if not path.is_file():
            raise NanoSIMSError(
                f"sample {name!r}: {path} is missing. The sample files live in the data/ folder of "
                "the kit's repository: run from a clone of the kit (not a copy of the package alone), "
                "or write them again with `python tools/make_samples.py`."
            )
    image = load_image(image_path, keep_planes=name in REALISTIC_SAMPLES)
    return image, read_truth(truth_path, sample_phases(name))


def write_sample(name: str, folder=None) -> tuple[Path, Path]:
    """Simulate sample ``name`` with its recorded parameters and write its two TIFFs to ``folder``.

    Returns
    -------
    tuple of Path
        The counts TIFF and the truth TIFF.
    """
    image_path, truth_path = sample_paths(name, folder)
    if name in REALISTIC_SAMPLES:
        parameters = REALISTIC_SAMPLES[name]
        simulated = simulate_realistic_image(**parameters)
        image, truth = simulated.image, simulated.truth
    else:
        parameters = SAMPLES[name]
        image, truth = simulate_soil_image(**parameters)
    image_path.parent.mkdir(parents=True, exist_ok=True)
    save_image_tiff(image, image_path)
    write_truth(truth, truth_path, {"sample": name, "parameters": parameters}, sample_phases(name))
    return image_path, truth_path


def write_truth(truth: np.ndarray, path, extra: dict | None = None, phases=PHASES) -> None:
    """Write a phase map as a uint8 TIFF whose description lists the ``phases`` names (JSON).

    The description also holds the array ``shape``, as tifffile expects of a JSON description,
    so ``tifffile.imread`` reads the file too.
    """
    truth = np.asarray(truth, dtype=np.uint8)
    description = json.dumps({"shape": list(truth.shape), "phases": list(phases), **(extra or {})})
    tifffile.imwrite(path, truth, description=description, metadata=None)


def read_truth(path, phases=PHASES) -> np.ndarray:
    """Read a phase map written by :func:`write_truth` as an int array.

    Raises
    ------
    NanoSIMSError
        If the file does not list the ``phases`` (default :data:`~nanosims_helpers.teaching.synthetic.PHASES`).
    """
    path = Path(path)
    with tifffile.TiffFile(path) as tif:
        description = tif.pages[0].description
        truth = tif.pages[0].asarray().astype(np.intp)
    try:
        stored = json.loads(description)["phases"]
    except (ValueError, KeyError, TypeError):
        stored = None
    if stored != list(phases):
        raise NanoSIMSError(
            f"{path.name}: not a truth map of this kit (its description does not list the phases "
            f"{list(phases)}). Write it again with `python tools/make_samples.py`."
        )
    return truth

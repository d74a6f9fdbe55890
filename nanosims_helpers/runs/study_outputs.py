"""Files written for a study clustered with one model (``nanosims-cluster --joint`` or ``--model``).

For each image, the usual files of :mod:`nanosims_helpers.runs.outputs` (label TIFF, profiles,
scores, overview), labelled with the study model's clusters; over the study:

* ``model.json``: the model (:func:`nanosims_helpers.study.save_model`), for ``--model`` later;
* ``study_profiles.csv``: one profile per cluster over every pixel of every image: pixels, area
  fraction, images where the cluster occurs, mean and standard deviation of the counts and mean
  scaled value of each mass;
* ``study_fractions.csv``: the area fraction of each cluster in each image;
* ``study_fractions.png``: the same as a stacked bar per image, clusters in the colours of the maps.

The study tables are built from small per-image sums (:func:`cluster_sums`), so an image's
pixels never have to be kept, and they are added in input order, so the tables are the same
whichever worker labelled which image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..defaults import DEFAULT_MIN_REGION_PIXELS
from ..errors import NanoSIMSError
from ..io.files import replacing
from ..io.loading import load_image
from ..metrics import score_table
from ..plot import plot_cluster_fractions
from ..study import StudyModel, apply_model, save_model, study_split
from ..version import kit_version
from .outputs import (
    note_empty_regions,
    write_csv,
    write_isotope_outputs,
    write_outputs,
)

__all__ = [
    "STUDY_FILES", "cluster_sums", "label_file", "study_fractions_table", "study_profiles_table",
    "write_study_outputs",
]

#: The files written over a study, by kind.
STUDY_FILES = {
    "model": "model.json",
    "profiles": "study_profiles.csv",
    "fractions": "study_fractions.csv",
    "figure": "study_fractions.png",
}
FIGURE_DPI = 80


def cluster_sums(counts, features, labels, n_clusters: int) -> dict[str, np.ndarray]:
    """Per cluster of one image: its pixels, and the sums of counts, squared counts and scaled values per mass.

    Parameters
    ----------
    counts, features : ndarray, shape (y, x, mass)
        Ion counts of the model's masses, and the features the model labelled.
    labels : ndarray of int, shape (y, x)
        Cluster numbers 0..n_clusters-1.
    n_clusters : int
        The model's k.

    Returns
    -------
    dict
        ``"pixels"`` (k,), ``"counts"``, ``"squares"`` and ``"scaled"`` (k, mass).

    Examples
    --------
    >>> counts = np.array([[[1.0], [3.0], [5.0]]])
    >>> sums = cluster_sums(counts, counts / 5, np.array([[0, 0, 2]]), 3)
    >>> sums["pixels"].tolist(), sums["counts"].ravel().tolist(), sums["squares"].ravel().tolist()
    ([2, 0, 1], [4.0, 0.0, 5.0], [10.0, 0.0, 25.0])
    """
    flat = np.asarray(labels).ravel()

    def sums(values):
        table = np.asarray(values, dtype=float).reshape(flat.size, -1)
        return np.stack([np.bincount(flat, weights=column, minlength=n_clusters) for column in table.T], axis=1)

    return {
        "pixels": np.bincount(flat, minlength=n_clusters),
        "counts": sums(counts),
        "squares": sums(np.square(counts)),
        "scaled": sums(features),
    }


def _scores(features, labels, random_state: int) -> dict:
    """The scores of one image's labels, or None each with the reason, where fewer than 2 clusters occur."""
    try:
        return score_table(features, labels, random_state=random_state)
    except NanoSIMSError as exc:
        reason = " ".join(str(exc).split())
        return {"silhouette": None, "calinski_harabasz": None, "davies_bouldin": None, "entropy": None,
                "scores_not_computed": reason}


def label_file(path: Path, prefix: str, out_dir: Path, model: StudyModel, model_file: str, ratios=None,
               min_region_pixels: int = DEFAULT_MIN_REGION_PIXELS) -> tuple[dict, dict]:
    """Label one image with ``model``, write its files, and return its record and :func:`cluster_sums`.

    What each worker runs for one image of ``nanosims-cluster --joint``/``--model``; with
    ``ratios`` also the isotope tables (:func:`~nanosims_helpers.runs.outputs.write_isotope_outputs`),
    of clusters labelled on half the counts of the ratios' masses and tested on the other half
    (:func:`~nanosims_helpers.study.study_split`, with the model's seed: a ``--joint`` model
    was fitted on the same halves). A model fitted on these images without ``ratios`` has seen
    the held-out halves.

    Raises
    ------
    NanoSIMSError
        If the image cannot be read, lacks a mass of the model or of the ratios.
    """
    if Path(path).is_dir():
        raise NanoSIMSError(f"{path}: the folder holds no image files; give image files or their folder.")
    image = load_image(path)
    # with ratios, labelled on half the counts of their masses (as the model was fitted), tested on the other half
    split = study_split(image, model.masses, ratios, random_state=model.random_state)
    result = apply_model(model, image if split is None else split.selection)
    used = image.select(model.masses)
    scores = _scores(result.features, result.labels, model.random_state)
    record = {
        "input": str(path),
        "k": model.n_clusters,
        "k_chosen": f"the study model {model_file}",
        "method": model.method,
        "n_components": None,
        "preprocessing": model.preprocessing,
        "random_state": model.random_state,
        "masses": list(used.masses),
        "masses_not_used": [m for m in image.masses if m not in used.masses],
        "shape": list(image.shape[:2]),
        "pixel_size_um": image.pixel_size_um,
        **scores,
        "scores_computed_on": f"the {model.preprocessing} scaled intensities of the clustered masses",
        "model": model_file,
        "kit_version": kit_version(),
    }
    if ratios:
        record.update(write_isotope_outputs(image, result.labels, ratios, out_dir, prefix, min_region_pixels,
                                            split=split))
        note_empty_regions(record, min_region_pixels)
    write_outputs(used, result.features, result.labels, record, out_dir, prefix, n_clusters=model.n_clusters)
    return record, cluster_sums(used.counts, result.features, result.labels, model.n_clusters)


def study_profiles_table(sums, masses) -> pd.DataFrame:
    """One row per cluster and mass over the whole study, from each image's :func:`cluster_sums`.

    Returns
    -------
    DataFrame
        Columns ``cluster, mass, pixels, area_fraction, images, mean_counts, std_counts,
        mean_scaled``: pixels of the cluster over the study, their fraction of all pixels, the
        number of images where the cluster occurs, and the mean and standard deviation
        (population) of every pixel's counts. A cluster with no pixel anywhere has 0 pixels
        and empty statistics.

    Examples
    --------
    >>> one = cluster_sums(np.array([[[1.0], [3.0]]]), np.zeros((1, 2, 1)), np.array([[0, 1]]), 2)
    >>> two = cluster_sums(np.array([[[5.0], [7.0]]]), np.zeros((1, 2, 1)), np.array([[0, 0]]), 2)
    >>> table = study_profiles_table([one, two], ["12C"])
    >>> table[["cluster", "pixels", "images", "mean_counts"]].values.tolist()
    [[0.0, 3.0, 2.0, 4.333333333333333], [1.0, 1.0, 1.0, 3.0]]
    """
    sums = list(sums)
    if not sums:
        raise NanoSIMSError("study: no image was labelled, so there is no study profile; see the errors above.")
    total = {key: np.sum([image[key] for image in sums], axis=0) for key in sums[0]}
    pixels = total["pixels"]
    images = np.sum([image["pixels"] > 0 for image in sums], axis=0)
    n_clusters, n_masses = total["counts"].shape
    present = pixels > 0
    mean = np.full(total["counts"].shape, np.nan)
    mean[present] = total["counts"][present] / pixels[present, None]
    variance = np.full(mean.shape, np.nan)
    variance[present] = np.maximum(total["squares"][present] / pixels[present, None] - mean[present] ** 2, 0.0)
    scaled = np.full(mean.shape, np.nan)
    scaled[present] = total["scaled"][present] / pixels[present, None]
    masses = [str(m) for m in masses]
    return pd.DataFrame({
        "cluster": np.repeat(np.arange(n_clusters), n_masses),
        "mass": pd.Categorical(masses * n_clusters, categories=masses, ordered=True),
        "pixels": np.repeat(pixels, n_masses),
        "area_fraction": np.repeat(pixels / pixels.sum(), n_masses),
        "images": np.repeat(images, n_masses),
        "mean_counts": mean.ravel(),
        "std_counts": np.sqrt(variance).ravel(),
        "mean_scaled": scaled.ravel(),
    })


def study_fractions_table(paths, prefixes, sums) -> pd.DataFrame:
    """The area fraction of each cluster in each image: columns ``file, output_prefix, pixels, cluster_0, ...``.

    Examples
    --------
    >>> sums = [{"pixels": np.array([3, 1])}, {"pixels": np.array([0, 2])}]
    >>> study_fractions_table(["a.im", "b.im"], ["a", "b"], sums).values.tolist()
    [['a.im', 'a', 4, 0.75, 0.25], ['b.im', 'b', 2, 0.0, 1.0]]
    """
    pixels = np.array([image["pixels"] for image in sums])
    totals = pixels.sum(axis=1)
    table = pd.DataFrame({"file": [str(f) for f in paths], "output_prefix": list(prefixes), "pixels": totals})
    fractions = pd.DataFrame(pixels / totals[:, None], columns=[f"cluster_{c}" for c in range(pixels.shape[1])])
    return pd.concat([table, fractions], axis=1)  # at once: a column at a time fragments a table of many clusters


def write_study_fractions_png(fractions: pd.DataFrame, path) -> Path:
    """Draw the fractions table (:func:`study_fractions_table`) as a stacked bar per image and save it."""
    columns = [c for c in fractions.columns if c.startswith("cluster_")]
    n_images = len(fractions)
    figure = Figure(figsize=(min(5.0 + 0.35 * n_images, 16.0), 5.5), layout="constrained")
    plot_cluster_fractions(fractions[columns].to_numpy(), list(fractions["output_prefix"]), ax=figure.subplots())
    with replacing(path) as temporary:
        figure.savefig(temporary, dpi=FIGURE_DPI)
    return Path(path)


def write_study_outputs(out_dir, model: StudyModel, paths, prefixes, sums, *, save: bool = True) -> dict[str, Path]:
    """Write the model (if ``save``), the study profiles, the fractions table and its figure into ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Existing folder.
    model : StudyModel
        The model every image was labelled with.
    paths, prefixes : sequence of str
        The labelled images and their output prefixes, in input order.
    sums : sequence of dict
        Each image's :func:`cluster_sums`, in the same order.
    save : bool
        Also write ``model.json`` (not when the model was read from a file).

    Returns
    -------
    dict of str to Path
        The files written, keyed like :data:`STUDY_FILES`.
    """
    out_dir = Path(out_dir)
    written = {kind: out_dir / name for kind, name in STUDY_FILES.items()}
    if save:
        save_model(model, written["model"])
    else:
        del written["model"]
    write_csv(study_profiles_table(sums, model.masses), written["profiles"])
    fractions = study_fractions_table(paths, prefixes, sums)
    write_csv(fractions, written["fractions"])
    write_study_fractions_png(fractions, written["figure"])
    return written

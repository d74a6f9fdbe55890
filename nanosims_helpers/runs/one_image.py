"""One input of ``nanosims-cluster``: load, cluster, score and write its files; return its record.

The record (:func:`cluster_file`'s value) holds every setting, the scores and the k chosen; it
is written as ``STEM_scores.json`` and summed up in one row of ``summary.csv``
(:mod:`nanosims_helpers.runs.many_images`).
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

from ..defaults import DEFAULT_COMPONENTS, DEFAULT_MAX_CLUSTERS
from ..errors import NanoSIMSError
from ..io.loading import SUPPORTED_SUFFIXES, load_image
from ..isotopes import split_for_ratios
from ..methods import get_method, load
from ..metrics import score_table
from ..pipeline import cluster_image
from ..preprocessing import preprocess
from ..split_half import recommend_k
from ..version import kit_version
from .outputs import CONFIDENCE_SUFFIX, note_empty_regions, write_confidence_tiff, write_isotope_outputs, write_outputs

__all__ = ["AUTO_K_NAMES", "SCORE_NAMES", "choose_k", "cluster_file"]

#: The scores of every input, in its record and in the summary.
SCORE_NAMES = ("silhouette", "calinski_harabasz", "davies_bouldin", "entropy")
#: What -k auto adds to the scores JSON and the summary: the knee, and the chosen k's split-half scores.
AUTO_K_NAMES = ("entropy_knee", "split_half_f1", "split_half_ari")


def _check_not_folder(path: Path) -> None:
    if path.is_dir():
        raise NanoSIMSError(
            f"{path}: the folder holds no {', '.join(SUPPORTED_SUFFIXES)} files; give image files or their folder."
        )


def choose_k(image, args: argparse.Namespace):
    """Recommend k for ``-k auto`` by sweeping k: :func:`nanosims_helpers.split_half.recommend_k`, with
    the halves clustered by the method, preprocessing and masses of the command line, and the
    method's boundary tolerance (:class:`~nanosims_helpers.methods.Method`).

    Returns
    -------
    KChoice
        The k, its split-half scores, the entropy knee and the rule, for the scores JSON.

    Raises
    ------
    NanoSIMSError
        If the image has too few pixels for ``--k-max`` clusters.
    """
    preprocessing = _preprocessing(args)
    cluster = partial(cluster_image, method=args.method, preprocessing=preprocessing, masses=list(image.masses),
                      n_components=args.components or DEFAULT_COMPONENTS)
    features = preprocess(image.counts, preprocessing, masses=image.masses)
    return recommend_k(image, args.k_max or DEFAULT_MAX_CLUSTERS, features=features, cluster=cluster,
                       tolerance_px=get_method(args.method).tolerance_px, random_state=args.random_state)


def _cluster(image, args: argparse.Namespace):
    """The clustering of ``image`` and, with ``-k auto``, the choice of k (else None).

    A method that counts its clusters fits the image once with its own count, and its
    recommender (``recommends_k``) checks that k on the halves; the others sweep k first
    (:func:`choose_k`), then cluster.
    """
    cluster = partial(cluster_image, image, method=args.method, preprocessing=_preprocessing(args),
                      n_components=args.components or DEFAULT_COMPONENTS, random_state=args.random_state)
    if args.clusters != "auto":
        return cluster(args.clusters), None
    method = get_method(args.method)
    if method.recommends_k:
        result = cluster(None)
        return result, load(method.recommends_k)(image, n_clusters=result.n_clusters,
                                                 tolerance_px=method.tolerance_px, random_state=args.random_state)
    choice = choose_k(image, args)
    return cluster(choice.k), choice


def cluster_file(path: Path, prefix: str, args: argparse.Namespace) -> dict:
    """Load, cluster, score and write the outputs of one input; return its scores and settings.

    Raises
    ------
    NanoSIMSError
        If the input cannot be read or clustered with these settings.
    """
    _check_not_folder(path)
    auto = args.clusters == "auto"
    # the planes give the two halves of the split-half check, and of the held-out counts of --ratios
    loaded = load_image(path, keep_planes=auto or bool(args.ratios))
    whole = loaded.for_clustering(args.masses)  # without --masses: every ion mass, SE and the like left out
    image, split = whole, None
    if args.ratios:  # clusters found on half the counts of the ratios' masses, tested on the other half
        split = split_for_ratios(loaded, args.ratios, whole.masses, random_state=args.random_state)
        image = split.selection.select(whole.masses)
    preprocessing = _preprocessing(args)
    result, choice = _cluster(image, args)
    scores = score_table(result.preprocessed, result.labels, random_state=args.random_state)
    record = {
        "input": str(path),
        "k": result.n_clusters,
        "k_chosen": f"auto: {choice.rule}" if auto else "given",
        **_auto_k_record(choice),
        **_settings(args),
        "masses": list(image.masses),
        "masses_not_used": [name for name in loaded.masses if name not in image.masses],
        "shape": list(image.shape[:2]),
        "pixel_size_um": image.pixel_size_um,
        **{name: scores[name] for name in SCORE_NAMES},
        "scores_computed_on": f"the {preprocessing} scaled intensities of the clustered masses",
        "kit_version": kit_version(),
    }
    if args.ratios:
        record.update(write_isotope_outputs(loaded, result.labels, args.ratios, args.out, prefix,
                                            args.min_region_pixels, split=split))
        note_empty_regions(record, args.min_region_pixels)
    write_outputs(whole, result.preprocessed, result.labels, record, args.out, prefix, shown=loaded,
                  confidence=result.confidence)
    if args.confidence:  # the command line lets it through only for methods that give one
        write_confidence_tiff(result.confidence, Path(args.out) / f"{prefix}{CONFIDENCE_SUFFIX}", image.pixel_size_um)
    return record


def _auto_k_record(choice) -> dict:
    """The entropy knee and split-half scores of ``-k auto`` (None for a given k), and the table."""
    if choice is None:
        return dict.fromkeys(AUTO_K_NAMES)
    return {
        "entropy_knee": choice.entropy_knee,
        "split_half_f1": choice.split_half_f1,
        "split_half_ari": choice.split_half_ari,
        "split_half_scores": choice.scores.to_dict("records"),
    }


def _settings(args: argparse.Namespace) -> dict:
    components = (args.components or DEFAULT_COMPONENTS) if get_method(args.method).takes_components else None
    return {"method": args.method, "n_components": components, "preprocessing": _preprocessing(args),
            "random_state": args.random_state}


def _preprocessing(args: argparse.Namespace) -> str:
    """The preprocessing asked for, or the method's default."""
    return args.preprocessing or get_method(args.method).preprocessing

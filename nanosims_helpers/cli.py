"""The ``nanosims-cluster`` command: cluster many NanoSIMS images from the shell, one call each.

For every input image it writes, into the output folder, a label map (TIFF), cluster profiles
(CSV), scores and settings (JSON) and an overview figure (PNG), see :mod:`nanosims_helpers.io.outputs`,
plus one ``summary.csv`` over all inputs. A bad input is reported in one line and skipped;
the exit status is 0 when every input was clustered, 1 when any failed or the run could not go on,
2 for a bad command line, 130 when interrupted. A run writes aside and then replaces the earlier
run's files in the output folder as a whole, or leaves them as they were (:func:`finish_run`).

``--joint`` clusters every input with one model fitted on the whole study, ``--model`` with a
saved one (:mod:`nanosims_helpers.study`, files in :mod:`nanosims_helpers.io.study_outputs`);
``--workers`` and ``--scheduler`` run the inputs in parallel (:mod:`nanosims_helpers.batch`).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import warnings
from functools import partial
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from .batch import Runner, check_scheduler_address, one_line, worker_limit
from .clustering import DEFAULT_THREADS, limit_threads
from .errors import NanoSIMSError
from .io.files import RunFolder, interrupts_ignored, read_manifest, remove_partial_files
from .io.loading import SUPPORTED_SUFFIXES, load_image
from .io.outputs import (
    DEFAULT_MIN_REGION_PIXELS,
    ISOTOPE_SUFFIXES,
    SUFFIXES,
    kit_version,
    note_empty_regions,
    write_csv,
    write_isotope_outputs,
    write_outputs,
)
from .isotopes import parse_ratios, split_for_ratios
from .metrics import score_table
from .pipeline import COUNT_METHODS, DEFAULT_METHOD, METHODS, cluster_features, cluster_image, default_preprocessing
from .preprocessing import PREPROCESSING, preprocess
from .split_half import TOLERANCE_PX, recommend_k
from .study import STUDY_SAMPLE_SIZE

__all__ = [
    "SUMMARY_NAME", "build_parser", "choose_k", "cluster_file", "collect_inputs", "kit_version", "main",
    "output_prefixes", "run_all", "run_study", "write_summary",
]

PROG = "nanosims-cluster"

#: The file written over all inputs, one row per input.
SUMMARY_NAME = "summary.csv"

SCORE_NAMES = ("silhouette", "calinski_harabasz", "davies_bouldin", "entropy")
#: What -k auto adds to the scores JSON and the summary: the knee, and the chosen k's split-half scores.
AUTO_K_NAMES = ("entropy_knee", "split_half_f1", "split_half_ari")
SUMMARY_COLUMNS = ("file", "status", "error", "output_prefix", "k", *AUTO_K_NAMES, *SCORE_NAMES, "enriched", "warnings")

DEFAULT_COMPONENTS = 2
DEFAULT_K_MAX = 31

EPILOG = f"""\
examples:
  {PROG} image.im --out results
      the spatial method (composition features, phases found away from boundaries, Potts
      clean-up), k chosen automatically: the largest k, up to the knee of the entropy curve over
      k = 2..31, whose clusters all come back when two halves of the counts (odd and even planes,
      or every ion shared out at random) are clustered apart (split-half F1 >= 0.85)
  {PROG} image.im --out results --k-max 12
      the same, with the entropy curve over k = 2..12 only (faster)
  {PROG} image.im --out results -k 6 --method kmeans
      pixel-by-pixel k-means on asinh-scaled counts (the kit's earlier default)
  {PROG} data/ --out results -k 5 --method hierarchical
      every .tif/.tiff/.im file in the folder data/, Ward clustering into 5 clusters
  {PROG} a.tif b.tif --out results -k 4 --method pca-kmeans --components 3
      k-means on the first 3 principal components
  {PROG} image.im --out results --masses 12C,16O,12C14N --preprocessing asinh+zscore
  {PROG} image.im --out results --ratios 13C/12C,12C15N/12C14N --min-region-pixels 20
      also isotope ratios per cluster and per region, with counting errors and enrichment tests:
      the clusters are found on half the counts of these masses (odd/even planes, or each ion
      sent to a half at random, seeded by --seed) and tested on the other half
  {PROG} study/ --out results --joint -k 5 --workers 2
      one model for all images of study/: the spatial method's phases found once, on pixels of
      every image (cluster 2 is the same phase in every image), 2 images at a time; also writes
      model.json and the study_*.csv/png files below
  {PROG} new/ --out results_new --model results/model.json
      label new images with the clusters of that study
  {PROG} study/ --out results --joint -k 5 --scheduler tcp://10.0.0.5:8786
      run the images on the workers of a Dask cluster (see the README for HPC queues)

For each input, DIR receives STEM_labels.tif (cluster number of each pixel, opens in Fiji),
STEM_profiles.csv (per cluster and mass: pixels, area fraction, counts, mean scaled value),
STEM_scores.json (scores and every setting used) and STEM_overview.png; with --ratios,
STEM_isotopes.csv and STEM_regions.csv; over all inputs, {SUMMARY_NAME}. With --joint or
--model also model.json (--joint), study_profiles.csv (each cluster over the study),
study_fractions.csv and study_fractions.png (area of each cluster in each image).
Exit status: 0 all inputs clustered, 1 some failed or the run could not go on, 2 bad command line
(nothing ran), 130 interrupted. A run that clusters an input replaces the files of the earlier run
in DIR; one that clusters none, fails or is interrupted leaves them as they were.
"""


def _whole_number(text: str, minimum: int, *, expected: str, too_small: str) -> int:
    """Parse a whole number of at least ``minimum``; ``expected`` and ``too_small`` word the errors."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{value}: {too_small}")
    return value


def _n_clusters(text: str):
    """Parse ``-k``: ``"auto"`` or a whole number of at least 2."""
    if text.strip().lower() == "auto":
        return "auto"
    return _whole_number(text, 2, expected="a whole number of clusters or 'auto'",
                         too_small="a clustering needs at least 2 clusters")


def _k_max(text: str) -> int:
    """Parse ``--k-max``: a whole number of at least 4 (the entropy knee needs k = 2..4 at least)."""
    return _whole_number(text, 4, expected="a whole number of clusters, at least 4",
                         too_small="the entropy knee needs k = 2..4 at least; use 4 or more")


def _positive_int(text: str) -> int:
    return _whole_number(text, 1, expected="a whole number", too_small="use 1 or more")


def _threads(text: str) -> int | None:
    """Parse ``--threads``: a whole number of at least 1, or 0 for the libraries' default."""
    value = _whole_number(text, 0, expected="a whole number of threads", too_small="use 1 or more, or 0 for all")
    return value or None


#: Largest seed: NumPy's and scikit-learn's random generators take seeds 0 .. 2**32 - 1.
MAX_SEED = 2**32 - 1

#: Fewest pixels --sample-size may give --joint: the phases are found among micro-clusters of the sample.
MIN_SAMPLE_SIZE = 1000


def _seed(text: str) -> int:
    """Parse ``--random-state``: a whole number from 0 to :data:`MAX_SEED`."""
    value = _whole_number(text, 0, expected="a whole number from 0 to 4294967295",
                          too_small="a seed is a whole number from 0 to 4294967295")
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError(f"{value}: a seed is a whole number from 0 to {MAX_SEED}")
    return value


def _scheduler(text: str) -> str:
    """Parse ``--scheduler``: a Dask scheduler's address (its form only; :class:`Runner` connects)."""
    with _usage_error(prefix="scheduler "):
        return check_scheduler_address(text)


@contextlib.contextmanager
def _usage_error(prefix: str):
    """Turn the kit's error in the block into argparse's (the message without ``prefix``)."""
    try:
        yield
    except NanoSIMSError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(prefix)) from None


def _mass_list(text: str) -> list[str]:
    """Parse ``--masses 12C,16O``: comma-separated names, none empty."""
    masses = [name.strip() for name in text.split(",")]
    if not all(masses):
        raise argparse.ArgumentTypeError(f"{text!r}: give mass names separated by commas, e.g. 12C,16O,12C14N")
    return masses


def _ratio_list(text: str) -> list:
    """Parse ``--ratios 13C/12C,12C15N/12C14N``."""
    try:
        return parse_ratios(text)
    except NanoSIMSError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("ratios: ")) from None


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``nanosims-cluster``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Cluster the pixels of NanoSIMS images (TIFF or Cameca .im) and save maps, "
        "profiles, scores and figures.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files (.tif, .tiff, .im) or folders of them")
    parser.add_argument(
        "-o", "--out", required=True, type=Path, metavar="DIR", help="output folder (created if needed)"
    )
    parser.add_argument(
        "--method", choices=METHODS,
        help=f"clustering method (default: {DEFAULT_METHOD}, also the method of --joint and --model)"
    )
    parser.add_argument(
        "-k", "--clusters", type=_n_clusters, default="auto", metavar="N|auto",
        help="number of clusters, or 'auto': the largest k up to the knee of the entropy curve that two "
        "independent halves of the counts reproduce (split-half check; default: auto)",
    )
    parser.add_argument(
        "--k-max", type=_k_max, metavar="N",
        help=f"largest k of the entropy curve of -k auto, at least 4 (default: {DEFAULT_K_MAX})",
    )
    parser.add_argument(
        "--preprocessing", choices=sorted(PREPROCESSING), metavar="NAME",
        help=f"scaling of the counts before clustering: {', '.join(sorted(PREPROCESSING))} "
        f"(default: {default_preprocessing('spatial')} for --method spatial, "
        f"{default_preprocessing('kmeans')} for the others)",
    )
    parser.add_argument(
        "--masses", type=_mass_list, metavar="M1,M2,...",
        help="cluster only these masses, e.g. 12C,16O,12C14N (spaces in names ignored; default: every ion "
        "mass, leaving out secondary-electron and similar channels such as SE)",
    )
    parser.add_argument(
        "--random-state", "--seed", dest="seed", type=_seed, default=0, metavar="N",
        help=f"seed of every random step, 0 to {MAX_SEED}: the same seed gives the same results (default: 0)",
    )
    parser.add_argument(
        "--components", type=_positive_int, metavar="N",
        help=f"principal components kept by --method pca-kmeans (default: {DEFAULT_COMPONENTS})",
    )
    parser.add_argument(
        "--threads", type=_threads, default=DEFAULT_THREADS, metavar="N",
        help=f"threads for the numerical libraries, 0 for one per core (default: {DEFAULT_THREADS}, "
        "fastest on a busy or small machine)",
    )
    parser.add_argument(
        "--ratios", type=_ratio_list, metavar="A/B,...",
        help="also write STEM_isotopes.csv and STEM_regions.csv for these ratios, minor isotope first, "
        "e.g. 13C/12C,12C15N/12C14N (12C15N/12C14N is read as 15N/14N; A/B=0.37 gives a reference); "
        "clustered on half the counts of their masses, tested on the other half",
    )
    parser.add_argument(
        "--min-region-pixels", type=lambda text: _whole_number(text, 2, expected="a whole number of pixels",
                                                               too_small="a region needs 2 or more pixels"),
        default=DEFAULT_MIN_REGION_PIXELS, metavar="N",
        help=f"smallest connected patch of a cluster in STEM_regions.csv (default: {DEFAULT_MIN_REGION_PIXELS})",
    )
    _add_study_arguments(parser)
    parser.add_argument("--traceback", action="store_true", help="stop at the first failure and show the traceback")
    parser.add_argument("--version", action="version", version=f"%(prog)s {kit_version()}")
    return parser


def _add_study_arguments(parser: argparse.ArgumentParser) -> None:
    """Options for many images: one model for the study, and where the images run."""
    group = parser.add_argument_group("many images")
    model = group.add_mutually_exclusive_group()
    model.add_argument(
        "--joint", action="store_true",
        help="find the phases of the default method once, on pixels sampled from every input, then label "
        "every input with them, e.g. --joint -k 5 (default: each input clustered on its own)",
    )
    model.add_argument(
        "--model", type=Path, metavar="FILE",
        help="label the inputs with a saved study model, e.g. --model results/model.json",
    )
    group.add_argument(
        "--sample-size", metavar="N",
        type=lambda text: _whole_number(text, MIN_SAMPLE_SIZE, expected="a whole number of pixels",
                                        too_small=f"the study's phases need {MIN_SAMPLE_SIZE} pixels or more"),
        help=f"pixels sampled over all inputs to fit --joint, {MIN_SAMPLE_SIZE} or more, e.g. --sample-size 200000 "
        f"(default: {STUDY_SAMPLE_SIZE})",
    )
    where = group.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=_positive_int, default=1, metavar="N",
        help="run N inputs at a time in local worker processes, e.g. --workers 4, at most one per input, per core "
        "and per GB of free memory (default: 1, in this process)",
    )
    where.add_argument(
        "--scheduler", metavar="ADDRESS", type=_scheduler,
        help="run the inputs on a Dask cluster, e.g. --scheduler tcp://10.0.0.5:8786 (its workers need the kit)",
    )


def _check_study_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.sample_size is not None and not args.joint:
        parser.error("--sample-size applies only to --joint")
    if args.joint or args.model is not None:
        option = "--joint" if args.joint else "--model"
        fixed = [("--method", args.method not in (None, DEFAULT_METHOD)), ("--preprocessing", args.preprocessing),
                 ("--components", args.components)]
        if args.model is not None:
            fixed += [("-k", args.clusters != "auto"), ("--k-max", args.k_max is not None), ("--masses", args.masses)]
        given = [name for name, value in fixed if value]
        if given:
            parser.error(f"{option} uses the {DEFAULT_METHOD} method's composition features, and a saved model "
                         f"fixes k and the masses; leave out {', '.join(given)}")
    if args.joint and args.clusters == "auto":
        parser.error("--joint needs a number of clusters, e.g. --joint -k 5; choose it on a few typical images "
                     "first (without --joint, k is chosen for each image and written to summary.csv)")
    if args.method is None:
        args.method = DEFAULT_METHOD


def collect_inputs(inputs) -> list[Path]:
    """Return the image files named by ``inputs``: files as given, folders replaced by their images.

    A folder contributes its ``.tif``, ``.tiff`` and ``.im`` files (not sub-folders), sorted by
    name, except the files an earlier run of this command wrote there (:func:`earlier_run_files`);
    a folder without any, or a path that does not exist, is kept so that it is reported as a
    failed input. A file named twice, under the same path or another (a symbolic or hard link to
    it), is kept once (see :func:`find_inputs`, which also counts them).

    Examples
    --------
    >>> collect_inputs(["a.tif", "b.im", "a.tif"])
    [PosixPath('a.tif'), PosixPath('b.im')]
    """
    return find_inputs(inputs)[0]


def find_inputs(inputs) -> tuple[list[Path], int]:
    """:func:`collect_inputs`, and how many paths were left out as the same file as an earlier one."""
    found: dict[object, Path] = {}
    repeats = 0
    for path in map(Path, inputs):
        images = _folder_images(path) if path.is_dir() else []
        for image in images or [path]:
            key = _file_identity(image)
            repeats += key in found
            found.setdefault(key, image)
    return list(found.values()), repeats


def _file_identity(path: Path):
    """What makes two paths one file: device and inode (links included), else the resolved path."""
    try:
        status = path.stat()
    except OSError:
        return path.resolve()
    return (status.st_dev, status.st_ino)


def _folder_images(folder: Path) -> list[Path]:
    written = set(earlier_run_files(folder))
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and p.name not in written)


def earlier_run_files(folder) -> list[str]:
    """The names of the files an earlier run of this command kept in ``folder`` (which may not exist).

    Read from the list each run writes (:data:`~nanosims_helpers.io.files.MANIFEST_NAME`); in a
    folder written by a kit without that list, the summary's files, study files and every
    output prefix's files of the summary.

    Examples
    --------
    >>> earlier_run_files("no/such/folder")
    []
    """
    from .io.study_outputs import STUDY_FILES

    folder = Path(folder)
    listed = read_manifest(folder)
    if listed is not None:
        return listed
    try:
        prefixes = pd.read_csv(folder / SUMMARY_NAME, usecols=["output_prefix"])["output_prefix"]
    except (OSError, ValueError, pd.errors.ParserError):  # no summary, or not one of this command's
        return []
    suffixes = [*SUFFIXES.values(), *ISOTOPE_SUFFIXES.values()]
    return [SUMMARY_NAME, *STUDY_FILES.values(),
            *(f"{prefix}{suffix}" for prefix in prefixes.dropna().astype(str) for suffix in suffixes)]


def output_prefixes(paths) -> list[str]:
    """Return one output file prefix per input: its stem, made unique by ``_2``, ``_3`` ...

    Case is ignored when comparing, so outputs do not overwrite each other on Windows or macOS.

    Examples
    --------
    >>> output_prefixes(["a/soil.tif", "b/soil.tif", "soil.im", "other.tif"])
    ['soil', 'soil_2', 'soil_3', 'other']
    """
    taken: set[str] = set()
    prefixes = []
    for path in map(Path, paths):
        prefix, number = path.stem, 2
        while prefix.lower() in taken:
            prefix, number = f"{path.stem}_{number}", number + 1
        taken.add(prefix.lower())
        prefixes.append(prefix)
    return prefixes


def _check_not_folder(path: Path) -> None:
    if path.is_dir():
        raise NanoSIMSError(
            f"{path}: the folder holds no {', '.join(SUPPORTED_SUFFIXES)} files; give image files or their folder."
        )


def choose_k(image, scaled, args: argparse.Namespace):
    """Recommend k for ``-k auto``: :func:`nanosims_helpers.split_half.recommend_k`, with the halves
    clustered by the method, preprocessing and masses of the command line.

    Returns
    -------
    KChoice
        The k, its split-half scores, the entropy knee and the rule, for the scores JSON.

    Raises
    ------
    NanoSIMSError
        If the image has too few pixels for ``--k-max`` clusters.
    """
    cluster = partial(
        cluster_image, method=args.method, preprocessing=_preprocessing(args), masses=list(image.masses),
        n_components=args.components or DEFAULT_COMPONENTS,
    )
    # spatial methods give coherent maps, whose boundaries may move by the beam blur between the
    # halves; the speckled maps of pixel-by-pixel methods would agree everywhere within one pixel
    tolerance = TOLERANCE_PX if args.method in COUNT_METHODS else 0
    return recommend_k(image, args.k_max or DEFAULT_K_MAX, features=scaled, cluster=cluster, tolerance_px=tolerance,
                       random_state=args.seed)


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
        split = split_for_ratios(loaded, args.ratios, whole.masses, random_state=args.seed)
        image = split.selection.select(whole.masses)
    preprocessing = _preprocessing(args)
    scaled = preprocess(image.counts, preprocessing, masses=image.masses)
    choice = choose_k(image, scaled, args) if auto else None
    k = choice.k if auto else args.clusters
    if args.method in COUNT_METHODS:
        result = cluster_image(image, k, method=args.method, preprocessing=preprocessing, random_state=args.seed)
    else:
        result = cluster_features(
            scaled, k, method=args.method, n_components=args.components or DEFAULT_COMPONENTS, random_state=args.seed
        )
    scores = score_table(scaled, result.labels, random_state=args.seed)
    record = {
        "input": str(path),
        "k": result.n_clusters,
        "k_chosen": f"auto: {choice.rule}" if auto else "given",
        **_auto_k_record(choice),
        **_settings(args),
        "masses": list(image.masses),
        "not_clustered": [name for name in loaded.masses if name not in image.masses],
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
    write_outputs(whole, scaled, result.labels, record, args.out, prefix, shown=loaded)
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
    components = (args.components or DEFAULT_COMPONENTS) if args.method == "pca-kmeans" else None
    return {"method": args.method, "n_components": components, "preprocessing": _preprocessing(args), "seed": args.seed}


def _preprocessing(args: argparse.Namespace) -> str:
    """The preprocessing asked for, or the method's default."""
    return args.preprocessing or default_preprocessing(args.method)


def summary_row(path: Path, prefix: str, outcome) -> dict:
    """The summary row of one input's :class:`~nanosims_helpers.batch.Outcome`; report its failure or warnings."""
    row = {"file": str(path), "output_prefix": prefix}
    if not outcome.ok:
        error = as_options(outcome.error)
        tqdm.write(f"{PROG}: error: {error}", file=sys.stderr)
        return {**row, "status": "failed", "error": error}
    for note in outcome.warnings:
        tqdm.write(f"{PROG}: warning: {one_line(path, note)}", file=sys.stderr)
    record = outcome.value[0] if isinstance(outcome.value, tuple) else outcome.value  # (record, study sums)
    scores = {name: record.get(name) for name in (*AUTO_K_NAMES, *SCORE_NAMES)}
    return {**row, "status": "ok", "k": record["k"], **scores,
            "enriched": record.get("enriched", ""), "warnings": " | ".join(outcome.warnings)}


def write_summary(rows, path) -> None:
    """Write the summary rows as CSV, one per input, in :data:`SUMMARY_COLUMNS` order."""
    write_csv(pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)).astype({"k": "Int64", "entropy_knee": "Int64"}), path)


def run_all(paths, args: argparse.Namespace, rows: list, runner: Runner | None = None) -> None:
    """Cluster every input on its own (in ``runner``, here by default); put one summary row each in ``rows``.

    A progress bar counts finished inputs on a terminal. The summary file, in input order, is
    rewritten after each input, so it is up to date if the run is stopped.
    """
    prefixes = output_prefixes(paths)
    jobs = [(path, prefix, args) for path, prefix in zip(paths, prefixes)]
    _collect(runner or Runner(), cluster_file, jobs, list(range(len(paths))), paths, prefixes, args, rows)


def _collect(runner, function, jobs, indices, paths, prefixes, args, rows, found=None) -> dict:
    """Run ``jobs`` (for inputs ``indices``), keep ``rows`` in input order and the summary file current.

    Returns the value of every input that succeeded, by input index; ``found`` holds earlier rows by index.
    """
    found = {} if found is None else found
    values = {}
    with runner as active, contextlib.closing(
        active.run(function, jobs, labels=[paths[i] for i in indices], desc=PROG, reraise=args.traceback)
    ) as outcomes:
        for outcome in outcomes:
            index = indices[outcome.index]
            found[index] = summary_row(paths[index], prefixes[index], outcome)
            if outcome.ok:
                values[index] = outcome.value
            rows[:] = [found[i] for i in sorted(found)]
            write_summary(rows, args.out / SUMMARY_NAME)
    return values


def run_study(paths, args: argparse.Namespace, rows: list, runner: Runner | None = None, model=None) -> None:
    """``--joint``: fit one model on a sample of every input, then label each; ``--model``: label with ``model``.

    Writes each input's files, then the study files (:mod:`nanosims_helpers.io.study_outputs`).
    """
    from .io import study_outputs
    from .study import fit_model, sample_study, save_model

    prefixes = output_prefixes(paths)
    found = {}
    with runner or Runner() as active:
        model_file = str(args.model) if model is not None else study_outputs.STUDY_FILES["model"]
        if model is None:
            sample = sample_study(paths, masses=args.masses, sample_size=args.sample_size or STUDY_SAMPLE_SIZE,
                                  random_state=args.seed, runner=active, ratios=args.ratios)
            for failure in sample.failures:
                found[failure.index] = summary_row(paths[failure.index], prefixes[failure.index], failure)
            rows[:] = [found[i] for i in sorted(found)]
            write_summary(rows, args.out / SUMMARY_NAME)
            if sample.dropped_masses:
                dropped = "; ".join(f"{mass} (not in {', '.join(lacking)})" for mass, lacking in sample.dropped_masses)
                tqdm.write(f"{PROG}: warning: masses left out of the study model: {dropped}", file=sys.stderr)
            if not sample.images:
                return
            model = fit_model(sample, args.clusters)
            save_model(model, args.out / model_file)  # now: the maps that follow were made with it
        usable = [i for i in range(len(paths)) if i not in found]
        jobs = [(paths[i], prefixes[i], args.out, model, model_file, args.ratios, args.min_region_pixels)
                for i in usable]
        values = _collect(active, study_outputs.label_file, jobs, usable, paths, prefixes, args, rows, found)
    done = sorted(values)
    if done:
        study_outputs.write_study_outputs(
            args.out, model, [paths[i] for i in done], [prefixes[i] for i in done], [values[i][1] for i in done],
            save=False,
        )


#: How the library's argument names read on the command line, in the messages it passes on.
OPTION_NAMES = {"n_clusters": "-k", "random_state": "--random-state", "sample_size": "--sample-size",
                "min_region_pixels": "--min-region-pixels", "n_components": "--components"}


def as_options(message: str) -> str:
    """``message`` with the library's ``argument=value`` written as the command line's ``--option value``.

    Examples
    --------
    >>> as_options("n_clusters=5000: there are only 3360 pixels; use at most 3360 clusters.")
    '-k 5000: there are only 3360 pixels; use at most 3360 clusters.'
    """
    for name, option in OPTION_NAMES.items():
        message = re.sub(rf"(?<![\w.]){name}=(?=\S)", f"{option} ", message)
    return message


def _read_model(parser: argparse.ArgumentParser, args: argparse.Namespace):
    """The model of ``--model``, or None; a bad file is a bad command line."""
    if args.model is None:
        return None
    from .study import load_model

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        try:
            model = load_model(args.model)
        except NanoSIMSError as exc:
            parser.error(f"--model {' '.join(str(exc).split())}")
    for note in caught:
        print(f"{PROG}: warning: {' '.join(str(note.message).split())}", file=sys.stderr)
    return model


def main(argv=None) -> int:
    """Run ``nanosims-cluster`` with ``argv`` (default: the command line); return the exit status.

    Exit status: 0 every input clustered; 1 some input failed, or the run could not go on (one
    line says why); 2 a bad command line (nothing is run); 130 interrupted (Ctrl-C). What a run
    does to the output folder: see :func:`finish_run`.

    Examples
    --------
    From the shell, ``nanosims-cluster image.im --out results -k 5`` is, from Python,
    ``main(["image.im", "--out", "results", "-k", "5"])``.
    """
    try:
        return _main(argv)
    except KeyboardInterrupt:  # while starting or stopping, outside the run itself
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _main(argv) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.k_max is not None and args.clusters != "auto":
        parser.error("--k-max applies only to -k auto")
    _check_study_arguments(parser, args)
    if args.components is not None and args.method != "pca-kmeans":
        parser.error("--components applies only to --method pca-kmeans")
    model = _read_model(parser, args)
    paths, repeats = find_inputs(args.inputs)
    if repeats:
        print(f"{PROG}: note: {repeats} input path(s) name a file already listed (the same path, or a symbolic or "
              "hard link to it); each file is clustered once", file=sys.stderr)
    workers = args.workers
    if workers > 1:
        workers, note = worker_limit(workers, len(paths))
        if note:
            print(f"{PROG}: note: {note}", file=sys.stderr)
    folder = RunFolder(args.out)
    try:
        folder.open()
    except NanoSIMSError as exc:
        parser.error(f"--out {' '.join(str(exc).split())}")
    with folder:
        rows, stopped = [], None
        run_args = argparse.Namespace(**{**vars(args), "out": folder.staging})
        try:
            with _warnings_in_one_line(), limit_threads(args.threads), Runner(workers, args.scheduler) as runner:
                if args.joint or model is not None:
                    run_study(paths, run_args, rows, runner, model)
                else:
                    run_all(paths, run_args, rows, runner)
        except KeyboardInterrupt:
            stopped = "interrupted"
        except NanoSIMSError as exc:  # the run as a whole cannot go on: no scheduler, images sharing no mass
            stopped = as_options(" ".join(str(exc).split()))
        except OSError as exc:  # the summary could not be written: a full disk, a folder made read-only
            stopped = f"{args.out}: cannot write ({exc.strerror or exc})"
        with interrupts_ignored():
            return finish_run(folder, rows, output_prefixes(paths), stopped)


@contextlib.contextmanager
def _warnings_in_one_line():
    """Show the warnings of this process (outside the per-image jobs, which record theirs) in one line each."""

    def show(message, category, filename, lineno, file=None, line=None):
        tqdm.write(f"{PROG}: warning: {' '.join(str(message).split())}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def finish_run(folder: RunFolder, rows: list, prefixes: list, stopped: str | None = None) -> int:
    """Keep the run's files in the output folder, or not; say so in one line; return the exit status.

    The run's files replace the earlier run's (:func:`earlier_run_files`) when the run ended with
    at least one input clustered. A run that clustered none, or was stopped (``stopped``: an
    error line, or ``"interrupted"``), leaves an earlier run's files as they are; into a folder
    without one, it keeps what it finished. Only the files of inputs with an ``ok`` row of
    ``summary.csv`` are kept, so the summary lists every input whose files are there; ``prefixes``
    are the output prefixes of every input of the run.
    """
    n_inputs = len(prefixes)
    ok = sum(row["status"] == "ok" for row in rows)
    earlier = earlier_run_files(folder.path)
    summary = folder.path / SUMMARY_NAME
    if rows and (not earlier or (ok and stopped is None)):
        try:
            write_summary(rows, folder.staging / SUMMARY_NAME)  # with the last row, had the run stopped before it
            folder.keep(_kept_files(folder.staging, rows, prefixes), earlier)
            where = f"see {summary}"
        except (OSError, NanoSIMSError) as exc:
            stopped = stopped or f"{folder.path}: cannot write the results ({getattr(exc, 'strerror', None) or exc})"
            where = "nothing of this run was kept" + (f": the earlier results in {folder.path} are unchanged"
                                                      if earlier else "")
    elif rows:
        where = f"nothing of this run was kept: the earlier results in {folder.path} are unchanged"
    else:
        where = "nothing was written" if not earlier else f"the earlier results in {folder.path} are unchanged"
    done = f"{ok} of {n_inputs} image(s) clustered, {len(rows) - ok} failed"
    if stopped == "interrupted":
        print(f"{PROG}: interrupted after {done}; {where}", file=sys.stderr)
        return 130
    if stopped is not None:
        print(f"{PROG}: error: {stopped.rstrip('.')}; {done}; {where}", file=sys.stderr)
        return 1
    if not ok and rows and earlier:
        print(f"{PROG}: {done}; {where}", file=sys.stderr)
        return 1
    print(f"{done}; {where}")
    return 0 if ok == len(rows) == n_inputs else 1


def _kept_files(staging: Path, rows: list, prefixes) -> list[str]:
    """The files in ``staging`` to keep: every one, except those of inputs without an ``ok`` summary row."""
    remove_partial_files(staging)
    prefixes = sorted(prefixes, key=len, reverse=True)  # the longest first: soil_2_labels.tif is soil_2's
    good = {row["output_prefix"] for row in rows if row["status"] == "ok"}
    kept = []
    for path in sorted(staging.iterdir()):
        owner = next((p for p in prefixes if path.name.startswith(f"{p}_")), None)
        if path.is_file() and (owner is None or owner in good):
            kept.append(path.name)
    return kept

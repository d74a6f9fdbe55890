"""The ``nanosims-cluster`` command: cluster many NanoSIMS images from the shell, one call each.

For every input image it writes, into the output folder, a label map (TIFF), cluster profiles
(CSV), scores and settings (JSON) and an overview figure (PNG), see :mod:`nanosims_helpers.runs.outputs`,
plus one ``summary.csv`` over all inputs. A bad input is reported in one line and skipped;
the exit status is 0 when every input was clustered, 1 when any failed or the run could not go on,
2 for a bad command line, 130 when interrupted. A run writes aside and then replaces the earlier
run's files in the output folder as a whole, or leaves them as they were
(:func:`~nanosims_helpers.runs.many_images.finish_run`).

``--joint`` clusters every input with one model fitted on the whole study, ``--model`` with a
saved one (:mod:`nanosims_helpers.study`, files in :mod:`nanosims_helpers.runs.study_outputs`);
``--workers`` and ``--scheduler`` run the inputs in parallel (:mod:`nanosims_helpers.batch`).

This module reads the command line, and says what went wrong in one line; the runs themselves
are :mod:`nanosims_helpers.runs`, imported once the command line is read, so ``--help`` and a
bad option answer at once.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from pathlib import Path

from .batch import check_scheduler_address
from .defaults import (
    DEFAULT_COMPONENTS,
    DEFAULT_MAX_CLUSTERS,
    DEFAULT_MIN_REGION_PIXELS,
    DEFAULT_THREADS,
    MAX_SEED,
    STUDY_SAMPLE_SIZE,
)
from .errors import NanoSIMSError
from .methods import DEFAULT_METHOD, STUDY_METHOD, default_preprocessing, get_method, method_names, method_names_with
from .preprocessing import PREPROCESSING
from .runs import INTERRUPTED_WHILE_STARTING, PROG, SUMMARY_NAME
from .version import kit_version

__all__ = ["build_parser", "main"]

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
    from .isotopes import parse_ratios

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
        "--method", choices=method_names(),
        help=f"clustering method (default: {DEFAULT_METHOD}; --joint and --model use {STUDY_METHOD})"
    )
    parser.add_argument(
        "-k", "--clusters", type=_n_clusters, default="auto", metavar="N|auto",
        help="number of clusters, or 'auto': the largest k up to the knee of the entropy curve that two "
        "independent halves of the counts reproduce (split-half check; default: auto); for --method "
        + _methods_with("recommends_k") + ", the phases its counting statistics tell apart, with the split-half "
        "scores of that k",
    )
    parser.add_argument(
        "--k-max", type=_k_max, metavar="N",
        help=f"largest k of the entropy curve of -k auto, at least 4 (default: {DEFAULT_MAX_CLUSTERS})",
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
        "--random-state", "--seed", dest="random_state", type=_seed, default=0, metavar="N",
        help=f"seed of every random step, 0 to {MAX_SEED}: the same seed gives the same results (default: 0)",
    )
    parser.add_argument(
        "--confidence", action="store_true",
        help="also write STEM_confidence.tif: each pixel's probability of its cluster, for the methods that "
        "model the counts (--method " + _methods_with("gives_confidence") + ")",
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


def _methods_with(flag: str) -> str:
    """``"a or b"``: the methods whose registry record has ``flag`` set (e.g. ``"takes_components"``)."""
    return " or ".join(method_names_with(flag))


def _check_study_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.sample_size is not None and not args.joint:
        parser.error("--sample-size applies only to --joint")
    if args.joint or args.model is not None:
        option = "--joint" if args.joint else "--model"
        fixed = [("--method", args.method not in (None, STUDY_METHOD)), ("--preprocessing", args.preprocessing),
                 ("--components", args.components)]
        if args.model is not None:
            fixed += [("-k", args.clusters != "auto"), ("--k-max", args.k_max is not None), ("--masses", args.masses)]
        given = [name for name, value in fixed if value]
        if given:
            parser.error(f"{option} uses the {STUDY_METHOD} method's {default_preprocessing(STUDY_METHOD)} features, "
                         f"and a saved model fixes k and the masses; leave out {', '.join(given)}")
    if args.joint and args.clusters == "auto":
        parser.error("--joint needs a number of clusters, e.g. --joint -k 5; choose it on a few typical images "
                     "first (without --joint, k is chosen for each image and written to summary.csv)")
    if args.method is None:
        args.method = DEFAULT_METHOD



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
    does to the output folder: see :func:`~nanosims_helpers.runs.many_images.finish_run`.

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
    if args.k_max is not None and args.method and get_method(args.method).recommends_k:
        parser.error(f"--k-max sets how far -k auto sweeps k; --method {args.method} counts its clusters itself, "
                     "without a sweep: leave --k-max out")
    _check_study_arguments(parser, args)
    if args.components is not None and not get_method(args.method).takes_components:
        parser.error(f"--components applies only to --method {_methods_with('takes_components')}")
    if args.confidence and not get_method(args.method).gives_confidence:
        parser.error(f"--confidence needs a method that gives one: --method {_methods_with('gives_confidence')} "
                     f"(the {args.method} method gives none)")
    try:  # the science and its libraries load now, once the command line is read
        from .batch import Runner, require_dask, worker_limit
        from .clustering import limit_threads
        from .io.files import RunFolder, interrupts_ignored
        from .runs.many_images import as_options, find_inputs, finish_run, output_prefixes, run_all, run_study
    except KeyboardInterrupt:
        print(INTERRUPTED_WHILE_STARTING, file=sys.stderr)
        return 130
    if args.workers > 1 or args.scheduler:
        try:
            require_dask("--workers" if args.workers > 1 else "--scheduler")
        except NanoSIMSError as exc:
            parser.error(str(exc))
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

    from tqdm import tqdm

    def show(message, category, filename, lineno, file=None, line=None):
        tqdm.write(f"{PROG}: warning: {' '.join(str(message).split())}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield

"""Every input of a ``nanosims-cluster`` run: finding them, running them, the summary, the folder kept.

Each input runs on its own (:func:`run_all`, :func:`~nanosims_helpers.runs.one_image.cluster_file`)
or with one study model (:func:`run_study`), in a :class:`~nanosims_helpers.batch.Runner`; one
row per input goes into ``summary.csv``, rewritten after each input. :func:`finish_run` decides
what the output folder keeps.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from ..batch import Runner, one_line
from ..defaults import STUDY_SAMPLE_SIZE
from ..errors import NanoSIMSError
from ..io.files import RunFolder, read_manifest, remove_partial_files
from ..io.loading import SUPPORTED_SUFFIXES
from ..study import fit_model, sample_study, save_model
from . import PROG, SUMMARY_NAME, study_outputs
from .one_image import AUTO_K_NAMES, SCORE_NAMES, cluster_file
from .outputs import ISOTOPE_SUFFIXES, SUFFIXES, write_csv
from .study_outputs import STUDY_FILES

__all__ = [
    "SUMMARY_NAME", "as_options", "collect_inputs", "earlier_run_files", "find_inputs", "finish_run",
    "output_prefixes", "run_all", "run_study", "summary_row", "write_summary",
]

SUMMARY_COLUMNS = ("file", "status", "error", "output_prefix", "k", *AUTO_K_NAMES, *SCORE_NAMES, "enriched", "warnings")


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

    Writes each input's files, then the study files (:mod:`nanosims_helpers.runs.study_outputs`).
    """
    prefixes = output_prefixes(paths)
    found = {}
    with runner or Runner() as active:
        model_file = str(args.model) if model is not None else study_outputs.STUDY_FILES["model"]
        if model is None:
            sample = sample_study(paths, masses=args.masses, sample_size=args.sample_size or STUDY_SAMPLE_SIZE,
                                  random_state=args.random_state, runner=active, ratios=args.ratios)
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
                "min_region_pixels": "--min-region-pixels", "n_components": "--components", "max_clusters": "--k-max"}


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

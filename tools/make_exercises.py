"""Generate ``exercises/`` from ``solutions/``: the solutions notebooks are the only source.

Rules, applied to every ``solutions/*.ipynb``:

- a cell tagged ``solution`` is dropped (worked answers, discussion, extra checks);
- a code cell tagged ``exercise`` is cut at its marker line ``# -- exercise --``: what comes
  before the marker (set-up the learner needs) is kept, what follows is replaced by
  ``# Your code here``, except the answer line: a line ``answer = VALUE  # what to give`` in the
  solution part comes out as ``answer = ...  # what to give``, the placeholder that the check
  cell after it (``check("NN-M", answer)``, see ``nanosims_helpers/exercises.py``) reads as
  "not answered yet";
- outputs, execution counts and cell metadata other than tags are removed.

A marker in a cell not tagged ``exercise``, or an ``exercise`` cell without exactly one marker,
is an error: the two must agree. Cells after an exercise must not need the variables the
solution part defines, so that the exercise notebooks still run from top to bottom.

Usage::

    python tools/make_exercises.py           # (re)write exercises/
    python tools/make_exercises.py --check   # exit 1 listing the files that are out of date
"""

from __future__ import annotations

import argparse
import copy
import io
import sys
import tokenize
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
SOLUTION_TAG = "solution"
EXERCISE_TAG = "exercise"
MARKER = "# -- exercise --"
PLACEHOLDER = "# Your code here"
ANSWER = "answer = "
KEPT_NOTEBOOK_METADATA = ("kernelspec",)


class ExerciseError(ValueError):
    """A solutions notebook breaks the tagging rules; the message names the cell."""


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _marker_lines(source: str) -> list[int]:
    return [number for number, line in enumerate(source.splitlines()) if line.strip() == MARKER]


def _answer_placeholder(line: str) -> str:
    """Turn ``answer = VALUE  # comment`` into ``answer = ...  # comment`` (the comment is kept)."""
    comments = [token.string for token in tokenize.generate_tokens(io.StringIO(line).readline)
                if token.type == tokenize.COMMENT]
    return f"{ANSWER}...  {comments[0]}" if comments else f"{ANSWER}..."


def cut_exercise(source: str, where: str = "cell") -> str:
    """Return the part of an exercise cell before its marker, the placeholder and the answer line.

    Raises
    ------
    ExerciseError
        If the cell does not have exactly one marker line, or its solution part has more than one
        answer line.
    """
    markers = _marker_lines(source)
    if len(markers) != 1:
        raise ExerciseError(f"{where}: an 'exercise' cell needs exactly one {MARKER!r} line, found {len(markers)}.")
    lines = source.splitlines()
    answers = [line for line in lines[markers[0] + 1:] if line.startswith(ANSWER)]
    if len(answers) > 1:
        raise ExerciseError(f"{where}: the solution part has {len(answers)} {ANSWER.strip()!r} lines; keep one.")
    kept = "\n".join(lines[: markers[0]]).rstrip()
    cut = f"{kept}\n{PLACEHOLDER}" if kept else PLACEHOLDER
    return cut + "".join(f"\n\n{_answer_placeholder(line)}" for line in answers)


def clean_cell(cell):
    """Return a copy of ``cell`` without outputs, execution count, or metadata other than tags."""
    cell = copy.deepcopy(cell)
    tags = _tags(cell)
    cell["metadata"] = nbformat.NotebookNode({"tags": tags} if tags else {})
    if cell["cell_type"] == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    return cell


def make_exercise_notebook(notebook, name: str = "notebook"):
    """Return the exercise version of a solutions notebook (the input is not changed).

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        A solutions notebook.
    name : str
        Used in error messages.

    Raises
    ------
    ExerciseError
        If a marker and an ``exercise`` tag disagree.
    """
    exercise = nbformat.v4.new_notebook()
    exercise.metadata = nbformat.NotebookNode(
        {key: copy.deepcopy(notebook.metadata[key]) for key in KEPT_NOTEBOOK_METADATA if key in notebook.metadata}
    )
    for number, cell in enumerate(notebook.cells):
        tags = _tags(cell)
        where = f"{name}, cell {number}"
        if SOLUTION_TAG in tags:
            continue
        cell = clean_cell(cell)
        if EXERCISE_TAG in tags:
            if cell["cell_type"] != "code":
                raise ExerciseError(f"{where}: only code cells can be tagged {EXERCISE_TAG!r}.")
            cell["source"] = cut_exercise(cell["source"], where)
        elif _marker_lines(cell["source"]):
            raise ExerciseError(f"{where}: has a {MARKER!r} line but no {EXERCISE_TAG!r} tag; add the tag.")
        exercise.cells.append(cell)
    return exercise


def render(notebook) -> str:
    """Return the notebook as the exact text written to disk (the generator's normalisation)."""
    text = nbformat.writes(notebook, version=4)
    return text if text.endswith("\n") else text + "\n"


def generate(solutions_dir: Path) -> dict[str, str]:
    """Return {file name: text} of every exercise notebook generated from ``solutions_dir``."""
    generated = {}
    for path in sorted(solutions_dir.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        generated[path.name] = render(make_exercise_notebook(notebook, path.name))
    return generated


def out_of_date(generated: dict[str, str], exercises_dir: Path) -> list[str]:
    """Return the names of files in ``exercises_dir`` that differ from ``generated``, missing or extra."""
    existing = {path.name for path in exercises_dir.glob("*.ipynb")} if exercises_dir.is_dir() else set()
    stale = [name for name in sorted(existing - set(generated))]
    for name, text in sorted(generated.items()):
        path = exercises_dir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return sorted(stale)


def write(generated: dict[str, str], exercises_dir: Path) -> None:
    """Write the generated notebooks and delete exercise notebooks that have no solution any more."""
    exercises_dir.mkdir(parents=True, exist_ok=True)
    for path in exercises_dir.glob("*.ipynb"):
        if path.name not in generated:
            path.unlink()
    for name, text in generated.items():
        (exercises_dir / name).write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Generate exercises/ from solutions/.")
    parser.add_argument("--check", action="store_true", help="only report files that are out of date (exit 1)")
    parser.add_argument("--solutions", type=Path, default=REPO / "solutions", help=argparse.SUPPRESS)
    parser.add_argument("--exercises", type=Path, default=REPO / "exercises", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        generated = generate(args.solutions)
    except ExerciseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stale = out_of_date(generated, args.exercises)
    if args.check:
        if stale:
            print("exercises/ is out of date; run `python tools/make_exercises.py`. Files:", *stale, sep="\n  ")
            return 1
        print(f"exercises/ is up to date ({len(generated)} notebooks).")
        return 0
    write(generated, args.exercises)
    updated = f"; updated: {', '.join(stale)}" if stale else ""
    print(f"wrote {len(generated)} exercise notebook(s) to {args.exercises}{updated}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

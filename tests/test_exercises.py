"""exercises/ is generated from solutions/ by tools/make_exercises.py, and stays in step."""

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

from nanosims_helpers.teaching.exercises import EXERCISES

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("make_exercises", REPO / "tools" / "make_exercises.py")
make_exercises = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_exercises)


def _code(source, tags=(), outputs=()):
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    cell.outputs = list(outputs)
    cell.execution_count = 3 if outputs else None
    return cell


def _tiny_solutions():
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["widgets"] = {"state": "large"}
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Exercises"),
        _code("x = 1", outputs=[nbformat.v4.new_output("stream", text="hello")]),
        _code("x = 2\n# -- exercise --\ny = x + 1\nassert y == 3", tags=["exercise"]),
        _code("print('answer')", tags=["solution"]),
        nbformat.v4.new_markdown_cell("The answer is 3.", metadata={"tags": ["solution"]}),
        _code("# -- exercise --\nz = 5", tags=["exercise"]),
    ]
    return notebook


def test_solution_cells_are_dropped():
    exercise = make_exercises.make_exercise_notebook(_tiny_solutions())
    sources = [cell.source for cell in exercise.cells]
    assert "print('answer')" not in sources
    assert "The answer is 3." not in sources
    assert len(exercise.cells) == 4


def test_exercise_cell_is_cut_at_marker_with_placeholder():
    exercise = make_exercises.make_exercise_notebook(_tiny_solutions())
    assert exercise.cells[2].source == "x = 2\n# Your code here"
    assert exercise.cells[3].source == "# Your code here"


def test_the_answer_line_becomes_a_placeholder_with_its_comment():
    source = 'x = 2\n# -- exercise --\ny = x + 1\nanswer = y  # a number, e.g. 3\nassert answer == 3'
    assert make_exercises.cut_exercise(source) == "x = 2\n# Your code here\n\nanswer = ...  # a number, e.g. 3"
    assert make_exercises.cut_exercise('# -- exercise --\nanswer = "a#b"') == "# Your code here\n\nanswer = ..."


def test_an_answer_line_before_the_marker_or_indented_is_not_touched():
    source = "answer = 1\n# -- exercise --\nif True:\n    answer = 2"
    assert make_exercises.cut_exercise(source) == "answer = 1\n# Your code here"


def test_two_answer_lines_are_an_error():
    with pytest.raises(make_exercises.ExerciseError, match="2 'answer =' lines"):
        make_exercises.cut_exercise("# -- exercise --\nanswer = 1\nanswer = 2", "tiny.ipynb, cell 3")


def test_outputs_counts_and_extra_metadata_are_removed():
    exercise = make_exercises.make_exercise_notebook(_tiny_solutions())
    assert exercise.cells[1].outputs == [] and exercise.cells[1].execution_count is None
    assert "widgets" not in exercise.metadata and "kernelspec" in exercise.metadata


def test_the_solutions_notebook_is_not_modified():
    notebook = _tiny_solutions()
    before = nbformat.writes(notebook)
    make_exercises.make_exercise_notebook(notebook)
    assert nbformat.writes(notebook) == before


def test_marker_without_tag_is_an_error():
    notebook = _tiny_solutions()
    notebook.cells.append(_code("a = 1\n# -- exercise --\nb = 2"))
    with pytest.raises(make_exercises.ExerciseError, match="no 'exercise' tag"):
        make_exercises.make_exercise_notebook(notebook, "tiny.ipynb")


@pytest.mark.parametrize("source", ["a = 1", "# -- exercise --\na = 1\n# -- exercise --"])
def test_exercise_tag_needs_exactly_one_marker(source):
    notebook = _tiny_solutions()
    notebook.cells.append(_code(source, tags=["exercise"]))
    with pytest.raises(make_exercises.ExerciseError, match="exactly one"):
        make_exercises.make_exercise_notebook(notebook, "tiny.ipynb")


def test_check_reports_changed_missing_and_extra_files(tmp_path):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    nbformat.write(_tiny_solutions(), solutions / "01_tiny.ipynb")
    assert make_exercises.main(["--solutions", str(solutions), "--exercises", str(exercises), "--check"]) == 1
    assert make_exercises.main(["--solutions", str(solutions), "--exercises", str(exercises)]) == 0
    assert make_exercises.main(["--solutions", str(solutions), "--exercises", str(exercises), "--check"]) == 0
    (exercises / "99_old.ipynb").write_text("{}")
    (exercises / "01_tiny.ipynb").write_text("{}")
    generated = make_exercises.generate(solutions)
    assert make_exercises.out_of_date(generated, exercises) == ["01_tiny.ipynb", "99_old.ipynb"]
    make_exercises.write(generated, exercises)
    assert sorted(p.name for p in exercises.glob("*.ipynb")) == ["01_tiny.ipynb"]


def test_committed_exercises_match_a_fresh_generation():
    generated = make_exercises.generate(REPO / "solutions")
    assert generated, "solutions/ holds no notebooks"
    stale = make_exercises.out_of_date(generated, REPO / "exercises")
    assert not stale, f"exercises/ is out of date, run `python tools/make_exercises.py`: {stale}"


def test_every_lesson_01_to_06_has_an_exercise_notebook():
    names = sorted(path.name for path in (REPO / "solutions").glob("*.ipynb"))
    for lesson in ("01", "02", "03", "04", "05", "06"):
        assert any(name.startswith(lesson + "_") for name in names), f"no solutions/{lesson}_*.ipynb"


def test_every_exercise_notebook_has_exercises_with_checks():
    for path in sorted((REPO / "solutions").glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        exercises = [cell for cell in cells if "exercise" in cell.metadata.get("tags", [])]
        assert exercises, f"{path.name} has no cell tagged 'exercise'"
        for cell in exercises:
            solution_part = cell.source.split(make_exercises.MARKER, 1)[1]
            assert "assert " in solution_part, f"{path.name}: an exercise's solution checks nothing"


def _exercise_cells(path):
    cells = nbformat.read(path, as_version=4).cells
    return [(cell, cells[number + 1] if number + 1 < len(cells) else None)
            for number, cell in enumerate(cells) if "exercise" in cell.metadata.get("tags", [])]


@pytest.mark.parametrize("path", sorted((REPO / "solutions").glob("*.ipynb")), ids=lambda path: path.name)
def test_every_exercise_gives_an_answer_and_is_followed_by_its_check(path):
    lesson = path.name[:2]
    for number, (cell, following) in enumerate(_exercise_cells(path), start=1):
        exercise_id = f"{lesson}-{number}"
        solution_part = cell.source.split(make_exercises.MARKER, 1)[1]
        assert re.search(r"^answer = ", solution_part, re.MULTILINE), f"{path.name}: {exercise_id} sets no answer"
        assert following is not None and following.cell_type == "code", f"{path.name}: no check after {exercise_id}"
        assert following.source.strip() == f'check("{exercise_id}", answer)', f"{path.name}: {following.source!r}"
        assert "solution" not in following.metadata.get("tags", []), "the check cell must reach the exercises"
        assert exercise_id in EXERCISES, f"{exercise_id} has no check in nanosims_helpers/exercises.py"
        assert f'evaluate("{exercise_id}", answer).right' in solution_part, f"{exercise_id}: solution skips its check"


@pytest.mark.parametrize("path", sorted((REPO / "exercises").glob("*.ipynb")), ids=lambda path: path.name)
def test_generated_exercises_end_with_an_untouched_answer_and_offer_hints(path):
    notebook = nbformat.read(path, as_version=4)
    text = "\n".join(cell.source for cell in notebook.cells)
    for number, (cell, _) in enumerate(_exercise_cells(path), start=1):
        assert cell.source.splitlines()[-1].startswith("answer = ...")
        assert f'hint("{path.name[:2]}-{number}", 2)' in text
    assert "<details>" not in text, "hints come from hint(), not from folds holding the answer"

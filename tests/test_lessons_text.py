"""What the lessons say agrees with the code and with each other.

- No notebook names a preprocessing as "the kit's default" in its text: the default changes with
  the code, so lessons print ``RECOMMENDED_PREPROCESSING`` instead of naming it.
- Exercise time budgets agree between a lesson's header and its exercise notebook.
- Lessons 01-06 and 09 end with a Resources section of links; the README lists every lesson.
"""

import re
from pathlib import Path

import nbformat
import pytest

from nanosims_helpers.preprocessing import PREPROCESSING

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted([*(REPO / "notebooks").glob("*.ipynb"), *(REPO / "solutions").glob("*.ipynb"),
                    *(REPO / "exercises").glob("*.ipynb")])
LESSONS_WITH_RESOURCES = ("00", "01", "02", "03", "04", "05", "06", "08", "09", "10", "11")

_NAMES = "|".join(re.escape(name) for name in sorted(PREPROCESSING, key=len, reverse=True) if name != "none")
_QUOTED = rf"[`\"']({_NAMES})[`\"']"
#: Ways of calling a named preprocessing the default: "by default `x`", "`x` (the kit's default)",
#: "x is the default", "kit: x" (a plot title standing for the kit's choice), a table row saying both.
_CALLS_IT_DEFAULT = [
    re.compile(rf"default[^.\n|]{{0,30}}?{_QUOTED}", re.IGNORECASE),
    re.compile(rf"\b({_NAMES})\b[`\"']?\W{{0,6}}(the )?(kit'?s )?(default|recommended)\b", re.IGNORECASE),
    re.compile(rf"\b({_NAMES})\b[`\"']? is (the|our|its) (kit'?s )?default", re.IGNORECASE),
    re.compile(rf"\bkit: ({_NAMES})\b", re.IGNORECASE),
    re.compile(rf"^\|.*\b({_NAMES})\b.*\|.*\bdefault\b.*\|\s*$", re.IGNORECASE | re.MULTILINE),
]


def names_called_default(text: str) -> list[str]:
    """Return the passages of ``text`` that call a named preprocessing the default."""
    return [match.group(0) for pattern in _CALLS_IT_DEFAULT for match in pattern.finditer(text)]


@pytest.mark.parametrize("text", [
    "`cluster_image` scales the channels (by default `anscombe+zscore`, see lesson 01)",
    "| `anscombe+zscore` | `2 * sqrt(counts + 3/8)`, then z-score | (the kit's default) |",
    "count-stabilizing `anscombe+zscore` (the kit's default) do not.",
    '"kit: anscombe+zscore, k = 4": result,',
    "The default preprocessing is `asinh` here.",
    "asinh is the kit's default.",
])
def test_the_detector_catches_a_named_default(text):
    assert names_called_default(text)


@pytest.mark.parametrize("text", [
    "Is the reference notebook's `\"max\"` better or worse than the kit's default?",
    'print("the kit\'s default preprocessing:", RECOMMENDED_PREPROCESSING)',
    "features = preprocess(image.counts)  # the kit's default, RECOMMENDED_PREPROCESSING",
    "| `max` | divide by the channel's maximum | one hot pixel sets the scale |",
    'f"kit: {RECOMMENDED_PREPROCESSING}, k = 4": result,',
])
def test_the_detector_leaves_other_text_alone(text):
    assert not names_called_default(text)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_no_notebook_names_the_default_preprocessing(path):
    for number, cell in enumerate(nbformat.read(path, as_version=4).cells):
        found = names_called_default(cell.source)
        assert not found, (
            f"{path.name}, cell {number}: {found} names the default preprocessing. The default lives in the "
            "code: print RECOMMENDED_PREPROCESSING (or use an f-string) instead of writing its name."
        )


def _markdown(path) -> str:
    return "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown")


def _lessons_with_exercises():
    for lesson in sorted((REPO / "notebooks").glob("*.ipynb")):
        match = re.search(r"(\d+) exercises in `exercises/([^`]+)`", _markdown(lesson))
        if match:
            yield lesson, int(match.group(1)), REPO / "exercises" / match.group(2)


def test_lessons_01_to_06_budget_their_exercises():
    assert {lesson.name[:2] for lesson, _, _ in _lessons_with_exercises()} >= {"01", "02", "03", "04", "05", "06"}


@pytest.mark.parametrize("lesson, minutes, exercises", list(_lessons_with_exercises()),
                         ids=lambda value: getattr(value, "name", str(value)))
def test_exercise_minutes_agree_between_lesson_and_exercise_notebook(lesson, minutes, exercises):
    assert exercises.is_file(), f"{lesson.name} points at {exercises.name}, which does not exist"
    text = _markdown(exercises)
    total = re.search(r"\*\*Time\*\*: (\d+) minutes in all", text)
    assert total, f"{exercises.name} gives no '**Time**: N minutes in all'"
    each = [int(value) for value in re.findall(r"^## Exercise \d+:.*\((\d+) min\)", text, re.MULTILINE)]
    assert each and sum(each) == int(total.group(1)) == minutes, (
        f"{lesson.name} budgets {minutes} min, {exercises.name} says {total.group(1)}, its exercises sum to {sum(each)}"
    )
    header = re.search(r"\*\*Time\*\*: (\d+) minutes \((\d+) teaching, (\d+) exercises", _markdown(lesson))
    assert header and int(header.group(1)) == int(header.group(2)) + int(header.group(3))


@pytest.mark.parametrize("lesson", LESSONS_WITH_RESOURCES)
def test_lessons_end_with_resources_that_link_documentation(lesson):
    paths = list((REPO / "notebooks").glob(f"{lesson}_*.ipynb"))
    assert len(paths) == 1, f"no single notebooks/{lesson}_*.ipynb"
    last = nbformat.read(paths[0], as_version=4).cells[-1]
    assert last.cell_type == "markdown" and "## Resources" in last.source
    resources = last.source.split("## Resources", 1)[1]
    assert len(re.findall(r"https://[^\s>)]+", resources)) >= 2


def test_the_readme_lists_every_lesson():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        assert f"| `{path.stem}` |" in readme, f"README's lesson table lacks {path.stem}"

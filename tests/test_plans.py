"""The instructor guide's timed plans: every lesson of a plan comes after the lessons it needs
(read from the lesson's own "What you need" line), and the one-day plan teaches the kit's method."""

import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
GUIDE = (REPO / "docs" / "instructors.md").read_text(encoding="utf-8")
LESSON_ID = r"\d\d[a-z]?"


def lesson_ids() -> dict[str, Path]:
    return {re.match(LESSON_ID, path.name).group(0): path for path in sorted((REPO / "notebooks").glob("*.ipynb"))}


def prerequisites(text: str) -> set[str]:
    """The lessons a "**What you need**: ..." line requires: its ranges and numbers, leaving out the
    ones it says only help ("(06 helps)", "; lesson 05 helps") and notes in brackets.

    >>> sorted(prerequisites("**What you need**: lessons 01 to 03 (06 and 08 help), 05 (k)."))
    ['01', '02', '03', '05']
    """
    line = re.search(r"\*\*What you need\*\*:([^\n]*)", text).group(1)
    line = re.sub(r"\([^)]*\)", "", re.sub(r";[^;]*\bhelps?\b[^;]*", "", line))
    needed = set()
    for start, end in re.findall(rf"({LESSON_ID}) to ({LESSON_ID})", line):
        needed |= {f"{number:02d}" for number in range(int(start), int(end) + 1)}
    return needed | set(re.findall(rf"\b({LESSON_ID})\b", line))


def plan(title: str) -> list[str]:
    """The lessons of the plan under ``### title``, in order (rows whose "what" starts with one)."""
    section = GUIDE.split(f"### {title}", 1)[1].split("\n### ", 1)[0]
    return re.findall(rf"^\|(?: [^|]+ \|)*? ({LESSON_ID}) [A-Z][^|]*\|", section, re.MULTILINE)


@pytest.mark.parametrize("title", ["One day", "Two days"])
def test_every_lesson_of_a_plan_comes_after_what_it_needs(title):
    lessons = lesson_ids()
    order = plan(title)
    assert len(order) >= 8 and set(order) <= set(lessons)
    for position, lesson in enumerate(order):
        text = "\n".join(cell.source for cell in nbformat.read(lessons[lesson], as_version=4).cells
                         if cell.cell_type == "markdown")
        missing = {needed for needed in prerequisites(text) if needed in lessons} - set(order[:position])
        assert not missing, f"{title}: lesson {lesson} needs {sorted(missing)}, which the plan does not give before it"


def test_the_one_day_plan_teaches_the_kits_method_before_the_hackathon():
    order = plan("One day")
    assert "07b" in order and order.index("07b") < order.index("11")


def test_the_two_day_plan_holds_every_lesson():
    assert sorted(plan("Two days")) == sorted(lesson_ids())


def test_the_detector_sees_the_old_one_day_plan_drop_lesson_03():
    old = ["00", "01", "02", "04"]
    text = "**What you need**: lessons 02 and 03."
    assert "03" in prerequisites(text) and "03" not in old


def test_the_answer_key_of_the_quizzes_passes_every_check():
    import ast

    from nanosims_helpers.teaching.exercises import EXERCISES, evaluate

    rows = re.findall(r"^\| (\d\d-\d) \| `([^`]+)` \|", GUIDE.split("### The quizzes", 1)[1], re.MULTILINE)
    quizzes = {exercise_id for exercise_id in EXERCISES if exercise_id[:2] in {"00", "09", "10", "11"}}
    assert {exercise_id for exercise_id, _ in rows} == quizzes
    for exercise_id, answer in rows:
        verdict = evaluate(exercise_id, ast.literal_eval(answer))
        assert verdict.right, f"{exercise_id}: the key's {answer} is {verdict}"

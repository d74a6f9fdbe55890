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
LESSONS_WITH_RESOURCES = ("00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11")

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


# --- statements the code once contradicted: each test fails on the old text -------------------

TEXTS = [*NOTEBOOKS, REPO / "README.md", REPO / "docs" / "instructors.md"]


def _text(path: Path) -> str:
    if path.suffix == ".ipynb":
        return "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
    return path.read_text(encoding="utf-8")


def _markdown_of(path: Path) -> str:
    return _markdown(path) if path.suffix == ".ipynb" else path.read_text(encoding="utf-8")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _lesson(number: str) -> Path:
    return next((REPO / "notebooks").glob(f"{number}_*.ipynb"))


@pytest.mark.parametrize("path", TEXTS, ids=lambda path: path.name)
def test_no_text_says_the_kit_leaves_qsa_uncorrected(path):
    import inspect

    from nanosims_helpers.depth import depth_profile

    assert {"qsa_beta", "primary_ions"} <= set(inspect.signature(depth_profile).parameters)
    said = re.findall(r"(?:does not|doesn't|not) correct(?:s)? (?:the )?QSA|but not QSA|no QSA\)", _flat(_text(path)))
    assert not said, f"{path.name}: {said}, but depth_profile(qsa_beta=, primary_ions=) corrects QSA"


def test_lesson_00_names_the_qsa_correction():
    assert "qsa_beta=" in _markdown(_lesson("00")) and "primary_ions=" in _markdown(_lesson("00"))


def test_the_compare_tab_is_described_as_it_starts():
    import inspect

    from nanosims_helpers.explorer.widgets import ComparisonPanel
    from nanosims_helpers.pipeline import DEFAULT_METHOD

    left = inspect.signature(ComparisonPanel).parameters["left"].default
    lesson = _lesson("10")
    text = _flat(_markdown(lesson))
    if left.method == DEFAULT_METHOD:
        said = re.search(r"starts with the kit's default preprocessing", text)
        assert not said, "the Compare tab starts with the default method, not a preprocessing"
    code = "\n".join(cell.source for cell in nbformat.read(lesson, as_version=4).cells if cell.cell_type == "code")
    assert 'parameters["left"].default' in code or "ComparisonPanel" in code  # printed from the code


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_pca_is_offered_only_with_a_method_that_takes_it(path):
    from nanosims_helpers.pipeline import COUNT_METHODS, DEFAULT_METHOD

    if DEFAULT_METHOD not in COUNT_METHODS:
        return
    for item in re.split(r"\n(?=\d+\. |- )", _markdown(path)):
        if re.search(r"tick \W*PCA", item, re.IGNORECASE):
            assert re.search(r"kmeans|hierarchical", item), f"{path.name}: {item!r} under the default method fails"


@pytest.mark.parametrize("path", TEXTS, ids=lambda path: path.name)
def test_no_text_calls_a_dependency_not_installed(path):
    import importlib.metadata

    declared = {re.split(r"[<>=;\s]", line)[0].lower() for line in importlib.metadata.requires("nanosims-helpers")}
    text = _flat(_text(path))
    for name in declared:
        said = re.search(rf"{re.escape(name)}[^.]{{0,60}}not installed|not installed[^.]{{0,60}}{re.escape(name)}",
                         text, re.IGNORECASE)
        assert not said, f"{path.name}: {said.group(0)!r}, but {name} is a dependency of the kit"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_no_lesson_prints_none_as_the_default_preprocessing(path):
    code = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
    assert "__kwdefaults__" not in code and 'parameters["preprocessing"].default' not in code, (
        f"{path.name} prints cluster_image's preprocessing default, None; print default_preprocessing(DEFAULT_METHOD)"
    )


def test_the_silhouette_is_not_said_to_fill_a_binder():
    from nanosims_helpers import metrics

    assert metrics._WORKING_MEMORY_MIB <= 512  # the exact silhouette works in blocks
    text = _flat(_markdown(_lesson("04")))
    assert not re.search(r"most of a Binder's memory", text)


def test_lesson_06_quotes_one_memory_figure_and_computes_it():
    pairs = 256 * 256 * (256 * 256 - 1) // 2
    gigabytes = round(pairs * 8 / 1e9)  # SciPy keeps every pairwise distance in double precision
    text = _flat(_markdown(_lesson("06")))
    quoted = {int(value) for value in re.findall(r"(\d+) GB", text)}
    assert quoted == {gigabytes} and "gigabytes" not in text
    cells = nbformat.read(_lesson("06"), as_version=4).cells
    code = "\n".join(cell.source for cell in cells if cell.cell_type == "code")
    assert f"round(gigabytes) == {gigabytes}" in code


@pytest.mark.parametrize("path", TEXTS, ids=lambda path: path.name)
def test_hdbscan_is_not_said_to_need_every_pairwise_distance(path):
    for line in _text(path).splitlines():
        if "HDBSCAN" in line:
            assert not re.search(r"pixels squared|all pairwise distances", line), f"{path.name}: {line!r}"
    pattern = r"need all pairwise distances[^.]{0,40}HDBSCAN|HDBSCAN[^.]{0,40}need all pairwise"
    said = re.search(pattern, _flat(_text(path)))
    assert not said, f"{path.name}: {said.group(0)!r}; scikit-learn's HDBSCAN uses a KD-tree here"


def test_the_readme_says_which_exercises_have_checks_and_where_the_real_files_are():
    from nanosims_helpers.io.real_data import DEFAULT_FOLDER
    from nanosims_helpers.teaching.exercises import EXERCISES

    readme = _flat((REPO / "README.md").read_text(encoding="utf-8"))
    with_exercises = {path.name[:2] for path in (REPO / "exercises").glob("*.ipynb")}
    assert with_exercises <= {exercise_id[:2] for exercise_id in EXERCISES}
    sentence = re.search(r"[^.]*`check\(\"02-1\", answer\)`[^.]*\.", readme).group(0)
    assert "Every exercise" in sentence or all(number in sentence for number in with_exercises), sentence
    assert list(DEFAULT_FOLDER.glob("*.im"))
    assert not re.search(r"\.im` files[^.]{0,60}are not part of the kit", readme)


def test_the_binder_badge_names_its_repository_in_one_place():
    files = [REPO / "README.md", REPO / "docs" / "instructors.md", *(REPO / "notebooks").glob("*.ipynb")]
    links = [path.name for path in files for _ in re.findall(r"mybinder\.org/v2/gh/", path.read_text(encoding="utf-8"))]
    assert links == ["README.md"]


# --- length and words ---------------------------------------------------------------------------

LESSONS = sorted((REPO / "notebooks").glob("*.ipynb"))
MAX_WORDS, MAX_TEACHING_MINUTES = 1500, 35


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.name)
def test_a_lesson_is_short_enough_to_teach_in_its_slot(lesson):
    text = _markdown(lesson)
    assert len(text.split()) <= MAX_WORDS, f"{lesson.name}: {len(text.split())} words of markdown"
    time = re.search(r"\*\*Time\*\*: (\d+) minutes(?: \((\d+) teaching)?", text)
    assert time, f"{lesson.name} gives no **Time**"
    assert int(time.group(2) or time.group(1)) <= MAX_TEACHING_MINUTES


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.name)
def test_every_lesson_links_the_glossary(lesson):
    resources = nbformat.read(lesson, as_version=4).cells[-1].source.split("## Resources", 1)[-1]
    assert "(../docs/glossary.md)" in resources and (REPO / "docs" / "glossary.md").is_file()

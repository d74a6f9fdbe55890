"""No check of an exercise or a quiz accepts a generic guess; every lesson with a check has a quiz
or an exercise notebook; the quizzes' right answers pass and their typical mistakes are named."""

import itertools
from pathlib import Path

import nbformat
import numpy as np
import pytest

from nanosims_helpers.pipeline import METHODS
from nanosims_helpers.preprocessing import PREPROCESSING
from nanosims_helpers.teaching.challenge import score_submission
from nanosims_helpers.teaching.exercises import EXERCISES, evaluate
from nanosims_helpers.teaching.samples import list_samples, load_sample, sample_phases
from nanosims_helpers.teaching.synthetic import PHASES

REPO = Path(__file__).resolve().parents[1]


def generic_guesses() -> list:
    """What a participant might type without doing the work: small numbers, round fractions, the names
    the lessons mention (masses, phases, scalings, methods, teams), and pairs of round numbers."""
    masses = sorted({mass for name in list_samples() for mass in load_sample(name)[0].masses})
    phases = sorted({*PHASES, *(phase for name in list_samples() for phase in sample_phases(name))})
    numbers = [*range(13), *(round(0.05 * step, 2) for step in range(21))]
    return [
        *numbers, *masses, *phases, *sorted(PREPROCESSING), *METHODS, "A", "B", True, False,
        0.01, 0.68, 0.99, 50, 100, 1000,
        (1, 0), (0, 1), (1.0, 0.0), (0, 0), (1, 1), (0.5, 0.5), (0.0, 1.0), (3, 0.9), (4, 0.9), (6, 0.9),
        *itertools.combinations(phases[:5], 2),
    ]


def test_the_guesses_are_the_list_the_checks_must_refuse():
    guesses = generic_guesses()
    assert len(guesses) >= 91
    assert {0, 12, 0.05, 1.0, "16O", "organic matter", "asinh", (1, 0)} <= set(guesses)


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_no_check_accepts_a_generic_guess(exercise_id):
    accepted = [guess for guess in generic_guesses() if evaluate(exercise_id, guess).right]
    assert not accepted, f"{exercise_id} accepts {accepted} without the work"


def _lesson_ids(folder: str) -> set[str]:
    return {path.name[:2] for path in (REPO / folder).glob("[0-9][0-9]*.ipynb")}


def test_every_lesson_has_a_check():
    with_checks = {exercise_id[:2] for exercise_id in EXERCISES}
    assert _lesson_ids("notebooks") <= with_checks, _lesson_ids("notebooks") - with_checks


@pytest.mark.parametrize("lesson", ["00", "09", "10", "11"])
def test_the_quiz_lessons_call_their_checks(lesson):
    path = next((REPO / "notebooks").glob(f"{lesson}_*.ipynb"))
    code = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
    quizzes = sorted(exercise_id for exercise_id in EXERCISES if exercise_id.startswith(lesson))
    assert 2 <= len(quizzes) <= 3
    for exercise_id in quizzes:
        assert f'check("{exercise_id}", answer' in code, f"{path.name} does not run check({exercise_id!r}, ...)"


def _right(exercise_id, answer):
    verdict = evaluate(exercise_id, answer)
    assert verdict.status == "right", verdict.message


def _wrong(exercise_id, answer, reason):
    verdict = evaluate(exercise_id, answer)
    assert verdict.status == "wrong" and reason in verdict.message, verdict.message


def test_00_counting_statistics_and_dead_time():
    _right("00-1", 400)
    _wrong("00-1", 20, "square")
    _right("00-2", 2000 / (1 - 2000 * 44e-9 / 1e-3))  # 2192.98: 8.8 % of the time blind
    _wrong("00-2", 2000 * (1 - 0.088), "divide")
    _wrong("00-2", 2000 * 1.088, "first-order")
    image, _ = load_sample("soil_256")
    error = 1 / np.sqrt(image.counts.mean(axis=(0, 1)))
    noisiest, quietest = int(np.argmax(error)), int(np.argmin(error))
    _right("00-3", (image.masses[noisiest], error[noisiest]))
    _wrong("00-3", (image.masses[noisiest], error[noisiest] + 0.05), "not the relative Poisson error")
    _wrong("00-3", (image.masses[quietest], error[quietest]), "not the noisiest")


def test_09_pixel_tables():
    _right("09-1", 10 * 256 + 20)
    _wrong("09-1", 20 * 256 + 10, "swapped")
    image, _ = load_sample("soil_512_labelled")
    _right("09-2", (512 * 512, len(image.masses)))
    _wrong("09-2", (len(image.masses), 512 * 512), "Upside down")


def test_10_compare_and_k():
    from nanosims_helpers.metrics import adjusted_rand
    from nanosims_helpers.pipeline import cluster_image

    image, truth = load_sample("soil_256")
    maps = {name: cluster_image(image, 4, method="kmeans", preprocessing=name, random_state=0).labels
            for name in ("max", None)}
    _right("10-1", adjusted_rand(maps["max"], maps[None]))
    _wrong("10-1", adjusted_rand(maps["max"], truth), "agreement with the truth")
    ari = {k: adjusted_rand(cluster_image(image, k, method="kmeans", random_state=0).labels, truth)
           for k in range(2, 9)}
    best = max(ari, key=ari.get)
    _right("10-2", (best, ari[best]))
    other = min(ari, key=ari.get)
    _wrong("10-2", (other, ari[other]), "not the best")


def test_11_scores_and_ranking():
    scores = score_submission(np.zeros((256, 256), dtype=int))
    _right("11-1", (scores["mean_f1"], scores["k_error"]))
    _wrong("11-1", (scores["mean_f1"], 0), "k_error")
    _right("11-2", ("B", 6))
    _wrong("11-2", ("A", 6), "tie")
    _wrong("11-2", ("B", 5), "rank sum")


def test_nothing_before_the_check_of_08_1_shows_its_answer():
    cells = nbformat.read(REPO / "exercises" / "08_isotope_ratios_exercises.ipynb", as_version=4).cells
    sources = [cell.source for cell in cells]
    check_at = next(number for number, source in enumerate(sources) if 'check("08-1", answer)' in source)
    shown = [number for number, source in enumerate(sources) if "isotope_table(image, labels" in source]
    assert shown and min(shown) > check_at, "the isotope table (ratio and error) is shown before check('08-1')"

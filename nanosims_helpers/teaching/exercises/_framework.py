"""The framework of the self-checks: ``check``, ``hint``, ``evaluate`` and the ``exercise`` decorator.

Every exercise ends with ``answer = ...`` and a cell ``check("02-1", answer)``. The check says
"not answered yet" while ``answer`` is still ``...`` (or ``None``), and otherwise right or wrong
and why, without printing the expected answer: each check recomputes what it needs from the
sample images with the kit's own functions (so it follows the kit's defaults), and compares
properties of the answer, with a tolerance for floats. A choice among a few names comes with the
number that justifies it (the name and its score), so that a guess does not pass. Three hints:
``hint("02-1")`` points the way, ``hint("02-1", 2)`` names the functions and steps,
``hint("02-1", 3)`` gives the code.

How to add an exercise
----------------------
1. In ``solutions/NN_*_exercises.ipynb``, end the solution part of the exercise cell (after
   ``# -- exercise --``) with one line ``answer = VALUE  # what to give``: the generator
   ``tools/make_exercises.py`` keeps that line as ``answer = ...  # what to give``. Follow the
   cell with a plain cell ``check("NN-M", answer)`` and give the exercise's markdown the line
   ``Stuck? hint("NN-M"), then hint("NN-M", 2) and hint("NN-M", 3).``
2. Register the check in the lesson's module, ``lessonNN.py``::

       @exercise("NN-M", expects="a mass name such as '16O'", hints=("way", "steps", "code"))
       def _check_nn_m(answer):
           if answer_is_wrong:
               raise Wrong("what is wrong and where to look")  # never the expected value
           return "why it is right"

   A check may raise :class:`Wrong` for each typical mistake with its own message; any other
   exception while reading the answer is reported as "expected <expects>".
3. Add the right answer and the typical wrong ones to ``tests/test_exercise_checks.py``; the
   generic guesses of ``tests/test_lesson_checks.py`` must all be wrong.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np
import pandas as pd

from ...errors import NanoSIMSError
from ...io.image import normalize_mass_name

__all__ = ["EXERCISES", "HINT_LEVELS", "Exercise", "Verdict", "Wrong", "check", "evaluate", "exercise", "hint"]

NOT_ANSWERED = "not answered yet"

#: What each hint level gives.
HINT_LEVELS = {1: "which way to go", 2: "the functions and steps", 3: "the code"}


class Wrong(Exception):
    """Raised by a check: the answer is wrong; the message says why, not what is right."""


@dataclass(frozen=True)
class Exercise:
    """One registered exercise: its check, what the answer should be, and three hints."""

    exercise_id: str
    check: Callable[[object], str]
    expects: str
    hints: tuple[str, str, str]


@dataclass(frozen=True)
class Verdict:
    """What :func:`evaluate` found: ``status`` is "right", "wrong" or "not answered yet"."""

    exercise_id: str
    status: str
    message: str

    @property
    def right(self) -> bool:
        return self.status == "right"

    def __str__(self) -> str:
        return f"{self.exercise_id}: {self.status}. {self.message}".rstrip()


#: Exercise id ("02-1": lesson 02, exercise 1) -> :class:`Exercise`.
EXERCISES: dict[str, Exercise] = {}


def exercise(exercise_id: str, *, expects: str, hints: tuple[str, str, str]):
    """Register the decorated function as the check of ``exercise_id``.

    Raises
    ------
    NanoSIMSError
        If the id is already taken or there are not exactly three hints.

    Examples
    --------
    >>> @exercise("99-1", expects="a number", hints=("Add them.", "Use +.", "2 + 2"))
    ... def _check(answer):
    ...     if answer != 4:
    ...         raise Wrong("add the two numbers")
    ...     return "two and two make four."
    >>> evaluate("99-1", 5).status
    'wrong'
    >>> del EXERCISES["99-1"]
    """
    if exercise_id in EXERCISES:
        raise NanoSIMSError(f"exercise {exercise_id!r} is registered twice; give the new one another id.")
    if len(hints) != len(HINT_LEVELS):
        raise NanoSIMSError(
            f"exercise {exercise_id!r}: give exactly {len(HINT_LEVELS)} hints ({', '.join(HINT_LEVELS.values())})."
        )

    def register(function):
        EXERCISES[exercise_id] = Exercise(exercise_id, function, expects, tuple(hints))
        return function

    return register


def _exercise(exercise_id) -> Exercise:
    try:
        return EXERCISES[exercise_id]
    except (KeyError, TypeError):
        raise NanoSIMSError(
            f"exercise {exercise_id!r}: unknown; the exercises are {sorted(EXERCISES)} "
            "(lesson number, dash, exercise number)."
        ) from None


def evaluate(exercise_id: str, answer) -> Verdict:
    """Return the :class:`Verdict` on ``answer`` without printing it (what :func:`check` prints).

    ``...`` and ``None`` mean the answer cell has not been filled in.

    Examples
    --------
    >>> evaluate("04-2", ...).status
    'not answered yet'
    """
    entry = _exercise(exercise_id)
    if answer is ... or answer is None:
        return Verdict(
            exercise_id, NOT_ANSWERED, "Replace the `...` after `answer =` by your answer, then run this again."
        )
    try:
        reason = entry.check(answer)
    except Wrong as wrong:
        return Verdict(exercise_id, "wrong", str(wrong))
    except Exception as error:  # noqa: BLE001 - an answer of the wrong kind, reported to the learner
        return Verdict(exercise_id, "wrong", f"Expected {entry.expects}; could not use {_short(answer)} ({error}).")
    return Verdict(exercise_id, "right", reason)


def _short(answer, limit: int = 60) -> str:
    """``repr`` of an answer, cut to ``limit`` characters (an answer may be a whole image)."""
    text = " ".join(repr(answer).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check(exercise_id: str, answer) -> None:
    """Print whether ``answer`` to exercise ``exercise_id`` is right, wrong (and why) or not given yet.

    Examples
    --------
    >>> check("04-2", ...)
    04-2: not answered yet. Replace the `...` after `answer =` by your answer, then run this again.
    """
    print(evaluate(exercise_id, answer))


def hint(exercise_id: str, level: int = 1) -> None:
    """Print hint ``level`` (1: which way to go, 2: the functions and steps, 3: the code) of ``exercise_id``.

    Examples
    --------
    >>> hint("04-2")
    04-2, hint 1: ...
    """
    entry = _exercise(exercise_id)
    if level not in HINT_LEVELS:
        raise NanoSIMSError(
            f"level={level!r}: use " + ", ".join(f"{number} ({what})" for number, what in HINT_LEVELS.items()) + "."
        )
    print(f"{exercise_id}, hint {level}: {entry.hints[level - 1]}")


# --- helpers for the checks ------------------------------------------------------------------


@lru_cache(maxsize=None)
def _sample(name: str):
    from ...io.samples import load_sample

    return load_sample(name)


@lru_cache(maxsize=None)
def _default_features(name: str) -> np.ndarray:
    """The sample's counts with :func:`preprocess`'s default, as the exercises compute them."""
    from ...preprocessing import preprocess

    return preprocess(_sample(name)[0].counts)


def _name(answer, choices, what: str) -> str:
    """Return the choice ``answer`` names (spaces and case ignored), or raise Wrong."""
    if not isinstance(answer, str):
        raise Wrong(f"Give {what} as a string (in quotes), not a {type(answer).__name__}; `.idxmax()` gives one.")
    for choice in choices:
        if normalize_mass_name(choice).lower() == normalize_mass_name(answer).lower():
            return choice
    raise Wrong(f"{answer!r} is not one of {list(choices)}.")


@lru_cache(maxsize=None)
def _kmeans_labels(name: str, n_clusters: int, preprocessing: str | None = None,
                   masses: tuple[str, ...] | None = None) -> np.ndarray:
    """k-means labels of a sample (random_state=0), as the exercises ask for them; computed once."""
    from ...pipeline import cluster_image

    return cluster_image(_sample(name)[0], n_clusters, method="kmeans", preprocessing=preprocessing,
                         masses=None if masses is None else list(masses), random_state=0).labels


def _choice_and_number(answer, what: str) -> tuple:
    """Split an answer given as ``(choice, the number that justifies it)``, or raise Wrong."""
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__") or len(answer) != 2:
        raise Wrong(f"Give {what}: a pair, the choice and the number that justifies it.")
    return answer[0], answer[1]


def _justifies(value, expected: float, tolerance: float, what: str) -> None:
    """Raise Wrong unless ``value`` is ``expected`` within ``tolerance``: the number behind a choice."""
    if not _close(_number(value, what), expected, tolerance):
        raise Wrong(f"Your number is not {what}: compute it from the data, then choose with it.")


def _justified_choice(answer, scores: pd.Series, what: str, number_is: str, tolerance: float = 0.005):
    """Read an answer ``(choice, number)``: the choice one of ``scores``' keys (names matched as by
    :func:`_name`, whole numbers as such), the number its score within ``tolerance``. Returns the key.

    ``number_is`` names the number, with ``{}`` for the choice: "the adjusted Rand index of {}".
    """
    given, number = _choice_and_number(answer, f"{what} and the number that justifies it")
    if all(isinstance(key, str) for key in scores.index):
        key = _name(given, scores.index, what)
    elif isinstance(given, str) or int(given) != given or int(given) not in scores.index:
        raise Wrong(f"{given!r}: give {what} from {min(scores.index)} to {max(scores.index)}.")
    else:
        key = int(given)
    _justifies(number, scores[key], tolerance, number_is.format(key))
    return key


def _number(answer, what: str) -> float:
    value = float(answer)
    if not np.isfinite(value):
        raise Wrong(f"{what} is {value}: a finite number is expected.")
    return value


def _close(value: float, expected: float, tolerance: float) -> bool:
    return abs(value - expected) <= tolerance


def _phases() -> tuple[str, ...]:
    from ...synthetic import PHASES

    return PHASES

"""Self-checks and hints for the exercise notebooks and the lessons' quizzes.

The framework (``check``, ``hint``, ``evaluate``, the ``exercise`` decorator) lives in
:mod:`._framework`; each lesson's checks live in their own module (``lesson01`` ... ``lesson11``),
imported here so that every check is registered in :data:`EXERCISES`.
"""

from . import (  # noqa: F401 - importing a lesson registers its checks
    lesson00,
    lesson01,
    lesson02,
    lesson03,
    lesson04,
    lesson05,
    lesson06,
    lesson07,
    lesson08,
    lesson09,
    lesson10,
    lesson11,
)
from ._framework import EXERCISES, HINT_LEVELS, NOT_ANSWERED, Exercise, Verdict, Wrong, check, evaluate, exercise, hint
from .lesson04 import SCALINGS_04_1, TIE_04_1, scalings_04_1

__all__ = [
    "EXERCISES",
    "HINT_LEVELS",
    "NOT_ANSWERED",
    "SCALINGS_04_1",
    "TIE_04_1",
    "Exercise",
    "Verdict",
    "Wrong",
    "check",
    "evaluate",
    "exercise",
    "hint",
    "scalings_04_1",
]

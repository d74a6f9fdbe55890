"""Moved to :mod:`nanosims_helpers.teaching.exercises`; this name works for one more release."""

import warnings

from .teaching.exercises import *  # noqa: F403
from .teaching.exercises import __all__  # noqa: F401

warnings.warn(
    "nanosims_helpers.exercises moved to nanosims_helpers.teaching.exercises; "
    "import check and hint from there (the old name goes in the next release).",
    DeprecationWarning,
    stacklevel=2,
)

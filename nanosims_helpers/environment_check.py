"""Moved to :mod:`nanosims_helpers.teaching.environment_check`; this name works for one more release.

``python -m nanosims_helpers.environment_check`` still runs the check.
"""

import sys
import warnings

from .teaching.environment_check import *  # noqa: F403
from .teaching.environment_check import __all__, check_environment  # noqa: F401

if __name__ == "__main__":
    sys.exit(0 if check_environment() else 1)
warnings.warn(
    "nanosims_helpers.environment_check moved to nanosims_helpers.teaching.environment_check "
    "(the old name goes in the next release).",
    DeprecationWarning,
    stacklevel=2,
)

"""The ``nanosims-cluster`` command, also ``python -m nanosims_helpers`` (see :mod:`nanosims_helpers.cli`).

This module imports nothing before it runs, so a Ctrl-C while the command line's modules load
ends the command in one line instead of a traceback through the imports.
"""

import sys


def main() -> int:
    """Load the command line and run ``nanosims-cluster``; return the exit status."""
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        from .runs import INTERRUPTED_WHILE_STARTING

        print(INTERRUPTED_WHILE_STARTING, file=sys.stderr)
        return 130
    return run()


if __name__ == "__main__":
    sys.exit(main())

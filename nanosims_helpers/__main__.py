"""``python -m nanosims_helpers``: the ``nanosims-cluster`` command (see :mod:`nanosims_helpers.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())

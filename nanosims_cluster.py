"""The ``nanosims-cluster`` command's entry point, apart from the kit so that it loads at once.

Loading the kit takes seconds; a Ctrl-C in that time ends the command with one line instead of
a traceback through the imports. Everything else is :func:`nanosims_helpers.cli.main`.
"""

import sys


def main() -> int:
    """Load the kit and run ``nanosims-cluster`` on the command line; return the exit status."""
    try:
        from nanosims_helpers.cli import main as run
    except KeyboardInterrupt:
        print("nanosims-cluster: interrupted while starting; nothing was written", file=sys.stderr)
        return 130
    return run()


if __name__ == "__main__":
    sys.exit(main())

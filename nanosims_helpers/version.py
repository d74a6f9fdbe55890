"""The kit's version, as recorded in the files it writes (scores, models) and shown by ``--version``."""

from importlib import metadata

__all__ = ["kit_version"]


def kit_version() -> str:
    """Return the installed version of the kit, or ``"unknown"`` when it is run from a bare copy."""
    try:
        return metadata.version("nanosims-helpers")
    except metadata.PackageNotFoundError:
        return "unknown"

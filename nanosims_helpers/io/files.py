"""Writing files whole or not at all: a temporary name in the same folder, then a rename.

Every file the kit writes goes through :func:`replacing`: it is first written under a name
beginning with :data:`PARTIAL_PREFIX`, then renamed onto its real name (``os.replace``, atomic),
so a run that is stopped or crashes leaves either the complete file or none, never half of one.
:func:`remove_partial_files` deletes the temporary files a killed process could not.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

__all__ = ["PARTIAL_PREFIX", "remove_partial_files", "replacing"]

#: Start of the temporary name a file is written under before it is renamed onto its real name.
PARTIAL_PREFIX = ".partial-"


@contextlib.contextmanager
def replacing(path):
    """Yield a temporary path beside ``path``; when the block ends without error, rename it to ``path``.

    If the block fails or is interrupted, the temporary file is deleted and ``path`` is left as
    it was. The temporary name keeps the file's ending, so writers that choose the format from
    it (Matplotlib, tifffile) still do.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     with replacing(Path(folder) / "notes.txt") as temporary:
    ...         _ = temporary.write_text("done")
    ...     sorted(p.name for p in Path(folder).iterdir())
    ['notes.txt']
    """
    path = Path(path)
    temporary = path.with_name(f"{PARTIAL_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}-{path.name}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def remove_partial_files(folder) -> list[Path]:
    """Delete the temporary files left in ``folder`` by writers that were stopped; return them.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / ".partial-1-ab-soil_labels.tif").write_bytes(b"II*")
    ...     [p.name for p in remove_partial_files(folder)]
    ['.partial-1-ab-soil_labels.tif']
    """
    removed = sorted(Path(folder).glob(f"{PARTIAL_PREFIX}*"))
    for path in removed:
        path.unlink(missing_ok=True)
    return removed

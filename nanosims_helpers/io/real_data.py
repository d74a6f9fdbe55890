"""Where the real Cameca ``.im`` files are, with a clear answer when they are not there.

The kit's lessons run on its synthetic samples everywhere (Binder, a fresh clone, CI). Real
``.im`` files are optional: set the environment variable ``NANOSIMS_IM_DIR`` to a folder of
them, or keep them in ``shared/data/cameca`` beside the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "NANOSIMS_IM_DIR"
DEFAULT_FOLDER = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cameca"


def cameca_folder() -> Path | None:
    """Return the folder of real ``.im`` files, or None when there is none.

    ``$NANOSIMS_IM_DIR`` wins when it is set; otherwise ``shared/data/cameca`` beside the
    repository is used if it exists.

    Returns
    -------
    pathlib.Path or None
        An existing folder, or None (for example on Binder, or when the variable names a
        folder that does not exist).

    Examples
    --------
    >>> import tempfile
    >>> from unittest import mock
    >>> with tempfile.TemporaryDirectory() as folder, mock.patch.dict(os.environ, {ENV_VAR: folder}):
    ...     cameca_folder() == Path(folder)
    True
    >>> with mock.patch.dict(os.environ, {ENV_VAR: "/no/such/folder"}):
    ...     print(cameca_folder())
    None
    """
    setting = os.environ.get(ENV_VAR)
    folder = Path(setting).expanduser() if setting else DEFAULT_FOLDER
    return folder if folder.is_dir() else None


def cameca_files() -> list[Path]:
    """Return the ``.im`` files of :func:`cameca_folder`, sorted by name; [] when there are none.

    Examples
    --------
    >>> import tempfile
    >>> from unittest import mock
    >>> with tempfile.TemporaryDirectory() as folder, mock.patch.dict(os.environ, {ENV_VAR: folder}):
    ...     for name in ("b.im", "a.IM", "notes.txt"):
    ...         _ = (Path(folder) / name).write_bytes(b"")
    ...     [path.name for path in cameca_files()]
    ['a.IM', 'b.im']
    """
    folder = cameca_folder()
    if folder is None:
        return []
    return sorted(path for path in folder.iterdir() if path.is_file() and path.suffix.lower() == ".im")


def describe_real_data() -> str:
    """Return one sentence saying which real files were found, or how to provide some.

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {ENV_VAR: "/no/such/folder"}):
    ...     print(describe_real_data())  # doctest: +ELLIPSIS
    No real .im files found (looked in /no/such/folder). The lessons use the synthetic samples; ...
    """
    files = cameca_files()
    if files:
        names = ", ".join(path.name for path in files)
        return f"{len(files)} real .im file(s) in {files[0].parent}: {names}."
    where = os.environ.get(ENV_VAR) or str(DEFAULT_FOLDER)
    return (
        f"No real .im files found (looked in {where}). The lessons use the synthetic samples; "
        f"to use your own files, set the environment variable {ENV_VAR} to their folder."
    )

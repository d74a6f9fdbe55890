"""Where the real Cameca ``.im`` files are: the kit's own, and optionally a folder of yours.

The kit ships two small real ``.im`` files in ``data/cameca/`` (Clear BSD licence; see the
``README.md`` and ``LICENSE.md`` there), so a fresh clone has real data for the lessons, the
explorer and the tests. Set the environment variable ``NANOSIMS_IM_DIR`` to a folder of your own
``.im`` files and they are listed after the kit's.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "NANOSIMS_IM_DIR"
#: The kit's own real files: ``data/cameca`` at the root of the kit's repository.
DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "data" / "cameca"


def _user_folder() -> Path | None:
    """The folder named by ``$NANOSIMS_IM_DIR``, or None when the variable is unset or empty."""
    setting = os.environ.get(ENV_VAR)
    return Path(setting).expanduser() if setting else None


def cameca_folders() -> list[Path]:
    """Return the existing folders of real ``.im`` files: the kit's, then ``$NANOSIMS_IM_DIR``'s.

    Examples
    --------
    >>> all(folder.is_dir() for folder in cameca_folders())
    True
    """
    folders = []
    for folder in (DEFAULT_FOLDER, _user_folder()):
        if folder is not None and folder.is_dir() and folder.resolve() not in {f.resolve() for f in folders}:
            folders.append(folder)
    return folders


def cameca_folder() -> Path | None:
    """Return the first folder of real ``.im`` files (the kit's own ``data/cameca``), or None.

    None only in a copy of the package without the kit's ``data/`` folder and without
    ``$NANOSIMS_IM_DIR`` naming an existing folder.

    Examples
    --------
    >>> import tempfile
    >>> from unittest import mock
    >>> import nanosims_helpers.io.real_data as real_data
    >>> cameca_folder() == DEFAULT_FOLDER
    True
    >>> with tempfile.TemporaryDirectory() as folder, mock.patch.dict(os.environ, {ENV_VAR: folder}):
    ...     with mock.patch.object(real_data, "DEFAULT_FOLDER", Path("/no/kit/data")):  # a bare copy
    ...         cameca_folder() == Path(folder)
    True
    >>> with mock.patch.dict(os.environ, {ENV_VAR: "/no/such/folder"}):
    ...     with mock.patch.object(real_data, "DEFAULT_FOLDER", Path("/no/kit/data")):
    ...         print(cameca_folder())
    None
    """
    folders = cameca_folders()
    return folders[0] if folders else None


def _im_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.is_file() and path.suffix.lower() == ".im")


def cameca_files() -> list[Path]:
    """Return the real ``.im`` files: the kit's, then those of ``$NANOSIMS_IM_DIR``, each sorted by name.

    A file of your folder with the same name and size as one already listed (a second copy of
    the kit's files) is left out. [] when there are none.

    Examples
    --------
    >>> import tempfile
    >>> from unittest import mock
    >>> with tempfile.TemporaryDirectory() as folder, mock.patch.dict(os.environ, {ENV_VAR: folder}):
    ...     for name in ("b.im", "a.IM", "notes.txt"):
    ...         _ = (Path(folder) / name).write_bytes(b"")
    ...     [path.name for path in cameca_files()]
    ['image_sun.im', 'openmims_051117.im', 'a.IM', 'b.im']
    """
    files, seen = [], set()
    for folder in cameca_folders():
        for path in _im_files(folder):
            key = (path.name.lower(), path.stat().st_size)
            if key not in seen:
                seen.add(key)
                files.append(path)
    return files


def describe_real_data() -> str:
    """Return one sentence saying which real files were found, or how to provide some.

    Examples
    --------
    >>> from unittest import mock
    >>> import nanosims_helpers.io.real_data as real_data
    >>> with mock.patch.dict(os.environ, {ENV_VAR: "/no/such/folder"}):
    ...     print(describe_real_data())  # doctest: +ELLIPSIS
    2 real .im file(s) in .../data/cameca: image_sun.im, openmims_051117.im. (NANOSIMS_IM_DIR=... not a folder.)
    >>> with mock.patch.dict(os.environ, {ENV_VAR: ""}):
    ...     with mock.patch.object(real_data, "DEFAULT_FOLDER", Path("/no/kit/data")):
    ...         print(describe_real_data())  # doctest: +ELLIPSIS
    No real .im files found (looked in /no/kit/data). The lessons use the synthetic samples; ...
    """
    files = cameca_files()
    user = _user_folder()
    missing = f" ({ENV_VAR}={user} is not a folder.)" if user is not None and not user.is_dir() else ""
    if files:
        names = ", ".join(path.name for path in files)
        folders = " and ".join(str(folder) for folder in cameca_folders())
        return f"{len(files)} real .im file(s) in {folders}: {names}.{missing}"
    return (
        f"No real .im files found (looked in {DEFAULT_FOLDER}{' and ' + str(user) if user else ''}). The "
        f"lessons use the synthetic samples; to use your own files, set the environment variable {ENV_VAR} "
        f"to their folder.{missing}"
    )

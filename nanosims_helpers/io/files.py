"""Writing files whole or not at all, and a run's files as one set.

Every file the kit writes goes through :func:`replacing`: it is first written under a name
beginning with :data:`PARTIAL_PREFIX`, then renamed onto its real name (``os.replace``, atomic),
so a run that is stopped or crashes leaves either the complete file or none, never half of one.
:func:`remove_partial_files` deletes the temporary files a killed process could not.

A run of many files (``nanosims-cluster``) writes into a :class:`RunFolder`: a hidden folder
inside the output folder, whose files are moved in only when the run decides to keep them
(:meth:`RunFolder.keep`), after the files of the earlier run they replace have been moved out.
A run that fails or is stopped before then leaves the output folder as it was. One run at a
time may write into a folder (a lock, where the system has ``fcntl``); the files of each run are
listed in :data:`MANIFEST_NAME`, so the next run knows exactly which files to replace.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import threading
import uuid
from pathlib import Path

from ..errors import NanoSIMSError

__all__ = [
    "MANIFEST_NAME", "PARTIAL_PREFIX", "RunFolder", "interrupts_ignored", "read_manifest", "remove_partial_files",
    "replacing",
]

#: Start of the temporary name a file is written under before it is renamed onto its real name.
PARTIAL_PREFIX = ".partial-"

#: The list of the files the last run kept in an output folder (JSON), written with them.
MANIFEST_NAME = ".nanosims-cluster.json"

#: Start of the hidden folder a run writes into before its files are moved into the output folder.
STAGING_PREFIX = ".nanosims-run-"


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


@contextlib.contextmanager
def interrupts_ignored():
    """Ignore Ctrl-C (SIGINT) in the block: for steps that must not stop half-way, and processes started in it.

    Processes inherit "ignore SIGINT", so worker processes started in the block leave the
    interrupt to this process, which stops them cleanly. Only the main thread can change it;
    elsewhere the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def read_manifest(folder) -> list[str] | None:
    """The file names the last run kept in ``folder`` (:data:`MANIFEST_NAME`), or None if it has no readable list.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / MANIFEST_NAME).write_text('{"files": ["a_labels.tif", "../x"]}')
    ...     read_manifest(folder)
    ['a_labels.tif']
    """
    try:
        files = json.loads((Path(folder) / MANIFEST_NAME).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(files, list):
        return None
    return [name for name in files if isinstance(name, str) and name == Path(name).name and name not in ("", ".", "..")]


class RunFolder:
    """The output folder of one run: written in a hidden folder inside it, kept as a whole or not at all.

    Use it as a context manager. On entry the folder is created if needed, locked against other
    runs, and left-overs of killed runs are removed; the run writes into :attr:`staging`. Then
    :meth:`keep` moves the files the run keeps into the folder, in place of the files of the
    earlier run; a run that ends without :meth:`keep` leaves the folder as it was (and removes it
    if it made it).

    Parameters
    ----------
    path : str or Path
        The output folder.

    Raises
    ------
    NanoSIMSError
        On entry (or :meth:`open`): the folder cannot be created or written, or another run is
        writing into it.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     with RunFolder(Path(root) / "out") as run:
    ...         _ = (run.staging / "a.csv").write_text("new")
    ...         run.keep(["a.csv"], earlier=[])
    ...     sorted(p.name for p in (Path(root) / "out").iterdir())
    ['.nanosims-cluster.json', 'a.csv']
    """

    def __init__(self, path):
        self.path = Path(path)
        self.staging = None
        self._lock = None
        self._created = False

    def __enter__(self) -> "RunFolder":
        return self if self.staging is not None else self.open()

    def open(self) -> "RunFolder":
        """Create and lock the folder and make :attr:`staging` (what entering does); return the folder."""
        try:
            self._created = not self.path.exists()
            self.path.mkdir(parents=True, exist_ok=True)
            self._lock = _lock_folder(self.path)
            for stale in self.path.glob(f"{STAGING_PREFIX}*"):  # of runs that were killed: the lock is ours
                shutil.rmtree(stale, ignore_errors=True)
            remove_partial_files(self.path)
            self.staging = self.path / f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
            self.staging.mkdir()
        except OSError as exc:
            self._unlock()
            raise NanoSIMSError(f"{self.path}: cannot write into this folder ({exc.strerror or exc}); give a folder "
                                "you can write to.") from None
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            if self.staging is not None:
                shutil.rmtree(self.staging, ignore_errors=True)
            if self._created and not any(self.path.iterdir()):  # made for a run that kept nothing
                self.path.rmdir()
        finally:
            self._unlock()

    def _unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor releases the lock
            self._lock = None

    def keep(self, names, earlier) -> None:
        """Move ``names`` (files of :attr:`staging`) into the folder, in place of the ``earlier`` run's files.

        The files of the earlier run are moved aside first, then the new ones in, then the list of
        them (:data:`MANIFEST_NAME`) written; Ctrl-C waits until this is done. If a move fails, what
        was moved goes back, and the folder is as before.

        Raises
        ------
        NanoSIMSError
            If a file cannot be moved (the folder is then as it was before the call).
        """
        names, earlier = list(dict.fromkeys(names)), [n for n in dict.fromkeys(earlier) if n != MANIFEST_NAME]
        aside = self.staging / ".earlier"
        moved = []  # (from, to) in order, to undo
        with interrupts_ignored():
            try:
                aside.mkdir()
                for name in earlier:
                    if (self.path / name).is_file():
                        _move(self.path / name, aside / name, moved)
                for name in names:
                    _move(self.staging / name, self.path / name, moved)
                with replacing(self.path / MANIFEST_NAME) as temporary:
                    temporary.write_text(json.dumps({"written_by": "nanosims-cluster", "files": names}, indent=1)
                                         + "\n", encoding="utf-8")
            except OSError as exc:
                for source, target in reversed(moved):
                    with contextlib.suppress(OSError):
                        os.replace(target, source)
                raise NanoSIMSError(f"{self.path}: cannot move the new files in ({exc.strerror or exc}); the folder "
                                    "is as it was before this run.") from None


def _move(source: Path, target: Path, moved: list) -> None:
    os.replace(source, target)
    moved.append((source, target))


def _lock_folder(folder: Path) -> int | None:
    """Lock ``folder`` for this process (until its descriptor is closed); None where there is no ``fcntl``."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        return None
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise NanoSIMSError(f"{folder}: another nanosims-cluster run is writing into this folder; wait until it "
                            "ends, or give another --out.") from None
    return descriptor

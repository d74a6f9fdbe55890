"""Run one function over many images: in this process, in local worker processes, or on a Dask cluster.

The command line (``nanosims-cluster --workers N`` or ``--scheduler ADDRESS``) and
:func:`nanosims_helpers.study.fit_study` hand their per-image work to a :class:`Runner`:

* ``Runner()`` runs the images one after the other in this process;
* ``Runner(workers=4)`` starts a ``distributed.LocalCluster`` of 4 single-threaded worker
  processes on this machine and stops it at the end;
* ``Runner(scheduler="tcp://host:8786")`` sends the images to a running Dask scheduler: a
  workstation cluster (``dask scheduler`` on one machine, ``dask worker tcp://host:8786
  --nthreads 1`` on each), or an HPC queue through ``dask-jobqueue`` (see the README).

Every image's outcome comes back to this process as an :class:`Outcome`: its value, or a
one-line error, and the warnings it raised, so a failed image is reported here (not in a worker's
log) and the others go on. A worker process that dies (out of memory, killed) fails only the
image it was working on; a scheduler that cannot be reached, is not a Dask scheduler or goes away
during the run ends the run with one :class:`~nanosims_helpers.errors.NanoSIMSError` line, within
the connect timeout (:func:`connect_timeout`). The outcome of an image depends only on the image and the settings,
never on the worker that computed it, so the outputs are the same whatever the number of workers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .errors import NanoSIMSError
from .io.files import interrupts_ignored

__all__ = [
    "WORKER_MEMORY_BYTES", "Outcome", "Runner", "attempt", "check_scheduler_address", "connect_timeout",
    "describe_error", "one_line", "worker_limit",
]

#: Memory set aside for each local worker process: one 256 x 256 image of 6 masses, clustered by the
#: default method, takes a whole ``nanosims-cluster`` process to 430 MB; this leaves room for 512 x 512.
WORKER_MEMORY_BYTES = 1 << 30

#: Address schemes of a Dask scheduler that another process can reach.
SCHEDULER_SCHEMES = ("tcp", "tls")


@dataclass(frozen=True)
class Outcome:
    """What became of one job.

    Attributes
    ----------
    index : int
        Position of the job in the list given to :meth:`Runner.run`.
    value : object
        What the function returned; None if it failed.
    error : str or None
        One line, starting with the job's label (usually the input file), if it failed.
    warnings : tuple of str
        The distinct warnings the job raised, one line each, without the label.

    Examples
    --------
    >>> Outcome(0, value=3).ok, Outcome(1, error="a.tif: not a TIFF").ok
    (True, False)
    """

    index: int
    value: object = None
    error: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True if the job finished without an error."""
        return self.error is None


def one_line(label, message) -> str:
    """``message`` on one line, starting with ``label`` (a path or a name), and not twice.

    Examples
    --------
    >>> one_line(Path("data/a.tif"), "a.tif: not a TIFF file.\\n Export it again.")
    'data/a.tif: not a TIFF file. Export it again.'
    """
    message = " ".join(str(message).split())
    for name in (str(label), Path(str(label)).name):
        if message.startswith(f"{name}: "):
            message = message[len(name) + 2:]
    return f"{label}: {message}"


def describe_error(exc: BaseException) -> str:
    """The message a user sees for ``exc``: the kit's own message, or what kind of failure it was.

    Examples
    --------
    >>> describe_error(NanoSIMSError("a.tif: not a TIFF file."))
    'a.tif: not a TIFF file.'
    >>> describe_error(FileNotFoundError(2, "No such file or directory"))
    'No such file or directory (FileNotFoundError)'
    """
    if isinstance(exc, NanoSIMSError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc} ({type(exc).__name__})"
    return f"unexpected {type(exc).__name__}: {exc} (rerun with --traceback and report it, please)"


def _warning_lines(caught) -> tuple[str, ...]:
    messages = [" ".join(str(w.message).split()) for w in caught if issubclass(w.category, UserWarning)]
    return tuple(dict.fromkeys(messages))


def attempt(function, index: int, label, *args, reraise: bool = False) -> Outcome:
    """Call ``function(*args)``; return its value or its error as an :class:`Outcome`.

    What runs in a worker: warnings are recorded (they would otherwise end in the worker's log)
    and any exception becomes a one-line error naming ``label``, unless ``reraise``.

    Examples
    --------
    >>> attempt(int, 0, "x", "12").value
    12
    >>> attempt(int, 1, "x", "twelve").error.split(" (rerun")[0]
    "x: unexpected ValueError: invalid literal for int() with base 10: 'twelve'"
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = function(*args)
        except Exception as exc:  # one bad input must not stop the others
            if reraise:
                raise
            return Outcome(index, error=one_line(label, describe_error(exc)), warnings=_warning_lines(caught))
    return Outcome(index, value, warnings=_warning_lines(caught))


def _check_workers(workers) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise NanoSIMSError(f"workers={workers!r}: give a whole number of worker processes, 1 or more.")
    return workers


def check_scheduler_address(address) -> str:
    """Return ``address`` (``tcp://HOST:PORT``, ``tls://HOST:PORT`` or ``HOST:PORT``) stripped, or raise.

    Only the form is checked, not whether a scheduler listens there (:class:`Runner` does that).

    Raises
    ------
    NanoSIMSError
        If it is empty, has another scheme (a web address such as the dashboard's ``http://``,
        or ``inproc://``, which only the process that made it can reach), or lacks a port.

    Examples
    --------
    >>> check_scheduler_address(" tcp://10.0.0.5:8786 ")
    'tcp://10.0.0.5:8786'
    >>> check_scheduler_address("http://127.0.0.1:8787/status")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nanosims_helpers.errors.NanoSIMSError: scheduler 'http://127.0.0.1:8787/status': a web address (the dashboard?)...
    """
    text = str(address).strip()
    scheme, _, place = text.rpartition("://")
    match = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})", place)
    way_out = "give the address the scheduler prints when it starts, e.g. tcp://10.0.0.5:8786."
    if scheme.lower() in ("http", "https"):
        raise NanoSIMSError(f"scheduler {text!r}: a web address (the dashboard?), not the scheduler's; {way_out}")
    if scheme and scheme.lower() not in SCHEDULER_SCHEMES:
        raise NanoSIMSError(f"scheduler {text!r}: Dask schedulers are reached by {' or '.join(SCHEDULER_SCHEMES)}, "
                            f"not {scheme}; {way_out}")
    if match is None or not 0 < int(match.group(2)) < 65536:
        raise NanoSIMSError(f"scheduler {text!r}: not HOST:PORT (a port from 1 to 65535); {way_out}")
    return text


def connect_timeout() -> float:
    """Seconds to reach a scheduler and hear it answer as one: Dask's ``distributed.comm.timeouts.connect``.

    30 s unless set otherwise, e.g. ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s`` in the environment.
    """
    import dask
    import distributed  # noqa: F401 - its default settings
    from dask.utils import parse_timedelta

    return float(parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), default="seconds"))


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def require_dask(option: str) -> None:
    """Raise a NanoSIMSError saying how to install Dask if ``option`` (which needs it) cannot import it.

    Dask is an extra of the kit (``pip install "nanosims-helpers[dask]"``): a plain install runs the
    inputs one after another in its own process.
    """
    try:
        import distributed  # noqa: F401
        import psutil  # noqa: F401
    except ModuleNotFoundError:
        raise NanoSIMSError(f"{option} needs Dask, which this installation lacks: pip install "
                            "\"nanosims-helpers[dask]\", or leave the option out to run the inputs one by one"
                            ) from None


def worker_limit(requested: int, n_jobs: int) -> tuple[int, str | None]:
    """The number of local workers to start for ``n_jobs`` jobs, and a line saying why if fewer than asked.

    No more workers than jobs, than cores this process may use, or than the free memory holds
    at :data:`WORKER_MEMORY_BYTES` each; at least 1.

    Examples
    --------
    >>> worker_limit(1000, 1)[0]
    1
    >>> worker_limit(1, 50)
    (1, None)
    """
    import psutil

    memory = psutil.virtual_memory().available // WORKER_MEMORY_BYTES
    limits = [(n_jobs, f"{n_jobs} input(s)"), (_usable_cores(), f"{_usable_cores()} usable core(s)"),
              (memory, f"free memory for {memory} ({WORKER_MEMORY_BYTES / 1e9:.1f} GB each)")]
    count = max(1, min(requested, *(limit for limit, _ in limits)))
    if count == requested:
        return count, None
    why = ", ".join(words for limit, words in limits if limit < requested)
    return count, f"--workers {requested} lowered to {count}: {why}"


#: Modules the local workers import once, in the process they are forked from (see :func:`_worker_settings`).
WORKER_PRELOAD = ("distributed", "nanosims_helpers.runs.many_images", "nanosims_helpers.runs.study_outputs")


def _forking() -> bool:
    """True where local workers can be forked from a server process (Linux, macOS), not spawned."""
    import multiprocessing

    return "forkserver" in multiprocessing.get_all_start_methods()


def _worker_settings() -> dict:
    """Dask settings under which a ``LocalCluster`` starts workers that spend their CPU time on the jobs.

    Measured on 256 x 256 images (``benchmarks/README.md``), three defaults of Dask cost time here:

    * workers made by ``spawn`` each import NumPy, SciPy, scikit-learn, Matplotlib and Dask again
      (about 2 s of CPU each, at every start): they are forked instead from one server process
      (``forkserver``) that imported :data:`WORKER_PRELOAD` once, where the platform has it;
    * ``MALLOC_TRIM_THRESHOLD_=65536`` makes the C allocator hand every freed array back to the
      system and take it again for the next one: 9 times the page faults of the same job in this
      process and 30 % more CPU per image; the workers keep the allocator's own default;
    * the statistical profiler samples every task's stack every 10 ms (about 10 % of the CPU).
    """
    settings = {
        "distributed.worker.profile.enabled": False,
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    }
    if _forking():
        settings["distributed.worker.multiprocessing-method"] = "forkserver"
    return settings


def _start_fork_server() -> None:
    """Start the server the workers are forked from, importing :data:`WORKER_PRELOAD` while this process works.

    Started with Ctrl-C ignored, which the workers inherit; no effect if it runs already.
    """
    from multiprocessing import forkserver

    from distributed.utils import get_mp_context

    # after Dask's own choice of modules, which it makes once per process
    get_mp_context().set_forkserver_preload(list(WORKER_PRELOAD))
    with interrupts_ignored(), _worker_environment():
        forkserver.ensure_running()


@contextlib.contextmanager
def _worker_environment():
    """The environment variables Dask gives its workers (one thread for OpenMP and BLAS), set in this process.

    Workers forked from the server get the server's environment, not the one Dask sets when it
    starts each of them; NumPy and scikit-learn read these variables when the server imports them.
    """
    import dask

    wanted = {name: str(value) for name, value in dask.config.get("distributed.nanny.pre-spawn-environ").items()
              if value is not None and name not in os.environ}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name in wanted:
            os.environ.pop(name, None)


def _local_cluster(workers: int):
    """A ``LocalCluster`` of ``workers`` single-threaded processes and its client."""
    from distributed import Client, LocalCluster

    # the scheduler's web server on a free port of this machine only: on its default (8787 on every
    # network interface, often taken) it warns when it moves
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    return cluster, Client(cluster)


def _handshake(address: str, timeout: float) -> None:
    """Reach ``address`` and exchange Dask's greeting, each within ``timeout`` seconds.

    ``distributed.Client`` bounds the connection but not the greeting: a program that is not Dask
    (a web server, say) can keep it waiting for ever, or answer with bytes it reads as a huge size.
    A plain connection first tells "nothing listens" (at once) from "not Dask". Run in a thread of
    its own, so that it works under a running event loop (Jupyter) too.
    """
    import asyncio
    import socket
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm import connect
    from distributed.comm.addressing import parse_address, parse_host_port

    socket.create_connection(parse_host_port(parse_address(address)[1]), timeout=timeout).close()

    async def greet():
        comm = await connect(address, timeout=timeout)
        await comm.close()

    with ThreadPoolExecutor(1, thread_name_prefix="dask-handshake") as thread:
        thread.submit(asyncio.run, asyncio.wait_for(greet(), timeout)).result()


@contextlib.contextmanager
def _dask_logs_quiet():
    """Silence the loggers of ``distributed`` (its own levels restored after)."""
    import distributed  # noqa: F401 - its loggers, with the levels of its settings

    names = ["distributed", *(name for name in logging.root.manager.loggerDict if name.startswith("distributed."))]
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _connect(address: str):
    """A ``distributed.Client`` of the scheduler at ``address``, or one clear error within the connect timeout."""
    import asyncio
    import concurrent.futures

    from distributed import Client

    timeout = connect_timeout()
    start = "start one with `dask scheduler` and give the address it prints (tcp://HOST:8786)"
    try:
        _handshake(address, timeout)
    except (asyncio.TimeoutError, concurrent.futures.TimeoutError):  # before OSError, of which it is one since 3.11
        raise NanoSIMSError(f"scheduler {address}: something listens there but gave no Dask greeting within "
                            f"{timeout:g} s, so it is not a Dask scheduler; {start}.") from None
    except OSError as exc:
        raise NanoSIMSError(f"scheduler {address}: cannot connect ({exc.strerror or exc}); {start}.") from None
    except Exception as exc:  # bytes that are not Dask's: a size of exabytes, a message of the wrong shape
        raise NanoSIMSError(
            f"scheduler {address}: what answers there is not a Dask scheduler ({type(exc).__name__}); {start}."
        ) from None
    try:
        client = Client(address, timeout=timeout)
    except Exception as exc:
        raise NanoSIMSError(f"scheduler {address}: cannot start a session ({type(exc).__name__}: {exc}); {start}.") \
            from None
    if client.scheduler_info().get("type") != "Scheduler":
        client.close()
        raise NanoSIMSError(f"scheduler {address}: a Dask process answers, but not a scheduler (a worker?); {start}.")
    return client


class Runner:
    """Runs jobs in this process, in ``workers`` local processes, or on a Dask scheduler.

    Use it as a context manager: the local cluster or the connection to the scheduler is made on
    entry and closed on exit, also when the run is interrupted (Ctrl-C stops the local workers).
    Entering a runner that is already open (a function given the caller's runner) reuses it.

    Local workers take 1-3 s to start; where they are forked from a server process (Linux,
    macOS), they start in the background and the jobs run in this process until they are ready,
    then go to them. Where a job runs never changes its outcome.

    Parameters
    ----------
    workers : int
        1 (the default): run every job here, one after the other. More: start a
        ``distributed.LocalCluster`` of that many single-threaded worker processes.
    scheduler : str, optional
        Address of a running ``dask.distributed`` scheduler (``"tcp://10.0.0.5:8786"``); its
        workers need the kit installed. Overrides ``workers``.
    progress : bool or None
        Show a progress bar of finished jobs: True, False, or None for "only on a terminal".

    Raises
    ------
    NanoSIMSError
        If ``workers`` is not a whole number >= 1, the scheduler's address is malformed
        (:func:`check_scheduler_address`), or, on entry, nothing answers there as a Dask
        scheduler within :func:`connect_timeout`; while jobs run, if the scheduler goes away.

    Examples
    --------
    >>> with Runner(progress=False) as runner:
    ...     [outcome.value for outcome in runner.run(abs, [(-1,), (2,)], labels=["a", "b"])]
    [1, 2]
    """

    def __init__(self, workers: int = 1, scheduler: str | None = None, *, progress: bool | None = None):
        self.workers = _check_workers(workers)
        self.scheduler = None if scheduler is None else check_scheduler_address(scheduler)
        self.progress = progress
        self._cluster = None
        self._client = None
        self._starting = None  # the local cluster being started in the background: a Future of (cluster, client)
        self._settings = contextlib.ExitStack()
        self._depth = 0

    @property
    def where(self) -> str:
        """Where the jobs run, in words."""
        if self.scheduler:
            return f"the Dask scheduler at {self.scheduler}"
        return "this process" if self.workers == 1 else f"{self.workers} local worker processes"

    def __enter__(self) -> "Runner":
        self._depth += 1
        if self._depth == 1 and self.scheduler:
            self._settings.enter_context(_dask_logs_quiet())  # its reconnection tracebacks: the run says it in one line
            try:
                self._client = _connect(self.scheduler)
            except BaseException:
                self._settings.close()
                raise
        elif self._depth == 1 and self.workers > 1:
            import dask
            import distributed  # noqa: F401 - its default settings, before some of them are changed

            self._settings.enter_context(dask.config.set(_worker_settings()))
            if _forking():
                from concurrent.futures import ThreadPoolExecutor

                _start_fork_server()
                starter = ThreadPoolExecutor(1, thread_name_prefix="start-workers")
                self._starting = starter.submit(_local_cluster, self.workers)
                starter.shutdown(wait=False)
            else:
                with interrupts_ignored():
                    self._cluster, self._client = _local_cluster(self.workers)
        return self

    def __exit__(self, *exc_info) -> None:
        self._depth -= 1
        if self._depth:
            return  # entered again by a function the owner called: the owner closes it
        try:
            # every job has run (here, if the workers never came): a failed start is not the run's failure
            with contextlib.suppress(NanoSIMSError):
                self._workers_ready(wait=True)
        finally:
            for resource in (self._client, self._cluster):
                if resource is not None:
                    resource.close()
            self._client = self._cluster = None
            self._settings.close()

    def _workers_ready(self, wait: bool) -> bool:
        """True once the local workers started in the background are up (waiting for them if ``wait``)."""
        if self._starting is None:
            return True
        if not wait and not self._starting.done():
            return False
        starting, self._starting = self._starting, None
        try:
            self._cluster, self._client = starting.result()
        except Exception as exc:  # Dask's own errors: a worker process that cannot start, no free port
            raise NanoSIMSError(
                f"the {self.workers} local worker processes could not start ({type(exc).__name__}: {exc}); run "
                "with --workers 1, or, in a script of your own, start them under `if __name__ == \"__main__\":`."
            ) from exc
        return True

    def run(self, function, jobs, *, labels, desc: str = "images", reraise: bool = False):
        """Run ``function(*job)`` for every job; yield an :class:`Outcome` as each one finishes.

        Parameters
        ----------
        function : callable
            A module-level function (workers import it by name), returning something small:
            the big results (label maps) are written to files by the function itself.
        jobs : sequence of tuple
            The arguments of each call.
        labels : sequence
            One label per job (its input file), starting its error line.
        desc : str
            Name of the progress bar.
        reraise : bool
            Let the first exception through (with its traceback) instead of recording it.

        Yields
        ------
        Outcome
            In the order the jobs finish; ``outcome.index`` says which job it was.
        """
        jobs, labels = list(jobs), list(labels)
        with tqdm(total=len(jobs), desc=desc, unit="image", file=sys.stderr, disable=self._hide_bar()) as bar:
            for outcome in self._outcomes(function, jobs, labels, reraise):
                bar.update()
                yield outcome

    def _hide_bar(self):
        return None if self.progress is None else not self.progress

    def _outcomes(self, function, jobs, labels, reraise):
        """Jobs in this process while the local workers start (or without workers), then on the workers."""
        waiting = list(range(len(jobs)))
        while waiting and not (self._workers_ready(wait=False) and self._client is not None):
            index = waiting.pop(0)
            yield attempt(function, index, labels[index], *jobs[index], reraise=reraise)
        if waiting:
            yield from self._distributed(function, jobs, labels, reraise, waiting)

    def _distributed(self, function, jobs, labels, reraise, indices):
        from distributed import as_completed

        futures = {
            self._client.submit(attempt, function, index, labels[index], *jobs[index], reraise=reraise, pure=False):
            index for index in indices
        }
        try:
            for future in as_completed(futures):
                if future.status == "cancelled":  # the client cancels every job when the scheduler goes away
                    raise NanoSIMSError(
                        f"scheduler {self.scheduler}: the connection was lost during the run; the images finished "
                        "before it are kept. Check that the scheduler still runs, then run the others again."
                    )
                try:
                    yield future.result()
                except Exception as exc:  # the worker died, or reraise
                    if reraise:
                        raise
                    index = futures[future]
                    reason = f"the worker failed ({type(exc).__name__}: {exc})"
                    yield Outcome(index, error=one_line(labels[index], reason))
        finally:
            with contextlib.suppress(Exception):  # a client whose scheduler went away cannot cancel
                self._client.cancel(list(futures))

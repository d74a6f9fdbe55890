"""Time one benchmark case and its peak memory in a fresh Python process; print result tables.

Each case runs in its own subprocess, so one case's memory (or a library's cache) never leaks
into the next one's numbers. A case is a function ``setup(*args, **kwargs) -> run`` named as
``"package.module:function"``: the subprocess imports it, calls it to build the inputs (not
timed), then times ``run()``. Peak memory is the subprocess' maximum resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``), which includes Python, the libraries and the
input data: it is what the process would need on a laptop or on Binder.

Usage, from another benchmark::

    from benchmarks._measure import measure, print_table

    def kmeans_case(size):          # setup: runs in the subprocess, not timed
        features = ...
        return lambda: KMeans(4).fit(features).inertia_   # timed; its result comes back

    m = measure("benchmarks.bench_mine:kmeans_case", 256, repeat=3)
    m.seconds, m.peak_mib, m.result
"""

from __future__ import annotations

import math
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Cores this process may use: the "all threads" setting of the benchmarks.
ALL_THREADS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
#: The thread settings every timed comparison is run at: one thread, and all.
THREAD_SETTINGS = (1, ALL_THREADS) if ALL_THREADS > 1 else (1,)
#: Printed beside every table of times.
LOAD_NOTE = ("The machine may be shared: times are medians of interleaved runs, with their range; compare rows "
             "of one table, not with other machines.")

_CHILD = r"""
import contextlib, importlib, pickle, resource, sys, time
from threadpoolctl import threadpool_limits
with open(sys.argv[1], "rb") as handle:
    case, args, kwargs, threads = pickle.load(handle)
module, name = case.split(":")
run = getattr(importlib.import_module(module), name)(*args, **kwargs)
setup_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with threadpool_limits(limits=threads) if threads else contextlib.nullcontext():
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with open(sys.argv[2], "wb") as handle:
    pickle.dump({"seconds": seconds, "setup_kib": setup_kib, "peak_kib": peak_kib, "result": result}, handle)
"""


@dataclass(frozen=True)
class Measurement:
    """Outcome of :func:`measure`.

    Attributes
    ----------
    seconds : float
        Median time of ``run()`` over the repeats.
    peak_mib : float
        Largest peak resident memory of a subprocess over the repeats, in MiB (setup included).
    setup_mib : float
        Peak resident memory before ``run()`` started (Python, libraries, inputs), in MiB.
    result : object
        What ``run()`` returned in the last repeat.
    times : tuple of float
        Every repeat's time.
    """

    seconds: float
    peak_mib: float
    setup_mib: float
    result: object
    times: tuple[float, ...]

    def timing(self, digits: int = 2) -> str:
        """Median and range of the times, e.g. ``"0.87 (0.80-0.95)"``; just the median for one run."""
        median = f"{self.seconds:.{digits}f}"
        if len(self.times) < 2:
            return median
        return f"{median} ({min(self.times):.{digits}f}-{max(self.times):.{digits}f})"


def measure(case: str, *args, repeat: int = 1, timeout: float | None = None, threads: int | None = None,
            **kwargs) -> Measurement:
    """Run ``case`` in ``repeat`` fresh subprocesses; return its median time and peak memory.

    Parameters
    ----------
    case : str
        ``"module:function"``; ``function(*args, **kwargs)`` returns the zero-argument callable
        to time. Arguments and the callable's result must be picklable.
    *args, **kwargs
        Passed to the setup function.
    repeat : int
        Number of subprocesses (one timed run each).
    timeout : float, optional
        Seconds after which a subprocess is stopped (``subprocess.TimeoutExpired``).
    threads : int, optional
        Threads the numerical libraries may use while ``run()`` is timed (threadpoolctl); their
        default (one per core) when None.

    Returns
    -------
    Measurement

    Raises
    ------
    RuntimeError
        If the case fails in the subprocess; the message holds the end of its error output.
    """
    return _summary([_run_once(case, args, kwargs, timeout, threads) for _ in range(repeat)])


def measure_interleaved(cases: dict, repeat: int = 3, timeout: float | None = None) -> dict:
    """Measure several cases in turn, ``repeat`` rounds of one run each, so that all see the same load.

    Parameters
    ----------
    cases : dict
        Name -> ``(case, args, kwargs, threads)`` as for :func:`measure` (``kwargs`` a dict,
        ``threads`` an int or None).
    repeat : int
        Rounds; each case runs once per round, in the order given.

    Returns
    -------
    dict
        Name -> :class:`Measurement` (median and range over the rounds).
    """
    runs = {name: [] for name in cases}
    for _ in range(repeat):
        for name, (case, args, kwargs, threads) in cases.items():
            runs[name].append(_run_once(case, tuple(args), dict(kwargs), timeout, threads))
    return {name: _summary(found) for name, found in runs.items()}


def measure_rounds(cases_of_round, repeat: int = 3, timeout: float | None = None) -> tuple[dict, list[dict]]:
    """Like :func:`measure_interleaved`, with cases that change from round to round (e.g. a seed).

    ``cases_of_round(r)`` returns the cases of round ``r`` (same names every round). Returns the
    merged measurements (median and range over the rounds) and each round's own.
    """
    rounds = [measure_interleaved(cases_of_round(r), repeat=1, timeout=timeout) for r in range(repeat)]
    merged = {}
    for name in rounds[0]:
        found = [measurements[name] for measurements in rounds]
        times = tuple(m.seconds for m in found)
        merged[name] = Measurement(statistics.median(times), max(m.peak_mib for m in found),
                                   max(m.setup_mib for m in found), found[-1].result, times)
    return merged, rounds


def _summary(runs: list[dict]) -> Measurement:
    return Measurement(
        seconds=statistics.median(run["seconds"] for run in runs),
        peak_mib=max(run["peak_kib"] for run in runs) / 1024,
        setup_mib=max(run["setup_kib"] for run in runs) / 1024,
        result=runs[-1]["result"],
        times=tuple(run["seconds"] for run in runs),
    )


def threads_label(threads: int | None) -> str:
    """``"1"``, or ``"2 (all)"`` for every core."""
    return f"{threads} (all)" if threads == ALL_THREADS and threads > 1 else str(threads)


def magnitude(low: float, high: float | None = None, unit: str = "s") -> str:
    """An extrapolated quantity as an order of magnitude: ``"~10^3 s"``, or ``"10^2-10^3 s"`` for a range.

    Examples
    --------
    >>> magnitude(1500.0), magnitude(80.0, 3000.0, "x")
    ('~10^3 s', '10^2-10^3 x')
    """
    high = low if high is None else high
    first, last = (round(math.log10(value)) for value in sorted((low, high)))
    return f"~10^{first} {unit}" if first == last else f"10^{first}-10^{last} {unit}"


def _run_once(case: str, args, kwargs, timeout, threads=None) -> dict:
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as folder:
        spec, out = Path(folder) / "spec.pkl", Path(folder) / "out.pkl"
        spec.write_bytes(pickle.dumps((case, args, kwargs, threads)))
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(spec), str(out)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{case} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
        return pickle.loads(out.read_bytes())


def ratio(slow: float, fast: float) -> str:
    """``slow / fast`` formatted as ``"12.3x"``."""
    return f"{slow / fast:.1f}x" if fast > 0 else "-"


def print_table(title: str, header: list[str], rows: list[list], notes: list[str] = ()) -> None:
    """Print a Markdown table (readable in a terminal, pasteable into a README)."""
    print(f"\n### {title}\n")
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    print("\n".join(lines))
    for note in notes:
        print(f"\n{note}")
    sys.stdout.flush()

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

import os
import pickle
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = r"""
import importlib, pickle, resource, sys, time
with open(sys.argv[1], "rb") as handle:
    case, args, kwargs = pickle.load(handle)
module, name = case.split(":")
run = getattr(importlib.import_module(module), name)(*args, **kwargs)
setup_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
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


def measure(case: str, *args, repeat: int = 1, timeout: float | None = None, **kwargs) -> Measurement:
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

    Returns
    -------
    Measurement

    Raises
    ------
    RuntimeError
        If the case fails in the subprocess; the message holds the end of its error output.
    """
    runs = [_run_once(case, args, kwargs, timeout) for _ in range(repeat)]
    return Measurement(
        seconds=statistics.median(run["seconds"] for run in runs),
        peak_mib=max(run["peak_kib"] for run in runs) / 1024,
        setup_mib=max(run["setup_kib"] for run in runs) / 1024,
        result=runs[-1]["result"],
        times=tuple(run["seconds"] for run in runs),
    )


def _run_once(case: str, args, kwargs, timeout) -> dict:
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as folder:
        spec, out = Path(folder) / "spec.pkl", Path(folder) / "out.pkl"
        spec.write_bytes(pickle.dumps((case, args, kwargs)))
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

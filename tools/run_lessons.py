"""Run every lesson top to bottom, one at a time, and print a table of time and peak memory.

Each lesson runs in its own child process (``jupyter nbconvert --execute`` and its kernel), so the
CPU time and peak resident memory read from ``getrusage(RUSAGE_CHILDREN)`` belong to that lesson
alone. Pin the run to one core from outside (``taskset -c 0``) and set the thread variables
(``.ci/binder`` does both). On one core of its own a lesson's wall time is its CPU time; on a
shared machine the wall time also counts the waits for the core, so the limit applies to the CPU
time (kernel start and imports included).

Usage::

    python tools/run_lessons.py [--limit-seconds 60] [notebooks/*.ipynb]

Exits 1 if a lesson fails or takes longer than the limit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_one(notebook: Path) -> dict:
    """Run one notebook in a child process; return its wall and CPU time, peak memory and outcome."""
    code = (
        "import json, resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "done = subprocess.run([sys.executable, '-m', 'jupyter', 'nbconvert', '--to', 'notebook', '--execute',\n"
        "                       '--ExecutePreprocessor.timeout=600', '--output-dir', sys.argv[2], sys.argv[1]],\n"
        "                      capture_output=True, text=True)\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'seconds': time.perf_counter() - start, 'returncode': done.returncode,\n"
        "                  'cpu_seconds': usage.ru_utime + usage.ru_stime, 'peak_mib': usage.ru_maxrss / 1024,\n"
        "                  'error': done.stderr[-2000:] if done.returncode else ''}))\n"
    )
    with tempfile.TemporaryDirectory() as scratch:
        out = subprocess.run([sys.executable, "-c", code, notebook.name, scratch], cwd=notebook.parent,
                             capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--limit-seconds", type=float, default=60.0, help="most CPU seconds per lesson")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((REPO / "notebooks").glob("*.ipynb"))
    print("| lesson | CPU seconds | wall seconds | peak memory (MiB) |\n|---|---|---|---|")
    failed = []
    for notebook in notebooks:
        result = run_one(notebook.resolve())
        print(f"| {notebook.stem} | {result['cpu_seconds']:.0f} | {result['seconds']:.0f} | {result['peak_mib']:.0f} |",
              flush=True)
        if result["returncode"] or result["cpu_seconds"] > args.limit_seconds:
            failed.append(notebook.name)
            print(result["error"] or f"over {args.limit_seconds:.0f} s", file=sys.stderr)
    if failed:
        print(f"failed or too slow: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

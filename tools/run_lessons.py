"""Run every lesson top to bottom, one at a time, and print a table of wall time and peak memory.

Each lesson runs in its own child process (``jupyter nbconvert --execute`` and its kernel), so the
peak resident memory read from ``getrusage(RUSAGE_CHILDREN)`` belongs to that lesson alone. Pin the
run to one core from outside (``taskset -c 0``) and set the thread variables (``.ci/binder`` does
both).

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
    """Run one notebook in a child process; return its wall time, peak memory and outcome."""
    code = (
        "import json, resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "done = subprocess.run([sys.executable, '-m', 'jupyter', 'nbconvert', '--to', 'notebook', '--execute',\n"
        "                       '--ExecutePreprocessor.timeout=600', '--output-dir', sys.argv[2], sys.argv[1]],\n"
        "                      capture_output=True, text=True)\n"
        "print(json.dumps({'seconds': time.perf_counter() - start, 'returncode': done.returncode,\n"
        "                  'peak_mib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,\n"
        "                  'error': done.stderr[-2000:] if done.returncode else ''}))\n"
    )
    with tempfile.TemporaryDirectory() as scratch:
        out = subprocess.run([sys.executable, "-c", code, notebook.name, scratch], cwd=notebook.parent,
                             capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--limit-seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((REPO / "notebooks").glob("*.ipynb"))
    print("| lesson | seconds | peak memory (MiB) |\n|---|---|---|")
    failed = []
    for notebook in notebooks:
        result = run_one(notebook.resolve())
        print(f"| {notebook.stem} | {result['seconds']:.0f} | {result['peak_mib']:.0f} |", flush=True)
        if result["returncode"] or result["seconds"] > args.limit_seconds:
            failed.append(notebook.name)
            print(result["error"] or f"over {args.limit_seconds:.0f} s", file=sys.stderr)
    if failed:
        print(f"failed or too slow: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Build the kit's wheel, install it with the core dependencies only into a fresh virtual environment,
and cluster a real Cameca .im file with its ``nanosims-cluster``; exit 0 when every check passes.

What a researcher gets from ``pip install nanosims-helpers``: the library and the command line,
without JupyterLab, Dask or the test tools. Run by ``make wheel-check`` and by CI; it takes a few
minutes (pip installs NumPy, SciPy, scikit-learn ... into the new environment, from its cache
where it can).
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: The real file clustered by the installed command.
IM_FILE = REPO / "data" / "cameca" / "openmims_051117.im"
#: What the core install must not bring (each is an extra's).
NOT_IN_CORE = ("dask", "distributed", "jupyterlab", "ipywidgets", "voila", "pytest")


def run(command, **options) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, **options)


def main() -> int:
    checks = []

    def check(name: str, ok: bool, detail: str = "") -> None:
        checks.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""), flush=True)

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        built = run([sys.executable, "-m", "build", "--wheel", "--outdir", folder / "dist", REPO])
        wheels = list((folder / "dist").glob("nanosims_helpers-*.whl"))
        check("the wheel builds", built.returncode == 0 and len(wheels) == 1, built.stderr[-2000:])
        if not wheels:
            return 1
        venv.create(folder / "env", with_pip=True)
        python, command = folder / "env" / "bin" / "python", folder / "env" / "bin" / "nanosims-cluster"
        installed = run([python, "-m", "pip", "install", "--quiet", wheels[0]])
        check("it installs with the core dependencies", installed.returncode == 0, installed.stderr[-2000:])
        find = f"import importlib.util as u; print([m for m in {NOT_IN_CORE!r} if u.find_spec(m)])"
        extras = run([python, "-c", find])
        check("the core install has no extra", extras.stdout.strip() == "[]", extras.stdout + extras.stderr)
        out = folder / "out"
        clustered = run([command, IM_FILE, "--out", out, "-k", "3", "--method", "kmeans"], cwd=folder)
        check(f"nanosims-cluster clusters {IM_FILE.name}", clustered.returncode == 0, clustered.stderr[-2000:])
        rows = list(csv.DictReader((out / "summary.csv").open())) if (out / "summary.csv").is_file() else []
        stem = IM_FILE.stem
        written = all((out / f"{stem}{suffix}").is_file()
                      for suffix in ("_labels.tif", "_profiles.csv", "_scores.json", "_overview.png"))
        check("its summary says ok and every file is written",
              [row["status"] for row in rows] == ["ok"] and rows[0]["k"] == "3" and written, str(rows))
        parallel = run([command, IM_FILE, "--out", folder / "parallel", "-k", "3", "--workers", "2"], cwd=folder)
        check("--workers without the dask extra says how to install it",
              parallel.returncode == 2 and "nanosims-helpers[dask]" in parallel.stderr, parallel.stderr)
    print(f"wheel check: {sum(checks)} passed, {len(checks) - sum(checks)} failed")
    return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())

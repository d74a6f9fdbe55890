"""Start-up: how long ``import nanosims_helpers`` and the whole ``nanosims-cluster`` command take.

Each case is a fresh Python process timed from outside (wall clock, interpreter start included),
the cases taking turns round after round; medians and ranges are printed:

* ``import nanosims_helpers``, ``import nanosims_helpers.cli``, ``nanosims-cluster --help``;
* the whole command on ``soil_256`` (``--method hierarchical -k 4``): start, imports, clustering,
  scores and every file written;
* exact Ward of every pixel of the same image (fastcluster; imports not counted, the benefit of
  the doubt), the clustering the command's hierarchical method stands in for.

With ``--before DIR`` (a checkout of an earlier kit) the same commands also run on that copy's
code, in the same rounds and on the same libraries, so the change shows in one table::

    python -m benchmarks.bench_startup --before ../earlier-kit --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._measure import LOAD_NOTE, REPO, measure, print_table

#: The command of the table: the 256 x 256 sample, fast Ward, 4 clusters.
COMMAND = ["--method", "hierarchical", "-k", "4"]


def _wall(code: str, source: Path, cwd: Path) -> float:
    """Seconds a fresh ``python -c code`` takes with the kit's code taken from ``source``."""
    environment = dict(os.environ, PYTHONPATH=str(source), MPLBACKEND="Agg")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=environment, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{code!r} failed:\n{done.stderr}")
    return seconds


def _command_code(source: Path, argv: list[str]) -> str:
    """Python that runs ``nanosims-cluster argv`` as the installed script of the kit in ``source`` would."""
    if (source / "nanosims_cluster.py").exists():  # earlier kits: a module of its own beside the package
        entry = "from nanosims_cluster import main"
    else:
        entry = "from nanosims_helpers.__main__ import main"
    return f"import sys\nsys.argv = ['nanosims-cluster', *{argv!r}]\n{entry}\nraise SystemExit(main())"


def exact_case(path: str):
    """Setup: the image's asinh features; timed: exact Ward of every pixel into 4 clusters."""
    from nanosims_helpers.hierarchical import exact_ward_labels
    from nanosims_helpers.io.loading import load_image
    from nanosims_helpers.preprocessing import preprocess

    features = preprocess(load_image(path).for_clustering().counts, "asinh")
    return lambda: int(exact_ward_labels(features, 4).max()) + 1


def main(repeat: int = 3, before: Path | None = None, exact: bool = True) -> None:
    from nanosims_helpers.teaching.samples import sample_paths

    image = sample_paths("soil_256")[0]
    sources = {"this kit": REPO, **({"before": before.resolve()} if before else {})}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        cases = {}
        for label, source in sources.items():
            cases[(label, "import nanosims_helpers")] = ("import nanosims_helpers", source)
            cases[(label, "import nanosims_helpers.cli")] = ("import nanosims_helpers.cli", source)
            cases[(label, "nanosims-cluster --help")] = (
                "import contextlib, io\n" + _command_code(source, ["--help"]).replace(
                    "raise SystemExit(main())", "with contextlib.redirect_stdout(io.StringIO()):\n"
                    "    try:\n        main()\n    except SystemExit:\n        pass"), source)
            cases[(label, f"nanosims-cluster soil_256 {' '.join(COMMAND)}")] = (
                _command_code(source, [str(image), "--out", str(folder / label), *COMMAND]), source)
        times = {key: [] for key in cases}
        exact_times = []
        for _ in range(repeat):
            for key, (code, source) in cases.items():
                times[key].append(_wall(code, source, folder))
            if exact:
                exact_times.append(measure("benchmarks.bench_startup:exact_case", str(image), threads=1).seconds)
    command = next(key for key in times if key[0] == "this kit" and key[1].startswith("nanosims-cluster soil"))
    rows = []
    for key, seconds in times.items():
        median = statistics.median(seconds)
        vs_exact = f"{statistics.median(exact_times) / median:.1f}x faster" if exact and "soil_256" in key[1] else ""
        rows.append([key[0], key[1], f"{median:.2f} ({min(seconds):.2f}-{max(seconds):.2f})", vs_exact])
    if exact:
        rows.append(["-", "exact Ward of every pixel, k = 4 (fastcluster, imports not counted)",
                     f"{statistics.median(exact_times):.1f} ({min(exact_times):.1f}-{max(exact_times):.1f})", ""])
    print_table(
        f"Start-up and the whole command on soil_256 (wall clock, fresh processes, median (range) of {repeat} "
        "interleaved rounds)",
        ["code", "case", "s", "the command vs exact Ward"],
        rows,
        [f"The whole command: {statistics.median(times[command]):.2f} s. {LOAD_NOTE}"],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds, median taken (default 3)")
    parser.add_argument("--before", type=Path, help="a checkout of an earlier kit, timed in the same rounds")
    parser.add_argument("--no-exact", action="store_true", help="leave out exact Ward (about 40 s a round)")
    arguments = parser.parse_args()
    main(arguments.repeat, arguments.before, not arguments.no_exact)

"""Scale check of ``nanosims-cluster``: one simulated 1024 x 1024 x 7 image, k-means and hierarchical.

Run from the repository root: ``python -m benchmarks.bench_cli_scale [--size 1024] [--repeat 1]``.

1. The command, ``nanosims-cluster IMAGE --out DIR -k 5 --method M --threads T``, run by
   :func:`nanosims_helpers.cli.main` in a fresh process (see :mod:`benchmarks._measure`), with
   one thread and all threads, the runs taking turns: time after the imports, the import time of
   a fresh process, and the process's peak memory. Targets: 60 s and 2 GiB each, imports included
   (Binder: 2 GB RAM, 1-2 cores).
2. Where the time goes: the command run once more, with each function it calls timed where it
   calls it (so the steps are exactly what the command runs), and the process's peak resident
   memory after each step (a step that raises it shows up there).
3. The overview figure drawn at the image's full resolution (naive) against block-summed to
   ``outputs.DISPLAY_SIZE`` pixels a side (the kit).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._measure import (
    ALL_THREADS,
    LOAD_NOTE,
    THREAD_SETTINGS,
    measure,
    measure_interleaved,
    print_table,
    ratio,
)

TARGET_SECONDS = 60.0
TARGET_MIB = 2048.0
METHODS = ("kmeans", "hierarchical")
N_CLUSTERS = 5


def import_case():
    """Time ``import nanosims_helpers.cli`` in a fresh process (what the shell command pays first)."""
    import importlib

    return lambda: bool(importlib.import_module("nanosims_helpers.cli"))


def cli_case(path: str, out: str, method: str, threads: int):
    """The command on one image: the imports are set-up, ``main`` is timed; returns the exit status."""
    from nanosims_helpers.cli import main

    return lambda: main([path, "--out", out, "-k", str(N_CLUSTERS), "--method", method, "--threads", str(threads)])


#: Functions the command calls, timed where the command looks them up (module -> names); a name the
#: module does not have (the command changed) is skipped, so the table always shows what it runs.
STEPS = {
    "nanosims_helpers.runs.one_image": ("load_image", "preprocess", "choose_k", "cluster_image", "score_table"),
    "nanosims_helpers.runs.outputs": ("profiles_table", "write_label_tiff", "write_scores_json", "write_overview_png"),
}


def stages_case(path: str, out: str, method: str):
    """The command itself, with every function it calls (:data:`STEPS`) timed; returns
    (step, seconds, peak MiB after the step) rows in the order the command ran them."""
    import importlib

    from nanosims_helpers.cli import main

    rows = []

    def timed(name, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            result = function(*args, **kwargs)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            rows.append((name, time.perf_counter() - start, peak))
            return result
        return wrapper

    for module_name, names in STEPS.items():
        module = importlib.import_module(module_name)
        for name in names:
            if hasattr(module, name):
                setattr(module, name, timed(name, getattr(module, name)))

    def run():
        main([path, "--out", out, "-k", str(N_CLUSTERS), "--method", method])
        return rows

    return run


def overview_case(path: str, out: str, display_size: int):
    """Draw and save the overview of the image at ``display_size``; returns the PNG size in KiB."""
    from nanosims_helpers.io.loading import load_image
    from nanosims_helpers.runs.outputs import write_overview_png

    image = load_image(path)
    labels = (image.counts[:, :, 0] > np.median(image.counts[:, :, 0])).astype(int)
    png = Path(out) / f"overview_{display_size}.png"
    return lambda: write_overview_png(image, labels, png, display_size=display_size).stat().st_size / 1024


def make_image(size: int, folder: Path) -> Path:
    from nanosims_helpers.io.loading import save_image_tiff
    from nanosims_helpers.teaching.synthetic import simulate_soil_image

    path = folder / f"soil_{size}.tif"
    save_image_tiff(simulate_soil_image((size, size), random_state=0)[0], path)
    return path


def _yes(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def end_to_end(path: Path, folder: Path, repeat: int) -> None:
    cases = {"import": ("benchmarks.bench_cli_scale:import_case", (), {}, None)}
    cases.update({(method, threads): ("benchmarks.bench_cli_scale:cli_case",
                                      (str(path), str(folder / method), method, threads), {}, None)
                  for method in METHODS for threads in THREAD_SETTINGS})
    found = measure_interleaved(cases, repeat=repeat)
    imports = found.pop("import")
    rows = []
    for (method, threads), m in found.items():
        if m.result != 0:
            raise SystemExit(f"{method}: nanosims-cluster exited with status {m.result}")
        total = imports.seconds + m.seconds
        rows.append([method, f"--threads {threads}" + (" (all)" if threads == ALL_THREADS > 1 else ""),
                     imports.timing(1), m.timing(1), f"{total:.1f}", f"{m.peak_mib:.0f}",
                     _yes(total <= TARGET_SECONDS), _yes(m.peak_mib <= TARGET_MIB)])
    print_table(
        f"nanosims-cluster {path.name} -k {N_CLUSTERS} --method M (median (range) of {repeat} interleaved)",
        ["method", "threads", "import s", "run s", "total s", "peak MiB", "within 60 s", "within 2 GiB"],
        rows,
        [f"peak = the process's maximum resident memory, Python and libraries included "
         f"({m.setup_mib:.0f} MiB after the imports). {LOAD_NOTE}"],
    )


def stages(path: Path, folder: Path) -> None:
    tables = {method: measure("benchmarks.bench_cli_scale:stages_case", str(path), str(folder), method).result
              for method in METHODS}
    rows = []
    for method in METHODS:
        rows += [[method, name, f"{seconds:.2f}", f"{peak:.0f}"] for name, seconds, peak in tables[method]]
        rows.append([method, "all steps above", f"{sum(row[1] for row in tables[method]):.2f}", ""])
    print_table(
        "Where the time goes: the command run once per method, each function it calls timed",
        ["method", "step", "s", "peak MiB"],
        rows,
        ["Steps are the functions the command calls (load, preprocess, cluster, score, write), timed as it "
         "runs them, on its default --threads 1; peak MiB = the process's maximum resident memory after the step."],
    )


def overview_ratio(path: Path, folder: Path, size: int, repeat: int) -> None:
    from nanosims_helpers.runs.outputs import DISPLAY_SIZE

    if size <= DISPLAY_SIZE:
        print(f"\nOverview PNG: the {size} x {size} image fits the display size ({DISPLAY_SIZE} px) and is drawn as "
              "it is; run with --size 1024 to compare full resolution with block-summing.")
        return
    case = "benchmarks.bench_cli_scale:overview_case"
    cases = {drawn: (case, (str(path), str(folder), drawn), {}, 1) for drawn in (size, DISPLAY_SIZE)}
    found = measure_interleaved(cases, repeat=repeat)
    naive, kit = found[size], found[DISPLAY_SIZE]
    print_table(
        f"Overview PNG of the {size} x {size} x 7 image (median (range) of {repeat} interleaved, one thread)",
        ["drawn at", "s", "peak MiB", "PNG KiB"],
        [[f"full resolution, {size} px (naive)", naive.timing(), f"{naive.peak_mib:.0f}", f"{naive.result:.0f}"],
         [f"block-summed to {DISPLAY_SIZE} px (kit)", kit.timing(), f"{kit.peak_mib:.0f}", f"{kit.result:.0f}"]],
        [f"naive / kit: {ratio(naive.seconds, kit.seconds)}"],
    )


def main(size: int = 1024, repeat: int = 1) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = make_image(size, folder)
        print(f"\n## nanosims-cluster at scale: {size} x {size} x 7 simulated image "
              f"({path.stat().st_size / 2**20:.0f} MiB TIFF), k = {N_CLUSTERS}")
        end_to_end(path, folder, repeat)
        stages(path, folder)
        overview_ratio(path, folder, size, repeat)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="image side in pixels (default 1024)")
    parser.add_argument("--repeat", type=int, default=1, help="processes per measurement, median taken (default 1)")
    arguments = parser.parse_args()
    main(arguments.size, arguments.repeat)

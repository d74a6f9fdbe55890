"""Scale check of ``nanosims-cluster``: one simulated 1024 x 1024 x 7 image, k-means and hierarchical.

Run from the repository root: ``python -m benchmarks.bench_cli_scale [--size 1024] [--repeat 1]``.

1. The command, ``nanosims-cluster IMAGE --out DIR -k 5 --method M``, run by
   :func:`nanosims_helpers.cli.main` in a fresh process (see :mod:`benchmarks._measure`): time
   after the imports, the import time of a fresh process, and the process's peak memory.
   Targets: 60 s and 2 GiB each, imports included (Binder: 2 GB RAM, 1-2 cores).
2. Where the time goes: the command's steps timed one by one in one process, with the
   process's peak resident memory after each step (a step that raises it shows up there).
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

from benchmarks._measure import measure, print_table, ratio

TARGET_SECONDS = 60.0
TARGET_MIB = 2048.0
METHODS = ("kmeans", "hierarchical")
N_CLUSTERS = 5


def import_case():
    """Time ``import nanosims_helpers.cli`` in a fresh process (what the shell command pays first)."""
    import importlib

    return lambda: bool(importlib.import_module("nanosims_helpers.cli"))


def cli_case(path: str, out: str, method: str):
    """The command on one image: the imports are set-up, ``main`` is timed; returns the exit status."""
    from nanosims_helpers.cli import main

    return lambda: main([path, "--out", out, "-k", str(N_CLUSTERS), "--method", method])


def stages_case(path: str, out: str, method: str):
    """The command's steps one by one; returns (step, seconds, peak MiB so far) rows."""
    from nanosims_helpers import metrics
    from nanosims_helpers.io import outputs
    from nanosims_helpers.io.loading import load_image
    from nanosims_helpers.pipeline import cluster_image
    from nanosims_helpers.preprocessing import preprocess

    def run():
        rows = []

        def step(name, function):
            start = time.perf_counter()
            result = function()
            rows.append((name, time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
            return result

        image = step("load_image", lambda: load_image(path))
        scaled = step("preprocess", lambda: preprocess(image.counts))
        labels = step("cluster_image", lambda: cluster_image(image, N_CLUSTERS, method=method).labels)
        step("silhouette (sampled)", lambda: metrics.silhouette(scaled, labels))
        step("calinski_harabasz", lambda: metrics.calinski_harabasz(scaled, labels))
        step("davies_bouldin", lambda: metrics.davies_bouldin(scaled, labels))
        step("clustering_entropy", lambda: metrics.clustering_entropy(scaled, labels))
        step("profiles_table", lambda: outputs.profiles_table(image.counts, scaled, labels, image.masses))
        step("write_label_tiff", lambda: outputs.write_label_tiff(labels, Path(out) / "labels.tif"))
        step("write_overview_png", lambda: outputs.write_overview_png(image, labels, Path(out) / "overview.png"))
        return rows

    return run


def overview_case(path: str, out: str, display_size: int):
    """Draw and save the overview of the image at ``display_size``; returns the PNG size in KiB."""
    from nanosims_helpers.io.loading import load_image
    from nanosims_helpers.io.outputs import write_overview_png

    image = load_image(path)
    labels = (image.counts[:, :, 0] > np.median(image.counts[:, :, 0])).astype(int)
    png = Path(out) / f"overview_{display_size}.png"
    return lambda: write_overview_png(image, labels, png, display_size=display_size).stat().st_size / 1024


def make_image(size: int, folder: Path) -> Path:
    from nanosims_helpers.io.loading import save_image_tiff
    from nanosims_helpers.synthetic import simulate_soil_image

    path = folder / f"soil_{size}.tif"
    save_image_tiff(simulate_soil_image((size, size), random_state=0)[0], path)
    return path


def _yes(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def end_to_end(path: Path, folder: Path, repeat: int) -> None:
    imports = measure("benchmarks.bench_cli_scale:import_case", repeat=repeat)
    rows = []
    for method in METHODS:
        m = measure("benchmarks.bench_cli_scale:cli_case", str(path), str(folder / method), method, repeat=repeat)
        if m.result != 0:
            raise SystemExit(f"{method}: nanosims-cluster exited with status {m.result}")
        total = imports.seconds + m.seconds
        rows.append([method, f"{imports.seconds:.1f}", f"{m.seconds:.1f}", f"{total:.1f}", f"{m.peak_mib:.0f}",
                     _yes(total <= TARGET_SECONDS), _yes(m.peak_mib <= TARGET_MIB)])
    print_table(
        f"nanosims-cluster {path.name} -k {N_CLUSTERS} --method M (median of {repeat})",
        ["method", "import s", "run s", "total s", "peak MiB", "within 60 s", "within 2 GiB"],
        rows,
        [f"peak = the process's maximum resident memory, Python and libraries included "
         f"({m.setup_mib:.0f} MiB after the imports)."],
    )


def stages(path: Path, folder: Path) -> None:
    tables = {method: measure("benchmarks.bench_cli_scale:stages_case", str(path), str(folder), method).result
              for method in METHODS}
    rows = [[name, *(f"{value:.{digits}f}" for m in METHODS for value, digits in zip(tables[m][i][1:], (2, 0)))]
            for i, (name, *_) in enumerate(tables[METHODS[0]])]
    print_table(
        "Where the time goes: each step of the command, one process per method",
        ["step", *(f"{m} {unit}" for m in METHODS for unit in ("s", "peak MiB"))],
        rows,
        ["peak MiB = the process's maximum resident memory after the step."],
    )


def overview_ratio(path: Path, folder: Path, size: int, repeat: int) -> None:
    from nanosims_helpers.io.outputs import DISPLAY_SIZE

    naive = measure("benchmarks.bench_cli_scale:overview_case", str(path), str(folder), size, repeat=repeat)
    kit = measure("benchmarks.bench_cli_scale:overview_case", str(path), str(folder), DISPLAY_SIZE, repeat=repeat)
    print_table(
        f"Overview PNG of the {size} x {size} x 7 image (median of {repeat})",
        ["drawn at", "s", "peak MiB", "PNG KiB"],
        [[f"full resolution, {size} px (naive)", f"{naive.seconds:.2f}", f"{naive.peak_mib:.0f}", f"{naive.result:.0f}"],
         [f"block-summed to {DISPLAY_SIZE} px (kit)", f"{kit.seconds:.2f}", f"{kit.peak_mib:.0f}", f"{kit.result:.0f}"]],
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

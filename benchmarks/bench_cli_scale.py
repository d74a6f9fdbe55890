"""Scale check of ``nanosims-cluster``: one simulated 1024 x 1024 x 7 image, k-means and hierarchical.

Run from the repository root: ``python benchmarks/bench_cli_scale.py [--size 1024] [--repeats 1]``.

1. End to end: each run is a fresh ``python -m nanosims_helpers IMAGE --out DIR -k 5 --method M``
   subprocess, timed from start to exit (imports included), with its peak resident memory.
   Targets: 60 s and 2 GiB each (Binder: 2 GB RAM, 1-2 cores).
2. Where the time goes: the same steps as the command, timed one by one in one subprocess, with
   the process's peak resident memory after each step (a step that raises it shows up there).
3. The overview figure drawn at the image's full resolution (naive) versus block-summed to
   ``outputs.DISPLAY_SIZE`` pixels a side (the kit), as a ratio.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_SECONDS = 60.0
TARGET_MIB = 2048.0
METHODS = ("kmeans", "hierarchical")
N_CLUSTERS = 5


def peak_mib_of_children() -> float:
    """Peak resident memory of this process's waited-for children, in MiB (Linux: KiB, macOS: bytes)."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def peak_mib_of_self() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def measured(command: list[str]) -> dict:
    """Run ``command`` inside a fresh Python that reports its wall time and peak memory as JSON."""
    probe = (
        "import json, subprocess, sys, time\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from bench_cli_scale import peak_mib_of_children\n"
        "start = time.perf_counter()\n"
        "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
        "print(json.dumps({'seconds': time.perf_counter() - start, 'peak_mib': peak_mib_of_children(), 'code': code}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def make_image(size: int, folder: Path) -> Path:
    from nanosims_helpers.loading import save_image_tiff
    from nanosims_helpers.synthetic import simulate_soil_image

    path = folder / f"soil_{size}.tif"
    save_image_tiff(simulate_soil_image((size, size), random_state=0)[0], path)
    return path


def end_to_end(path: Path, out: Path, repeats: int) -> None:
    print(f"\n## 1. End to end, `nanosims-cluster {path.name} -k {N_CLUSTERS} --method M` (median of {repeats})")
    print("| method | wall s | peak MiB | within 60 s | within 2 GiB |")
    print("|---|---|---|---|---|")
    for method in METHODS:
        command = [sys.executable, "-m", "nanosims_helpers", str(path), "--out", str(out / method),
                   "-k", str(N_CLUSTERS), "--method", method]
        runs = [measured(command) for _ in range(repeats)]
        if any(run["code"] != 0 for run in runs):
            raise SystemExit(f"{method}: nanosims-cluster exited with {[run['code'] for run in runs]}")
        seconds = float(np.median([run["seconds"] for run in runs]))
        peak = max(run["peak_mib"] for run in runs)
        print(f"| {method} | {seconds:.1f} | {peak:.0f} | {_yes(seconds <= TARGET_SECONDS)} | {_yes(peak <= TARGET_MIB)} |")


def _yes(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def stage_times(path: str, method: str, out: str) -> list[tuple[str, float, float]]:
    """The command's steps one by one: (step, seconds, peak MiB of the process so far)."""
    start = time.perf_counter()
    from nanosims_helpers import metrics, outputs
    from nanosims_helpers.cli import kit_version
    from nanosims_helpers.loading import load_image
    from nanosims_helpers.pipeline import cluster_image
    from nanosims_helpers.preprocessing import preprocess

    rows = [("import the kit (numpy already loaded)", time.perf_counter() - start, peak_mib_of_self())]

    def step(name, function):
        start = time.perf_counter()
        result = function()
        rows.append((name, time.perf_counter() - start, peak_mib_of_self()))
        return result

    image = step("load_image", lambda: load_image(path))
    scaled = step("preprocess", lambda: preprocess(image.counts))
    result = step(f"cluster_image ({method})", lambda: cluster_image(image, N_CLUSTERS, method=method))
    step("silhouette (sampled)", lambda: metrics.silhouette(scaled, result.labels))
    step("calinski_harabasz", lambda: metrics.calinski_harabasz(scaled, result.labels))
    step("davies_bouldin", lambda: metrics.davies_bouldin(scaled, result.labels))
    step("clustering_entropy", lambda: metrics.clustering_entropy(scaled, result.labels))
    step("profiles_table", lambda: outputs.profiles_table(image.counts, scaled, result.labels, image.masses))
    step("write_label_tiff", lambda: outputs.write_label_tiff(result.labels, Path(out) / "l.tif"))
    step("write_scores_json", lambda: outputs.write_scores_json({"kit_version": kit_version()}, Path(out) / "s.json"))
    step("write_overview_png", lambda: outputs.write_overview_png(image, result.labels, Path(out) / "o.png"))
    return rows


def stages(path: Path, out: Path) -> None:
    print("\n## 2. Where the time goes (one process per method; peak = resident MiB after the step)")
    print("| step | " + " | ".join(f"{m} s | {m} peak MiB" for m in METHODS) + " |")
    print("|---|" + "---|---|" * len(METHODS))
    tables = {}
    for method in METHODS:
        done = subprocess.run(
            [sys.executable, __file__, "--stages", str(path), method, str(out)],
            capture_output=True, text=True, check=True,
        )
        tables[method] = json.loads(done.stdout.strip().splitlines()[-1])
    for index, (name, *_) in enumerate(tables[METHODS[0]]):
        cells = " | ".join(f"{tables[m][index][1]:.2f} | {tables[m][index][2]:.0f}" for m in METHODS)
        print(f"| {name.replace(METHODS[0], 'method')} | {cells} |")


def overview_ratio(path: Path, out: Path, repeats: int) -> None:
    from nanosims_helpers import outputs
    from nanosims_helpers.loading import load_image

    image = load_image(path)
    labels = (image.counts[:, :, 0] > np.median(image.counts[:, :, 0])).astype(int)
    sizes = {"full resolution (naive)": max(image.shape[:2]), f"block-summed to {outputs.DISPLAY_SIZE} (kit)": outputs.DISPLAY_SIZE}
    times = {name: [] for name in sizes}
    for _ in range(repeats):
        for name, size in sizes.items():
            start = time.perf_counter()
            outputs.write_overview_png(image, labels, out / f"overview_{size}.png", display_size=size)
            times[name].append(time.perf_counter() - start)
    naive, kit = (float(np.median(t)) for t in times.values())
    print(f"\n## 3. Overview PNG of a {image.shape[0]} x {image.shape[1]} x {image.shape[2]} image (median of {repeats})")
    print("| drawn at | s | PNG KiB |")
    print("|---|---|---|")
    for (name, size), seconds in zip(sizes.items(), (naive, kit)):
        print(f"| {name} | {seconds:.2f} | {(out / f'overview_{size}.png').stat().st_size / 1024:.0f} |")
    print(f"naive / kit: {naive / kit:.1f}x")


def main() -> None:
    if sys.argv[1:2] == ["--stages"]:
        print(json.dumps(stage_times(*sys.argv[2:5])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="image side in pixels (default 1024)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per measurement (median; default 1)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        path = make_image(args.size, folder)
        print(f"{args.size} x {args.size} x 7 simulated image ({path.stat().st_size / 2**20:.0f} MiB TIFF), k = {N_CLUSTERS}")
        end_to_end(path, folder, args.repeats)
        stages(path, folder)
        overview_ratio(path, folder, args.repeats)


if __name__ == "__main__":
    main()

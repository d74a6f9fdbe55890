"""A study of many images: ``nanosims-cluster DIR --joint`` on 1 and 2 workers, and the driver's memory.

Run from the repository root: ``python -m benchmarks.bench_study [--quick] [--repeat 1]``.

The images are 256 x 256 x 7 simulated soils, each from its own seed. For 32 and 128 of them
(``--quick``: 8 and 32) the command ``nanosims-cluster DIR --out OUT --joint -k 5`` runs in a
fresh process (see :mod:`benchmarks._measure`), in that process (``--workers 1``) and on 2 local
worker processes (``--workers 2``, a Dask LocalCluster the command starts and stops: its start-up
is in the time). Reported: images per minute, the speed-up of 2 workers over 1 (target >= 1.7
on 2 cores), and the peak resident memory of the driver process, the one the user started
(target: flat in the number of images, <= 500 MiB). With 1 worker the driver does all the work;
with 2 the workers read, sample, label and write the images while the driver fits the model,
gathers small per-image sums and writes the study files.
The runs are interleaved (1 worker, 2 workers, 1 worker, ...) and the median time is reported.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from benchmarks._measure import measure, print_table

SIZE = 256
N_CLUSTERS = 5
TARGET_SPEEDUP = 1.7
TARGET_MIB = 500.0


def study_case(folder: str, out: str, workers: int):
    """The command on a folder; the imports are set-up, ``main`` is timed.

    Returns the exit status and the CPU seconds of the run: of this process, and of the worker
    processes (which end with the run, so they count as finished children).
    """
    import resource

    from nanosims_helpers.cli import main

    def cpu_seconds(who):
        usage = resource.getrusage(who)
        return usage.ru_utime + usage.ru_stime

    def run():
        before = cpu_seconds(resource.RUSAGE_SELF), cpu_seconds(resource.RUSAGE_CHILDREN)
        status = main([folder, "--out", out, "--joint", "-k", str(N_CLUSTERS), "--workers", str(workers)])
        return status, cpu_seconds(resource.RUSAGE_SELF) - before[0], cpu_seconds(resource.RUSAGE_CHILDREN) - before[1]

    return run


def make_images(folder: Path, count: int) -> None:
    from nanosims_helpers.io.loading import save_image_tiff
    from nanosims_helpers.synthetic import simulate_soil_image

    folder.mkdir(parents=True, exist_ok=True)
    for seed in range(count):
        save_image_tiff(simulate_soil_image((SIZE, SIZE), random_state=seed)[0], folder / f"soil_{seed:03d}.tif")


def _yes(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def main(quick: bool = False, repeat: int = 1, counts=None) -> None:
    counts = counts or ((8, 32) if quick else (32, 128))
    print(f"\n## A study of many images: nanosims-cluster DIR --joint -k {N_CLUSTERS}, {SIZE} x {SIZE} x 7 images")
    rows = []
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        make_images(root / "all", max(counts))
        for count in counts:
            folder = root / f"first_{count}"
            folder.mkdir()
            for path in sorted((root / "all").iterdir())[:count]:
                (folder / path.name).symlink_to(path)
            runs = {1: [], 2: []}
            cpu = {1: [], 2: []}
            peaks = {1: 0.0, 2: 0.0}
            for attempt in range(repeat):
                for workers in (1, 2):
                    m = measure("benchmarks.bench_study:study_case", str(folder),
                                str(root / f"out_{count}_{workers}_{attempt}"), workers)
                    status, driver_cpu, workers_cpu = m.result
                    if status != 0:
                        raise SystemExit(f"{count} images, {workers} worker(s): exit status {status}")
                    runs[workers].append(m.seconds)
                    cpu[workers].append((driver_cpu, workers_cpu))
                    peaks[workers] = max(peaks[workers], m.peak_mib)
            seconds = {w: statistics.median(times) for w, times in runs.items()}
            speedup = seconds[1] / seconds[2]
            for workers in (1, 2):
                driver_cpu, workers_cpu = (statistics.median(c) for c in zip(*cpu[workers]))
                rows.append([count, workers, f"{seconds[workers]:.1f}", f"{60 * count / seconds[workers]:.1f}",
                             f"{seconds[1] / seconds[workers]:.2f}x", f"{driver_cpu:.1f}", f"{workers_cpu:.1f}",
                             f"{peaks[workers]:.0f}",
                             _yes(speedup >= TARGET_SPEEDUP) if workers == 2 else "",
                             _yes(peaks[workers] <= TARGET_MIB)])
    print_table(
        f"nanosims-cluster DIR --joint -k {N_CLUSTERS} --workers N (median of {repeat}, runs interleaved)",
        ["images", "workers", "run s", "images / min", "speed-up", "driver CPU s", "workers CPU s", "driver peak MiB",
         f"speed-up >= {TARGET_SPEEDUP}", f"peak <= {TARGET_MIB:.0f} MiB"],
        rows,
        ["run s: the command after its imports, LocalCluster start and stop included; CPU s: user + system time "
         "of the process the user started (driver) and of its worker processes; driver peak: the maximum "
         "resident memory of the process the user started (workers not included)."],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 and 32 images instead of 32 and 128")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each case, interleaved; median taken")
    arguments = parser.parse_args()
    main(arguments.quick, arguments.repeat)

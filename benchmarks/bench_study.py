"""A study of many images: ``nanosims-cluster DIR --joint`` on 1 and 2 workers, against the machine's own scaling.

Run from the repository root: ``python -m benchmarks.bench_study [--quick] [--repeat 1]``.

The images are 256 x 256 x 7 simulated soils, each from its own seed. For 32 and 128 of them
(``--quick``: 8 and 32) the command ``nanosims-cluster DIR --out OUT --joint -k 5`` runs in a
fresh process (see :mod:`benchmarks._measure`) in three set-ups:

* ``--workers 1 --threads 1``: everything in the process the user started, one thread (the
  command's default);
* ``--workers 1 --threads 0``: the same, the numerical libraries on every core;
* ``--workers 2``: 2 local single-threaded worker processes (a Dask LocalCluster the command
  starts and stops: its start-up is in the time).

The speed-up compares the same threads per worker: ``--workers 2`` against ``--workers 1
--threads 1`` (target >= 1.7 on 2 cores); the all-threads row shows what the libraries' own
threads give one process. Beside them, in the same rounds, the machine's ceiling: the same fixed
CPU-bound work (Python and NumPy, no kit) on 1 and on 2 processes, so the kit's scaling can be
told from the machine's. Also reported: the CPU time of the driver (the process the user started)
and of the worker processes, and the driver's peak resident memory (target: flat in the number
of images, <= 500 MiB). All cases of one number of images take turns, round after round.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from benchmarks._measure import LOAD_NOTE, measure_rounds, print_table

SIZE = 256
N_CLUSTERS = 5
TARGET_SPEEDUP = 1.7
TARGET_MIB = 500.0
#: name -> the command's options: the baseline (one thread, one process) first.
SETUPS = {
    "--workers 1 --threads 1": ("--workers", "1", "--threads", "1"),
    "--workers 1 --threads 0 (all cores)": ("--workers", "1", "--threads", "0"),
    "--workers 2": ("--workers", "2"),
}
BASELINE, PARALLEL = "--workers 1 --threads 1", "--workers 2"
#: Tasks of fixed CPU-bound work for the machine's ceiling (about 0.25 s each on one core).
CEILING_TASKS = 32


def study_case(folder: str, out: str, options):
    """The command on a folder; the imports are set-up, ``main`` is timed.

    Returns the exit status and the CPU seconds of the run: of this process, and of its worker
    processes (finished ones, and those still alive at the end with the children they waited for,
    such as the server the workers are forked from).
    """
    import resource

    import psutil

    from nanosims_helpers.cli import main

    def cpu_seconds(who):
        usage = resource.getrusage(who)
        return usage.ru_utime + usage.ru_stime

    def alive_descendants_cpu():
        total = 0.0
        for process in psutil.Process().children(recursive=True):
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system + times.children_user + times.children_system
        return total

    def run():
        before = cpu_seconds(resource.RUSAGE_SELF), cpu_seconds(resource.RUSAGE_CHILDREN), alive_descendants_cpu()
        status = main([folder, "--out", out, "--joint", "-k", str(N_CLUSTERS), *options])
        workers = cpu_seconds(resource.RUSAGE_CHILDREN) - before[1] + alive_descendants_cpu() - before[2]
        return status, cpu_seconds(resource.RUSAGE_SELF) - before[0], workers

    return run


def ceiling_work(seed: int) -> float:
    """Fixed CPU-bound work, about 0.25 s on one core: a Python loop and a NumPy sort."""
    import numpy as np

    total = 0
    for i in range(4_000_000):
        total += i * i % 7
    values = np.random.default_rng(seed).random(3_000_000)
    values.sort()
    return total + float(values[0])


def ceiling_case(processes: int, tasks: int):
    """``tasks`` calls of :func:`ceiling_work` shared out over ``processes`` processes, started in the set-up."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
    list(pool.map(_started, range(processes)))

    def run():
        list(pool.map(ceiling_work, range(tasks)))
        return 0, 0.0, 0.0

    return run


def _started(_) -> int:
    return os.getpid()


def make_images(folder: Path, count: int) -> None:
    from nanosims_helpers.io.loading import save_image_tiff
    from nanosims_helpers.teaching.synthetic import simulate_soil_image

    folder.mkdir(parents=True, exist_ok=True)
    for seed in range(count):
        save_image_tiff(simulate_soil_image((SIZE, SIZE), random_state=seed)[0], folder / f"soil_{seed:03d}.tif")


def _yes(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def _cases(folder: Path, root: Path, count: int, tasks: int) -> dict:
    """The set-ups of one number of images, between the two ceilings, in the order they take turns."""
    cases = {"ceiling 1": ("benchmarks.bench_study:ceiling_case", (1, tasks), {}, None)}
    for index, (name, options) in enumerate(SETUPS.items()):
        out = str(root / f"out_{count}_{index}")
        cases[name] = ("benchmarks.bench_study:study_case", (str(folder), out, options), {}, None)
    cases["ceiling 2"] = ("benchmarks.bench_study:ceiling_case", (2, tasks), {}, None)
    return cases


def _study_rows(count: int, merged: dict, rounds: list[dict]) -> list[list]:
    baseline = merged[BASELINE].seconds
    speedup = baseline / merged[PARALLEL].seconds
    rows = []
    for name in SETUPS:
        results = [found[name].result for found in rounds]
        failed = [status for status, _, _ in results if status != 0]
        if failed:
            raise SystemExit(f"{count} images, {name}: exit status {failed[0]}")
        m = merged[name]
        driver_cpu, workers_cpu = (statistics.median(cpu) for cpu in zip(*(result[1:] for result in results)))
        rows.append([
            count, name, m.timing(1), f"{60 * count / m.seconds:.1f}", f"{baseline / m.seconds:.2f}x",
            f"{driver_cpu:.1f}", f"{workers_cpu:.1f}" if name == PARALLEL else "-", f"{m.peak_mib:.0f}",
            _yes(speedup >= TARGET_SPEEDUP) if name == PARALLEL else "", _yes(m.peak_mib <= TARGET_MIB),
        ])
    return rows


def main(quick: bool = False, repeat: int = 1, counts=None) -> None:
    counts = counts or ((8, 32) if quick else (32, 128))
    tasks = CEILING_TASKS // 2 if quick else CEILING_TASKS
    print(f"\n## A study of many images: nanosims-cluster DIR --joint -k {N_CLUSTERS}, {SIZE} x {SIZE} x 7 images")
    print(f"\nload average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rows, ceiling_rows = [], []
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        make_images(root / "all", max(counts))
        for count in counts:
            folder = root / f"first_{count}"
            folder.mkdir()
            for path in sorted((root / "all").iterdir())[:count]:
                (folder / path.name).symlink_to(path)
            merged, rounds = measure_rounds(lambda _: _cases(folder, root, count, tasks), repeat=repeat)
            rows += _study_rows(count, merged, rounds)
            one, two = merged["ceiling 1"], merged["ceiling 2"]
            ceiling_rows.append([count, one.timing(2), two.timing(2), f"{one.seconds / two.seconds:.2f}x"])
    print_table(
        f"nanosims-cluster DIR --joint -k {N_CLUSTERS} (median (range) of {repeat}, the set-ups interleaved)",
        ["images", "set-up", "run s", "images / min", "speed-up", "driver CPU s", "workers CPU s", "driver peak MiB",
         f"speed-up >= {TARGET_SPEEDUP}", f"peak <= {TARGET_MIB:.0f} MiB"],
        rows,
        [f"speed-up: time of `{BASELINE}` / time of the row (`{PARALLEL}`: the same one thread per process). "
         "run s: the command after its imports, the workers' start and stop included. CPU s: user + system time "
         "of the process the user started (driver) and of its worker processes (with the server they are forked "
         "from). Driver peak: the maximum resident memory of the process the user started (workers not included).",
         LOAD_NOTE],
    )
    print_table(
        f"The machine's ceiling: {tasks} tasks of fixed CPU-bound work (a Python loop and a NumPy sort, no kit)",
        ["in the rounds of", "1 process s", "2 processes s", "ratio"],
        ceiling_rows,
        ["The same work shared out over 2 processes (concurrent.futures, started before the timing) against 1, in "
         "the same rounds as the runs above: what 2 processes can gain on this machine at this load.",
         f"load average at the end: {os.getloadavg()[0]:.1f}"],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 and 32 images instead of 32 and 128")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every case, interleaved; median taken")
    arguments = parser.parse_args()
    main(arguments.quick, arguments.repeat)

"""Runs over many images: in this process, on a real Dask LocalCluster, failures, interrupts, partial files.

The cluster is a real ``distributed.LocalCluster`` of 2 single-threaded worker processes, started
once for this module and always closed.
"""

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import dask
import numpy as np
import pandas as pd
import psutil
import pytest
import tifffile

from nanosims_helpers import batch
from nanosims_helpers.batch import Outcome, Runner, attempt, one_line, worker_limit
from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.io.files import MANIFEST_NAME, PARTIAL_PREFIX, remove_partial_files, replacing
from nanosims_helpers.io.loading import save_image_tiff
from nanosims_helpers.teaching.synthetic import simulate_soil_image

REPO = Path(__file__).resolve().parents[1]
FEW = "12C,16O,12C14N,27Al16O"  # four masses: quicker overview figures


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 worker processes.

    A worker holds one task at a time, and a task whose worker dies is run once more before it
    is given up (Dask's default is 3 more times: slow for a test).
    """
    from distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 1, "distributed.scheduler.worker-saturation": 1.0}):
        local = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        yield local
    finally:
        local.close()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Three 48 x 48 simulated images and one corrupt file among them."""
    path = tmp_path_factory.mktemp("images")
    for seed in range(3):
        save_image_tiff(simulate_soil_image((48, 48), random_state=seed)[0], path / f"soil_{seed}.tif")
    (path / "soil_1b.tif").write_bytes(b"II*\x00 cut off here")
    return path


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def check_corrupt_file_failed_alone(out: Path, err: str) -> None:
    summary = pd.read_csv(out / "summary.csv")
    assert summary["output_prefix"].tolist() == ["soil_0", "soil_1", "soil_1b", "soil_2"]
    assert summary["status"].tolist() == ["ok", "ok", "failed", "ok"]
    assert err.count("\n") == 1 and "soil_1b.tif" in err and "error" in err
    assert not list(out.glob("soil_1b_*")) and len(list(out.glob("*_labels.tif"))) == 3


def test_joint_run_on_a_dask_cluster_writes_the_same_bytes_as_in_one_process(run_cli, cluster, folder, tmp_path):
    common = ["--joint", "-k", 4, "--masses", FEW, "--sample-size", 3000]
    serial, dask_run = tmp_path / "serial", tmp_path / "dask"
    code, _, err = run_cli(folder, "--out", serial, *common)
    assert code == 1
    check_corrupt_file_failed_alone(serial, err)
    code, _, err = run_cli(folder, "--out", dask_run, *common, "--scheduler", cluster.scheduler_address)
    assert code == 1
    check_corrupt_file_failed_alone(dask_run, err)
    assert files(serial) == files(dask_run)  # model, label TIFFs, profiles, scores, figures, study tables


def test_images_clustered_one_by_one_on_two_workers_give_the_same_bytes(run_cli, cluster, folder, tmp_path):
    common = ["-k", 3, "--masses", FEW]
    one, two = tmp_path / "one", tmp_path / "two"
    assert run_cli(folder, "--out", one, *common)[0] == 1
    code, _, err = run_cli(folder, "--out", two, *common, "--scheduler", cluster.scheduler_address)
    assert code == 1
    check_corrupt_file_failed_alone(two, err)
    assert files(one) == files(two)


def test_fit_study_on_the_cluster_gives_the_same_model(cluster, folder):
    from nanosims_helpers.study import fit_study

    paths = sorted(folder.glob("soil_?.tif"))
    here = fit_study(paths, 4, sample_size=2000, random_state=3)
    with Runner(scheduler=cluster.scheduler_address, progress=False) as runner:
        there = fit_study(paths, 4, sample_size=2000, random_state=3, runner=runner)
        assert runner._client is not None  # still open: fit_study used the caller's runner, not a new one
    assert np.array_equal(here.centers, there.centers)


def _kill_own_process(value):
    if value == 0:
        os._exit(3)
    return value * 10


def test_a_worker_that_dies_fails_only_its_own_image(cluster):
    with Runner(scheduler=cluster.scheduler_address, progress=False) as runner:
        outcomes = sorted(runner.run(_kill_own_process, [(i,) for i in range(4)], labels=list("abcd")),
                          key=lambda o: o.index)
    assert [o.value for o in outcomes] == [None, 10, 20, 30]
    assert outcomes[0].error.startswith("a: the worker failed")


def _warn_then(value):
    warnings.warn(f"value {value} looks odd", UserWarning)
    if value < 0:
        raise NanoSIMSError(f"item{value}: negative")
    return value


def test_serial_runner_keeps_order_warnings_and_errors():
    with Runner(progress=False) as runner:
        outcomes = list(runner.run(_warn_then, [(1,), (-1,), (2,)], labels=["a", "item-1", "c"]))
    assert [o.index for o in outcomes] == [0, 1, 2]
    assert [o.value for o in outcomes] == [1, None, 2]
    assert outcomes[1].error == "item-1: negative"
    assert outcomes[0].warnings == ("value 1 looks odd",)
    with pytest.raises(NanoSIMSError):
        attempt(_warn_then, 0, "x", -5, reraise=True)
    with pytest.raises(NanoSIMSError, match="workers"):
        Runner(workers=0)


def _pid_after(seconds):
    time.sleep(seconds)
    return os.getpid()


def test_local_workers_take_over_from_this_process_once_started():
    here = os.getpid()
    with Runner(workers=2, progress=False) as runner:
        first = list(runner.run(_pid_after, [(0.0,), (0.0,)], labels=["a", "b"]))
        assert [(o.index, o.value) for o in first] == [(0, here), (1, here)]  # at once, while the workers start
        deadline = time.monotonic() + 90
        while next(runner.run(_pid_after, [(0.1,)], labels=["c"])).value == here:
            assert time.monotonic() < deadline, "the local workers did not start"
        later = list(runner.run(_pid_after, [(0.3,)] * 4, labels=list("defg")))
    assert sorted(o.index for o in later) == [0, 1, 2, 3]
    assert here not in {o.value for o in later} and len({o.value for o in later}) == 2  # both workers, not here


def test_workers_that_cannot_start_stop_the_run_with_one_clear_error(monkeypatch):
    def no_cluster(workers, delay):
        time.sleep(delay)
        raise RuntimeError("Nanny failed to start.")

    monkeypatch.setattr("nanosims_helpers.batch._local_cluster", lambda workers: no_cluster(workers, 0.0))
    with Runner(workers=2, progress=False) as runner:
        done = []
        with pytest.raises(NanoSIMSError, match=r"the 2 local worker processes could not start \(RuntimeError: Nanny"):
            for outcome in runner.run(_pid_after, [(0.05,)] * 200, labels=range(200)):
                done.append(outcome.value)
        assert len(done) < 200 and set(done) <= {os.getpid()}  # jobs ran here until the failure showed
    # a run whose jobs all ended here before the failure showed is not failed by it
    monkeypatch.setattr("nanosims_helpers.batch._local_cluster", lambda workers: no_cluster(workers, 1.0))
    with Runner(workers=2, progress=False) as runner:
        assert [o.value for o in runner.run(abs, [(-1,)], labels=["a"])] == [1]


def test_one_line_names_the_input_once():
    assert one_line("data/a.tif", "a.tif: bad\n header") == "data/a.tif: bad header"
    assert one_line("data/a.tif", "data/a.tif: bad") == "data/a.tif: bad"
    assert Outcome(3, error="x").ok is False


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "soil_labels.tif"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        with replacing(target) as temporary:
            temporary.write_bytes(b"half of the new")
            raise KeyboardInterrupt
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["soil_labels.tif"]
    stray = tmp_path / f"{PARTIAL_PREFIX}123-abc-soil_profiles.csv"
    stray.write_text("cluster,ma")
    assert remove_partial_files(tmp_path) == [stray] and not stray.exists()


def test_ctrl_c_stops_the_workers_and_leaves_only_whole_files(folder, tmp_path):
    images = tmp_path / "many"
    images.mkdir()
    for index in range(160):  # enough images that the run is still going when the workers are up and it is interrupted
        (images / f"soil_{index:02d}.tif").write_bytes((folder / f"soil_{index % 3}.tif").read_bytes())
    out = tmp_path / "out"
    command = [sys.executable, "-m", "nanosims_helpers", str(images), "--out", str(out), "--joint", "-k", "3",
               "--masses", FEW, "--workers", "2"]  # the command starts and stops its own 2 local workers
    process = subprocess.Popen(command, cwd=REPO, start_new_session=True, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, MPLBACKEND="Agg"),
                               preexec_fn=_ctrl_c_as_in_a_terminal)
    try:
        deadline = time.monotonic() + 120
        while (not list(out.glob(".nanosims-run-*/*_labels.tif"))
               or len(psutil.Process(process.pid).children(recursive=True)) < 3) \
                and process.poll() is None and time.monotonic() < deadline:  # the first images are labelled here
            time.sleep(0.1)                                                    # while the workers start
        workers = psutil.Process(process.pid).children(recursive=True)
        assert process.poll() is None and len(workers) >= 2
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: every process of the command
        assert process.wait(timeout=60) == 130
    finally:
        if process.poll() is None:
            process.kill()
    assert "interrupted" in process.stderr.read()
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive
    assert [p.name for p in out.glob(".*")] == [MANIFEST_NAME]  # no temporary file or folder left behind
    summary = pd.read_csv(out / "summary.csv")  # the images finished before the interrupt, each with its row
    assert sorted(summary["output_prefix"]) == sorted(p.name[:-len("_labels.tif")] for p in out.glob("*_labels.tif"))
    for labels in out.glob("*_labels.tif"):
        assert tifffile.imread(labels).shape == (48, 48)
    for png in out.glob("*.png"):
        assert png.read_bytes().endswith(b"IEND\xaeB`\x82")
    assert len(list(out.glob("*_labels.tif"))) < 160  # it was stopped before the end


def _ctrl_c_as_in_a_terminal():
    """Let the command take Ctrl-C even when the tests run as a background job, where SIGINT is ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _slow(value):
    time.sleep(0.3)
    return value


def test_a_scheduler_that_goes_away_during_the_run_ends_it_with_one_error():
    from distributed import LocalCluster

    local = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                         dashboard_address=None)
    outcomes, start = [], time.monotonic()
    with pytest.raises(NanoSIMSError, match="connection was lost during the run"):
        with Runner(scheduler=local.scheduler_address, progress=False) as runner:
            for outcome in runner.run(_slow, [(i,) for i in range(40)], labels=range(40)):
                outcomes.append(outcome)
                if len(outcomes) == 2:
                    local.close()
    assert time.monotonic() - start < 30
    assert 2 <= len(outcomes) < 40 and all(o.ok for o in outcomes)


def test_workers_are_capped_by_inputs_cores_and_memory(monkeypatch):
    monkeypatch.setattr(batch, "_usable_cores", lambda: 8)

    class Memory:
        available = 3 * batch.WORKER_MEMORY_BYTES + 1

    monkeypatch.setattr("psutil.virtual_memory", lambda: Memory)
    assert worker_limit(4, 100) == (3, "--workers 4 lowered to 3: free memory for 3 (1.1 GB each)")
    count, why = worker_limit(1000, 12)
    assert count == 3 and why == ("--workers 1000 lowered to 3: 12 input(s), 8 usable core(s), "
                                  "free memory for 3 (1.1 GB each)")
    assert worker_limit(2, 1)[0] == 1 and worker_limit(3, 50) == (3, None)
    Memory.available = 0
    assert worker_limit(4, 10)[0] == 1  # at least one

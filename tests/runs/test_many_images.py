"""Runs of many images (runs/many_images.py) under hostile but ordinary use: bad addresses and peers, re-runs,
odd files, interrupts; and how the inputs and their output prefixes are found.

Every server a test needs (a web server, a peer sending junk, a Dask scheduler) listens on
127.0.0.1, is started by the test and stopped by it; the connect timeout is shortened through
Dask's own setting, ``distributed.comm.timeouts.connect``.
"""

import http.server
import json
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import dask
import distributed  # noqa: F401 - its default settings, before a test changes one of them
import numpy as np
import pandas as pd
import pytest
import tifffile

from nanosims_helpers import batch, cli
from nanosims_helpers.batch import Runner
from nanosims_helpers.io.files import MANIFEST_NAME, RunFolder
from nanosims_helpers.io.loading import load_image, save_image_tiff
from nanosims_helpers.runs import many_images
from nanosims_helpers.runs.many_images import collect_inputs, output_prefixes
from nanosims_helpers.teaching.synthetic import simulate_soil_image

REPO = Path(__file__).resolve().parents[2]
FAST = ["--method", "kmeans", "--masses", "12C,16O,27Al16O"]  # pixel-by-pixel k-means on three masses: quick


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    """A folder of two 32 x 32 simulated images."""
    folder = tmp_path_factory.mktemp("images")
    for seed in (1, 2):
        save_image_tiff(simulate_soil_image((32, 32), random_state=seed)[0], folder / f"img{seed}.tif")
    return folder


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def one_line_without_traceback(err: str) -> None:
    assert err.count("\n") == 1 and "Traceback" not in err, err


# --- Dask: addresses and peers -------------------------------------------------------------------


@pytest.mark.parametrize("address", ["nonsense", "inproc://x", "http://127.0.0.1:18787/status", "", "  ",
                                     "tcp://127.0.0.1:99999", "ucx://127.0.0.1:8786"])
def test_a_malformed_scheduler_address_is_a_bad_command_line(capsys, images, tmp_path, address):
    with pytest.raises(SystemExit) as stop:
        cli.main([str(images), "--out", str(tmp_path / "out"), "-k", "2", "--scheduler", address])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "Traceback" not in err
    assert "--scheduler" in err and "tcp://10.0.0.5:8786" in err.splitlines()[-1]
    assert not (tmp_path / "out").exists()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Junk(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(b"\xff" * 64)  # read by Dask as a frame count of exabytes
        time.sleep(0.5)


def _serve(handler):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize("handler, words", [(_Quiet, "gave no Dask greeting within 2 s"),
                                            (_Junk, "not a Dask scheduler")])
def test_a_peer_that_is_not_a_dask_scheduler_ends_the_run_in_one_line(run_cli, images, tmp_path, handler, words):
    server = _serve(handler)
    try:
        address = "tcp://127.0.0.1:%d" % server.server_address[1]
        start = time.monotonic()
        with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
            code, out, err = run_cli(images, "--out", tmp_path / "out", "-k", 2, "--scheduler", address)
        assert time.monotonic() - start < 20
    finally:
        server.shutdown()
        server.server_close()
    assert code == 1 and words in err and address in err
    one_line_without_traceback(err)
    assert "nothing was written" in err and not (tmp_path / "out" / "summary.csv").exists()


def test_nothing_listening_at_the_address_ends_the_run_in_one_line_at_once(run_cli, images, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    start = time.monotonic()
    code, _, err = run_cli(images, "--out", tmp_path, "-k", 2, "--scheduler", f"127.0.0.1:{port}")
    assert time.monotonic() - start < 20
    assert code == 1 and "cannot connect" in err
    one_line_without_traceback(err)


# --- workers -------------------------------------------------------------------------------------


def test_the_command_starts_no_more_workers_than_inputs_and_says_so(run_cli, images, tmp_path, monkeypatch):
    started = []

    def runner(workers, scheduler):
        started.append(workers)
        return Runner(1, scheduler)

    monkeypatch.setattr(batch, "Runner", runner)
    code, _, err = run_cli(images, "--out", tmp_path, "-k", 2, *FAST, "--workers", 1000)
    assert code == 0 and started == [min(2, os.cpu_count())]
    one_line_without_traceback(err)
    assert err.startswith("nanosims-cluster: note: --workers 1000 lowered to") and "2 input(s)" in err


# --- the output folder ---------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["a file", "/sys/kernel"])
def test_an_output_folder_that_cannot_be_written_is_a_bad_command_line(capsys, images, tmp_path, where):
    if where == "a file":
        out = tmp_path / "results.txt"
        out.write_text("not a folder")
    else:
        out = Path(where)
        if not out.is_dir() or os.access(out, os.W_OK) and _writable(out):
            pytest.skip(f"{where} is writable here")
    with pytest.raises(SystemExit) as stop:
        cli.main([str(images), "--out", str(out), "-k", "2", *FAST])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "Traceback" not in err and "cannot write into this folder" in err


def _writable(folder: Path) -> bool:
    try:
        (folder / ".probe").mkdir()
    except OSError:
        return False
    (folder / ".probe").rmdir()
    return True


def test_the_input_folder_as_output_folder_twice_clusters_only_the_images(run_cli, images, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for image in images.iterdir():
        (folder / image.name).write_bytes(image.read_bytes())
    assert run_cli(folder, "--out", folder, "-k", 2, *FAST)[0] == 0
    first = contents(folder)
    code, out, err = run_cli(folder, "--out", folder, "-k", 2, *FAST)
    assert (code, err) == (0, "") and "2 of 2 image(s) clustered" in out
    assert not list(folder.glob("*_labels_*")) and contents(folder) == first  # the same run gives the same bytes


def test_a_failed_joint_rerun_leaves_the_good_run_as_it_was(run_cli, images, tmp_path):
    out = tmp_path / "out"
    assert run_cli(images, "--out", out, "--joint", "-k", 2, "--masses", "12C,16O,27Al16O")[0] == 0
    good = contents(out)
    assert {"model.json", "summary.csv", "study_profiles.csv", MANIFEST_NAME} <= set(good)
    code, _, err = run_cli(images, "--out", out, "--joint", "-k", 5000, "--masses", "12C,16O,27Al16O")
    assert code == 1 and contents(out) == good
    one_line_without_traceback(err)
    assert "-k 5000" in err and "n_micro" not in err and "n_clusters" not in err
    assert f"the earlier results in {out} are unchanged" in err


def test_a_rerun_replaces_every_file_of_the_earlier_run(run_cli, images, tmp_path):
    out = tmp_path / "out"
    assert run_cli(images, "--out", out, "-k", 4, *FAST, "--ratios", "13C/12C")[0] == 0
    assert len(list(out.glob("*_isotopes.csv"))) == 2
    (out / "my_notes.txt").write_text("mine")  # not the kit's: left alone
    assert run_cli(images / "img1.tif", "--out", out, "-k", 3, *FAST)[0] == 0
    assert sorted(p.name for p in out.iterdir()) == [
        MANIFEST_NAME, "img1_labels.tif", "img1_overview.png", "img1_profiles.csv", "img1_scores.json",
        "my_notes.txt", "summary.csv"]
    assert np.unique(tifffile.imread(out / "img1_labels.tif")).size == 3
    assert json.loads((out / MANIFEST_NAME).read_text())["files"] == sorted(
        p.name for p in out.iterdir() if p.name not in (MANIFEST_NAME, "my_notes.txt"))


def test_a_rerun_where_an_image_fails_keeps_no_old_files_of_that_image(run_cli, images, tmp_path):
    data, out = tmp_path / "data", tmp_path / "out"
    data.mkdir()
    for image in images.iterdir():
        (data / image.name).write_bytes(image.read_bytes())
    assert run_cli(data, "--out", out, "-k", 2, *FAST)[0] == 0
    (data / "img2.tif").write_bytes(b"II*\x00 damaged")
    code, _, err = run_cli(data, "--out", out, "-k", 2, *FAST)
    assert code == 1 and "img2.tif" in err
    summary = pd.read_csv(out / "summary.csv")
    assert summary["status"].tolist() == ["ok", "failed"]
    assert not list(out.glob("img2_*")) and len(list(out.glob("img1_*"))) == 4


def test_a_run_that_clusters_nothing_keeps_the_earlier_results(run_cli, images, tmp_path):
    out = tmp_path / "out"
    assert run_cli(images, "--out", out, "-k", 2, *FAST)[0] == 0
    good = contents(out)
    code, stdout, err = run_cli(images, "--out", out, "-k", 2, "--masses", "99Xx")
    assert code == 1 and contents(out) == good and stdout == ""
    assert err.splitlines()[-1] == (f"nanosims-cluster: 0 of 2 image(s) clustered, 2 failed; nothing of this run "
                                    f"was kept: the earlier results in {out} are unchanged")


def test_only_the_files_of_images_with_a_summary_row_are_kept(tmp_path, capsys):
    out = tmp_path / "out"
    with RunFolder(out) as folder:
        for prefix in ("a", "a_2", "b", "c"):  # a done, a_2 and b failed, c finished after the interrupt
            (folder.staging / f"{prefix}_labels.tif").write_bytes(b"II*")
        (folder.staging / "model.json").write_text("{}")
        rows = [{"file": "a.tif", "output_prefix": "a", "status": "ok"},
                {"file": "b.tif", "output_prefix": "b", "status": "failed"},
                {"file": "x/a.tif", "output_prefix": "a_2", "status": "failed"}]
        assert many_images.finish_run(folder, rows, ["a", "b", "a_2", "c"], "interrupted") == 130
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_NAME, "a_labels.tif", "model.json", "summary.csv"]
    assert pd.read_csv(out / "summary.csv")["output_prefix"].tolist() == ["a", "b", "a_2"]
    assert capsys.readouterr().err == (f"nanosims-cluster: interrupted after 1 of 4 image(s) clustered, 2 failed; "
                                       f"see {out / 'summary.csv'}\n")


def test_an_interrupt_before_any_image_writes_nothing_and_says_so(tmp_path, capsys):
    with RunFolder(tmp_path / "out") as folder:
        assert many_images.finish_run(folder, [], ["a", "b"], "interrupted") == 130
    assert not (tmp_path / "out").exists()
    err = capsys.readouterr().err
    assert "nothing was written" in err and "summary.csv" not in err


def test_a_summary_that_cannot_be_written_ends_in_one_line_and_keeps_the_earlier_run(
        run_cli, images, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert run_cli(images, "--out", out, "-k", 2, *FAST)[0] == 0
    good = contents(out)

    def disk_full(rows, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(many_images, "write_summary", disk_full)
    code, _, err = run_cli(images, "--out", out, "-k", 3, *FAST)
    assert code == 1 and "No space left on device" in err and contents(out) == good
    one_line_without_traceback(err)
    assert not list(out.glob(".nanosims-run-*"))


def test_a_second_run_into_a_folder_in_use_is_refused(capsys, images, tmp_path):
    with RunFolder(tmp_path / "out"):
        with pytest.raises(SystemExit) as stop:
            cli.main([str(images), "--out", str(tmp_path / "out"), "-k", "2", *FAST])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "another nanosims-cluster run is writing into this folder" in err


# --- inputs --------------------------------------------------------------------------------------


def test_links_to_one_file_are_clustered_once_and_said_in_one_line(run_cli, images, tmp_path):
    links = tmp_path / "links"
    links.mkdir()
    original = images / "img1.tif"
    for index in range(3):
        (links / f"sym{index}.tif").symlink_to(original)
        os.link(original, links / f"hard{index}.tif")
    code, out, err = run_cli(links, original, "--out", tmp_path / "out", "-k", 2, *FAST)
    assert code == 0 and "1 of 1 image(s) clustered" in out
    assert err == ("nanosims-cluster: note: 6 input path(s) name a file already listed (the same path, or a "
                   "symbolic or hard link to it); each file is clustered once\n")


def test_blank_channel_names_are_named_and_a_joint_model_applies_again(run_cli, tmp_path):
    image = simulate_soil_image((32, 32), random_state=4)[0].select(["12C", "16O", "27Al16O"])
    path = tmp_path / "unnamed.tif"
    tifffile.imwrite(path, np.moveaxis(image.counts, 2, 0).astype(np.uint16), imagej=True,
                     metadata={"axes": "CYX", "Labels": ["12C2", "", "27Al16O"]})
    assert load_image(path).masses == ("12C2", "mass 2", "27Al16O")
    assert run_cli(path, "--out", tmp_path / "joint", "--joint", "-k", 2)[0] == 0
    model = tmp_path / "joint" / "model.json"
    assert json.loads(model.read_text())["masses"] == ["12C2", "mass 2", "27Al16O"]
    code, _, err = run_cli(path, "--out", tmp_path / "again", "--model", model)
    assert (code, err) == (0, "")


@pytest.mark.parametrize("seed", ["-1", "12345678901234567890123", "4294967296", "1.5", "x", ""])
def test_a_bad_seed_is_a_bad_command_line(capsys, images, tmp_path, seed):
    for option in ("--seed", "--random-state"):
        with pytest.raises(SystemExit) as stop:
            cli.main([str(images), "--out", str(tmp_path), "-k", "2", option, seed])
        err = capsys.readouterr().err
        assert stop.value.code == 2 and "Traceback" not in err and "0 to 4294967295" in err


def test_random_state_and_its_alias_seed_set_the_same_seed(run_cli, images, tmp_path):
    for option in ("--seed", "--random-state"):
        assert run_cli(images / "img1.tif", "--out", tmp_path / option, "-k", 2, *FAST, option, 4294967295)[0] == 0
        assert json.loads((tmp_path / option / "img1_scores.json").read_text())["random_state"] == 4294967295


@pytest.mark.parametrize("field, value", [("random_state", -1), ("images", 5), ("format_version", "2")])
def test_a_bad_model_file_is_one_line_and_a_bad_command_line(capsys, images, tmp_path, field, value):
    assert cli.main([str(images), "--out", str(tmp_path / "fit"), "--joint", "-k", "2"]) == 0
    model = json.loads((tmp_path / "fit" / "model.json").read_text())
    (tmp_path / "bad.json").write_text(json.dumps({**model, field: value}))
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        cli.main([str(images), "--out", str(tmp_path / "out"), "--model", str(tmp_path / "bad.json")])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and f'"{field}" is {value!r}' in err and "Traceback" not in err
    assert "this kit reads up to" not in err


def test_a_tiny_sample_size_is_a_bad_command_line(capsys, images, tmp_path):
    with pytest.raises(SystemExit) as stop:
        cli.main([str(images), "--out", str(tmp_path), "--joint", "-k", "2", "--sample-size", "1"])
    assert stop.value.code == 2 and "1000 pixels or more" in capsys.readouterr().err


def test_no_region_large_enough_is_said_in_one_line(run_cli, images, tmp_path):
    code, _, err = run_cli(images / "img1.tif", "--out", tmp_path, "-k", 2, *FAST, "--ratios", "13C/12C",
                           "--min-region-pixels", 10**9)
    assert code == 0
    one_line_without_traceback(err)
    assert "1000000000 pixels or more, so the regions table is empty" in err and "--min-region-pixels" in err


# --- warnings and interrupts ---------------------------------------------------------------------


def test_library_warnings_of_the_run_are_one_line_each(run_cli, images, tmp_path, monkeypatch):
    from nanosims_helpers.runs import study_outputs

    write = study_outputs.write_study_outputs

    def noisy(*args, **kwargs):
        warnings.warn("DataFrame is highly fragmented.\n  Consider joining all columns", pd.errors.PerformanceWarning)
        warnings.warn("Tight layout not applied.", UserWarning)
        return write(*args, **kwargs)

    monkeypatch.setattr(study_outputs, "write_study_outputs", noisy)
    code, _, err = run_cli(images, "--out", tmp_path, "--joint", "-k", 2, "--masses", "12C,16O,27Al16O")
    assert code == 0
    assert err.splitlines() == [
        "nanosims-cluster: warning: DataFrame is highly fragmented. Consider joining all columns",
        "nanosims-cluster: warning: Tight layout not applied.",
    ]


def test_a_study_of_many_clusters_raises_no_table_warning():
    from nanosims_helpers.runs.study_outputs import study_fractions_table

    sums = [{"pixels": np.arange(1, 2001)}, {"pixels": np.ones(2000, int)}]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = study_fractions_table(["a.im", "b.im"], ["a", "b"], sums)
    assert table.shape == (2, 2003) and table["cluster_1999"].tolist() == [2000 / sums[0]["pixels"].sum(), 1 / 2000]


def test_ctrl_c_while_the_command_starts_is_one_line(images, tmp_path):
    command = Path(sys.executable).with_name("nanosims-cluster")
    process = subprocess.Popen([str(command), str(images), "--out", str(tmp_path / "out"), "-k", "2"],
                               stderr=subprocess.PIPE, text=True, env=dict(os.environ, MPLBACKEND="Agg"),
                               preexec_fn=_ctrl_c_as_in_a_terminal)
    try:
        time.sleep(0.3)  # within the seconds the kit takes to load
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130
    finally:
        if process.poll() is None:
            process.kill()
    assert process.stderr.read() == "nanosims-cluster: interrupted while starting; nothing was written\n"
    assert not (tmp_path / "out").exists()


def _ctrl_c_as_in_a_terminal():
    """Let the command take Ctrl-C even when the tests run as a background job, where SIGINT is ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("option", [["--workers", "2"], ["--scheduler", "tcp://127.0.0.1:8786"]])
def test_dask_options_without_dask_installed_say_how_to_install_it(capsys, images, tmp_path, monkeypatch, option):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as in a plain pip install, without the dask extra
    with pytest.raises(SystemExit) as stop:
        cli.main([str(images), "--out", str(tmp_path / "out"), "-k", "2", *FAST, *option])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and 'pip install "nanosims-helpers[dask]"' in err and option[0] in err.splitlines()[-1]
    assert not (tmp_path / "out").exists()


def test_output_prefixes_ignore_case_and_never_collide():
    prefixes = output_prefixes(["x/Soil.tif", "y/soil.im", "soil_2.tif", "z/SOIL.tiff"])
    assert prefixes == ["Soil", "soil_2", "soil_2_2", "SOIL_3"]
    assert len({p.lower() for p in prefixes}) == 4


def test_collect_inputs_expands_folders_and_drops_repeats(tmp_path):
    for name in ("b.TIF", "a.im", "c.tiff", "notes.txt"):
        (tmp_path / name).write_text("")
    found = collect_inputs([tmp_path, tmp_path / "a.im", tmp_path / "gone.tif"])
    assert [p.name for p in found] == ["a.im", "b.TIF", "c.tiff", "gone.tif"]

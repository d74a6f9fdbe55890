"""The nanosims-cluster command: outputs per image, summary, bad inputs, exit statuses, help."""

import contextlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nanosims_helpers import poisson_model
from nanosims_helpers.cli import main
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.io.files import MANIFEST_NAME
from nanosims_helpers.io.loading import save_image_tiff
from nanosims_helpers.metrics import score_table
from nanosims_helpers.pipeline import DEFAULT_METHOD, default_preprocessing
from nanosims_helpers.poisson_model import fit_phases
from nanosims_helpers.preprocessing import preprocess
from nanosims_helpers.teaching.synthetic import simulate_soil_image

REPO = Path(__file__).resolve().parents[1]
JSON_KEYS = {
    "input", "k", "k_chosen", "method", "n_components", "preprocessing", "random_state", "masses", "shape",
    "pixel_size_um", "silhouette", "calinski_harabasz", "davies_bouldin", "entropy", "kit_version", "masses_not_used",
}
#: Three masses: enough to cluster on, and a quicker overview figure than all seven.
FEW = "12C,16O,27Al16O"
SUFFIXES = ("_labels.tif", "_profiles.csv", "_scores.json", "_overview.png")


@pytest.fixture(scope="module")
def image():
    return simulate_soil_image((40, 48), random_state=3)[0]


@pytest.fixture(scope="module")
def soil_tif(image, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("inputs") / "soil.tif"
    save_image_tiff(image, path)
    return path


def outputs(out: Path, prefix: str) -> list[Path]:
    return [out / f"{prefix}{suffix}" for suffix in SUFFIXES]


def test_writes_every_output_and_they_agree(run_cli, tmp_path, image, soil_tif):
    code, out, err = run_cli(soil_tif, "--out", tmp_path, "-k", 3)
    assert (code, err) == (0, "")
    assert "1 of 1" in out
    labels = tifffile.imread(tmp_path / "soil_labels.tif")
    assert labels.shape == image.shape[:2] and labels.dtype == np.uint8
    assert set(np.unique(labels)) == {0, 1, 2}

    profiles = pd.read_csv(tmp_path / "soil_profiles.csv")
    assert len(profiles) == 3 * len(image.masses)
    assert list(profiles["mass"].unique()) == list(image.masses)
    one = profiles[(profiles["cluster"] == 1) & (profiles["mass"] == "16O")].iloc[0]
    in_cluster = labels == 1
    assert one["pixels"] == in_cluster.sum()
    assert one["area_fraction"] == pytest.approx(in_cluster.mean())
    assert one["mean_counts"] == pytest.approx(image.channel("16O")[in_cluster].mean())

    scores = json.loads((tmp_path / "soil_scores.json").read_text())
    assert JSON_KEYS <= set(scores)
    assert (scores["k"], scores["method"], scores["random_state"]) == (3, DEFAULT_METHOD, 0)
    assert scores["preprocessing"] == default_preprocessing(DEFAULT_METHOD)
    assert scores["masses"] == list(image.masses) and scores["shape"] == [40, 48]
    assert scores["input"] == str(soil_tif)
    scaled = preprocess(image.counts, scores["preprocessing"])  # the TIFF holds the counts exactly
    expected = score_table(scaled, labels.astype(int), random_state=scores["random_state"])
    for name in ("silhouette", "calinski_harabasz", "davies_bouldin", "entropy"):
        assert scores[name] == pytest.approx(expected[name], rel=1e-9), name

    png = (tmp_path / "soil_overview.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000

    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary[["file", "status", "k"]].values.tolist() == [[str(soil_tif), "ok", 3]]
    assert summary.loc[0, "entropy"] == pytest.approx(scores["entropy"])


def test_auto_k_picks_a_number_of_clusters(run_cli, tmp_path, soil_tif):
    assert run_cli(soil_tif, "--out", tmp_path, "--k-max", 10, "--masses", FEW)[0] == 0
    scores = json.loads((tmp_path / "soil_scores.json").read_text())
    assert 2 <= scores["k"] <= 10 and scores["k_chosen"].startswith("auto")
    assert len(np.unique(tifffile.imread(tmp_path / "soil_labels.tif"))) == scores["k"]


@pytest.mark.parametrize(
    "method, extra", [("kmeans", []), ("pca-kmeans", ["--components", 3]), ("hierarchical", [])]
)
def test_each_method_runs(run_cli, tmp_path, soil_tif, method, extra):
    assert run_cli(soil_tif, "--out", tmp_path, "-k", 4, "--method", method, "--masses", FEW, *extra)[0] == 0
    scores = json.loads((tmp_path / "soil_scores.json").read_text())
    assert scores["method"] == method and scores["k"] == 4
    assert scores["n_components"] == (3 if method == "pca-kmeans" else None)
    assert scores["preprocessing"] == "asinh"
    assert len(np.unique(tifffile.imread(tmp_path / "soil_labels.tif"))) == 4


def test_masses_subset(run_cli, tmp_path, soil_tif):
    code, _, err = run_cli(soil_tif, "--out", tmp_path, "-k", 2, "--masses", "12C, 27Al16O", "--seed", 5)
    assert (code, err) == (0, "")
    scores = json.loads((tmp_path / "soil_scores.json").read_text())
    assert scores["masses"] == ["12C", "27Al16O"] and scores["random_state"] == 5
    assert len(pd.read_csv(tmp_path / "soil_profiles.csv")) == 2 * 2


def test_unknown_mass_fails_that_input(run_cli, tmp_path, soil_tif):
    code, _, err = run_cli(soil_tif, "--out", tmp_path, "-k", 2, "--masses", "99Xx")
    assert code == 1
    assert err.count("\n") == 1 and str(soil_tif) in err and "99Xx" in err


def test_bad_inputs_are_reported_in_one_line_and_the_others_run(run_cli, tmp_path, soil_tif):
    not_tiff = tmp_path / "notes.tif"
    not_tiff.write_text("this is not an image\n")
    missing = tmp_path / "missing.im"
    out = tmp_path / "out"
    code, _, err = run_cli(not_tiff, soil_tif, missing, "--out", out, "-k", 3, "--masses", FEW)
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 2 and "Traceback" not in err
    assert str(not_tiff) in lines[0] and str(missing) in lines[1]
    assert all(path.stat().st_size > 0 for path in outputs(out, "soil"))
    assert not list(out.glob("notes_*")) and not list(out.glob("missing_*"))
    summary = pd.read_csv(out / "summary.csv")
    assert summary["status"].tolist() == ["failed", "ok", "failed"]
    assert summary["error"].notna().tolist() == [True, False, True]


def test_folders_and_repeated_stems(run_cli, tmp_path, image):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        save_image_tiff(image, tmp_path / folder / "Soil.tif")
    (tmp_path / "a" / "readme.txt").write_text("not an image")
    out = tmp_path / "out"
    code, _, err = run_cli(tmp_path / "a", tmp_path / "b" / "Soil.tif", "--out", out, "-k", 2, "--masses", FEW)
    assert (code, err) == (0, "")
    assert all(path.exists() for path in outputs(out, "Soil") + outputs(out, "Soil_2"))
    assert len(pd.read_csv(out / "summary.csv")) == 2


def test_empty_folder_is_a_failed_input(run_cli, tmp_path):
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(tmp_path / "empty", "--out", tmp_path / "out", "-k", 2)
    assert code == 1 and "empty" in err and err.count("\n") == 1


def test_constant_channel_warns_once_and_still_clusters(run_cli, tmp_path, image):
    counts = image.counts.copy()
    counts[:, :, 1] = 0.0
    path = tmp_path / "dark13C.tif"
    save_image_tiff(NanoSIMSImage(counts, image.masses), path)
    code, _, err = run_cli(path, "--out", tmp_path / "out", "-k", 3, "--masses", "13C," + FEW)
    assert code == 0
    assert err.count("\n") == 1 and "warning" in err and str(path) in err
    assert "--masses on the command line" in err  # the option, not a Python argument
    assert "13C" in pd.read_csv(tmp_path / "out" / "summary.csv").loc[0, "warnings"]


@pytest.mark.parametrize(
    "argv",
    [
        ["-k", "1"],
        ["-k", "many"],
        ["--method", "dbscan"],
        ["--preprocessing", "log"],
        ["--components", "3"],
        ["-k", "3", "--k-max", "9"],
        ["--k-max", "auto"],
        ["--k-max", "3"],
        ["--masses", "12C,,16O"],
    ],
)
def test_usage_errors_exit_2(capsys, tmp_path, soil_tif, argv):
    with pytest.raises(SystemExit) as stop:
        main([str(soil_tif), "--out", str(tmp_path), *argv])
    assert stop.value.code == 2
    assert "usage: nanosims-cluster" in capsys.readouterr().err


def test_missing_out_is_a_usage_error(capsys, soil_tif):
    with pytest.raises(SystemExit) as stop:
        main([str(soil_tif)])
    assert stop.value.code == 2 and "--out" in capsys.readouterr().err


def test_real_cameca_files_go_through(run_cli, tmp_path, cameca_files):
    code, _, err = run_cli(*cameca_files, "--out", tmp_path, "-k", 3)
    assert code == 0
    # the only note: image_sun.im's secondary-electron channel is not clustered
    assert err.splitlines() == [line for line in err.splitlines() if "['SE'] are left out of clustering" in line]
    for path in cameca_files:
        assert all(p.stat().st_size > 0 for p in outputs(tmp_path, path.stem))
        scores = json.loads((tmp_path / f"{path.stem}_scores.json").read_text())
        assert scores["pixel_size_um"] is None or scores["pixel_size_um"] > 0
        assert tifffile.imread(tmp_path / f"{path.stem}_labels.tif").shape == tuple(scores["shape"])


def test_module_help_runs_in_a_subprocess():
    done = subprocess.run(
        [sys.executable, "-m", "nanosims_helpers", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: nanosims-cluster")
    assert "examples:" in done.stdout and "--method hierarchical" in done.stdout


def test_unexpected_error_is_one_line_and_traceback_flag_shows_it(run_cli, tmp_path, soil_tif, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("nanosims_helpers.runs.one_image.cluster_image", broken)
    code, _, err = run_cli(soil_tif, "--out", tmp_path, "-k", 2)
    assert code == 1 and err.count("\n") == 1
    assert str(soil_tif) in err and "RuntimeError: boom" in err and "--traceback" in err
    with pytest.raises(RuntimeError, match="boom"):
        main([str(soil_tif), "--out", str(tmp_path), "-k", "2", "--traceback"])


def test_confidence_writes_each_pixels_probability_of_its_cluster(run_cli, tmp_path, soil_tif):
    code, out, err = run_cli(soil_tif, "--out", tmp_path, "-k", 3, "--method", "poisson", "--confidence",
                             "--masses", FEW)
    assert code == 0, err
    labels = tifffile.imread(tmp_path / "soil_labels.tif")
    confidence = tifffile.imread(tmp_path / "soil_confidence.tif")
    assert confidence.dtype == np.float32 and confidence.shape == labels.shape
    assert 0 <= confidence.min() and confidence.max() <= 1 + 1e-6
    # pixels beside another cluster are the unsure ones: their probability is lower than inside a phase
    padded = np.pad(labels, 1, mode="edge")
    beside_other = np.zeros(labels.shape, bool)
    for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
        beside_other |= padded[dy:dy + labels.shape[0], dx:dx + labels.shape[1]] != labels
    assert (1 - confidence[beside_other]).mean() > 5 * (1 - confidence[~beside_other]).mean()
    assert np.median(confidence[~beside_other]) > 0.9
    assert "soil_confidence.tif" in json.loads((tmp_path / ".nanosims-cluster.json").read_text())["files"]


def test_auto_k_of_the_counting_model_is_its_own_count_and_the_overview_shows_confidence(run_cli, tmp_path, soil_tif,
                                                                                         monkeypatch):
    code, out, err = run_cli(soil_tif, "--out", tmp_path / "poisson", "--method", "poisson", "--masses", FEW)
    assert code == 0, err
    record = json.loads((tmp_path / "poisson" / "soil_scores.json").read_text())
    assert record["k_chosen"].startswith("auto: phases the counting model tells apart")
    assert len(record["split_half_scores"]) == 1 and record["split_half_scores"][0]["k"] == record["k"]
    assert record["k"] == len(np.unique(tifffile.imread(tmp_path / "poisson" / "soil_labels.tif")))
    fits = []
    monkeypatch.setattr(poisson_model, "fit_phases", lambda *a, **o: fits.append(a[1]) or fit_phases(*a, **o))
    assert run_cli(soil_tif, "--out", tmp_path / "again", "--method", "poisson", "--masses", FEW)[0] == 0
    assert fits == [None, record["k"], record["k"]], "the image fitted once with its own count, then both halves"
    code, out, err = run_cli(soil_tif, "--out", tmp_path / "spatial", "-k", record["k"], "--masses", FEW)
    assert code == 0, err
    heights = [plt.imread(tmp_path / name / "soil_overview.png").shape[0] for name in ("poisson", "spatial")]
    assert heights[0] > heights[1] + 256, "the counting model's overview has its confidence map below the clusters"


def test_k_max_is_refused_for_a_method_that_counts_its_clusters(capsys, tmp_path, soil_tif):
    with pytest.raises(SystemExit) as stop:
        main([str(soil_tif), "--out", str(tmp_path), "--method", "poisson", "--k-max", "6"])
    assert stop.value.code == 2 and "counts its clusters itself" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("argv", [["-k", "3"], ["-k", "3", "--method", "kmeans"], ["--joint", "-k", "3"]])
def test_confidence_for_a_method_without_one_is_a_bad_command_line(capsys, tmp_path, soil_tif, argv):
    with pytest.raises(SystemExit) as stop:
        main([str(soil_tif), "--out", str(tmp_path), "--confidence", *argv])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "--confidence needs a method that gives one: --method poisson" in err
    assert not list(tmp_path.iterdir())


# Random command lines thrown at ``nanosims-cluster``: whatever the options, an exit status of 0, 1 or 2,
# no traceback, and no file written outside ``--out``.
#
# The runs are in-process on one 16 x 16 image of three masses, so each takes well under a second.
# ``--traceback`` (which shows tracebacks on purpose), more than one worker (seconds to start) and
# real scheduler addresses (nothing is sent anywhere) are left out.


ODD_TEXT = st.sampled_from(["", " ", "-1", "0", "1", "2", "3", "auto", "x", "1.5", "1e3", "nan", "99999999999999999999",
                            "12C,,16O", "12C/12C", "13C/12C", "tcp://", "\u00b5", "../escape"])

OPTIONS = {
    "-k": st.one_of(ODD_TEXT, st.integers(-2, 40).map(str)),
    "--k-max": st.one_of(ODD_TEXT, st.integers(0, 12).map(str)),
    "--method": st.one_of(ODD_TEXT, st.sampled_from(["spatial", "kmeans", "pca-kmeans", "hierarchical"])),
    "--preprocessing": st.one_of(ODD_TEXT, st.sampled_from(["asinh", "composition", "max", "zscore"])),
    "--masses": st.one_of(ODD_TEXT, st.sampled_from(["12C,16O", "12C, 27Al16O", "16O", "99Xx", "SE"])),
    "--random-state": st.one_of(ODD_TEXT, st.integers(-5, 2**33).map(str)),
    "--seed": st.one_of(ODD_TEXT, st.integers(0, 10).map(str)),
    "--components": st.one_of(ODD_TEXT, st.integers(-1, 5).map(str)),
    "--threads": st.one_of(ODD_TEXT, st.integers(-1, 2).map(str)),
    "--ratios": st.one_of(ODD_TEXT, st.sampled_from(["13C/12C", "12C15N/12C14N", "16O/12C", "13C/12C,13C/12C"])),
    "--min-region-pixels": st.one_of(ODD_TEXT, st.integers(-1, 10**6).map(str)),
    "--sample-size": st.one_of(ODD_TEXT, st.integers(0, 3000).map(str)),
    "--workers": st.sampled_from(["0", "1", "-3", "x", ""]),
    "--scheduler": st.sampled_from(["", "nonsense", "inproc://x", "http://127.0.0.1:1/status", "tcp://h:0"]),
    "--model": st.sampled_from(["absent.json", "image.tif", "."]),
}
FLAGS = ["--joint", "--version", "--help"]

command_lines = st.tuples(
    st.dictionaries(st.sampled_from(sorted(OPTIONS)), st.none(), max_size=5).flatmap(
        lambda chosen: st.fixed_dictionaries({name: OPTIONS[name] for name in chosen})),
    st.lists(st.sampled_from(FLAGS), max_size=1, unique=True),
    st.booleans(),  # the image given as a file (True) or its folder
)


def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size
            for p in root.rglob("*") if "out" not in p.relative_to(root).parts}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command_lines)
def test_random_command_lines_exit_0_1_or_2_without_traceback_or_stray_files(tmp_path, monkeypatch, line):
    options, flags, as_file = line
    inputs = tmp_path / "inputs"
    if not inputs.exists():
        inputs.mkdir()
        save_image_tiff(simulate_soil_image((16, 16), random_state=0)[0].select(["12C", "13C", "16O", "27Al16O"]),
                        inputs / "image.tif")
    monkeypatch.chdir(tmp_path)
    before = _tree(tmp_path)
    argv = [str(inputs / "image.tif") if as_file else str(inputs), "--out", "out", *flags]
    for name, value in options.items():
        argv += [name, value] if not value.startswith("-") else [f"{name}={value}"]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code
    assert code in (0, 1, 2), (argv, code, err.getvalue())
    assert "Traceback" not in err.getvalue(), (argv, err.getvalue())
    assert _tree(tmp_path) == before, argv  # nothing outside out/
    out = tmp_path / "out"
    if out.exists():  # no temporary file or folder left in it
        assert [p.name for p in out.glob(".*")] in ([], [MANIFEST_NAME]), argv
        shutil.rmtree(out)

"""The command line's study model: ``--joint`` fits one model over a folder, ``--model`` applies a saved one."""

import json

import numpy as np
import pandas as pd
import pytest
import tifffile

from nanosims_helpers.cli import main
from nanosims_helpers.io.loading import load_image, save_image_tiff
from nanosims_helpers.isotopes import isotope_table, split_for_ratios
from nanosims_helpers.study import apply_model, load_model
from nanosims_helpers.teaching.synthetic import SOIL_MASSES, simulate_soil_image

SEEDS = (11, 12, 13)


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory):
    """Three 64 x 64 images of the same kind of soil, as TIFF files in one folder."""
    folder = tmp_path_factory.mktemp("study")
    for seed in SEEDS:
        save_image_tiff(simulate_soil_image((64, 64), random_state=seed)[0], folder / f"soil_{seed}.tif")
    return folder


def test_joint_writes_the_study_files_and_they_agree_with_the_maps(run_cli, study_dir, tmp_path):
    out = tmp_path / "joint"
    code, stdout, err = run_cli(study_dir, "--out", out, "--joint", "-k", 4, "--sample-size", 3000)
    assert (code, err) == (0, "") and "3 of 3" in stdout
    model = load_model(out / "model.json")
    fractions = pd.read_csv(out / "study_fractions.csv")
    assert fractions["output_prefix"].tolist() == [f"soil_{seed}" for seed in SEEDS]
    for row in fractions.itertuples():
        labels = tifffile.imread(out / f"{row.output_prefix}_labels.tif")
        image = simulate_soil_image((64, 64), random_state=int(row.output_prefix[5:]))[0]
        assert np.array_equal(labels, apply_model(model, image).labels)
        expected = np.bincount(labels.ravel(), minlength=4) / labels.size
        np.testing.assert_allclose([getattr(row, f"cluster_{c}") for c in range(4)], expected)
        scores = json.loads((out / f"{row.output_prefix}_scores.json").read_text())
        assert scores["k"] == 4 and scores["model"] == "model.json" and scores["masses"] == list(SOIL_MASSES)
    profiles = pd.read_csv(out / "study_profiles.csv")
    assert profiles.groupby("cluster")["pixels"].first().sum() == 3 * 64 * 64
    assert (out / "study_fractions.png").read_bytes().startswith(b"\x89PNG")
    assert not list(out.glob(".partial-*"))


def test_a_saved_model_labels_new_images_as_in_the_study(run_cli, study_dir, tmp_path):
    first = tmp_path / "first"
    assert run_cli(study_dir, "--out", first, "--joint", "-k", 4, "--sample-size", 3000)[0] == 0
    again = tmp_path / "again"
    code, _, err = run_cli(study_dir / "soil_12.tif", "--out", again, "--model", first / "model.json")
    assert (code, err) == (0, "")
    assert (again / "soil_12_labels.tif").read_bytes() == (first / "soil_12_labels.tif").read_bytes()
    assert not (again / "model.json").exists() and (again / "study_fractions.csv").exists()


def test_joint_with_ratios_measures_the_study_clusters_of_every_image(run_cli, study_dir, tmp_path):
    out = tmp_path / "ratios"
    code, _, err = run_cli(study_dir, "--out", out, "--joint", "-k", 4, "--sample-size", 3000,
                           "--ratios", "13C/12C", "--min-region-pixels", 5)
    assert (code, err) == (0, "")
    for seed in SEEDS:
        labels = tifffile.imread(out / f"soil_{seed}_labels.tif").astype(int)
        written = pd.read_csv(out / f"soil_{seed}_isotopes.csv")
        image = load_image(study_dir / f"soil_{seed}.tif")
        # labelled on one half of the 13C and 12C counts (the study seed, 0), tested on the other half
        held_out = split_for_ratios(image, "13C/12C", SOIL_MASSES, random_state=0)
        expected = isotope_table(image, labels, "13C/12C", split=held_out)
        np.testing.assert_allclose(written["numerator_counts"], expected["numerator_counts"])
        np.testing.assert_allclose(written["ratio_of_sums"], expected["ratio_of_sums"])
        assert 0.45 < written["numerator_counts"].sum() / image.channel("13C").sum() < 0.55
        assert (written["test_counts"] == "held-out half: binomial thinning, random_state 0").all()
        assert (out / f"soil_{seed}_regions.csv").exists()
    summary = pd.read_csv(out / "summary.csv")
    assert summary["enriched"].str.startswith("13C/12C: ").all()
    code, _, err = run_cli(study_dir, "--out", tmp_path / "missing", "--joint", "-k", 4, "--sample-size", 3000,
                           "--ratios", "33S/32S=0.0079")
    assert code == 1 and err.count("error:") == 3 and "no mass '33S'" in err


def test_model_option_reports_images_without_its_masses(run_cli, study_dir, tmp_path):
    assert run_cli(study_dir, "--out", tmp_path / "a", "--joint", "-k", 3, "--sample-size", 1000)[0] == 0
    few = tmp_path / "few.tif"
    save_image_tiff(simulate_soil_image((64, 64), random_state=5)[0].select(["12C", "16O"]), few)
    code, _, err = run_cli(few, study_dir / "soil_11.tif", "--out", tmp_path / "b", "--model",
                           tmp_path / "a" / "model.json")
    assert code == 1 and err.count("\n") == 1
    assert "few.tif" in err and "lacks" in err and "13C" in err
    summary = pd.read_csv(tmp_path / "b" / "summary.csv")
    assert summary["status"].tolist() == ["failed", "ok"]


@pytest.mark.parametrize("argv, message", [
    (["--joint", "-k", "3", "--method", "hierarchical"], "--joint uses the spatial method"),
    (["--joint", "-k", "3", "--preprocessing", "asinh"], "leave out --preprocessing"),
    (["--joint"], "--joint needs a number of clusters, e.g. --joint -k 5"),
    (["--model", "m.json", "-k", "3"], "fixes k and the masses; leave out -k"),
    (["--joint", "--model", "m.json"], "not allowed with"),
    (["--sample-size", "5000"], "--sample-size applies only to --joint"),
    (["--workers", "2", "--scheduler", "tcp://x:1"], "not allowed with"),
    (["--workers", "0"], "use 1 or more"),
])
def test_study_options_that_do_not_fit_together(capsys, study_dir, tmp_path, argv, message):
    with pytest.raises(SystemExit) as stop:
        main([str(study_dir), "--out", str(tmp_path), *argv])
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_a_bad_model_file_is_a_bad_command_line(capsys, study_dir, tmp_path):
    (tmp_path / "model.json").write_text("{}")
    with pytest.raises(SystemExit) as stop:
        main([str(study_dir), "--out", str(tmp_path / "out"), "--model", str(tmp_path / "model.json")])
    assert stop.value.code == 2 and "not a study model" in capsys.readouterr().err


def test_help_shows_every_study_option_with_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for option, example in [("--joint", "--joint -k 5"), ("--model", "--model results/model.json"),
                            ("--sample-size", "--sample-size 200000"), ("--workers", "--workers 4"),
                            ("--scheduler", "--scheduler tcp://")]:
        assert option in text and example in text, option


def test_joint_says_which_masses_it_left_out(run_cli, study_dir, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for seed in SEEDS[:2]:
        (images / f"soil_{seed}.tif").write_bytes((study_dir / f"soil_{seed}.tif").read_bytes())
    image = simulate_soil_image((64, 64), random_state=7)[0]
    save_image_tiff(image.select([m for m in SOIL_MASSES if m != "13C"]), images / "no_13c.tif")
    code, _, err = run_cli(images, "--out", tmp_path / "out", "--joint", "-k", 3, "--sample-size", 1000)
    assert code == 0 and err.count("\n") == 1
    assert "warning: masses left out of the study model: 13C (not in" in err and "no_13c.tif" in err
    values = json.loads((tmp_path / "out" / "model.json").read_text())
    assert values["dropped_masses"] == ["13C"] and "13C" not in values["masses"]
    scores = json.loads((tmp_path / "out" / "soil_11_scores.json").read_text())
    assert scores["masses_not_used"] == ["13C"]

"""One image run with --ratios (runs/one_image.py): isotope and region tables, enriched clusters in the summary."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from nanosims_helpers.cli import main
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.io.loading import load_image, save_image_tiff
from nanosims_helpers.isotopes import AIR_15N_14N, VPDB_13C_12C, isotope_table, split_for_ratios
from nanosims_helpers.regions import cluster_regions
from nanosims_helpers.teaching.synthetic import simulate_soil_image

RATIOS = "13C/12C,12C15N/12C14N"


@pytest.fixture(scope="module")
def labelled_tif(tmp_path_factory) -> Path:
    image = simulate_soil_image((64, 64), n_hotspots=6, random_state=2)[0]
    path = tmp_path_factory.mktemp("inputs") / "soil.tif"
    save_image_tiff(image, path)
    return path


def test_ratios_write_cluster_and_region_tables_and_the_summary(run_cli, tmp_path, labelled_tif):
    code, _, err = run_cli(labelled_tif, "--out", tmp_path, "-k", 4, "--masses", "12C,16O,12C14N",
                           "--ratios", RATIOS, "--min-region-pixels", 5)
    assert (code, err) == (0, "")
    labels = tifffile.imread(tmp_path / "soil_labels.tif").astype(int)
    written = pd.read_csv(tmp_path / "soil_isotopes.csv")
    # clustered on one half of the counts of 12C and 12C14N (and of the ratios' other masses), tested on the other
    image = load_image(labelled_tif, keep_planes=True)
    split = split_for_ratios(image, RATIOS, ["12C", "16O", "12C14N"], random_state=0)
    expected = isotope_table(image, labels, RATIOS, split=split)
    assert (written["test_counts"] == "held-out half: binomial thinning, random_state 0").all()  # one plane
    held_13c = written.loc[written["ratio"] == "13C/12C", "numerator_counts"].sum()
    assert 0.45 < held_13c / image.channel("13C").sum() < 0.55
    scores = json.loads((tmp_path / "soil_scores.json").read_text())
    assert scores["count_split"] == {"kind": "binomial thinning", "fraction_held_out": 0.5, "random_state": 0,
                                     "held_out_masses": ["13C", "12C", "12C15N", "12C14N"],
                                     "found_on": ["12C", "16O", "12C14N"]}
    assert len(written) == 4 * 2
    np.testing.assert_allclose(written["ratio_of_sums"], expected["ratio_of_sums"])
    np.testing.assert_allclose(written["p_adjusted"], expected["p_adjusted"])
    regions = pd.read_csv(tmp_path / "soil_regions.csv")
    assert regions["region"].nunique() == cluster_regions(labels, min_region_pixels=5).max()
    assert regions["area_px"].min() >= 5 and set(regions["cluster"]) <= {0, 1, 2, 3}
    summary = pd.read_csv(tmp_path / "summary.csv")
    enriched = expected[expected["enriched"]]
    for isotope in ("13C/12C", "15N/14N"):
        names = enriched.loc[enriched["isotope"] == isotope, "name"].tolist()
        assert f"{isotope}: {', '.join(names) or 'none'}" in summary["enriched"][0]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_ratio_naming_a_missing_mass_is_a_one_line_error_listing_the_masses(run_cli, tmp_path, labelled_tif):
    image = load_image(labelled_tif).select(["12C", "16O", "12C14N"])
    path = tmp_path / "few.tif"
    save_image_tiff(image, path)
    code, _, err = run_cli(path, "--out", tmp_path / "out", "-k", 3, "--ratios", RATIOS)
    assert code == 1
    assert err.count("\n") == 1 and "no mass '13C'" in err and "['12C', '16O', '12C14N']" in err
    assert not (tmp_path / "out" / "few_labels.tif").exists()  # failed before clustering


@pytest.mark.parametrize("ratios, message", [("13C/13C", "divides a mass by itself"), ("13C", "numerator/denominator")])
def test_unreadable_ratios_are_usage_errors(capsys, tmp_path, labelled_tif, ratios, message):
    with pytest.raises(SystemExit) as stop:
        main([str(labelled_tif), "--out", str(tmp_path), "--ratios", ratios])
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_unlabelled_images_get_no_enriched_cluster_from_the_default_route(run_cli, tmp_path):
    means = np.array([300.0, 300.0 * VPDB_13C_12C, 50.0, 60.0, 60.0 * AIR_15N_14N])
    for seed in range(4):
        counts = np.random.default_rng(seed).poisson(means, (48, 48, 5)).astype(float)
        image = NanoSIMSImage(counts, ("12C", "13C", "16O", "12C14N", "12C15N"), pixel_size_um=0.1)
        save_image_tiff(image, tmp_path / f"flat_{seed}.tif")
    code, _, err = run_cli(tmp_path, "--out", tmp_path / "out", "-k", 3, "--ratios", RATIOS)
    assert (code, err) == (0, "")
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert (summary["enriched"] == "13C/12C: none; 15N/14N: none").sum() >= 3
    written = pd.read_csv(tmp_path / "out" / "flat_0_isotopes.csv")
    assert (written["test_counts"] == "held-out half: binomial thinning, random_state 0").all()


def test_a_ratio_without_a_known_reference_is_asked_for_in_command_line_syntax(capsys, tmp_path, labelled_tif):
    with pytest.raises(SystemExit) as stop:
        main([str(labelled_tif), "--out", str(tmp_path), "--ratios", "12C14N/12C"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "'12C14N/12C=REFERENCE'" in err and "(" not in err.split("give the ratio")[1]


def test_counts_that_cannot_be_split_are_a_one_line_error_with_the_way_out(run_cli, tmp_path, labelled_tif):
    image = load_image(labelled_tif)
    path = tmp_path / "corrected.tif"
    save_image_tiff(NanoSIMSImage(image.counts * 1.01, image.masses), path)  # one plane of fractional counts
    code, _, err = run_cli(path, "--out", tmp_path / "out", "-k", 3, "--ratios", RATIOS)
    assert code == 1 and err.count("\n") == 1 and "without the dead-time correction" in err


def test_clusters_on_masses_no_ratio_uses_are_tested_on_all_counts(run_cli, tmp_path, labelled_tif):
    code, _, err = run_cli(labelled_tif, "--out", tmp_path, "-k", 3, "--masses", "16O,27Al16O,56Fe16O",
                           "--ratios", RATIOS)
    assert (code, err) == (0, "")
    written = pd.read_csv(tmp_path / "soil_isotopes.csv")
    labels = tifffile.imread(tmp_path / "soil_labels.tif").astype(int)
    expected = isotope_table(load_image(labelled_tif), labels, RATIOS)  # every count: none chose the clusters
    assert (written["test_counts"] == "all").all()
    np.testing.assert_allclose(written["numerator_counts"], expected["numerator_counts"])
    scores = json.loads((tmp_path / "soil_scores.json").read_text())
    assert scores["count_split"]["held_out_masses"] == [] and scores["test_counts"] == "all"

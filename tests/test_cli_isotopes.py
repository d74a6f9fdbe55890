"""nanosims-cluster --ratios: isotope and region tables per image, enriched clusters in the summary."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from nanosims_helpers.cli import main
from nanosims_helpers.io.loading import load_image, save_image_tiff
from nanosims_helpers.isotopes import isotope_table
from nanosims_helpers.regions import cluster_regions
from nanosims_helpers.synthetic import simulate_soil_image

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
    expected = isotope_table(load_image(labelled_tif), labels, RATIOS)
    assert len(written) == 4 * 2
    np.testing.assert_allclose(written["ratio_of_sums"], expected["ratio_of_sums"])
    np.testing.assert_allclose(written["p_adjusted"], expected["p_adjusted"])
    regions = pd.read_csv(tmp_path / "soil_regions.csv")
    assert regions["region"].nunique() == cluster_regions(labels, min_pixels=5).max()
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

"""The method registry: one record per method, and every route (cluster_image, the command line, the
explorer) finds a method added to it in one place."""

import json

import numpy as np
import pytest
import tifffile

from nanosims_helpers import methods
from nanosims_helpers.cli import build_parser, main
from nanosims_helpers.clustering import ClusterResult
from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.explorer.state import ExplorerState, Settings, explorer_methods
from nanosims_helpers.explorer.widgets import SettingsControls
from nanosims_helpers.io.loading import save_image_tiff
from nanosims_helpers.pipeline import cluster_image
from nanosims_helpers.preprocessing import PREPROCESSING
from nanosims_helpers.teaching.synthetic import simulate_soil_image


def left_right(features, n_clusters, *, random_state=0):
    """A stand-in method that ignores the data: the left half of the image is cluster 0, the right cluster 1."""
    labels = np.zeros(features.shape[:2], int)
    labels[:, features.shape[1] // 2:] = 1
    centers = np.stack([features[labels == i].mean(axis=0) for i in range(2)])
    return ClusterResult(labels, centers, features)


@pytest.fixture
def left_right_method(monkeypatch):
    """'left-right' added to the registry, in this one place only."""
    record = methods.Method("left-right", f"{__name__}:left_right", needs_counts=False, preprocessing="max",
                            description="left half, right half")
    monkeypatch.setitem(methods.REGISTRY, record.name, record)
    return record


@pytest.fixture(scope="module")
def soil():
    return simulate_soil_image((32, 32), random_state=3)[0]


def halves(shape):
    expected = np.zeros(shape, int)
    expected[:, shape[1] // 2:] = 1
    return expected


def test_every_record_names_a_function_that_exists_and_a_known_preprocessing():
    for name in methods.method_names():
        record = methods.get_method(name)
        assert record.name == name and callable(record.load()) and record.preprocessing in PREPROCESSING
    assert methods.method_names()[0] == methods.DEFAULT_METHOD
    assert {methods.get_method(name).tolerance_px for name in ("spatial", "poisson")} == {1}
    assert methods.on_components("kmeans") == "pca-kmeans" and methods.on_components("hierarchical") is None


def test_an_unknown_method_is_refused_by_every_route(soil, tmp_path, capsys):
    with pytest.raises(NanoSIMSError, match="method='left-right': unknown"):
        cluster_image(soil, 2, method="left-right")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["a.tif", "--out", str(tmp_path), "--method", "left-right"])
    assert "left-right" not in explorer_methods()


def test_a_method_added_to_the_registry_is_found_by_cluster_image(left_right_method, soil):
    result = cluster_image(soil, 2, method="left-right")
    np.testing.assert_array_equal(result.labels, halves(soil.shape[:2]))
    # its default preprocessing, from its record: each channel divided by its maximum
    counts = soil.for_clustering().counts
    np.testing.assert_allclose(result.preprocessed, counts / counts.max(axis=(0, 1)), rtol=1e-6)


def test_a_method_added_to_the_registry_runs_from_the_command_line(left_right_method, soil, tmp_path, capsys):
    save_image_tiff(soil, tmp_path / "soil.tif")
    assert "left-right" in build_parser().format_help()
    assert main([str(tmp_path / "soil.tif"), "--out", str(tmp_path / "out"), "-k", "2", "--method", "left-right"]) == 0
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "out" / "soil_labels.tif"), halves(soil.shape[:2]))
    record = json.loads((tmp_path / "out" / "soil_scores.json").read_text())
    assert (record["method"], record["preprocessing"]) == ("left-right", "max")


def test_a_method_added_to_the_registry_is_in_the_explorers_menu_and_maps(left_right_method, soil):
    assert "left-right" in SettingsControls(soil).method.options
    labels = ExplorerState(soil).labels(Settings(n_clusters=2, method="left-right", preprocessing="max"))
    np.testing.assert_array_equal(labels, halves(soil.shape[:2]))

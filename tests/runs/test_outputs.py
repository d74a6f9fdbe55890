"""The files a run writes for one image: label TIFF, scores JSON, the overview's display image, the profiles table."""

import json

import numpy as np
import pytest
import tifffile

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.runs import outputs
from nanosims_helpers.runs.outputs import display_image, profiles_table, write_label_tiff, write_scores_json


def test_label_tiff_switches_to_uint16_above_255_clusters(tmp_path):
    labels = np.arange(300).reshape(15, 20)
    write_label_tiff(labels, tmp_path / "l.tif", pixel_size_um=0.1)
    read = tifffile.imread(tmp_path / "l.tif")
    assert read.dtype == np.uint16 and np.array_equal(read, labels)


def test_scores_json_writes_nan_as_null(tmp_path):
    write_scores_json({"silhouette": np.float64("nan"), "k": np.int64(3), "path": tmp_path}, tmp_path / "s.json")
    assert json.loads((tmp_path / "s.json").read_text()) == {"silhouette": None, "k": 3, "path": str(tmp_path)}


def test_display_image_sums_whole_blocks_and_fits_the_size():
    counts = np.arange(10 * 9 * 2, dtype=float).reshape(10, 9, 2)
    labels = np.arange(90).reshape(10, 9)
    small, small_labels = display_image(NanoSIMSImage(counts, ("12C", "16O")), labels, size=4)
    assert small.shape == (3, 3, 2) and small.masses == ("12C", "16O")
    assert small.counts[1, 2, 0] == counts[3:6, 6:9, 0].sum()
    assert small.counts.sum() == counts[:9, :9].sum()
    assert np.array_equal(small_labels, labels[:9:3, :9:3])


def test_overview_shrinks_the_confidence_map_by_block_means_with_the_image(tmp_path, monkeypatch):
    drawn, draw = {}, outputs.plot_overview

    def plot_overview(image, labels, **options):
        drawn.update(options, shape=image.shape[:2], labels=labels)
        return draw(image, labels, **options)

    monkeypatch.setattr(outputs, "plot_overview", plot_overview)
    confidence = np.ones((10, 9))
    confidence[3, 7] = 0.1  # one unsure pixel in the block of rows 3-5, columns 6-8
    outputs.write_overview_png(NanoSIMSImage(np.ones((10, 9, 1)), ("12C",)), np.zeros((10, 9), int),
                               tmp_path / "o.png", display_size=4, confidence=confidence)
    expected = np.ones((3, 3))
    expected[1, 2] = (8 + 0.1) / 9
    assert drawn["shape"] == (3, 3)
    np.testing.assert_allclose(drawn["confidence"], expected)
    assert (tmp_path / "o.png").stat().st_size > 0


def test_image_profiles_list_clusters_absent_from_the_image():
    counts = np.arange(12.0).reshape(2, 3, 2)
    labels = np.array([[0, 0, 2], [2, 2, 0]])
    table = profiles_table(counts, counts / 2, labels, ["12C", "16O"], n_clusters=4)
    assert table["cluster"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert table["pixels"].tolist() == [3, 3, 0, 0, 3, 3, 0, 0]
    assert table.loc[table["pixels"] == 0, "mean_counts"].isna().all()
    present = profiles_table(counts, counts / 2, np.array([[0, 0, 1], [1, 1, 0]]), ["12C", "16O"])
    np.testing.assert_array_equal(table.loc[table["cluster"] == 2, "mean_counts"],
                                  present.loc[present["cluster"] == 1, "mean_counts"])
    with pytest.raises(NanoSIMSError, match="n_clusters=2"):
        profiles_table(counts, counts, labels, ["12C", "16O"], n_clusters=2)

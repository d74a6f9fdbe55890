"""The files a run writes for one image: label TIFF, scores JSON, the display image of the overview."""

import json

import numpy as np
import tifffile

from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.runs.outputs import display_image, write_label_tiff, write_scores_json


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

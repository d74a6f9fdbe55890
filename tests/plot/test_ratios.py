"""The HSI ratio image and the atom % bar chart."""

import matplotlib
import numpy as np
import pytest

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.isotopes import isotope_table, split_for_ratios
from nanosims_helpers.plot import plot_atom_percent, plot_ratio_hsi
from nanosims_helpers.plot.ratios import hsi_rgb

matplotlib.use("Agg")


def test_hue_follows_the_ratio_and_brightness_the_counts():
    ratio = np.array([[0.01, 0.03, 0.05, 0.09]])
    counts = np.array([[200.0, 200.0, 100.0, 200.0]])
    hsv = matplotlib.colors.rgb_to_hsv(hsi_rgb(ratio, counts, (0.01, 0.05), brightness_percentile=100))
    np.testing.assert_allclose(hsv[0, :, 0], [2 / 3, 1 / 3, 0.0, 0.0], atol=1e-6)  # blue, green, red, red
    np.testing.assert_allclose(hsv[0, :, 2], [1.0, 1.0, 0.5, 1.0])


def _table():
    counts = np.zeros((1, 6, 2))
    counts[..., 0] = 10000.0
    counts[0, :2, 1], counts[0, 2:4, 1], counts[0, 4:, 1] = 112.0, 300.0, 600.0
    image = NanoSIMSImage(counts, ("12C", "13C"))
    return image, isotope_table(image, np.array([[0, 0, 1, 1, 2, 2]]), "13C/12C", names=["soil", "OM", "cells"])


def test_bars_show_atom_percent_errors_names_and_the_natural_line():
    _, table = _table()
    ax = plot_atom_percent(table)
    heights = [bar.get_height() for bar in ax.patches]
    np.testing.assert_allclose(heights, table["atom_percent"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["soil", "OM", "cells"]
    line = [artist for artist in ax.lines if artist.get_linestyle() == "--"][0]
    assert line.get_ydata()[0] == pytest.approx(table["reference_atom_percent"][0])
    assert sum(text.get_text() == "*" for text in ax.texts) == int(table["enriched"].sum()) == 2


def test_the_title_says_when_the_bars_come_from_the_held_out_half():
    image, table = _table()
    assert "held-out" not in plot_atom_percent(table).get_title()
    split = split_for_ratios(image, "13C/12C", masses=["12C", "13C"])
    held_out = isotope_table(image, np.array([[0, 0, 1, 1, 2, 2]]), "13C/12C", split=split)
    assert plot_atom_percent(held_out).get_title().endswith("* enriched (held-out half)")


def test_bars_need_a_ratio_when_the_table_has_several():
    image, _ = _table()
    two = isotope_table(image, np.array([[0, 0, 1, 1, 2, 2]]), [("13C", "12C"), ("12C", "13C", 89.0)])
    with pytest.raises(NanoSIMSError, match="choose one"):
        plot_atom_percent(two)


def test_hsi_image_outlines_regions_and_states_its_range():
    image, _ = _table()
    regions = np.zeros((5, 5), int)
    regions[1:4, 1:4] = 1
    image = NanoSIMSImage(np.ones((5, 5, 2)) * [1000.0, 30.0], ("12C", "13C"))
    ax = plot_ratio_hsi(image, "13C", "12C", ratio_range=(0.01, 0.07), regions=regions)
    assert "0.01 to 0.07" in ax.get_title()
    white = (ax.images[0].get_array() == 1.0).all(axis=-1)
    expected = regions.astype(bool)
    expected[2, 2] = False  # the centre of the region is not on its edge
    assert (white == expected).all()
    with pytest.raises(NanoSIMSError, match="ratio_range"):
        plot_ratio_hsi(image, "13C", "12C", ratio_range=(0.05, 0.01))

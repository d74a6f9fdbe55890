"""Tests of the plots: what is drawn (artists, titles, colours, numbers), bad input, rendering."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.patches import Circle

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.plot import (
    cluster_colors,
    plot_channels,
    plot_cluster_map,
    plot_cluster_profiles,
    plot_comparison,
    plot_overview,
    plot_parallel_coordinates,
    plot_pca_scatter,
    plot_sweep,
)

MASSES = ("12C", "13C", "16O", "12C 14N", "27Al16O")
SHAPE = (32, 40)
N_PIXELS = SHAPE[0] * SHAPE[1]


@pytest.fixture
def labels():
    """Three clusters: left half, right half, and a small 4 x 4 corner (1.25 % of the pixels)."""
    label_map = np.zeros(SHAPE, dtype=int)
    label_map[:, 20:] = 1
    label_map[:4, :4] = 2
    return label_map


@pytest.fixture
def values(labels):
    """Scaled intensities whose first feature equals the cluster number plus small noise."""
    rng = np.random.default_rng(0)
    noise = rng.normal(0.0, 0.05, size=(*SHAPE, len(MASSES)))
    return noise + labels[..., None] * np.linspace(1.0, 0.2, len(MASSES))


@pytest.fixture
def image(values):
    return NanoSIMSImage(np.exp(values) * 100.0, MASSES, pixel_size_um=0.1)


def legend_texts(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def legend_colors(ax):
    return np.array([handle.get_facecolor() for handle in ax.get_legend().legend_handles])


# cluster_colors ---------------------------------------------------------------------------------


def test_cluster_colors_are_tab10_in_order_whatever_k():
    tab10 = matplotlib.colormaps["tab10"].colors
    np.testing.assert_allclose(cluster_colors(3)[:, :3], tab10[:3])
    np.testing.assert_allclose(cluster_colors(7)[:3], cluster_colors(3))


@pytest.mark.parametrize("n_clusters, cmap", [(15, "tab10"), (31, "tab10"), (6, "viridis")])
def test_cluster_colors_stay_distinct(n_clusters, cmap):
    colors = cluster_colors(n_clusters, cmap)
    assert colors.shape == (n_clusters, 4)
    assert len(np.unique(colors.round(4), axis=0)) == n_clusters


@pytest.mark.parametrize("n_clusters, cmap, match", [(0, "tab10", "n_clusters"), (3, "no-such-map", "cmap")])
def test_cluster_colors_errors(n_clusters, cmap, match):
    with pytest.raises(NanoSIMSError, match=match):
        cluster_colors(n_clusters, cmap)


# plot_channels ----------------------------------------------------------------------------------


def test_plot_channels_one_titled_image_and_colorbar_per_mass(image):
    fig = plot_channels(image, ncols=2)
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == list(MASSES)
    colorbars = [ax for ax in fig.axes if ax.get_ylabel() == "counts"]
    assert len(colorbars) == len(MASSES)
    hidden = [ax for ax in fig.axes if not ax.get_visible()]
    assert len(panels) + len(hidden) == 6 and len(hidden) == 1


def test_plot_channels_contrast_from_percentiles(image):
    fig = plot_channels(image, percentile=(5, 95))
    for index, ax in enumerate(ax for ax in fig.axes if ax.images):
        expected = np.percentile(image.counts[:, :, index], (5, 95))
        assert ax.images[0].get_clim() == pytest.approx(tuple(expected))


def test_plot_channels_constant_channel_gets_a_usable_scale():
    image = NanoSIMSImage(np.full((8, 8, 1), 3.0), ("12C",))
    vmin, vmax = plot_channels(image).axes[0].images[0].get_clim()
    assert vmax > vmin


def test_plot_channels_draws_into_a_given_figure(image):
    fig = plt.figure()
    assert plot_channels(image, fig=fig) is fig


@pytest.mark.parametrize(
    "argument, kwargs, match",
    [
        ("counts", {}, "NanoSIMSImage"),
        ("image", {"percentile": (99, 1)}, "percentile"),
        ("image", {"percentile": 5}, "percentile"),
        ("image", {"ncols": 0}, "ncols"),
    ],
)
def test_plot_channels_errors(image, argument, kwargs, match):
    target = image if argument == "image" else image.counts
    with pytest.raises(NanoSIMSError, match=match):
        plot_channels(target, **kwargs)


# plot_overview ----------------------------------------------------------------------------------


def rendered(fig):
    """The figure as drawn, RGB 0-1, at the dpi it is saved at by the command line."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3] / 255.0


def test_overview_shows_every_mass_with_its_contrast_range(image):
    fig = plot_overview(image, np.zeros(SHAPE, int), percentile=(5, 95), ncols=2)
    ax = fig.axes[0]
    texts = [text.get_text() for text in ax.texts]
    lows = [float(text[2:]) for text in texts if text.startswith("≤ ")]
    highs = [float(text[2:]) for text in texts if text.startswith("≥ ")]
    assert [text for text in texts if text in MASSES] == list(MASSES)
    for index in range(len(MASSES)):
        low, high = np.percentile(image.counts[:, :, index], (5, 95))
        channel = next(shown for shown in ax.images if shown.get_array().shape == SHAPE
                       and np.array_equal(shown.get_array(), image.counts[:, :, index]))
        assert channel.get_clim() == pytest.approx((low, high))
        assert (lows[index], highs[index]) == pytest.approx((low, high), rel=5e-3)  # 3 significant digits
    assert "percentiles 5 to 95" in texts[1] and "4 µm wide" in texts[1]


def test_overview_title_and_legend_of_a_study_model(image, labels):
    fig = plot_overview(image, labels, title="soil.tif: kmeans, k = 4", n_clusters=4)
    ax = fig.axes[0]
    assert ax.texts[0].get_text() == "soil.tif: kmeans, k = 4"
    assert "4 clusters" in [text.get_text() for text in ax.texts]
    assert legend_texts(ax) == ["cluster 0 (48.8 %)", "cluster 1 (50.0 %)", "cluster 2 (1.2 %)", "cluster 3 (0.0 %)"]
    np.testing.assert_allclose(legend_colors(ax), cluster_colors(4))


def test_overview_draws_the_map_in_cluster_colours_where_the_clusters_are(image, labels):
    fig = plot_overview(image, labels)
    pixels = rendered(fig)
    map_image = next(shown for shown in fig.axes[0].images if np.array_equal(shown.get_array(), labels))
    left, right, bottom, top = map_image.get_extent()
    height = pixels.shape[0]
    row = round((top + bottom) / 2)  # data y runs down from the top of the figure, as rows do

    def colour_at(fraction):
        return pixels[min(row, height - 1), round(left + fraction * (right - left))]

    colors = cluster_colors(3)[:, :3]
    np.testing.assert_allclose(colour_at(0.25), colors[0], atol=0.01)
    np.testing.assert_allclose(colour_at(0.75), colors[1], atol=0.01)
    # the small cluster 2 sits in the first rows of the labels: at the top of the drawn map
    first_row = round(min(top, bottom) + 0.05 * abs(bottom - top))
    np.testing.assert_allclose(pixels[first_row, round(left + 0.05 * (right - left))], colors[2], atol=0.01)


def test_overview_keeps_the_aspect_of_the_image(image, labels):
    fig = plot_overview(image, labels)
    for shown in fig.axes[0].images:
        if shown.get_array().shape == SHAPE:
            left, right, bottom, top = shown.get_extent()
            assert (bottom - top) / (right - left) == pytest.approx(SHAPE[0] / SHAPE[1], abs=0.01)
    assert max(right - left, bottom - top) == 512  # the map is the last image drawn


def test_overview_draws_the_confidence_map_below_the_clusters_on_a_fixed_scale(image, labels):
    confidence = np.ones(SHAPE)
    confidence[: SHAPE[0] // 2] = 0.3
    without, fig = plot_overview(image, labels), plot_overview(image, labels, confidence=confidence)
    ax = fig.axes[0]
    drawn = next(shown for shown in ax.images if np.array_equal(shown.get_array(), confidence))
    map_image = next(shown for shown in ax.images if np.array_equal(shown.get_array(), labels))
    assert drawn.get_clim() == (0.5, 1.0) and drawn.get_cmap().name == "magma"
    assert min(drawn.get_extent()[2:]) > max(map_image.get_extent()[2:]), "below the cluster map"
    texts = [text.get_text() for text in ax.texts]
    assert "confidence" in texts and "probability of its cluster" in texts and "≤ 0.5" in texts and "≥ 1" in texts
    assert fig.get_figheight() > without.get_figheight()
    pixels = rendered(fig)
    left, right, bottom, top = drawn.get_extent()
    magma = matplotlib.colormaps["magma"]
    # the upper half is below 0.5 (the dark end), the lower half sure (the bright end)
    np.testing.assert_allclose(pixels[round(top + 2), round((left + right) / 2)], magma(0.0)[:3], atol=0.02)
    np.testing.assert_allclose(pixels[round(bottom - 2), round((left + right) / 2)], magma(1.0)[:3], atol=0.02)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"confidence": np.ones((3, 3))}, "confidence"),
        ({"confidence": np.full(SHAPE, np.nan)}, "confidence"),
        ({"labels": np.zeros((3, 3), int)}, "labels"),
        ({"n_clusters": 2}, "0 .. 1"),
        ({"percentile": (99, 1)}, "percentile"),
        ({"ncols": 0}, "ncols"),
        ({"image": np.ones((4, 4, 2))}, "NanoSIMSImage"),
    ],
)
def test_overview_errors(image, labels, change, match):
    arguments = {"image": image, "labels": labels, **change}
    with pytest.raises(NanoSIMSError, match=match):
        plot_overview(arguments.pop("image"), arguments.pop("labels"), **arguments)


# plot_cluster_map -------------------------------------------------------------------------------


def test_cluster_map_discrete_colours_and_legend(labels):
    ax = plot_cluster_map(labels)
    assert len(ax.figure.axes) == 1, "a label map needs a legend, not a continuous colour bar"
    shown = ax.images[0]
    np.testing.assert_allclose(shown.cmap.colors, cluster_colors(3))
    rgba = shown.to_rgba(shown.get_array())
    np.testing.assert_allclose(rgba[0, 0], cluster_colors(3)[2])
    np.testing.assert_allclose(rgba[-1, -1], cluster_colors(3)[1])
    assert legend_texts(ax) == ["cluster 0 (48.8 %)", "cluster 1 (50.0 %)", "cluster 2 (1.2 %)"]
    np.testing.assert_allclose(legend_colors(ax), cluster_colors(3))


def test_cluster_map_names_and_given_axes(labels):
    fig, ax = plt.subplots()
    assert plot_cluster_map(labels, names=["soil", "resin", "hotspot"], ax=ax) is ax
    assert legend_texts(ax)[2] == "2: hotspot (1.2 %)"


def test_cluster_map_of_true_phases_with_an_absent_phase(labels):
    truth = np.where(labels == 2, 4, labels)  # phases 2 and 3 absent, as in a map of true phases
    phases = ["pore", "organic", "clay", "iron oxide", "hotspot"]
    ax = plot_cluster_map(truth, names=phases)
    assert legend_texts(ax)[2:] == ["2: clay (0.0 %)", "3: iron oxide (0.0 %)", "4: hotspot (1.2 %)"]
    np.testing.assert_allclose(ax.images[0].cmap.colors, cluster_colors(5))
    assert len(plot_cluster_map(truth).get_legend().get_texts()) == 5


@pytest.mark.parametrize(
    "kwargs, match",
    [({"labels": np.zeros(10, int)}, r"\(y, x\) label map"), ({"names": ["a", "b"]}, "2 name")],
)
def test_cluster_map_errors(labels, kwargs, match):
    kwargs = {"labels": labels, **kwargs}
    with pytest.raises(NanoSIMSError, match=match):
        plot_cluster_map(kwargs.pop("labels"), **kwargs)


# plot_cluster_profiles --------------------------------------------------------------------------


def test_profiles_show_the_median_per_mass_in_map_colours(values, labels):
    ax = plot_cluster_profiles(values, labels, MASSES)
    lines = [line for line in ax.lines if line.get_linestyle() == "-"]
    assert len(lines) == 3
    for cluster, line in enumerate(lines):
        np.testing.assert_allclose(line.get_ydata(), np.median(values[labels == cluster], axis=0))
        assert to_rgba(line.get_color()) == pytest.approx(tuple(cluster_colors(3)[cluster]))
    map_colors = plot_cluster_map(labels).images[0].cmap.colors
    np.testing.assert_allclose(legend_colors(ax), map_colors)
    assert [label.get_text() for label in ax.get_xticklabels()] == list(MASSES)


def test_profiles_with_standard_deviation(values, labels):
    ax = plot_cluster_profiles(values, labels, MASSES, spread="std")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), values[labels == 0].mean(axis=0))
    assert "standard deviation" in ax.get_title()


def test_profiles_errors(values, labels):
    with pytest.raises(NanoSIMSError, match="spread"):
        plot_cluster_profiles(values, labels, MASSES, spread="range")
    with pytest.raises(NanoSIMSError, match="masses"):
        plot_cluster_profiles(values, labels, MASSES[:2])


# plot_parallel_coordinates ----------------------------------------------------------------------


def sampled_lines(ax):
    (collection,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    return collection


def test_parallel_coordinates_draws_n_samples_lines_in_cluster_colours(values, labels):
    ax = plot_parallel_coordinates(values, labels, MASSES, n_samples=200)
    lines = sampled_lines(ax)
    segments = lines.get_segments()
    assert len(segments) == 200
    # the first feature of a pixel is its cluster number (plus noise): the line colour must agree
    clusters = np.rint([segment[0, 1] for segment in segments]).astype(int)
    np.testing.assert_allclose(lines.get_colors()[:, :3], cluster_colors(3)[clusters][:, :3])
    assert len(legend_texts(ax)) == 3
    assert len(ax.lines) == 3  # the bold cluster means


def test_parallel_coordinates_small_cluster_shows(values, labels):
    segments = sampled_lines(plot_parallel_coordinates(values, labels, MASSES, n_samples=300)).get_segments()
    small = sum(np.rint(segment[0, 1]) == 2 for segment in segments)
    assert small == 16  # all 16 pixels, where a plain random sample would expect 300 * 16 / 1280 = 3.75


def test_parallel_coordinates_sample_is_reproducible(values, labels):
    first = sampled_lines(plot_parallel_coordinates(values, labels, MASSES, random_state=3)).get_segments()
    second = sampled_lines(plot_parallel_coordinates(values, labels, MASSES, random_state=3)).get_segments()
    other = sampled_lines(plot_parallel_coordinates(values, labels, MASSES, random_state=4)).get_segments()
    np.testing.assert_array_equal(np.array(first), np.array(second))
    assert not np.array_equal(np.array(first), np.array(other))


def test_parallel_coordinates_all_pixels_when_fewer_than_n_samples(values, labels):
    segments = sampled_lines(plot_parallel_coordinates(values, labels, MASSES, n_samples=5000)).get_segments()
    assert len(segments) == labels.size


def test_parallel_coordinates_errors(values, labels):
    with pytest.raises(NanoSIMSError, match="n_samples"):
        plot_parallel_coordinates(values, labels, MASSES, n_samples=0)
    with pytest.raises(NanoSIMSError, match="labels"):
        plot_parallel_coordinates(values, labels[:, :10], MASSES)


# plot_pca_scatter -------------------------------------------------------------------------------


@pytest.fixture
def components(labels):
    rng = np.random.default_rng(2)
    centers = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    points = centers[labels.ravel()] + rng.normal(0.0, 1.0, size=(labels.size, 2))
    points[0] = [0.0, 60.0]  # one far outlier, in the small cluster 2
    return points, np.array([points[labels.ravel() == c].mean(axis=0) for c in range(3)])


def test_pca_scatter_circles_at_95th_percentile_distance(components, labels):
    points, centers = components
    ax = plot_pca_scatter(points, labels, centers, n_samples=500)
    circles = [patch for patch in ax.patches if isinstance(patch, Circle)]
    assert len(circles) == 3
    flat = labels.ravel()
    for cluster, circle in enumerate(circles):
        distances = np.linalg.norm(points[flat == cluster] - centers[cluster], axis=1)
        assert circle.radius == pytest.approx(np.percentile(distances, 95))
        assert tuple(circle.center) == pytest.approx(tuple(centers[cluster]))
        assert circle.get_edgecolor() == pytest.approx(tuple(cluster_colors(3)[cluster]))
    outlier_cluster = np.linalg.norm(points[flat == 2] - centers[2], axis=1)
    assert circles[2].radius < outlier_cluster.max() / 2, "one outlier must not decide the circle"
    points_drawn = ax.collections[0]
    assert len(points_drawn.get_offsets()) == 500
    assert len(legend_texts(ax)) == 3


def test_pca_scatter_uses_the_first_two_of_more_components(components, labels):
    points, centers = components
    extra = np.column_stack([points, np.full(len(points), 100.0)])
    centers3 = np.column_stack([centers, np.zeros(3)])
    circles = plot_pca_scatter(extra.reshape(*SHAPE, 3), labels, centers3).patches
    expected = plot_pca_scatter(points, labels, centers).patches
    assert [c.radius for c in circles] == pytest.approx([c.radius for c in expected])


@pytest.mark.parametrize(
    "change, match",
    [
        ({"centers": np.zeros((2, 2))}, "centers"),
        ({"points": np.zeros((N_PIXELS, 1)), "centers": np.zeros((3, 1))}, "at least 2 components"),
        ({"radius_percentile": 0}, "radius_percentile"),
    ],
)
def test_pca_scatter_errors(components, labels, change, match):
    points, centers = components
    change = dict(change)
    points, centers = change.pop("points", points), change.pop("centers", centers)
    with pytest.raises(NanoSIMSError, match=match):
        plot_pca_scatter(points, labels, centers, **change)


# plot_sweep -------------------------------------------------------------------------------------


@pytest.fixture
def sweep_table():
    ks = np.arange(2, 12)
    return pd.DataFrame({"k": ks, "entropy": 4.0 / ks, "inertia": 100.0 / ks**2})


def test_sweep_curve_and_knee_marker(sweep_table):
    ax = plot_sweep(sweep_table, knee=5)
    curve, marker = ax.lines[0], ax.lines[-1]
    np.testing.assert_allclose(curve.get_xdata(), sweep_table["k"])
    np.testing.assert_allclose(curve.get_ydata(), sweep_table["entropy"])
    assert list(marker.get_xdata()) == [5] and list(marker.get_ydata()) == pytest.approx([0.8])
    assert any("k = 5" in text.get_text() for text in ax.texts)
    assert ax.get_ylabel() == "entropy"


def test_sweep_without_knee_draws_only_the_curve(sweep_table):
    ax = plot_sweep(sweep_table, column="inertia")
    assert len(ax.lines) == 1 and not ax.texts
    np.testing.assert_allclose(ax.lines[0].get_ydata(), sweep_table["inertia"])


@pytest.mark.parametrize(
    "kwargs, match", [({"column": "silhouette"}, "silhouette"), ({"knee": 40}, "knee=40")]
)
def test_sweep_errors(sweep_table, kwargs, match):
    with pytest.raises(NanoSIMSError, match=match):
        plot_sweep(sweep_table, **kwargs)


# plot_comparison --------------------------------------------------------------------------------


class Result:
    """Stands in for a ClusterResult: anything with a ``labels`` attribute."""

    def __init__(self, labels):
        self.labels = labels


def test_comparison_titles_and_one_map_per_entry(labels):
    maps = {"k-means": labels, "PCA + k-means": Result(labels.T[:, :32]), "other": labels}
    fig = plot_comparison(maps, ncols=2)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == ["k-means", "PCA + k-means", "other"]
    assert all(len(ax.images) == 1 for ax in shown)
    assert len(fig.axes) == 4 and not fig.axes[3].get_visible()


def test_comparison_errors():
    with pytest.raises(NanoSIMSError, match="non-empty dict"):
        plot_comparison({})


# rendering and style ----------------------------------------------------------------------------


def test_every_plot_renders_to_png(tmp_path, image, values, labels, components, sweep_table):
    figures = {
        "channels": plot_channels(image),
        "map": plot_cluster_map(labels).figure,
        "profiles": plot_cluster_profiles(values, labels, MASSES).figure,
        "parallel": plot_parallel_coordinates(values, labels, MASSES).figure,
        "pca": plot_pca_scatter(components[0], labels, components[1]).figure,
        "sweep": plot_sweep(sweep_table, knee=4).figure,
        "comparison": plot_comparison({"a": labels, "b": labels}),
        "overview": plot_overview(image, labels),
    }
    for name, fig in figures.items():
        path = tmp_path / f"{name}.png"
        fig.savefig(path, dpi=40)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_first_savefig_does_not_clip_an_outside_legend(tmp_path):
    square = np.repeat(np.arange(40) // 14, 40).reshape(40, 40)  # one layout pass clips a square map's legend
    ax = plot_cluster_map(square, names=["organic matter", "aluminosilicate", "labelled hotspot"])
    ax.figure.savefig(tmp_path / "map.png")
    box = ax.get_legend().get_window_extent(ax.figure.canvas.get_renderer())
    assert box.x1 <= ax.figure.bbox.x1


def test_projector_fonts_do_not_leak_into_user_settings(labels):
    before = matplotlib.rcParams["font.size"]
    ax = plot_cluster_map(labels)
    assert ax.title.get_fontsize() >= 14
    assert matplotlib.rcParams["font.size"] == before


def test_settings_changed_while_drawing_are_kept(monkeypatch):
    """Jupyter's inline backend turns `interactive` on with the first figure; it must stay on."""
    from nanosims_helpers.plot import style as _plot_common

    monkeypatch.setitem(matplotlib.rcParams, "interactive", False)

    @_plot_common._projector_readable
    def draw_first_figure(ax=None):
        matplotlib.rcParams["interactive"] = True
        return plt.subplots()[1]

    draw_first_figure()
    assert matplotlib.rcParams["interactive"] is True


def test_comparison_matched_to_the_truth_gives_each_phase_one_colour(labels):
    swapped = np.array([2, 0, 1])[labels]  # the same grouping under other numbers
    extra = swapped.copy()
    extra[20:, :6] = 7  # a fourth cluster inside phase 0, smaller than what is left of it
    fig = plot_comparison({"swapped": swapped, "extra": extra, "truth": labels}, match_to="truth")
    shown = [ax.get_images()[0] for ax in fig.axes[:3]]
    np.testing.assert_array_equal(shown[0].get_array(), labels)
    expected = labels.copy()
    expected[20:, :6] = 3  # unmatched: the first number after the truth's
    np.testing.assert_array_equal(shown[1].get_array(), expected)
    # the same number has the same colour in every panel
    colours = [image.cmap(image.norm(np.arange(4))) for image in shown]
    np.testing.assert_allclose(colours[0], colours[1])
    np.testing.assert_allclose(colours[1], colours[2])
    with pytest.raises(NanoSIMSError, match="match_to='truth'"):
        plot_comparison({"swapped": swapped}, match_to="truth")

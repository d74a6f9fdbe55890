"""The explorer's callbacks and widgets, without a browser (tests/test_browser.py drives a real one)."""

import numpy as np
import pytest

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.explorer import ChannelViewer, ClusterExplorer, ComparisonPanel, explorer
from nanosims_helpers.explorer.state import ExplorerState, Settings
from nanosims_helpers.explorer.views import channel_view, cluster_view, comparison_view
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.pipeline import cluster_image
from nanosims_helpers.teaching.synthetic import simulate_soil_image

#: Today's pixel-by-pixel pipeline, for the tests of what the explorer caches for it.
KMEANS = {"method": "kmeans", "preprocessing": "asinh"}


@pytest.fixture(scope="module")
def soil():
    return simulate_soil_image((48, 48), random_state=1)


@pytest.fixture
def state(soil):
    image, truth = soil
    return ExplorerState(image, truth=truth)


def two_phase_image():
    """Left half one phase, right half another; the truth is known by construction."""
    rng = np.random.default_rng(0)
    counts = rng.poisson([5.0, 40.0, 10.0], size=(16, 16, 3)).astype(float)
    counts[:, 8:] = rng.poisson([40.0, 5.0, 10.0], size=(16, 8, 3))
    truth = np.zeros((16, 16), dtype=int)
    truth[:, 8:] = 1
    return NanoSIMSImage(counts, ("12C", "16O", "28Si")), truth


def test_changing_k_changes_the_map_and_the_scores(state):
    three, four = (cluster_view(state, Settings(n_clusters=k)) for k in (3, 4))
    assert three.message == four.message == ""
    assert three.map_png != four.map_png
    assert "k = 3" in three.legend and "cluster 3" in four.legend and "cluster 3" not in three.legend
    assert not np.allclose(three.scores["value"], four.scores["value"])


@pytest.mark.parametrize("settings, pipeline", [
    (Settings(n_clusters=4), {}),
    (Settings(n_clusters=3, masses=("12C", "16O", "27Al16O")), {"masses": ("12C", "16O", "27Al16O")}),
    (Settings(n_clusters=4, **KMEANS), {"method": "kmeans"}),
    (Settings(n_clusters=4, **KMEANS, pca=True, n_components=3), {"method": "pca-kmeans", "n_components": 3}),
    (Settings(n_clusters=3, method="hierarchical", preprocessing="max", masses=("12C", "16O", "27Al16O")),
     {"method": "hierarchical", "preprocessing": "max", "masses": ("12C", "16O", "27Al16O")}),
])
def test_the_explorer_shows_what_cluster_image_computes(soil, state, settings, pipeline):
    expected = cluster_image(soil[0], settings.n_clusters, **pipeline).labels
    np.testing.assert_array_equal(state.labels(settings), expected)


def test_a_new_k_reuses_the_preprocessing(state):
    for k in (2, 3, 4):
        state.labels(Settings(n_clusters=k, **KMEANS))
        state.scores(Settings(n_clusters=k, **KMEANS))
    assert state.computed["preprocess"] == 1
    assert state.preprocessed.cache_info().misses == 1
    assert state.computed["cluster"] == state.computed["scores"] == 3


def test_going_back_to_an_earlier_k_computes_nothing(state):
    for k in (3, 4, 3):
        cluster_view(state, Settings(n_clusters=k))
    assert state.computed["cluster"] == 2


def test_a_new_k_only_recuts_the_ward_tree(state):
    for k in (2, 3, 5):
        state.labels(Settings(n_clusters=k, method="hierarchical"))
    assert state.computed["tree"] == 1
    assert state.computed["cluster"] == 3


def test_cached_arrays_cannot_be_changed_by_a_caller(state):
    labels = state.labels(Settings(n_clusters=3))
    with pytest.raises(ValueError, match="read-only"):
        labels[0, 0] = 99
    assert state.labels(Settings(n_clusters=3)) is labels


def test_pca_is_cached_per_number_of_components(state):
    for k, n_components in ((2, 2), (3, 2), (3, 3)):
        state.labels(Settings(n_clusters=k, **KMEANS, pca=True, n_components=n_components))
    assert state.computed["pca"] == 2
    assert state.computed["preprocess"] == 1


def test_scores_include_agreement_with_the_reference():
    image, truth = two_phase_image()
    scores = ExplorerState(image, truth=truth).scores(Settings(n_clusters=2))
    assert scores["adjusted_rand"] == pytest.approx(1.0)
    assert scores["silhouette"] > 0.5


@pytest.mark.parametrize("settings, words", [
    (Settings(masses=()), "no mass selected"),
    (Settings(masses=("12C",), pca=True, **KMEANS), "at least 2 selected masses"),
    (Settings(masses=("12C", "16O"), pca=True, n_components=3, **KMEANS), "n_components=3"),
    (Settings(pca=True), "PCA applies to kmeans, not to 'spatial'"),
    (Settings(method="hierarchical", pca=True), "PCA applies to kmeans, not to 'hierarchical'"),
    (Settings(masses=("14N",)), "no mass '14N'"),
    (Settings(preprocessing="log"), "preprocessing='log'"),
    (Settings(method="dbscan"), "method='dbscan'"),
])
def test_invalid_settings_give_a_message_not_a_traceback(state, settings, words):
    view = cluster_view(state, settings)
    assert words in view.message
    assert view.map_png == view.profiles_png == b"" and view.scores is None
    with pytest.raises(NanoSIMSError, match=words.split("=")[0]):
        state.labels(settings)


def test_more_clusters_than_distinct_pixels_gives_a_message():
    counts = np.zeros((6, 6, 2))
    counts[:, 3:] = [10.0, 1.0]
    view = cluster_view(ExplorerState(NanoSIMSImage(counts, ("12C", "16O"))), Settings(n_clusters=3, **KMEANS))
    assert "2 distinct" in view.message and view.map_png == b""


def test_a_constant_channel_is_noted_but_the_clustering_is_shown():
    image, _ = two_phase_image()
    counts = image.counts.copy()
    counts[..., 2] = 7.0
    view = cluster_view(ExplorerState(NanoSIMSImage(counts, image.masses)), Settings(n_clusters=2))
    assert "28Si" in view.message and view.map_png


def test_state_rejects_what_is_not_an_image_or_a_mismatched_reference(soil):
    with pytest.raises(NanoSIMSError, match="NanoSIMSImage"):
        ExplorerState(soil[0].counts)
    with pytest.raises(NanoSIMSError, match="truth"):
        ExplorerState(soil[0], truth=np.zeros((4, 4), dtype=int))


def test_channel_view_shows_channels_and_ratios(soil):
    image = soil[0]
    channel = channel_view(image, "12C15N")
    ratio = channel_view(image, "12C15N", ratio_to="12C14N")
    assert channel.png.startswith(b"\x89PNG") and ratio.png.startswith(b"\x89PNG")
    assert channel.png != ratio.png
    assert channel_view(image, "12C15N", percentile=(0, 100)).png != channel.png


@pytest.mark.parametrize("kwargs, words", [
    ({"percentile": (90, 10)}, "lower < upper"),
    ({"cmap": "no-such-map"}, "no-such-map"),
    ({"ratio_to": "14N"}, "14N"),
])
def test_channel_view_explains_bad_choices(soil, kwargs, words):
    view = channel_view(soil[0], "12C", **kwargs)
    assert words in view.message and view.png == b""


def test_comparison_of_a_setting_with_itself_agrees_fully(state):
    assert comparison_view(state, Settings(), Settings()).adjusted_rand == pytest.approx(1.0)
    different = comparison_view(state, Settings(n_clusters=2), Settings(n_clusters=6))
    assert different.adjusted_rand < 0.9 and different.left_png != different.right_png


def test_comparison_names_the_side_with_bad_settings(state):
    view = comparison_view(state, Settings(), Settings(masses=()))
    assert view.message.startswith("right:") and view.adjusted_rand is None


def test_moving_the_k_slider_updates_the_widgets(state):
    panel = ClusterExplorer(state)
    before_map, before_scores = panel.map.value, panel.scores.value
    panel.controls.k.value = 6
    assert panel.map.value != before_map and panel.scores.value != before_scores
    assert "k = 6" in panel.legend.value


def test_deselecting_every_mass_shows_a_message_and_hides_the_map(state):
    panel = ClusterExplorer(state)
    panel.controls.masses.value = ()
    assert "no mass selected" in panel.message.value
    assert panel.map.layout.display == "none"
    panel.controls.masses.value = ("12C", "16O")
    assert panel.message.value == "" and panel.map.layout.display is None


def test_pca_checkbox_enables_the_components_slider(state):
    panel = ClusterExplorer(state, Settings(**KMEANS))
    assert panel.controls.n_components.disabled
    panel.controls.pca.value = True
    assert not panel.controls.n_components.disabled and "PCA 2" in panel.legend.value


def test_channel_viewer_and_comparison_panel_follow_their_controls(soil, state):
    viewer = ChannelViewer(soil[0])
    before = viewer.picture.value
    viewer.ratio_to.value = "12C"
    assert viewer.picture.value != before
    panel = ComparisonPanel(state)
    before = panel.agreement.value
    panel.sides[1].controls.k.value = 7
    assert "adjusted Rand index" in panel.agreement.value and panel.agreement.value != before


def test_explorer_has_three_tabs(soil):
    tabs = explorer(soil[0], truth=soil[1])
    assert tabs.titles == ("Clusters", "Channels", "Compare")
    assert len(tabs.children) == 3


def test_names_and_merges_carry_into_the_legend_profiles_and_isotope_table():
    image, truth = simulate_soil_image((48, 48), n_hotspots=3, random_state=4)
    state = ExplorerState(image)
    plain = cluster_view(state, Settings(n_clusters=4))
    assert plain.names == ("cluster 0", "cluster 1", "cluster 2", "cluster 3")
    untested = " atom % (clustered on these counts: no test)"  # every mass clustered: no valid test
    assert list(plain.isotopes.columns) == ["name", f"13C/12C{untested}", f"15N/14N{untested}"]
    named = cluster_view(state, Settings(n_clusters=4), names=["resin", "OM", "clay"], merges=[(1, 3)])
    assert named.names == ("resin", "OM", "clay") and named.message == ""
    assert "1: OM" in named.legend and "cluster 3" not in named.legend
    assert "give 3 names" in cluster_view(state, Settings(n_clusters=4), names=["a", "b"], merges=[(1, 3)]).message
    assert named.isotopes["name"].tolist() == ["resin", "OM", "clay"]
    merged = state.labels(Settings(n_clusters=4)).copy()
    merged[merged == 3] = 1
    assert "1: OM (" + f"{100 * (merged == 1).mean():.1f}" in named.legend


def test_cluster_explorer_text_boxes_name_and_merge_button_merges(state):
    panel = ClusterExplorer(state, Settings(n_clusters=4))
    assert len(panel.name_boxes.children) == 4
    panel.name_boxes.children[2].value = "organic matter"
    assert "2: organic matter" in panel.legend.value
    panel.merge_pair[0].value, panel.merge_pair[1].value = 2, 0
    panel.merge_button.click()
    assert len(panel.name_boxes.children) == 3
    assert panel.name_boxes.children[0].value == "cluster 0 + organic matter"
    assert "0: cluster 0 + organic matter" in panel.legend.value
    panel.controls.k.value = 5  # a new clustering starts with fresh names
    assert [box.value for box in panel.name_boxes.children] == [f"cluster {i}" for i in range(5)]

"""Interactive explorer of one NanoSIMS image: sliders and lists instead of code.

:func:`explorer` returns a widget with three tabs:

* **Clusters**: choose the preprocessing, the masses, PCA, the method and k; see the cluster
  map, the cluster profiles and the scores. Changing k reuses the preprocessing, the PCA and
  the Ward tree (see :mod:`nanosims_helpers.explorer.state`), so the map follows the slider.
  Name each cluster in its text box and merge two clusters; the names show in the legend, the
  profiles and the atom % table (for images with 13C and 12C, or 12C15N and 12C14N).
* **Channels**: one mass (or the ratio of two) with a colormap and a contrast by percentiles.
* **Compare**: two settings side by side and their adjusted Rand index.

The widgets only read their controls and call the plain functions of
:mod:`nanosims_helpers.explorer.views`; they run in JupyterLab and as a Voila app
(``voila notebooks/10_explorer.ipynb``).
"""

from __future__ import annotations

import ipywidgets as widgets

from .._lazy import renamed
from ..image import NanoSIMSImage
from ..naming import merge_clusters
from ..preprocessing import PREPROCESSING
from .state import ExplorerState, Settings, explorer_methods
from .views import channel_view, cluster_view, comparison_view

__all__ = ["ChannelViewer", "ClusterExplorer", "ComparisonPanel", "SettingsControls", "explorer"]

#: Largest k the slider offers.
MAX_CLUSTERS = 15

#: Colormaps offered by the channel viewer: perceptually uniform ones first.
COLORMAPS = ("viridis", "magma", "cividis", "inferno", "gray", "turbo")

def _sized() -> dict:
    """Keyword arguments of every control: same description width and overall width."""
    return {"style": {"description_width": "95px"}, "layout": widgets.Layout(width="310px")}


def _column_layout() -> widgets.Layout:
    """A column of controls that keeps its width when the results beside it are wide."""
    return widgets.Layout(width="330px", min_width="330px", flex="0 0 auto")


def _style() -> widgets.HTML:
    """Page style of the explorer: cluster maps drawn with sharp pixels, messages in red."""
    return widgets.HTML(
        "<style>img.nanosims-map { image-rendering: pixelated; } .nanosims-message { color: #a40000; }</style>"
    )


def _show(image_widget: widgets.Image, png: bytes) -> None:
    """Show ``png`` in ``image_widget``, or hide the widget when there is nothing to show."""
    if png:
        image_widget.value = png
    image_widget.layout.display = None if png else "none"


def _message(text: str) -> str:
    return f'<div class="nanosims-message">{text}</div>' if text else ""


class SettingsControls:
    """The controls of one clustering setting; :meth:`settings` reads them.

    Parameters
    ----------
    image : NanoSIMSImage
        Its masses fill the mass list.
    settings : Settings
        Initial values. Without ``masses``, every ion mass is selected; non-ion channels (``SE``
        and the others of :data:`~nanosims_helpers.image.NON_ION_CHANNELS`) are listed, not
        selected.

    Examples
    --------
    >>> import numpy as np
    >>> image = NanoSIMSImage(np.ones((2, 2, 3)), ("12C", "16O", "SE"))
    >>> controls = SettingsControls(image, Settings(n_clusters=3))
    >>> controls.settings().n_clusters, controls.settings().masses
    (3, ('12C', '16O'))
    """

    def __init__(self, image: NanoSIMSImage, settings: Settings = Settings()):
        # by default every ion mass is selected; SE and the like are listed but not selected
        masses = image.ion_masses if settings.masses is None else settings.masses
        self.preprocessing = widgets.Dropdown(
            options=list(PREPROCESSING), value=settings.preprocessing, description="preprocessing", **_sized()
        )
        self.masses = widgets.SelectMultiple(
            options=list(image.masses), value=list(masses), rows=min(len(image.masses), 7),
            description="masses", **_sized(),
        )
        self.pca = widgets.Checkbox(value=settings.pca, description="PCA first", **_sized())
        self.n_components = widgets.IntSlider(
            value=settings.n_components, min=1, max=max(len(image.masses), 2), description="components",
            disabled=not settings.pca, continuous_update=False, **_sized(),
        )
        self.method = widgets.Dropdown(options=list(explorer_methods()), value=settings.method, description="method",
                                       **_sized())
        self.k = widgets.IntSlider(
            value=settings.n_clusters, min=2, max=MAX_CLUSTERS, description="k (clusters)",
            continuous_update=False, **_sized(),
        )
        self.k.add_class("nanosims-k")
        self.pca.observe(lambda change: setattr(self.n_components, "disabled", not change["new"]), names="value")
        self.box = widgets.VBox(
            [self.preprocessing, self.masses, self.pca, self.n_components, self.method, self.k],
            layout=_column_layout(),
        )

    def settings(self) -> Settings:
        """The setting the controls show now."""
        return Settings(self.k.value, self.method.value, self.preprocessing.value, tuple(self.masses.value),
                        self.pca.value, self.n_components.value)

    def observe(self, callback) -> None:
        """Call ``callback()`` whenever any control changes."""
        for control in (self.preprocessing, self.masses, self.pca, self.n_components, self.method, self.k):
            control.observe(lambda change: callback(), names="value")


class ClusterExplorer:
    """Controls on the left; cluster map, legend, profiles and scores on the right.

    Parameters
    ----------
    state : ExplorerState
        The image and its caches (shared with the other tabs of :func:`explorer`).
    settings : Settings
        Initial setting.

    Attributes
    ----------
    widget : ipywidgets.Widget
        What to display.
    view : ClusterView
        What is shown now.
    names : list of str
        The cluster names typed in (after the merges); reset, with the merges, when a setting changes.
    merges : list of (int, int)
        The merges made with the merge control, in order.
    """

    def __init__(self, state: ExplorerState, settings: Settings = Settings()):
        self.state = state
        self.controls = SettingsControls(state.image, settings)
        self.map = widgets.Image(format="png", layout=widgets.Layout(width="320px"))
        self.map.add_class("nanosims-map")
        self.legend = widgets.HTML()
        self.profiles = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.scores = widgets.HTML()
        self.scores.add_class("nanosims-scores")
        self.isotopes = widgets.HTML()
        self.message = widgets.HTML()
        self.name_boxes = widgets.VBox(layout=_column_layout())
        self.merge_pair = [widgets.Dropdown(description=label, **_sized()) for label in ("merge", "into")]
        self.merge_button = widgets.Button(description="merge these clusters", layout=widgets.Layout(width="310px"))
        self.merge_button.on_click(lambda button: self.merge(*(box.value for box in self.merge_pair)))
        naming = widgets.VBox([widgets.HTML("<b>cluster names</b>"), self.name_boxes, *self.merge_pair,
                               self.merge_button], layout=_column_layout())
        results = widgets.VBox([widgets.HBox([self.map, self.legend]), self.scores, self.isotopes, self.profiles])
        self.widget = widgets.HBox([widgets.VBox([self.controls.box, naming]),
                                    widgets.VBox([_style(), self.message, results])])
        self.view = None
        self.names, self.merges = [], []
        self.controls.observe(self.update)
        self.update()

    def update(self) -> None:
        """Recompute (from the caches where possible) and show the current setting; names and merges restart."""
        self.names, self.merges = [], []
        self.show()

    def merge(self, first: int, second: int) -> None:
        """Merge two clusters of the map shown; the merged one is named after both."""
        if first is None or second is None or first == second:
            self.message.value = _message("merge: choose two different clusters.")
            return
        k = len(self.view.names)
        self.names = merge_clusters(list(range(k)), [first, second], list(self.view.names))[1]
        self.merges.append((first, second))
        self.show()

    def show(self) -> None:
        """Show the current setting with the names and merges made so far."""
        self.message.value = "<i>computing ...</i>"
        self.view = cluster_view(self.state, self.controls.settings(), self.names or None, self.merges)
        _show(self.map, self.view.map_png)
        _show(self.profiles, self.view.profiles_png)
        self.legend.value = self.view.legend
        scores = self.view.scores
        self.scores.value = "" if scores is None else scores.to_html(border=0, index_names=False, justify="left")
        isotopes = self.view.isotopes
        self.isotopes.value = "" if isotopes is None else isotopes.to_html(border=0, index=False, justify="left")
        self.message.value = _message(self.view.message)
        self._name_controls(list(self.view.names))

    def _name_controls(self, names: list) -> None:
        """One text box per cluster shown, and the clusters in the merge lists."""
        options = [(f"{i}: {name}", i) for i, name in enumerate(names)]
        for box, default in zip(self.merge_pair, (0, 1)):
            box.options = options
            box.value = default if len(options) > default else None
        boxes = [widgets.Text(value=name, description=f"cluster {i}", continuous_update=False, **_sized())
                 for i, name in enumerate(names)]
        for box in boxes:
            box.observe(lambda change: self._rename(), names="value")
        self.name_boxes.children = boxes

    def _rename(self) -> None:
        self.names = [box.value for box in self.name_boxes.children]
        self.show()


class ChannelViewer:
    """One mass, or the ratio of two masses, with a colormap and a contrast slider.

    Parameters
    ----------
    image : NanoSIMSImage
        The image.

    Attributes
    ----------
    widget : ipywidgets.Widget
        What to display.
    """

    def __init__(self, image: NanoSIMSImage):
        self.image = image
        self.mass = widgets.Dropdown(options=list(image.masses), description="mass", **_sized())
        self.ratio_to = widgets.Dropdown(options=[("(no ratio)", None)] + [(m, m) for m in image.masses],
                                         description="divided by", **_sized())
        self.cmap = widgets.Dropdown(options=list(COLORMAPS), description="colormap", **_sized())
        self.contrast = widgets.FloatRangeSlider(
            value=(1.0, 99.0), min=0.0, max=100.0, step=0.5, description="contrast %",
            continuous_update=False, **_sized(),
        )
        self.picture = widgets.Image(format="png")
        self.message = widgets.HTML()
        controls = widgets.VBox([self.mass, self.ratio_to, self.cmap, self.contrast], layout=_column_layout())
        self.widget = widgets.HBox([controls, widgets.VBox([self.message, self.picture])])
        for control in (self.mass, self.ratio_to, self.cmap, self.contrast):
            control.observe(lambda change: self.update(), names="value")
        self.update()

    def update(self) -> None:
        """Draw the current channel or ratio."""
        view = channel_view(self.image, self.mass.value, cmap=self.cmap.value, percentile=self.contrast.value,
                            ratio_to=self.ratio_to.value)
        _show(self.picture, view.png)
        self.message.value = _message(view.message)


class ComparisonPanel:
    """Two settings side by side, with the adjusted Rand index of their cluster maps.

    Parameters
    ----------
    state : ExplorerState
        The image and its caches.
    left, right : Settings
        Initial settings; by default the kit's default method against the reference notebook's
        pipeline (``"max"`` scaling, KMeans).

    Attributes
    ----------
    widget : ipywidgets.Widget
        What to display.
    """

    def __init__(self, state: ExplorerState, left: Settings = Settings(),
                 right: Settings = Settings(method="kmeans", preprocessing="max")):
        self.state = state
        self.sides = [_ComparisonSide(state.image, settings) for settings in (left, right)]
        self.agreement = widgets.HTML()
        self.widget = widgets.VBox([_style(), self.agreement, widgets.HBox([side.box for side in self.sides])])
        for side in self.sides:
            side.controls.observe(self.update)
        self.update()

    def update(self) -> None:
        """Cluster both settings (from the caches where possible) and compare them."""
        self.agreement.value = "<i>computing ...</i>"
        left, right = self.sides
        view = comparison_view(self.state, left.controls.settings(), right.controls.settings())
        left.show(view.left_png, view.left_legend)
        right.show(view.right_png, view.right_legend)
        self.agreement.value = _message(view.message) or (
            f"<b>adjusted Rand index: {view.adjusted_rand:.3f}</b> "
            "(1 = the same clusters, about 0 = no more alike than chance)"
        )


class _ComparisonSide:
    """Controls, map and legend of one side of a :class:`ComparisonPanel`."""

    def __init__(self, image: NanoSIMSImage, settings: Settings):
        self.controls = SettingsControls(image, settings)
        self.map = widgets.Image(format="png", layout=widgets.Layout(width="300px"))
        self.map.add_class("nanosims-map")
        self.legend = widgets.HTML()
        self.box = widgets.VBox([self.controls.box, self.map, self.legend], layout=widgets.Layout(width="360px"))

    def show(self, png: bytes, legend: str) -> None:
        _show(self.map, png)
        self.legend.value = legend


@renamed(reference="truth")
def explorer(image: NanoSIMSImage, *, truth=None, random_state=0) -> widgets.Tab:
    """The explorer of one image: tabs Clusters, Channels and Compare.

    Parameters
    ----------
    image : NanoSIMSImage
        The image, e.g. ``load_sample("soil_256")[0]`` or ``load_image("file.im")``.
    truth : array_like of int, shape (y, x), optional
        A map to score every clustering against (the true phases of a sample image).
    random_state : int
        Seed of the clusterings and of the silhouette's sample.

    Returns
    -------
    ipywidgets.Tab
        Display it (last line of a cell).

    Raises
    ------
    NanoSIMSError
        If ``image`` is not a NanoSIMSImage or ``truth`` does not match it.

    Examples
    --------
    >>> import numpy as np
    >>> counts = np.zeros((4, 6, 2))
    >>> counts[:, 3:] = [30.0, 2.0]
    >>> counts[:, :3] = [1.0, 25.0]
    >>> explorer(NanoSIMSImage(counts, ("12C", "16O"))).titles
    ('Clusters', 'Channels', 'Compare')
    """
    state = ExplorerState(image, truth=truth, random_state=random_state)
    tabs = [ClusterExplorer(state), ChannelViewer(image), ComparisonPanel(state)]
    tab = widgets.Tab(children=[part.widget for part in tabs])
    tab.titles = ("Clusters", "Channels", "Compare")
    return tab

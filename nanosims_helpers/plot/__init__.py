"""Plots of NanoSIMS images and their clusterings, readable on a projector.

Every function draws with Matplotlib's object-oriented API and returns what it drew on: an
``Axes`` for single plots (pass ``ax=`` to draw into your own), a ``Figure`` for grids (pass
``fig=``). In a notebook, assign the result (``ax = plot_cluster_map(labels)``) or end the line
with ``;`` so the figure is shown once.

Cluster ``i`` has the same colour in every plot (``cluster_colors``): the map, the profiles, the
parallel coordinates and the PCA scatter can be read side by side. Fonts are enlarged for the back
of a teaching room (``PROJECTOR_STYLE``, applied while each function draws).

The plots live in modules named by what they draw; their names are importable from here too, and
each module loads (with Matplotlib) when one of its names is first used:
:mod:`~nanosims_helpers.plot.maps` (channels, cluster map, comparison of maps, an overview of both),
:mod:`~nanosims_helpers.plot.profiles` (cluster profiles, parallel coordinates, cluster
fractions per image),
:mod:`~nanosims_helpers.plot.scatter` (PCA scatter, score over k) and
:mod:`~nanosims_helpers.plot.ratios` (HSI ratio image, atom % per cluster) and
:mod:`~nanosims_helpers.plot.dendrogram` (the Ward tree).
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, ["dendrogram", "maps", "profiles", "ratios", "scatter", "style"], {
    **dict.fromkeys(["plot_channels", "plot_cluster_map", "plot_comparison", "plot_overview"], "maps"),
    **dict.fromkeys(["SPREADS", "plot_cluster_fractions", "plot_cluster_profiles", "plot_parallel_coordinates"],
                    "profiles"),
    **dict.fromkeys(["plot_atom_percent", "plot_ratio_hsi"], "ratios"),
    **dict.fromkeys(["plot_pca_scatter", "plot_sweep"], "scatter"),
    **dict.fromkeys(["PROJECTOR_STYLE", "cluster_colors"], "style"),
    "plot_dendrogram": "dendrogram",
})

"""Plots of NanoSIMS images and their clusterings, readable on a projector.

Every function draws with Matplotlib's object-oriented API and returns what it drew on: an
``Axes`` for single plots (pass ``ax=`` to draw into your own), a ``Figure`` for grids (pass
``fig=``). In a notebook, assign the result (``ax = plot_cluster_map(labels)``) or end the line
with ``;`` so the figure is shown once.

Cluster ``i`` has the same colour in every plot (``cluster_colors``): the map, the profiles, the
parallel coordinates and the PCA scatter can be read side by side. Fonts are enlarged for the back
of a teaching room (``PROJECTOR_STYLE``, applied while each function draws).

The plots live in four modules named by what they draw, all imported here:
:mod:`~nanosims_helpers.plot.maps` (channels, cluster map, comparison of maps, an overview of both),
:mod:`~nanosims_helpers.plot.profiles` (cluster profiles, parallel coordinates, cluster
fractions per image),
:mod:`~nanosims_helpers.plot.scatter` (PCA scatter, score over k) and
:mod:`~nanosims_helpers.plot.ratios` (HSI ratio image, atom % per cluster).
"""

from .maps import plot_channels, plot_cluster_map, plot_comparison, plot_overview
from .profiles import SPREADS, plot_cluster_fractions, plot_cluster_profiles, plot_parallel_coordinates
from .ratios import plot_atom_percent, plot_ratio_hsi
from .scatter import plot_pca_scatter, plot_sweep
from .style import PROJECTOR_STYLE, cluster_colors

__all__ = [
    "PROJECTOR_STYLE",
    "SPREADS",
    "cluster_colors",
    "plot_channels",
    "plot_cluster_fractions",
    "plot_cluster_map",
    "plot_cluster_profiles",
    "plot_comparison",
    "plot_overview",
    "plot_atom_percent",
    "plot_parallel_coordinates",
    "plot_pca_scatter",
    "plot_ratio_hsi",
    "plot_sweep",
]

"""The interactive explorer: cached state, plain views and the ipywidgets on top.

:mod:`~nanosims_helpers.explorer.state` computes (no widgets), :mod:`~nanosims_helpers.explorer.views`
draws, :mod:`~nanosims_helpers.explorer.widgets` puts the controls on top; the names below load
with ipywidgets when first used.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, ["state", "views", "widgets"], dict.fromkeys(
    ["ChannelViewer", "ClusterExplorer", "ComparisonPanel", "explorer"], "widgets"))

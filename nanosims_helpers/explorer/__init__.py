"""The interactive explorer: cached state, plain views and the ipywidgets on top."""

from .widgets import ChannelViewer, ClusterExplorer, ComparisonPanel, explorer

__all__ = ["ChannelViewer", "ClusterExplorer", "ComparisonPanel", "explorer"]

"""Helpers for clustering NanoSIMS ion images: loading, preprocessing, clustering, metrics, plots."""

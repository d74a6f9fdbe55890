"""Helpers for clustering NanoSIMS ion images: loading, preprocessing, clustering, metrics, plots.

The names most lessons need are importable from the package itself; the widgets live in
:mod:`nanosims_helpers.explorer` and the command line in :mod:`nanosims_helpers.cli`.
"""

from .challenge import challenge_image, results_table, score_submission
from .choosing_k import find_knee, sweep_k
from .clustering import ClusterResult, kmeans_map, limit_threads, pca_components, pca_kmeans_map
from .depth import depth_profile
from .errors import NanoSIMSError
from .hierarchical import (
    Regrouping,
    WardComparison,
    WardTree,
    compare_with_exact,
    cut_tree,
    exact_ward_labels,
    hierarchical_map,
    regroup_clusters,
    ward_tree,
)
from .io.image import NanoSIMSImage, normalize_mass_name
from .io.loading import load_image, save_image_tiff
from .io.real_data import cameca_files, cameca_folder
from .io.samples import list_samples, load_sample
from .isotopes import isotope_table
from .metrics import (
    adjusted_rand,
    calinski_harabasz,
    clustering_entropy,
    davies_bouldin,
    match_labels,
    matched_f1,
    score_table,
    silhouette,
)
from .naming import merge_clusters, name_clusters
from .pipeline import METHODS, cluster_features, cluster_image, reference_pipeline
from .plot import (
    cluster_colors,
    plot_atom_percent,
    plot_channels,
    plot_cluster_fractions,
    plot_cluster_map,
    plot_cluster_profiles,
    plot_comparison,
    plot_parallel_coordinates,
    plot_pca_scatter,
    plot_ratio_hsi,
    plot_sweep,
)
from .plot.dendrogram import plot_dendrogram
from .preprocessing import PREPROCESSING, RECOMMENDED_PREPROCESSING, preprocess, ratio_image
from .profiles import cluster_profiles, profile_matrix
from .regions import cluster_regions, region_table, threshold_regions
from .split_half import KChoice, recommend_k, split_counts, split_half_scores
from .study import StudyModel, apply_model, fit_study, load_model, save_model
from .synthetic import PHASES, SOIL_MASSES, simulate_soil_image
from .teaching.environment_check import check_environment

__all__ = [
    "adjusted_rand",
    "apply_model",
    "calinski_harabasz",
    "cameca_files",
    "cameca_folder",
    "challenge_image",
    "check_environment",
    "cluster_colors",
    "cluster_features",
    "cluster_image",
    "cluster_profiles",
    "cluster_regions",
    "clustering_entropy",
    "ClusterResult",
    "compare_with_exact",
    "cut_tree",
    "davies_bouldin",
    "depth_profile",
    "exact_ward_labels",
    "find_knee",
    "fit_study",
    "hierarchical_map",
    "isotope_table",
    "KChoice",
    "kmeans_map",
    "limit_threads",
    "list_samples",
    "load_image",
    "load_model",
    "load_sample",
    "match_labels",
    "matched_f1",
    "merge_clusters",
    "METHODS",
    "name_clusters",
    "NanoSIMSError",
    "NanoSIMSImage",
    "normalize_mass_name",
    "pca_components",
    "pca_kmeans_map",
    "PHASES",
    "plot_atom_percent",
    "plot_channels",
    "plot_cluster_fractions",
    "plot_cluster_map",
    "plot_cluster_profiles",
    "plot_comparison",
    "plot_dendrogram",
    "plot_parallel_coordinates",
    "plot_pca_scatter",
    "plot_ratio_hsi",
    "plot_sweep",
    "preprocess",
    "PREPROCESSING",
    "profile_matrix",
    "ratio_image",
    "recommend_k",
    "RECOMMENDED_PREPROCESSING",
    "reference_pipeline",
    "region_table",
    "regroup_clusters",
    "Regrouping",
    "results_table",
    "save_image_tiff",
    "save_model",
    "score_submission",
    "score_table",
    "silhouette",
    "simulate_soil_image",
    "SOIL_MASSES",
    "split_counts",
    "split_half_scores",
    "StudyModel",
    "sweep_k",
    "threshold_regions",
    "ward_tree",
    "WardComparison",
    "WardTree",
]

"""Clustering NanoSIMS ion images: loading, preprocessing, clustering, scores, isotope ratios, plots.

Import what you use from the module that defines it; nothing heavy loads before it is used::

    from nanosims_helpers.io.loading import load_image
    from nanosims_helpers.pipeline import cluster_image
    from nanosims_helpers.plot import plot_cluster_map

The floors of the package, lowest first (a module imports only from its own floor or lower):
the ground (:mod:`~nanosims_helpers.errors`, :mod:`~nanosims_helpers.validation`,
:mod:`~nanosims_helpers.image`, :mod:`~nanosims_helpers.defaults`,
:mod:`~nanosims_helpers.methods`); :mod:`~nanosims_helpers.io` (files in, image out, and back);
the science (preprocessing, clustering methods, :mod:`~nanosims_helpers.pipeline`, scores,
choosing k, isotopes, regions, the study model); :mod:`~nanosims_helpers.plot`;
:mod:`~nanosims_helpers.runs` (what writes a folder of results); the faces
(:mod:`~nanosims_helpers.cli`, :mod:`~nanosims_helpers.explorer`); and the course,
:mod:`~nanosims_helpers.teaching`, which the library never imports.

The names that earlier versions offered here (``from nanosims_helpers import cluster_image``)
still work in this release, with a :class:`DeprecationWarning` naming their module.
"""

from ._lazy import attach, install_moved_modules

install_moved_modules()

_SUBMODULES = [
    "batch", "choosing_k", "cli", "clustering", "count_split", "defaults", "depth", "errors", "explorer",
    "hierarchical", "image", "io", "isotopes", "methods", "metrics", "naming", "pipeline",
    "plot", "poisson_model", "preprocessing", "profiles", "regions", "runs", "spatial", "split_half", "study",
    "teaching", "validation", "version", "ward",
]

#: Names earlier versions offered at the top of the package -> the module to import them from now.
_OLD_NAMES = {
    **dict.fromkeys(["challenge_image", "results_table", "score_submission"], "teaching.challenge"),
    **dict.fromkeys(["find_knee", "sweep_k"], "choosing_k"),
    **dict.fromkeys(["ClusterResult", "kmeans_map", "limit_threads", "pca_components", "pca_kmeans_map"],
                    "clustering"),
    "depth_profile": "depth",
    "check_environment": "teaching.environment_check",
    "NanoSIMSError": "errors",
    **dict.fromkeys(["Regrouping", "WardComparison", "WardTree", "compare_with_exact", "cut_tree", "exact_ward_labels",
                     "hierarchical_map", "regroup_clusters", "ward_tree"], "hierarchical"),
    **dict.fromkeys(["NanoSIMSImage", "normalize_mass_name"], "image"),
    **dict.fromkeys(["load_image", "save_image_tiff"], "io.loading"),
    **dict.fromkeys(["cameca_files", "cameca_folder"], "io.real_data"),
    **dict.fromkeys(["list_samples", "load_sample"], "teaching.samples"),
    "isotope_table": "isotopes",
    **dict.fromkeys(["adjusted_rand", "calinski_harabasz", "clustering_entropy", "davies_bouldin", "match_labels",
                     "matched_f1", "score_table", "silhouette"], "metrics"),
    **dict.fromkeys(["merge_clusters", "name_clusters"], "naming"),
    **dict.fromkeys(["METHODS", "cluster_features", "cluster_image", "reference_pipeline"], "pipeline"),
    **dict.fromkeys(["cluster_colors", "plot_atom_percent", "plot_channels", "plot_cluster_fractions",
                     "plot_cluster_map", "plot_cluster_profiles", "plot_comparison", "plot_parallel_coordinates",
                     "plot_pca_scatter", "plot_ratio_hsi", "plot_sweep"], "plot"),
    "plot_dendrogram": "plot.dendrogram",
    **dict.fromkeys(["PREPROCESSING", "RECOMMENDED_PREPROCESSING", "preprocess", "ratio_image"], "preprocessing"),
    **dict.fromkeys(["cluster_profiles", "profile_matrix"], "profiles"),
    **dict.fromkeys(["cluster_regions", "region_table", "threshold_regions"], "regions"),
    **dict.fromkeys(["KChoice", "recommend_k", "split_counts", "split_half_scores"], "split_half"),
    **dict.fromkeys(["StudyModel", "apply_model", "fit_study", "load_model", "save_model"], "study"),
    **dict.fromkeys(["PHASES", "SOIL_MASSES", "simulate_soil_image"], "teaching.synthetic"),
}

__getattr__, __dir__, __all__ = attach(__name__, _SUBMODULES, old_names=_OLD_NAMES)

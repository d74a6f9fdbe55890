"""Names for clusters, and merging two clusters that are the same thing.

A clustering returns numbers; a study needs "organic matter", "labelled cells", "resin". Names
given here travel with the labels into :func:`~nanosims_helpers.isotopes.isotope_table`, the
region table, the plots (``names=``) and the command line's files.
"""

from __future__ import annotations

import numpy as np

from .count_split import remember_split, with_split
from .errors import NanoSIMSError
from .validation import check_cluster_labels

__all__ = ["merge_clusters", "name_clusters"]


def name_clusters(n_clusters: int, names=None) -> list[str]:
    """Return one name per cluster: ``names`` where given, ``"cluster i"`` elsewhere.

    Parameters
    ----------
    n_clusters : int
        Number of clusters k.
    names : sequence of str or dict of int to str, optional
        All k names in order, or ``{cluster: name}`` for some of them.

    Raises
    ------
    NanoSIMSError
        If a list has the wrong length, a dict names a cluster that does not exist, or two
        clusters get the same name (merge them instead, :func:`merge_clusters`).

    Examples
    --------
    >>> name_clusters(3, {1: "organic matter"})
    ['cluster 0', 'organic matter', 'cluster 2']
    """
    defaults = [f"cluster {i}" for i in range(int(n_clusters))]
    if names is None:
        return defaults
    if isinstance(names, dict):
        unknown = [key for key in names if not (isinstance(key, (int, np.integer)) and 0 <= key < n_clusters)]
        if unknown:
            raise NanoSIMSError(f"names: no cluster {unknown[0]!r}; the clusters are 0..{n_clusters - 1}.")
        chosen = [str(names.get(i, default)).strip() or default for i, default in enumerate(defaults)]
    else:
        if isinstance(names, str) or len(names) != n_clusters:
            raise NanoSIMSError(
                f"names: {names!r} is not one name per cluster; give {n_clusters} names, or a dict {{cluster: name}}."
            )
        chosen = [str(name).strip() or default for name, default in zip(names, defaults)]
    repeated = sorted({name for name in chosen if chosen.count(name) > 1})
    if repeated:
        raise NanoSIMSError(
            f"names: {repeated} name more than one cluster; give each its own name, or merge them with merge_clusters."
        )
    return chosen


def merge_clusters(labels, clusters, names=None, name: str | None = None):
    """Merge clusters into one; return the new labels (0..k'-1) and names.

    The merged cluster keeps the lowest of the numbers; the clusters after the others move down
    so that the numbers stay 0..k'-1 without gaps, in the same order.

    Labels the kit found on a split of the counts (``cluster_image(..., ratios=...)``) pass the
    split on: the merged map is tested on the same held-out counts.

    Parameters
    ----------
    labels : ClusterResult or array_like of int
        Cluster 0..k-1 of every pixel.
    clusters : sequence of int
        Two or more cluster numbers to merge.
    names : sequence of str or dict, optional
        Names of the k clusters (see :func:`name_clusters`).
    name : str, optional
        Name of the merged cluster; default the merged names joined by ``" + "``.

    Returns
    -------
    labels : ndarray of int, same shape as given
    names : list of str, one per new cluster

    Raises
    ------
    NanoSIMSError
        If fewer than two distinct clusters are given or one does not exist.

    Examples
    --------
    >>> labels, names = merge_clusters([[0, 1], [2, 3]], [1, 3], ["resin", "OM", "clay", "OM 2"], name="organic")
    >>> labels.tolist(), names
    ([[0, 1], [2, 1]], ['resin', 'organic', 'clay'])
    """
    labels, split = with_split(labels)
    labels = np.asarray(labels)
    flat, n_clusters = check_cluster_labels(labels, labels.shape, "labels")
    names = name_clusters(n_clusters, names)
    chosen = sorted({int(c) for c in clusters}) if not isinstance(clusters, (int, np.integer)) else [int(clusters)]
    if len(chosen) < 2 or chosen[0] < 0 or chosen[-1] >= n_clusters:
        raise NanoSIMSError(
            f"clusters: {list(clusters) if not isinstance(clusters, (int, np.integer)) else clusters!r}; "
            f"give two or more different clusters among 0..{n_clusters - 1}."
        )
    target = np.arange(n_clusters)
    target[chosen] = chosen[0]
    new_numbers = np.unique(target, return_inverse=True)[1]
    merged_name = name if name is not None else " + ".join(names[c] for c in chosen)
    new_names = [merged_name if old == chosen[0] else names[old] for old in np.unique(target)]
    merged = new_numbers[flat].reshape(labels.shape)
    remember_split(merged, split)
    return merged, new_names

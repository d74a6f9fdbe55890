"""Depth profiles: counts and isotope ratios of each cluster or region, plane by plane.

A NanoSIMS image is the sum of planes (scans) that sputter deeper and deeper into the sample. A
cell's label can change with depth (a coating, then the cytoplasm), and an image whose ratio drifts
from plane to plane may be charging or losing its focus. :func:`depth_profile` gives, for every
plane, the summed counts of each cluster or region with Poisson errors (``sqrt(N)``) and the ratio
of summed counts with its error, as :func:`~nanosims_helpers.isotopes.isotope_table` does for the
whole image. It needs the planes: ``load_image(path, keep_planes=True)`` or
``NanoSIMSImage.from_planes``.

Corrections
-----------
*Dead time*: an electron multiplier misses ions arriving within its dead time ``tau`` of the
previous one; the counts of every pixel of every plane become ``N / (1 - N tau / t_dwell)``
(:func:`nanosims_helpers.io.cameca.correct_dead_time`, the same as ``load_image(...,
dead_time_correction=True)`` on a .im file). Give ``dead_time_s`` and ``dwell_time_s`` for planes
that were not corrected on loading (TIFF stacks); never both: planes whose counts hold fractions
were corrected already (or processed), and are refused.

*Quasi-simultaneous arrivals* (QSA, Slodzian et al. 2004): when one primary ion knocks out two
secondary ions of the same mass, the detector counts one. With ``K`` secondary ions counted per
primary ion, the true count is about ``N (1 + beta K)``; Poisson emission gives ``beta = 0.5``
(``1 - exp(-K) ~ K - K**2 / 2``), measured values on standards are 0.5-1. It matters for major
isotopes at high yields (12C- from organic matter) and so lowers 13C/12C; it is off by default.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import NanoSIMSError
from .image import check_image
from .io.cameca import correct_dead_time
from .isotopes import DEFAULT_RATIOS, check_groups, group_ratios, resolve_ratios, warn_undefined
from .naming import name_clusters
from .validation import check_cluster_labels

__all__ = ["DEPTH_COLUMNS", "correct_qsa", "depth_profile"]

#: The ratio columns a depth profile keeps, after ``plane``, the group and ``name``.
DEPTH_COLUMNS = (
    "ratio", "isotope", "pixels", "numerator_counts", "numerator_se", "denominator_counts", "denominator_se",
    "ratio_of_sums", "ratio_se", "ratio_upper_limit", "atom_percent", "atom_percent_se",
)


def correct_qsa(counts, primary_ions, beta: float = 0.5) -> np.ndarray:
    """Correct counts for quasi-simultaneous arrivals: ``N (1 + beta N / primary_ions)``.

    Parameters
    ----------
    counts : array_like
        Counts of one plane (per pixel and mass), not summed over planes.
    primary_ions : float or array_like
        Primary ions that hit one pixel in one plane: current x dwell time / elementary charge
        (1 pA for 1 ms is 6242 ions).
    beta : float
        The QSA coefficient, 0.5 for Poisson emission (see the module notes).

    Raises
    ------
    NanoSIMSError
        If ``primary_ions`` is not positive or ``beta`` is negative.

    Examples
    --------
    >>> round(float(correct_qsa(624.2, primary_ions=6242.0)[()]), 2)  # K = 0.1: 5 % more
    655.41
    """
    primary_ions = np.asarray(primary_ions, dtype=float)
    if not np.all(primary_ions > 0) or not np.all(np.isfinite(primary_ions)):
        raise NanoSIMSError("primary_ions: give the positive number of primary ions per pixel and plane.")
    if not 0 <= beta < np.inf:
        raise NanoSIMSError(f"qsa_beta={beta!r}: give a coefficient >= 0 (0.5 for Poisson emission).")
    counts = np.asarray(counts, dtype=float)
    return counts * (1.0 + beta * counts / primary_ions)


def depth_profile(image, labels=None, *, regions=None, ratios=DEFAULT_RATIOS, names=None, dead_time_s=None,
                  dwell_time_s=None, qsa_beta=None, primary_ions=None) -> pd.DataFrame:
    """Counts and isotope ratios of every cluster (or region), plane by plane, with Poisson errors.

    Parameters
    ----------
    image : NanoSIMSImage
        An image with its planes (``load_image(path, keep_planes=True)``).
    labels : array_like of int, shape (y, x)
        Cluster 0..k-1 of every pixel; or give ``regions`` instead.
    regions : array_like of int, shape (y, x)
        Region 1..n of every pixel, 0 outside (:mod:`nanosims_helpers.regions`).
    ratios : str or sequence
        As for :func:`~nanosims_helpers.isotopes.isotope_table`.
    names : sequence of str or dict, optional
        Cluster names (with ``labels``).
    dead_time_s, dwell_time_s : float or array_like of shape (mass,), optional
        Correct every plane for the detector dead time (see the module notes).
    qsa_beta : float, optional
        Correct every plane for quasi-simultaneous arrivals with this beta; needs ``primary_ions``.
        Off by default.
    primary_ions : float, optional
        Primary ions per pixel and plane, for the QSA correction.

    Returns
    -------
    pandas.DataFrame
        One row per plane, cluster (or region) and ratio: ``plane`` (0 first), ``cluster`` (or
        ``region``), ``name``, then :data:`DEPTH_COLUMNS`: counts with their Poisson errors
        ``sqrt(N)`` (NaN, not 0, for no count), and the ratio columns of
        :func:`~nanosims_helpers.isotopes.isotope_table`. A plane with no numerator count in a
        group has ratio 0 without an error: report its ``ratio_upper_limit`` (one-sided 84 %,
        Gehrels 1986). A plane whose denominator counts sum to zero in a group gets NaN ratios
        and a warning. The profile describes, it does not test: groups found on the same counts
        (``cluster_image`` without ``ratios``) bias every plane's ratio a little.

    Raises
    ------
    NanoSIMSError
        If the image has no planes, neither or both of ``labels`` and ``regions`` are given, a
        mass is missing, a cluster has one pixel or no counts, a correction's parameters are
        incomplete, or the dead time would be corrected twice.

    Examples
    --------
    >>> from nanosims_helpers.image import NanoSIMSImage
    >>> planes = np.zeros((3, 1, 4, 2))
    >>> planes[..., 0] = 1000.0
    >>> planes[..., 1] = np.array([10.0, 20.0, 30.0])[:, None, None]  # 13C rises with depth
    >>> image = NanoSIMSImage.from_planes(planes, ("12C", "13C"))
    >>> profile = depth_profile(image, np.array([[0, 0, 1, 1]]), ratios="13C/12C")
    >>> profile.loc[profile["cluster"] == 0, ["plane", "numerator_counts", "ratio_of_sums"]].values.tolist()
    [[0.0, 20.0, 0.01], [1.0, 40.0, 0.02], [2.0, 60.0, 0.03]]
    """
    image = check_image(image)
    if image.planes is None:
        raise NanoSIMSError(
            f"{image.name}: the image has no planes kept, only their sum; load it with "
            "load_image(path, keep_planes=True), or build it with NanoSIMSImage.from_planes(planes, masses)."
        )
    resolved = resolve_ratios(image, ratios)
    groups, group_names, what = _groups(image, labels, regions, names)
    n_groups = len(group_names)
    check_groups(group_ratios(image.pixels(), groups, n_groups, resolved), what, f"{what}s" if what == "region"
                 else "labels")
    planes = _corrected(image, dead_time_s, dwell_time_s, qsa_beta, primary_ions)
    tables = []
    for number, plane in enumerate(planes):
        table = group_ratios(plane.reshape(-1, plane.shape[-1]), groups, n_groups, resolved)
        table.insert(0, "plane", number)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    for column in ("numerator", "denominator"):
        counts = table[f"{column}_counts"]
        table[f"{column}_se"] = np.sqrt(counts).where(counts > 0)
    numbers = table["group"] + (1 if what == "region" else 0)
    table = table.assign(group=numbers, name=[group_names[g] for g in table["group"]])
    table = table.rename(columns={"group": what})[["plane", what, "name", *DEPTH_COLUMNS]]
    warn_undefined(table, what)
    return table


def _groups(image, labels, regions, names):
    """Group of every pixel (-1 outside), the group names and what a group is."""
    if (labels is None) == (regions is None):
        raise NanoSIMSError("depth_profile: give either labels (clusters) or regions, not both and not neither.")
    if labels is not None:
        flat, n_clusters = check_cluster_labels(labels, image.shape[:2])
        return flat, name_clusters(n_clusters, names), "cluster"
    regions = np.asarray(regions)
    if regions.shape != image.shape[:2] or not np.issubdtype(regions.dtype, np.integer) or regions.min() < 0:
        raise NanoSIMSError(f"regions: expected a (y, x) map of region numbers >= 0 of shape {image.shape[:2]}.")
    present = np.unique(regions[regions > 0])
    if present.size != regions.max():
        raise NanoSIMSError("regions: number the regions 1..n without gaps, as cluster_regions does.")
    return regions.ravel() - 1, [f"region {n}" for n in present], "region"


def _corrected(image, dead_time_s, dwell_time_s, qsa_beta, primary_ions) -> np.ndarray:
    planes = image.planes
    if (dead_time_s is None) != (dwell_time_s is None):
        raise NanoSIMSError("dead_time_s and dwell_time_s: give both (seconds, per mass or one for all) or neither.")
    if dead_time_s is not None:
        if not np.array_equal(planes, np.round(planes)):
            raise NanoSIMSError(
                f"{image.name}: the planes hold fractions of counts, so they were dead-time corrected already "
                "(load_image(..., dead_time_correction=True)) or processed; correcting them again would add the "
                "lost ions twice. Leave dead_time_s and dwell_time_s out, or load the raw counts."
            )
        planes = correct_dead_time(planes, dead_time_s, dwell_time_s, name=image.name)
    if (qsa_beta is None) != (primary_ions is None):
        raise NanoSIMSError("qsa_beta and primary_ions: the QSA correction needs both (e.g. 0.5 and the primary "
                            "ions per pixel and plane); leave both out to skip it.")
    if qsa_beta is not None:
        planes = correct_qsa(planes, primary_ions, qsa_beta)
    return planes

"""Isotope ratios per cluster, with their counting errors and a test for enrichment.

Stable isotope probing asks which cells, particles or phases took up a 13C or 15N label, and how
much. :func:`isotope_table` answers it per cluster, the way regions of interest are reported in
NanoSIMS work (e.g. Look@NanoSIMS, Polerecky et al. 2012): the ratio of the summed counts of the
cluster's pixels, its Poisson standard error, the atom percent and a test against the natural
abundance. :mod:`nanosims_helpers.regions` does the same per connected region.

Ratio of sums, not mean of ratios
---------------------------------
With ``N`` counts of the minor isotope and ``D`` of the major one summed over a group of pixels,
the ratio is ``R = N / D``. Counts are Poisson, so ``var(N) = N`` and ``var(D) = D`` and, to first
order, ``SE(R) = R * sqrt(1/N + 1/D)``. The mean of the pixels' own ratios (``mean_pixel_ratio``
in the table) is *not* the same number: each pixel ratio ``n_i / d_i`` divides by a small, noisy
count, and because ``1/d`` is convex, ``E[n/d] > E[n]/E[d]`` (Jensen's inequality) - by about
``1/d`` relative, i.e. 10 % at 10 counts per pixel. Pixels with ``d_i = 0`` have no ratio at all
and must be dropped, which biases the mean again. The ratio of sums uses every count, has a bias
of order ``1/D`` for the whole group (negligible), and its error follows from the counts alone;
report it.

Reading 12C15N/12C14N as 15N/14N
--------------------------------
Nitrogen hardly forms negative ions alone, so NanoSIMS measures it as the cyanide ions 12C14N
and 12C15N. Their ratio equals 15N/14N (the carbon is 12C in both), and the kit reads it so.
13C14N/12C14N is read as 13C/12C in the same way.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .errors import NanoSIMSError
from .io.image import NanoSIMSImage, check_image, normalize_mass_name
from .naming import name_clusters
from .validation import check_cluster_labels

__all__ = [
    "AIR_15N_14N", "DEFAULT_RATIOS", "ISOTOPE_COLUMNS", "REFERENCE_RATIOS", "VPDB_13C_12C", "VSMOW_18O_16O",
    "atom_percent", "benjamini_hochberg", "check_groups", "enrichment_test", "finish_table",
    "group_ratios", "isotope_table", "parse_ratios", "ratio_of_sums", "resolve_ratios", "warn_undefined",
]

#: 13C/12C of the Vienna Pee Dee Belemnite standard (Craig 1957, as used by the IAEA).
VPDB_13C_12C = 0.0112372
#: 15N/14N of atmospheric N2 (Junk and Svec 1958).
AIR_15N_14N = 0.0036765
#: 18O/16O of Vienna Standard Mean Ocean Water (Baertschi 1976).
VSMOW_18O_16O = 0.0020052

#: The ratios :func:`isotope_table` reports by default: 13C/12C and 15N/14N (as 12C15N/12C14N).
DEFAULT_RATIOS = (("13C", "12C"), ("12C15N", "12C14N"))

#: (numerator, denominator) -> (the isotope ratio it measures, its natural-abundance reference).
REFERENCE_RATIOS = {
    ("13C", "12C"): ("13C/12C", VPDB_13C_12C),
    ("13C14N", "12C14N"): ("13C/12C", VPDB_13C_12C),
    ("12C15N", "12C14N"): ("15N/14N", AIR_15N_14N),
    ("15N", "14N"): ("15N/14N", AIR_15N_14N),
    ("18O", "16O"): ("18O/16O", VSMOW_18O_16O),
}

#: Columns of the ratio part of :func:`isotope_table` and :func:`~nanosims_helpers.regions.region_table`.
ISOTOPE_COLUMNS = (
    "ratio", "isotope", "pixels", "numerator_counts", "denominator_counts", "ratio_of_sums", "ratio_se",
    "mean_pixel_ratio", "pixels_zero_denominator", "atom_percent", "atom_percent_se", "reference_ratio",
    "reference_atom_percent", "excess_atom_percent", "delta_permil", "z", "p_value", "p_adjusted", "enriched",
)


def parse_ratios(ratios) -> list[tuple[str, str, float | None]]:
    """Return ratios as ``(numerator, denominator, reference or None)`` triples.

    Parameters
    ----------
    ratios : str or sequence
        ``"13C/12C,12C15N/12C14N"``, or a sequence of ``"13C/12C"`` strings, ``(numerator,
        denominator)`` pairs or ``(numerator, denominator, reference_ratio)`` triples. A reference
        given here replaces the natural abundance (for example the ratio of an unlabelled control).

    Raises
    ------
    NanoSIMSError
        If a ratio is not of this form or divides a mass by itself.

    Examples
    --------
    >>> parse_ratios("13C/12C, 12C15N/12C14N")
    [('13C', '12C', None), ('12C15N', '12C14N', None)]
    >>> parse_ratios([("13C", "12C", 0.0109)])
    [('13C', '12C', 0.0109)]
    """
    if isinstance(ratios, str):
        ratios = [part for part in ratios.split(",") if part.strip()]
    parsed = [_parse_ratio(ratio) for ratio in ratios]
    if not parsed:
        raise NanoSIMSError("ratios: no ratio given; give e.g. '13C/12C' or [('13C', '12C')].")
    return parsed


def _parse_ratio(ratio) -> tuple[str, str, float | None]:
    parts = [p.strip() for p in ratio.split("/")] if isinstance(ratio, str) else list(ratio)
    if len(parts) not in ((2,) if isinstance(ratio, str) else (2, 3)) or not all(str(p).strip() for p in parts[:2]):
        raise NanoSIMSError(
            f"ratios: cannot read {ratio!r}; give 'numerator/denominator' such as '13C/12C', "
            "or a (numerator, denominator[, reference_ratio]) tuple."
        )
    numerator, denominator = (normalize_mass_name(p) for p in parts[:2])
    if numerator == denominator:
        raise NanoSIMSError(
            f"ratios: {numerator}/{denominator} divides a mass by itself; give two different masses, "
            "the minor isotope first (e.g. 13C/12C)."
        )
    reference = None
    if len(parts) == 3 and parts[2] is not None:  # None: the natural abundance, as parse_ratios returns it
        reference = float(parts[2])
        if not 0 < reference < np.inf:
            raise NanoSIMSError(f"ratios: reference ratio {parts[2]!r} of {numerator}/{denominator} must be > 0.")
    return numerator, denominator, reference


def _reference(numerator: str, denominator: str, reference: float | None) -> tuple[str, float]:
    """The isotope ratio a mass ratio measures and its reference, or a clear error."""
    isotope, natural = REFERENCE_RATIOS.get((numerator, denominator), (f"{numerator}/{denominator}", None))
    if reference is None and natural is None:
        known = ", ".join(f"{n}/{d}" for n, d in REFERENCE_RATIOS)
        raise NanoSIMSError(
            f"ratios: no natural-abundance reference for {numerator}/{denominator} (the kit knows {known}); "
            f"give one as ({numerator!r}, {denominator!r}, reference_ratio)."
        )
    return isotope, natural if reference is None else reference


def ratio_of_sums(numerator, denominator, name: str = "counts") -> tuple[float, float]:
    """Ratio of summed counts and its Poisson standard error ``R * sqrt(1/N + 1/D)``.

    Parameters
    ----------
    numerator, denominator : array_like
        Counts of the minor and major isotope of the same pixels.
    name : str
        What the counts belong to, for the warning.

    Returns
    -------
    ratio, se : float
        NaN, with a warning, when the denominator counts sum to zero (never infinity).

    Examples
    --------
    >>> ratio, se = ratio_of_sums([30, 70], [2000, 8000])
    >>> round(ratio, 4), round(se, 5)
    (0.01, 0.001)
    """
    ratio, se = _ratio_and_error(np.sum(numerator), np.sum(denominator))
    if np.isnan(ratio):
        warnings.warn(f"{name}: the denominator counts sum to zero, so the ratio is undefined (NaN).", stacklevel=2)
    return float(ratio), float(se)


def _ratio_and_error(n_sum, d_sum):
    """``N / D`` and ``R sqrt(1/N + 1/D)`` elementwise; NaN where ``D`` is 0.

    With ``N = 0``, ``R = 0`` and the formula is 0 * inf: its limit ``R sqrt(1/N + 1/D)`` ->
    ``sqrt(R/D + R**2/D)`` (R**2/N = R/D) is used everywhere, which is the same value.
    """
    n_sum, d_sum = np.asarray(n_sum, dtype=float), np.asarray(d_sum, dtype=float)
    safe_d = np.where(d_sum > 0, d_sum, 1.0)
    ratio = np.where(d_sum > 0, n_sum / safe_d, np.nan)
    se = np.sqrt(ratio / safe_d + ratio**2 / safe_d)
    return ratio, se


def atom_percent(ratio):
    """Atom percent of the minor isotope, ``100 R / (1 + R)``, from the ratio ``R`` minor/major.

    Examples
    --------
    >>> round(float(atom_percent(0.0112372)), 3)
    1.111
    """
    ratio = np.asarray(ratio, dtype=float)
    return 100.0 * ratio / (1.0 + ratio)


def enrichment_test(numerator_counts, denominator_counts, reference: float):
    """One-sided test that a ratio of counts exceeds ``reference``: z-score and p-value.

    Given the total ``n = N + D``, the minor-isotope counts ``N`` are binomial with probability
    ``p0 = r / (1 + r)`` if the true ratio is the reference ``r``. The z-score is
    ``(N - n p0) / sqrt(n p0 (1 - p0))`` and the p-value is the exact binomial probability of
    ``N`` or more, so both stay defined when ``N`` is 0. Only counting noise is tested:
    instrumental mass fractionation and real differences between pixels are not in it, so with
    millions of counts a ratio a fraction of a percent off the standard is "significant". Give
    the ratio of an unlabelled control, measured the same way, as ``reference`` to test for label
    uptake. Counts that are not whole (after a dead-time correction) are rounded for the p-value.

    Parameters
    ----------
    numerator_counts, denominator_counts : float or array_like
        Summed counts of the minor and major isotope.
    reference : float
        Reference ratio minor/major.

    Returns
    -------
    z, p : ndarray of float

    Examples
    --------
    >>> z, p = enrichment_test(150, 10000, 0.0112372)   # expected 10150 * 0.011112 = 112.8 13C counts
    >>> round(float(z), 2), bool(p < 0.001)
    (3.52, True)
    """
    n = np.asarray(numerator_counts, dtype=float)
    total = n + np.asarray(denominator_counts, dtype=float)
    p0 = reference / (1.0 + reference)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (n - total * p0) / np.sqrt(total * p0 * (1 - p0))
    p = stats.binom.sf(np.ceil(n) - 1, np.round(total), p0)
    return z, p


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate); NaN stays NaN.

    Call a row significant when its adjusted p-value is below the false discovery rate you
    accept (e.g. 0.05): among such rows, that fraction or fewer are expected to be false.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, float("nan")]).round(3).tolist()
    [0.03, 0.04, 0.04, nan]
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid], kind="stable")]
    m = order.size
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return adjusted


def group_ratios(counts, groups, n_groups: int, ratios) -> pd.DataFrame:
    """The ratio columns (:data:`ISOTOPE_COLUMNS`) of pixel groups, one row per group and ratio.

    The shared engine of :func:`isotope_table`, the region table and the depth profiles. It
    does not reject groups: callers check their groups first.

    Parameters
    ----------
    counts : ndarray, shape (pixel, mass)
        Counts of every pixel.
    groups : ndarray of int, shape (pixel,)
        Group of every pixel, 0..n_groups-1, or -1 for pixels in no group.
    n_groups : int
    ratios : list of (int, int, str, str, float)
        Numerator and denominator column, ratio name, isotope name and reference ratio.

    Returns
    -------
    pandas.DataFrame
        Columns ``group`` then :data:`ISOTOPE_COLUMNS`; p-values not yet adjusted (NaN), no
        warning yet for undefined ratios (see :func:`finish_table`).

    Examples
    --------
    >>> counts = np.array([[10.0, 1000.0], [30.0, 1000.0], [5.0, 500.0]])
    >>> table = group_ratios(counts, np.array([0, 0, 1]), 2, [(0, 1, "13C/12C", "13C/12C", 0.0112372)])
    >>> table["ratio_of_sums"].tolist(), table["mean_pixel_ratio"].tolist()
    ([0.02, 0.01], [0.02, 0.01])
    """
    inside = groups >= 0
    pixels = np.bincount(groups[inside], minlength=n_groups)
    parts = []
    for num, den, ratio_name, isotope, reference in ratios:
        n_pix, d_pix = counts[inside, num], counts[inside, den]
        n_sum = np.bincount(groups[inside], weights=n_pix, minlength=n_groups)
        d_sum = np.bincount(groups[inside], weights=d_pix, minlength=n_groups)
        ratio, se = _ratio_and_error(n_sum, d_sum)
        has_den = d_pix > 0
        pixel_ratio_sum = np.bincount(groups[inside][has_den], weights=n_pix[has_den] / d_pix[has_den],
                                      minlength=n_groups)
        with_ratio = np.bincount(groups[inside][has_den], minlength=n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            fraction = n_sum / (n_sum + d_sum)
            mean_pixel_ratio = np.where(with_ratio > 0, pixel_ratio_sum / np.maximum(with_ratio, 1), np.nan)
        z, p = enrichment_test(n_sum, d_sum, reference)
        reference_percent = float(atom_percent(reference))
        parts.append(pd.DataFrame({
            "group": np.arange(n_groups), "ratio": ratio_name, "isotope": isotope, "pixels": pixels,
            "numerator_counts": n_sum, "denominator_counts": d_sum, "ratio_of_sums": ratio, "ratio_se": se,
            "mean_pixel_ratio": mean_pixel_ratio, "pixels_zero_denominator": pixels - with_ratio,
            "atom_percent": 100 * fraction, "atom_percent_se": 100 * se / (1 + np.nan_to_num(ratio)) ** 2,
            "reference_ratio": reference, "reference_atom_percent": reference_percent,
            "excess_atom_percent": 100 * fraction - reference_percent,
            "delta_permil": 1000 * (ratio / reference - 1), "z": z, "p_value": p,
            "p_adjusted": np.nan, "enriched": False,
        }))
    return pd.concat(parts, ignore_index=True)


def resolve_ratios(image: NanoSIMSImage, ratios) -> list[tuple[int, int, str, str, float]]:
    """Look up the masses of ``ratios`` (see :func:`parse_ratios`) in ``image``.

    Returns
    -------
    list of (numerator index, denominator index, "13C/12C", isotope read, reference ratio)

    Raises
    ------
    NanoSIMSError
        If a mass is missing (the message lists the image's masses), a ratio divides a mass by
        itself, or no reference is known.

    Examples
    --------
    >>> image = NanoSIMSImage(np.ones((2, 2, 2)), ("12C", "13C"))
    >>> resolve_ratios(image, "13C/12C")
    [(1, 0, '13C/12C', '13C/12C', 0.0112372)]
    """
    resolved = []
    for numerator, denominator, reference in parse_ratios(ratios):
        num, den = image.mass_index(numerator), image.mass_index(denominator)
        isotope, reference = _reference(numerator, denominator, reference)
        resolved.append((num, den, f"{numerator}/{denominator}", isotope, reference))
    return resolved


def check_groups(table: pd.DataFrame, what: str, where: str) -> None:
    """Reject groups of one pixel, or whose numerator and denominator counts are all zero.

    Examples
    --------
    >>> check_groups(pd.DataFrame({"group": [0], "pixels": [1], "ratio": ["13C/12C"],
    ...     "numerator_counts": [1.0], "denominator_counts": [90.0]}), "cluster", "labels")
    Traceback (most recent call last):
    ...
    nanosims_helpers.errors.NanoSIMSError: labels: cluster 0 has 1 pixel; an isotope ratio needs a group \
of pixels. Merge it into a neighbouring cluster (merge_clusters) or use fewer clusters (-k).
    """
    single = table.loc[table["pixels"] == 1, "group"].unique()
    if single.size:
        raise NanoSIMSError(
            f"{where}: {what} {', '.join(map(str, single))} has 1 pixel; an isotope ratio needs a group of pixels. "
            + ("Merge it into a neighbouring cluster (merge_clusters) or use fewer clusters (-k)." if what == "cluster"
               else "Raise min_pixels to drop such regions.")
        )
    empty = table[(table["numerator_counts"] + table["denominator_counts"]) == 0]
    if len(empty):
        first = empty.iloc[0]
        raise NanoSIMSError(
            f"{where}: {what} {first['group']} has no {first['ratio']} counts at all (every pixel is 0 in both "
            f"masses), so it has no ratio. Check the mass names, or leave this {what} out."
        )


def warn_undefined(table: pd.DataFrame, what: str) -> None:
    """Warn, naming the rows, where the denominator counts sum to zero (the ratio is NaN, never inf).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_undefined(pd.DataFrame({"region": [3], "ratio": ["13C/12C"], "ratio_of_sums": [np.nan]}), "region")
    >>> str(caught[0].message)
    '1 row(s) have denominator counts summing to zero, so their ratio is undefined (NaN): region 3 (13C/12C).'
    """
    undefined = table[table["ratio_of_sums"].isna()]
    if len(undefined):
        which = ", ".join(f"{what} {row[what]} ({row['ratio']})" for _, row in undefined.head(5).iterrows())
        warnings.warn(
            f"{len(undefined)} row(s) have denominator counts summing to zero, so their ratio is undefined (NaN): "
            f"{which}{' ...' if len(undefined) > 5 else ''}.", stacklevel=3,
        )


def finish_table(table: pd.DataFrame, what: str, alpha: float = 0.05) -> pd.DataFrame:
    """Warn about undefined ratios; add Benjamini-Hochberg adjusted p-values over all rows and ``enriched``.

    Examples
    --------
    >>> table = pd.DataFrame({"cluster": [0, 1], "ratio": "13C/12C", "ratio_of_sums": [0.011, 0.05],
    ...                       "p_value": [0.5, 0.001]})
    >>> finish_table(table, "cluster")[["p_adjusted", "enriched"]].values.tolist()
    [[0.5, False], [0.002, True]]
    """
    if not 0 < alpha < 1:
        raise NanoSIMSError(f"alpha={alpha!r}: give the false discovery rate as a fraction, e.g. 0.05.")
    warn_undefined(table, what)
    table["p_adjusted"] = benjamini_hochberg(table["p_value"])
    table["enriched"] = table["p_adjusted"] < alpha
    return table


def isotope_table(image, labels, ratios=DEFAULT_RATIOS, names=None, *, alpha: float = 0.05) -> pd.DataFrame:
    """Isotope ratios of every cluster, with Poisson errors, atom % and a test for enrichment.

    Parameters
    ----------
    image : NanoSIMSImage
        The counts (summed over planes); masses are looked up with ``image.mass_index``.
    labels : array_like of int, shape (y, x)
        Cluster 0..k-1 of every pixel.
    ratios : str or sequence
        Mass ratios, minor isotope first (see :func:`parse_ratios`); default 13C/12C and
        12C15N/12C14N, read as 15N/14N. The reference is the natural abundance:
        :data:`VPDB_13C_12C` (13C/12C = 0.0112372, VPDB), :data:`AIR_15N_14N` (15N/14N =
        0.0036765, air N2), :data:`VSMOW_18O_16O`; give a third element to use another.
    names : sequence of str, optional
        One name per cluster (see :func:`nanosims_helpers.naming.name_clusters`); default
        ``"cluster i"``.
    alpha : float
        False discovery rate for the ``enriched`` column.

    Returns
    -------
    pandas.DataFrame
        One row per cluster and ratio: ``cluster``, ``name``, then ``ratio`` ("12C15N/12C14N"),
        ``isotope`` (what it measures, "15N/14N"), ``pixels``, ``numerator_counts``,
        ``denominator_counts`` (summed), ``ratio_of_sums`` R and ``ratio_se`` (R sqrt(1/N + 1/D)),
        ``mean_pixel_ratio`` (biased at low counts, for comparison only; see the module notes) and
        ``pixels_zero_denominator`` (left out of that mean), ``atom_percent`` (100 R / (1 + R)) and
        its ``atom_percent_se``, ``reference_ratio`` and ``reference_atom_percent``,
        ``excess_atom_percent`` (atom % above the reference), ``delta_permil`` ((R/ref - 1) 1000),
        ``z`` and ``p_value`` (one-sided, see :func:`enrichment_test`), ``p_adjusted``
        (Benjamini-Hochberg over all rows) and ``enriched`` (``p_adjusted < alpha``).

    Raises
    ------
    NanoSIMSError
        If a mass is missing (the message lists the image's masses), a ratio divides a mass by
        itself, the labels do not fit the image, a cluster has one pixel, or a cluster has no
        counts in either mass of a ratio. A cluster whose denominator counts sum to zero gets a
        NaN ratio and a warning.

    Examples
    --------
    >>> counts = np.zeros((2, 4, 2))
    >>> counts[..., 0] = 1000.0                                    # 12C
    >>> counts[:, :2, 1], counts[:, 2:, 1] = 11.0, 60.0            # 13C: natural left, enriched right
    >>> image = NanoSIMSImage(counts, ("12C", "13C"))
    >>> labels = np.array([[0, 0, 1, 1], [0, 0, 1, 1]])
    >>> table = isotope_table(image, labels, "13C/12C", names=["soil", "hotspot"])
    >>> table[["name", "ratio_of_sums", "enriched"]].values.tolist()
    [['soil', 0.011, False], ['hotspot', 0.06, True]]
    >>> round(float(table["ratio_se"][1]), 5)   # 0.06 * sqrt(1/240 + 1/4000)
    0.00399
    """
    image = check_image(image)
    resolved = resolve_ratios(image, ratios)
    flat, n_clusters = check_cluster_labels(labels, image.shape[:2])
    names = name_clusters(n_clusters, names)
    table = group_ratios(image.pixels(), flat, n_clusters, resolved)
    check_groups(table, "cluster", "labels")
    table.insert(1, "name", [names[g] for g in table["group"]])
    table = table.rename(columns={"group": "cluster"}).sort_values(["cluster"], kind="stable")
    return finish_table(table.reset_index(drop=True), "cluster", alpha)

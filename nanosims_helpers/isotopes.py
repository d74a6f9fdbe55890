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

Tests of groups the kit found itself
------------------------------------
A p-value is valid only if the counts it tests did not choose the group. Clusters found with 13C
and 12C15N among their features gather the pixels whose minor-isotope counts came out high or low
by chance; testing those same counts finds "enrichment" in unlabelled images (in 96 x 96 images of
one natural composition, k = 3, every image had an "enriched" cluster, z up to 60) and biases
the ratios (0.0014 to 0.0050 for a true 15N/14N of 0.0037). The kit therefore finds groups on one
half of the counts of the tested masses and tests them on the other half
(:func:`~nanosims_helpers.split_half.hold_out_counts`: odd/even planes, or each ion sent to a half
at random): ``cluster_image(image, k, ratios=...)`` then ``isotope_table(image, result)``. The
masses not tested keep all their counts for the clustering. The column ``test_counts`` says which
counts each row used: ``"held-out half: ..."`` or ``"all"``. Labels the kit found on the tested
counts without holding any out are refused with the way out. Label maps of your own (regions drawn
on another image, or found on masses that are not tested) are tested on all counts: valid only if
the counts of the tested masses played no part in drawing them.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from .count_split import CountSplit, hold_out_counts, with_split
from .errors import NanoSIMSError
from .image import NanoSIMSImage, check_image, normalize_mass_name
from .naming import name_clusters
from .validation import check_cluster_labels

__all__ = [
    "AIR_15N_14N", "ALL_COUNTS", "DEFAULT_RATIOS", "ISOTOPE_COLUMNS", "OTHER_ISOTOPES", "REFERENCE_RATIOS",
    "UPPER_LIMIT_CONFIDENCE", "VPDB_13C_12C", "VSMOW_17O_16O", "VSMOW_18O_16O", "Ratio", "atom_percent",
    "benjamini_hochberg", "check_groups", "control_group", "counts_to_test", "enrichment_test", "finish_table",
    "group_ratios", "isotope_table", "parse_ratios", "poisson_upper_limit", "ratio_of_sums", "resolve_ratios",
    "split_for_ratios", "warn_undefined",
]

#: 13C/12C of the Vienna Pee Dee Belemnite standard (Craig 1957, as used by the IAEA). Other values
#: in use: 0.011180 (Zhang and Li 1990, recommended by Brand et al. 2010 for data processing) and
#: 0.0111105 +/- 0.0000042 (a 2024 re-determination traceable to the SI, Rapid Commun. Mass
#: Spectrom. 38, e9773). They differ by up to 1.1 %, a delta of 11 permil; the instrumental mass
#: fractionation of a NanoSIMS is of the same size or larger, so give the ratio of an unlabelled
#: control measured the same way as the reference when the exact value matters.
VPDB_13C_12C = 0.0112372
#: 15N/14N of atmospheric N2 (Junk and Svec 1958).
AIR_15N_14N = 0.0036765
#: 18O/16O of Vienna Standard Mean Ocean Water (Baertschi 1976).
VSMOW_18O_16O = 0.0020052
#: 17O/16O of Vienna Standard Mean Ocean Water (Li et al. 1988), the third oxygen isotope in atom % 18O.
VSMOW_17O_16O = 0.0003799

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

#: Isotope ratio -> the element's other isotopes over its major one, at natural abundance: atom %
#: of the minor isotope is ``100 R / (1 + R + others)``. Carbon and nitrogen have two stable
#: isotopes (others 0); oxygen three. For any other ratio atom % is ``100 R / (1 + R)`` with a warning.
OTHER_ISOTOPES = {"13C/12C": 0.0, "15N/14N": 0.0, "18O/16O": VSMOW_17O_16O}

#: Confidence of :func:`poisson_upper_limit`: one-sided, the 1-sigma level of Gehrels (1986), 84.13 %
#: (the normal distribution's mass below +1 sigma).
UPPER_LIMIT_CONFIDENCE = 0.8413447

#: Columns of the ratio part of :func:`isotope_table` and :func:`~nanosims_helpers.regions.region_table`.
ISOTOPE_COLUMNS = (
    "ratio", "isotope", "test_counts", "pixels", "numerator_counts", "denominator_counts", "ratio_of_sums",
    "ratio_se", "ratio_upper_limit", "mean_pixel_ratio", "pixels_zero_denominator", "atom_percent",
    "atom_percent_se", "reference_ratio", "reference_atom_percent", "excess_atom_percent", "delta_permil", "z",
    "p_value", "p_adjusted", "enriched",
)

#: ``test_counts`` of a row tested on every count of the image.
ALL_COUNTS = "all"


class Ratio(NamedTuple):
    """One ratio of :func:`resolve_ratios`: where its counts are, what it measures, its reference."""

    numerator: int  #: column of the minor isotope's counts
    denominator: int  #: column of the major isotope's counts
    name: str  #: the mass ratio, "12C15N/12C14N"
    isotope: str  #: the isotope ratio it measures, "15N/14N"
    reference: float | tuple  #: reference ratio, or (numerator, denominator) counts of a control
    test_counts: str = ALL_COUNTS  #: which counts the column indices point to


def parse_ratios(ratios) -> list[tuple[str, str, float | tuple | None]]:
    """Return ratios as ``(numerator, denominator, reference or None)`` triples.

    Parameters
    ----------
    ratios : str or sequence
        ``"13C/12C,12C15N/12C14N"`` (``"13C/12C=0.0109"`` gives a reference), or a sequence of such
        strings, ``(numerator, denominator)`` pairs or ``(numerator, denominator, reference)``
        triples. A reference given here replaces the natural abundance: a ratio (for example that
        of an unlabelled control, taken as exact), or in Python the control's summed counts as a
        pair ``(numerator_counts, denominator_counts)``, which :func:`enrichment_test` compares
        with a two-sample test.

    Raises
    ------
    NanoSIMSError
        If a ratio is not of this form, divides a mass by itself, or has no reference (neither
        given nor known to the kit); the message says how to write it in the form you used.

    Examples
    --------
    >>> parse_ratios("13C/12C, 12C15N/12C14N=0.00368")
    [('13C', '12C', None), ('12C15N', '12C14N', 0.00368)]
    >>> parse_ratios([("13C", "12C", 0.0109), ("13C", "12C", (1830, 162000))])
    [('13C', '12C', 0.0109), ('13C', '12C', (1830.0, 162000.0))]
    """
    if isinstance(ratios, str):
        ratios = [part for part in ratios.split(",") if part.strip()]
    elif not isinstance(ratios, (list, tuple)):
        raise NanoSIMSError(f"ratios: cannot read {ratios!r}; {_HOW_TO_WRITE}")
    elif len(ratios) in (2, 3) and all(isinstance(part, str) and "/" not in part for part in ratios[:2]):
        ratios = [ratios]  # one pair or triple given alone: ("13C", "12C")
    parsed = [_parse_ratio(ratio) for ratio in ratios]
    if not parsed:
        raise NanoSIMSError("ratios: no ratio given; give e.g. '13C/12C' or [('13C', '12C')].")
    return parsed


_HOW_TO_WRITE = ("give 'numerator/denominator' such as '13C/12C' (with '=reference' to set a reference), or a "
                 "(numerator, denominator[, reference]) tuple.")


def _parse_ratio(ratio) -> tuple[str, str, float | tuple | None]:
    if isinstance(ratio, str):
        written, reference = ratio.split("=", 1) if "=" in ratio else (ratio, None)
        parts = [p.strip() for p in written.split("/")]
        if len(parts) != 2:
            parts = []
    elif isinstance(ratio, (list, tuple)) and len(ratio) in (2, 3) and all(isinstance(p, str) for p in ratio[:2]):
        parts, reference = [p.strip() for p in ratio[:2]], ratio[2] if len(ratio) == 3 else None
    else:
        parts = []
    if not parts or not all(parts):
        raise NanoSIMSError(f"ratios: cannot read {ratio!r}; {_HOW_TO_WRITE}")
    numerator, denominator = (normalize_mass_name(p) for p in parts)
    if numerator == denominator:
        raise NanoSIMSError(
            f"ratios: {numerator}/{denominator} divides a mass by itself; give two different masses, "
            "the minor isotope first (e.g. 13C/12C)."
        )
    reference = _check_reference(numerator, denominator, reference, written_as=type(ratio))
    return numerator, denominator, reference


def _check_reference(numerator: str, denominator: str, reference, written_as) -> float | tuple | None:
    """The reference given (a ratio > 0, or control counts), None for the natural one, or a clear error."""
    name = f"{numerator}/{denominator}"
    if reference is None or (isinstance(reference, str) and not reference.strip()):
        if (numerator, denominator) not in REFERENCE_RATIOS:
            known = ", ".join(f"{n}/{d}" for n, d in REFERENCE_RATIOS)
            how = (f"'{name}=REFERENCE', e.g. '{name}=0.37'" if written_as is str
                   else f"({numerator!r}, {denominator!r}, reference_ratio)")
            raise NanoSIMSError(f"ratios: no natural-abundance reference for {name} (the kit knows {known}); "
                                f"give the ratio of an unlabelled control as {how}.")
        return None
    try:
        if isinstance(reference, (list, tuple)):
            control = tuple(float(value) for value in reference)
            if len(control) == 2 and control[0] >= 0 and 0 < control[1] < np.inf and np.isfinite(control[0]):
                return control
        elif not isinstance(reference, bool):
            value = float(reference)
            if 0 < value < np.inf:
                return value
    except (TypeError, ValueError):
        pass
    raise NanoSIMSError(f"ratios: reference {reference!r} of {name}: give a ratio > 0, or a control's summed "
                        "counts as (numerator_counts >= 0, denominator_counts > 0).")


def _reference(numerator: str, denominator: str, reference) -> tuple[str, float | tuple]:
    """The isotope ratio a mass ratio measures, and its reference (checked by :func:`parse_ratios`)."""
    isotope, natural = REFERENCE_RATIOS.get((numerator, denominator), (f"{numerator}/{denominator}", None))
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
        NaN, with a warning, when the denominator counts sum to zero (never infinity). With no
        numerator count the ratio is 0 and its error NaN, not 0: report the upper limit
        ``poisson_upper_limit(0) / D`` instead.

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
    """``N / D`` and ``R sqrt(1/N + 1/D)`` elementwise; NaN where ``D`` is 0, and the error NaN where ``N`` is 0."""
    n_sum, d_sum = np.asarray(n_sum, dtype=float), np.asarray(d_sum, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(d_sum > 0, n_sum / d_sum, np.nan)
        se = np.where(n_sum > 0, ratio * np.sqrt(1 / n_sum + 1 / d_sum), np.nan)
    return ratio, se


def poisson_upper_limit(counts, confidence: float = UPPER_LIMIT_CONFIDENCE):
    """One-sided upper limit of a Poisson mean after ``counts`` counts (Gehrels 1986, ApJ 303, 336).

    The exact limit ``lambda`` with ``P(X <= counts | lambda) = 1 - confidence``, which is
    ``chi2.ppf(confidence, 2 (counts + 1)) / 2``: 1.841 for no count at the default 84.13 % (the
    1-sigma level of Gehrels' Table 1), 2.996 at 95 %. Divided by the denominator counts, it is
    the upper limit of a ratio whose minor isotope was not seen.

    Examples
    --------
    >>> poisson_upper_limit([0, 1, 10]).round(2).tolist()   # Gehrels (1986), Table 1, S = 1
    [1.84, 3.3, 14.27]
    >>> round(float(poisson_upper_limit(0, 0.95)), 3)
    2.996
    """
    if not 0 < confidence < 1:
        raise NanoSIMSError(f"confidence={confidence!r}: give a fraction, e.g. 0.8413 or 0.95.")
    return stats.chi2.ppf(confidence, 2 * (_whole(counts) + 1)) / 2


def _whole(counts) -> np.ndarray:
    """The one rounding rule of the tests: counts to the nearest whole number (dead-time-corrected
    counts hold fractions); halves go to the even number, as :func:`numpy.round` does."""
    return np.round(np.asarray(counts, dtype=float))


def atom_percent(ratio, others: float = 0.0):
    """Atom percent of the minor isotope, ``100 R / (1 + R + others)``, from the ratio ``R`` minor/major.

    ``others`` is the sum of the element's other isotopes over the major one (0 for C and N, which
    have two; :data:`VSMOW_17O_16O` for 18O, see :data:`OTHER_ISOTOPES`).

    Examples
    --------
    >>> round(float(atom_percent(0.0112372)), 3)
    1.111
    """
    ratio = np.asarray(ratio, dtype=float)
    return 100.0 * ratio / (1.0 + ratio + others)


def enrichment_test(numerator_counts, denominator_counts, reference):
    """One-sided test that a ratio of counts exceeds ``reference``: z-score and p-value.

    Given the total ``n = N + D``, the minor-isotope counts ``N`` are binomial with probability
    ``p0 = r / (1 + r)`` if the true ratio is the reference ``r``. The z-score is
    ``(N - n p0) / sqrt(n p0 (1 - p0))`` and the p-value is the exact binomial probability of
    ``N`` or more, so both stay defined when ``N`` is 0. Only counting noise is tested:
    instrumental mass fractionation and real differences between pixels are not in it, so with
    millions of counts a ratio a fraction of a percent off the standard is "significant". Use an
    unlabelled control, measured the same way, to test for label uptake: as a ratio ``r`` (taken
    as exact), or better as its counts ``(N_c, D_c)``, which both carry counting noise: the test
    is then Fisher's exact test of the 2 x 2 table ``[[N, D], [N_c, D_c]]`` (one-sided: more minor
    isotope than the control; the z-score is the pooled two-proportion one). Counts that are not
    whole (after a dead-time correction) are rounded to the nearest whole number, numerator and
    denominator alike, before both the z-score and the p-value.

    Parameters
    ----------
    numerator_counts, denominator_counts : float or array_like
        Summed counts of the minor and major isotope.
    reference : float or (float, float)
        Reference ratio minor/major, or the summed (minor, major) counts of a control.

    Returns
    -------
    z, p : ndarray of float

    Examples
    --------
    >>> z, p = enrichment_test(150, 10000, 0.0112372)   # expected 10150 * 0.011112 = 112.8 13C counts
    >>> round(float(z), 2), bool(p < 0.001)
    (3.52, True)
    >>> z, p = enrichment_test(150, 10000, (120, 10000))   # against a control of 120 13C counts
    >>> round(float(z), 2), round(float(p), 3)
    (1.81, 0.04)
    """
    n, d = _whole(numerator_counts), _whole(denominator_counts)
    total = n + d
    with np.errstate(invalid="ignore", divide="ignore"):
        if isinstance(reference, tuple):
            control_n, control_d = _whole(reference[0]), _whole(reference[1])
            control_total = control_n + control_d
            pooled = (n + control_n) / (total + control_total)
            z = (n / total - control_n / control_total) / np.sqrt(
                pooled * (1 - pooled) * (1 / total + 1 / control_total))
            p = stats.hypergeom.sf(n - 1, total + control_total, n + control_n, total)
            return z, p
        p0 = reference / (1.0 + reference)
        z = (n - total * p0) / np.sqrt(total * p0 * (1 - p0))
    p = stats.binom.sf(n - 1, total, p0)
    return z, p


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate); NaN stays NaN.

    Call a row significant when its adjusted p-value is below the false discovery rate you
    accept (e.g. 0.05): among such rows, that fraction or fewer are expected to be false. The
    adjusted values need no cap at 1: the running minimum from the largest p-value down starts at
    that p-value itself (its factor m / m is 1), so none exceeds it.

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
    adjusted[order] = np.minimum.accumulate(scaled[::-1])[::-1]
    return adjusted


def group_ratios(counts, groups, n_clusters: int, ratios, control: int | None = None) -> pd.DataFrame:
    """The ratio columns (:data:`ISOTOPE_COLUMNS`) of pixel groups, one row per group and ratio.

    The shared engine of :func:`isotope_table`, the region table and the depth profiles. It
    does not reject groups: callers check their groups first. Where a group's denominator
    counts sum to zero, every column computed from the ratio is NaN (and ``enriched`` False);
    where its numerator counts do, the ratio is 0 with no error (NaN), and ``ratio_upper_limit``
    is the number to report.

    Parameters
    ----------
    counts : ndarray, shape (pixel, column)
        Counts of every pixel.
    groups : ndarray of int, shape (pixel,)
        Group of every pixel, 0..n_groups-1, or -1 for pixels in no group.
    n_clusters : int
    ratios : list of Ratio
        Columns of the numerator and denominator, names, reference and ``test_counts``.
    control : int, optional
        A group to test the others against (two-sample, see :func:`enrichment_test`), in place of
        the reference; its own rows get no test.

    Returns
    -------
    pandas.DataFrame
        Columns ``group`` then :data:`ISOTOPE_COLUMNS`; p-values not yet adjusted (NaN), no
        warning yet for undefined ratios (see :func:`finish_table`).

    Examples
    --------
    >>> counts = np.array([[10.0, 1000.0], [30.0, 1000.0], [5.0, 500.0]])
    >>> table = group_ratios(counts, np.array([0, 0, 1]), 2, [Ratio(0, 1, "13C/12C", "13C/12C", 0.0112372)])
    >>> table["ratio_of_sums"].tolist(), table["mean_pixel_ratio"].tolist()
    ([0.02, 0.01], [0.02, 0.01])
    """
    inside = groups >= 0
    pixels = np.bincount(groups[inside], minlength=n_clusters)
    parts = []
    for ratio in ratios:
        n_pix, d_pix = counts[inside, ratio.numerator], counts[inside, ratio.denominator]
        n_sum = np.bincount(groups[inside], weights=n_pix, minlength=n_clusters)
        d_sum = np.bincount(groups[inside], weights=d_pix, minlength=n_clusters)
        has_den = d_pix > 0
        pixel_ratio_sum = np.bincount(groups[inside][has_den], weights=n_pix[has_den] / d_pix[has_den],
                                      minlength=n_clusters)
        with_ratio = np.bincount(groups[inside][has_den], minlength=n_clusters)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_pixel_ratio = np.where(with_ratio > 0, pixel_ratio_sum / np.maximum(with_ratio, 1), np.nan)
        reference = ratio.reference if control is None else (n_sum[control], d_sum[control])
        part = pd.DataFrame({
            "group": np.arange(n_clusters), "ratio": ratio.name, "isotope": ratio.isotope,
            "test_counts": ratio.test_counts, "pixels": pixels, "numerator_counts": n_sum,
            "denominator_counts": d_sum, "mean_pixel_ratio": mean_pixel_ratio,
            "pixels_zero_denominator": pixels - with_ratio,
            **_from_ratio(n_sum, d_sum, reference, OTHER_ISOTOPES.get(ratio.isotope, 0.0)),
            "p_adjusted": np.nan, "enriched": False,
        })
        if control is not None:
            part.loc[control, ["z", "p_value"]] = np.nan
        parts.append(part)
    return pd.concat(parts, ignore_index=True)[["group", *ISOTOPE_COLUMNS]]


def _from_ratio(n_sum, d_sum, reference, others: float) -> dict:
    """The columns computed from the summed counts and the reference: NaN where ``d_sum`` is 0."""
    ratio, se = _ratio_and_error(n_sum, d_sum)
    reference_ratio = reference[0] / reference[1] if isinstance(reference, tuple) else reference
    reference_percent = float(atom_percent(reference_ratio, others))
    percent = atom_percent(ratio, others)
    z, p = enrichment_test(n_sum, d_sum, reference)
    undefined = ~(np.asarray(d_sum) > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        columns = {
            "ratio_of_sums": ratio, "ratio_se": se, "ratio_upper_limit": poisson_upper_limit(n_sum) / d_sum,
            "atom_percent": percent, "atom_percent_se": 100 * se * (1 + others) / (1 + ratio + others) ** 2,
            "reference_ratio": reference_ratio, "reference_atom_percent": reference_percent,
            "excess_atom_percent": percent - reference_percent,
            "delta_permil": 1000 * (ratio / reference_ratio - 1), "z": z, "p_value": p,
        }
    return {name: np.where(undefined, np.nan, values) if np.ndim(values) else values
            for name, values in columns.items()}


def resolve_ratios(image: NanoSIMSImage, ratios) -> list[Ratio]:
    """Look up the masses of ``ratios`` (see :func:`parse_ratios`) in ``image``.

    Warns where atom % would leave out isotopes of the element (:data:`OTHER_ISOTOPES`).

    Returns
    -------
    list of Ratio
        Numerator and denominator index in ``image``, ``"13C/12C"``, the isotope read, the
        reference, and ``test_counts`` ``"all"``.

    Raises
    ------
    NanoSIMSError
        If a mass is missing (the message lists the image's masses), a ratio divides a mass by
        itself, or no reference is known.

    Examples
    --------
    >>> image = NanoSIMSImage(np.ones((2, 2, 2)), ("12C", "13C"))
    >>> resolve_ratios(image, "13C/12C")
    [Ratio(numerator=1, denominator=0, name='13C/12C', isotope='13C/12C', reference=0.0112372, test_counts='all')]
    """
    resolved = []
    for numerator, denominator, reference in parse_ratios(ratios):
        num, den = image.mass_index(numerator), image.mass_index(denominator)
        isotope, reference = _reference(numerator, denominator, reference)
        if isotope not in OTHER_ISOTOPES:
            warnings.warn(
                f"{numerator}/{denominator}: atom_percent is 100 R / (1 + R), the atom % of an element with two "
                "isotopes; for this ratio it leaves out the element's other isotopes (or reads a molecular ion "
                "as an atom). Read it as the minor over the sum of these two masses only.", UserWarning, stacklevel=3,
            )
        resolved.append(Ratio(num, den, f"{numerator}/{denominator}", isotope, reference))
    return resolved


def split_for_ratios(image: NanoSIMSImage, ratios, masses=None, *, random_state=0) -> CountSplit:
    """Hold out half the counts of the masses of ``ratios`` that a clustering on ``masses`` would see.

    The split :func:`~nanosims_helpers.pipeline.cluster_image` makes when given ``ratios`` (and the
    command line's ``--ratios``): every ratio that shares a mass with ``masses`` has both of its
    masses split (:func:`~nanosims_helpers.split_half.hold_out_counts`); ratios whose masses are not
    clustered are tested on all their counts, which the clustering never saw.

    Parameters
    ----------
    image : NanoSIMSImage
        Raw counts, with planes where kept.
    ratios : str or sequence
        As :func:`parse_ratios`.
    masses : sequence of str, optional
        The masses the clustering will use; default every ion mass of ``image``.
    random_state : int
        Seed of the thinning.

    Returns
    -------
    CountSplit
        Cluster ``split.selection``; test on ``split.held_out``.

    Examples
    --------
    >>> image = NanoSIMSImage(np.full((2, 2, 4), 9.0), ("12C", "13C", "12C14N", "12C15N"))
    >>> split_for_ratios(image, "13C/12C,12C15N/12C14N", masses=["12C", "12C14N"]).held_out.masses
    ('13C', '12C', '12C15N', '12C14N')
    >>> split_for_ratios(image, "12C15N/12C14N", masses=["12C", "13C"]).held_out is None
    True
    """
    image = check_image(image)
    found_on = [image.masses[image.mass_index(m)] for m in (image.ion_masses if masses is None else masses)]
    pairs = [(image.masses[r.numerator], image.masses[r.denominator]) for r in resolve_ratios(image, ratios)]
    held = set()
    while True:  # a ratio sharing a mass with a held-out one is held out whole, so no ratio mixes the two
        more = {m for pair in pairs if set(pair) & (held | set(found_on)) for m in pair} - held
        if not more:
            break
        held |= more
    ordered = [m for pair in pairs for m in pair if m in held]
    return hold_out_counts(image, ordered, found_on=found_on, random_state=random_state)


def counts_to_test(image: NanoSIMSImage, ratios: list[Ratio], labels, split: CountSplit | None = None):
    """The map of groups, the (pixel, column) counts to test them on, and ``ratios`` pointing into them.

    The rule of :func:`isotope_table` and the region table. The split the groups were found on is
    ``split``, or the one ``labels`` carry (a ClusterResult's, or a map the kit made, see
    :func:`~nanosims_helpers.split_half.split_of`). A ratio whose masses were both held out is
    tested on the held-out half (columns after the image's); a ratio with a mass whose counts in
    ``image`` are those the groups were found on would test the counts that chose the groups, and
    is refused; any other ratio is tested on all counts. Without a split (a map of your own)
    every ratio is tested on all counts.

    Returns
    -------
    labels : array_like
    counts : ndarray, shape (pixel, column)
    ratios : list of Ratio
        With their columns in ``counts`` and ``test_counts``.

    Raises
    ------
    NanoSIMSError
        If a test would be circular, or ``split`` is not a split of ``image`` or contradicts the
        counts the labels were found on.
    """
    labels, carried = with_split(labels)
    split = _reconcile(carried, split)
    if split is None:
        return labels, image.pixels(), ratios
    held = () if split.held_out is None else split.held_out.masses
    if held and not all(_same(split.selection.channel(m) + split.held_out.channel(m), image.channel(m)) for m in held):
        raise NanoSIMSError(
            "split: not a split of this image (its halves do not add up to the image's counts); give the "
            "CountSplit made from this image (split_for_ratios, hold_out_counts or cluster_image(..., ratios=...))."
        )
    tested, table = [], [image.pixels()] + ([split.held_out.pixels()] if held else [])
    for ratio in ratios:
        masses = (image.masses[ratio.numerator], image.masses[ratio.denominator])
        if all(m in held for m in masses):
            columns = (image.shape[2] + held.index(m) for m in masses)
            tested.append(ratio._replace(numerator=next(columns), denominator=next(columns),
                                         test_counts=split.describe()))
            continue
        chose = [m for m in masses if m in split.found_on and _same(split.selection.channel(m), image.channel(m))]
        if chose:
            raise NanoSIMSError(_circular_message(ratio.name, chose))
        tested.append(ratio)
    return labels, np.concatenate(table, axis=1) if len(table) > 1 else table[0], tested


def _same(a, b) -> bool:
    """Whether two count maps are the same counts (to rounding: planes summed in another order)."""
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-9, atol=0)


def _reconcile(carried: CountSplit | None, given: CountSplit | None) -> CountSplit | None:
    """The split the groups were found on: the one given, or the one they carry.

    Both may be given when the groups were clustered from ``given.selection`` by a route that knows
    nothing of the split (they carry a split holding nothing out): the counts they were found on
    must then be those of ``given.selection``.
    """
    if given is not None and not isinstance(given, CountSplit):
        raise NanoSIMSError(f"split: expected a CountSplit (split_for_ratios, hold_out_counts), got "
                            f"{type(given).__name__}.")
    if given is None or carried is None or given is carried:
        return given or carried
    if carried.held_out is None and all(
        _same(carried.selection.channel(m), given.selection.channel(m))
        for m in carried.found_on if m in given.selection.masses
    ):
        return given
    raise NanoSIMSError("split: these labels were found on other counts than this split's selection (they carry "
                        "their own split); leave split= out.")


def _circular_message(ratio: str, masses) -> str:
    return (
        f"{ratio}: the clusters (or regions) were found on the {', '.join(masses)} counts this test would use, so "
        "its p-values and ratios would be biased (circular analysis: a cluster gathers pixels whose counts came out "
        "high or low by chance). Find them on half the counts and test the other half: cluster_image(image, k, "
        "ratios=[...]) then isotope_table(image, result) (--ratios on the command line does it), or find them on "
        "other masses."
    )


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
    >>> print(caught[0].message)
    1 row(s) have denominator counts summing to zero: region 3 (13C/12C). Their ratio, atom %, test and \
everything computed from them are undefined (NaN) and they are not called enriched.
    """
    undefined = table[table["ratio_of_sums"].isna()]
    if len(undefined):
        which = ", ".join(f"{what} {row[what]} ({row['ratio']})" for _, row in undefined.head(5).iterrows())
        more = " ..." if len(undefined) > 5 else ""
        warnings.warn(
            f"{len(undefined)} row(s) have denominator counts summing to zero: {which}{more}. "
            "Their ratio, atom %, test and everything computed from them are undefined (NaN) and they are not "
            "called enriched.", stacklevel=3,
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


def control_group(control, names, what: str, numbers=None) -> int | None:
    """The group index of ``control``, given by name or by number; None for no control.

    ``numbers`` are the groups' numbers (default 0..n-1).

    Examples
    --------
    >>> control_group("clay", ["resin", "clay"], "cluster"), control_group(0, ["resin", "clay"], "cluster")
    (1, 0)
    >>> control_group(7, ["region 3", "region 7"], "region", numbers=[3, 7])
    1
    """
    if control is None:
        return None
    numbers = list(range(len(names)) if numbers is None else numbers)
    if isinstance(control, str) and control in names:
        return list(names).index(control)
    if isinstance(control, (int, np.integer)) and not isinstance(control, bool) and control in numbers:
        return numbers.index(control)
    raise NanoSIMSError(f"control={control!r}: no such {what}; give one of {list(names)} or its number "
                        f"({', '.join(map(str, numbers))}).")


def isotope_table(image, labels, ratios=DEFAULT_RATIOS, names=None, *, control=None, alpha: float = 0.05,
                  split: CountSplit | None = None) -> pd.DataFrame:
    """Isotope ratios of every cluster, with Poisson errors, atom % and a test for enrichment.

    Which counts are tested (column ``test_counts``): clusters from
    ``cluster_image(image, k, ratios=...)`` were found on half the counts of the tested masses,
    and are tested on the other half, which the clustering never saw (see the module notes); so
    are maps derived from them (``merge_clusters``, ``cluster_regions``) and any map found on
    ``split.selection`` with ``split`` given. Clusters found on the tested counts with nothing held
    out are refused, with the way out. A label map of your own is tested on all counts: valid only
    if the counts of the tested masses played no part in drawing it (regions drawn on another
    image, or found on other masses).

    Parameters
    ----------
    image : NanoSIMSImage
        The counts (summed over planes); masses are looked up with ``image.mass_index``.
    labels : ClusterResult or array_like of int, shape (y, x)
        Cluster 0..k-1 of every pixel.
    ratios : str or sequence
        Mass ratios, minor isotope first (see :func:`parse_ratios`); default 13C/12C and
        12C15N/12C14N, read as 15N/14N. The reference is the natural abundance:
        :data:`VPDB_13C_12C` (13C/12C = 0.0112372, VPDB; see there for the other values in use),
        :data:`AIR_15N_14N` (15N/14N = 0.0036765, air N2), :data:`VSMOW_18O_16O`; give a third
        element to use another (a ratio, or a control's counts).
    names : sequence of str, optional
        One name per cluster (see :func:`nanosims_helpers.naming.name_clusters`); default
        ``"cluster i"``.
    control : int or str, optional
        A cluster (number or name) known to be unlabelled: every other cluster is tested against
        its counts (two-sample, :func:`enrichment_test`) instead of the natural abundance, which
        takes the instrument's mass fractionation out. Its own rows get no test.
    alpha : float
        False discovery rate for the ``enriched`` column.
    split : CountSplit, optional
        The split the labels were found on, for a map that does not carry it (e.g. regions found
        on ``split.selection``).

    Returns
    -------
    pandas.DataFrame
        One row per cluster and ratio: ``cluster``, ``name``, then ``ratio`` ("12C15N/12C14N"),
        ``isotope`` (what it measures, "15N/14N"), ``test_counts`` (which counts every number of
        the row comes from: ``"held-out half: ..."`` or ``"all"``), ``pixels``,
        ``numerator_counts``, ``denominator_counts`` (summed), ``ratio_of_sums`` R and
        ``ratio_se`` (R sqrt(1/N + 1/D); NaN when N is 0), ``ratio_upper_limit`` (one-sided 84 %
        Poisson upper limit of N, Gehrels 1986, over D: the number to report when N is 0),
        ``mean_pixel_ratio`` (biased at low counts, for comparison only; see the module notes) and
        ``pixels_zero_denominator`` (left out of that mean), ``atom_percent`` (100 R / (1 + R); a
        warning for elements with more isotopes, :data:`OTHER_ISOTOPES`) and its
        ``atom_percent_se``, ``reference_ratio`` and ``reference_atom_percent``,
        ``excess_atom_percent`` (atom % above the reference), ``delta_permil`` ((R/ref - 1) 1000),
        ``z`` and ``p_value`` (one-sided, see :func:`enrichment_test`), ``p_adjusted``
        (Benjamini-Hochberg over all rows) and ``enriched`` (``p_adjusted < alpha``). Where D is
        0 every number from the ratio on is NaN and ``enriched`` False, with a warning.

    Raises
    ------
    NanoSIMSError
        If a ratio is unreadable, a mass is missing (the message lists the image's masses), a
        ratio divides a mass by itself, the labels do not fit the image, a cluster has one pixel
        or no counts in either mass of a ratio, or the labels were found on the counts to test.

    Examples
    --------
    >>> counts = np.zeros((2, 4, 2))
    >>> counts[..., 0] = 1000.0                                    # 12C
    >>> counts[:, :2, 1], counts[:, 2:, 1] = 11.0, 60.0            # 13C: natural left, enriched right
    >>> image = NanoSIMSImage(counts, ("12C", "13C"))
    >>> labels = np.array([[0, 0, 1, 1], [0, 0, 1, 1]])           # drawn by hand: all counts are tested
    >>> table = isotope_table(image, labels, "13C/12C", names=["soil", "hotspot"])
    >>> table[["name", "ratio_of_sums", "test_counts", "enriched"]].values.tolist()
    [['soil', 0.011, 'all', False], ['hotspot', 0.06, 'all', True]]
    >>> round(float(table["ratio_se"][1]), 5)   # 0.06 * sqrt(1/240 + 1/4000)
    0.00399
    """
    image = check_image(image)
    labels, counts, resolved = counts_to_test(image, resolve_ratios(image, ratios), labels, split)
    flat, n_clusters = check_cluster_labels(labels, image.shape[:2])
    names = name_clusters(n_clusters, names)
    table = group_ratios(counts, flat, n_clusters, resolved, control_group(control, names, "cluster"))
    check_groups(table, "cluster", "labels")
    table.insert(1, "name", [names[g] for g in table["group"]])
    table = table.rename(columns={"group": "cluster"}).sort_values(["cluster"], kind="stable")
    return finish_table(table.reset_index(drop=True), "cluster", alpha)

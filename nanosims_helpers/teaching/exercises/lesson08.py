"""Lesson 08, isotope ratios: the checks and hints of its exercises."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._framework import Wrong, exercise, _sample, _number, _close, _phases


def _organic_13c_counts() -> tuple[np.ndarray, np.ndarray]:
    """13C and 12C counts of the organic-matter pixels of the labelled sample (exercise 08-1)."""
    image, truth = _sample("soil_512_labelled")
    organic = truth == _phases().index("organic matter")
    return image.channel("13C")[organic], image.channel("12C")[organic]


@exercise(
    "08-1",
    expects="two numbers: (ratio, standard error)",
    hints=(
        "A ratio of sums, not a mean of ratios: add up each isotope's counts over the region first.",
        "Sum the 13C counts and the 12C counts of the organic-matter pixels first (N and D), then "
        "divide; both counts are Poisson, so both add to the error.",
        "`N, D = n.sum(), d.sum()`, `R = N / D`, `se = R * np.sqrt(1 / N + 1 / D)`; answer `(R, se)`.",
    ),
)
def _check_08_1(answer):
    ratio, se = answer
    ratio, se = _number(ratio, "the ratio"), _number(se, "the standard error")
    n, d = _organic_13c_counts()
    total_n, total_d = float(n.sum()), float(d.sum())
    right_ratio = total_n / total_d
    if _close(ratio, float(np.mean(n[d > 0] / d[d > 0])), 1e-9 * right_ratio):
        raise Wrong("That is the mean of the pixels' own ratios, biased at low counts: sum the counts, then divide.")
    if _close(ratio, total_d / total_n, 1e-6 * total_d / total_n):
        raise Wrong("The ratio is upside down: the minor isotope (13C) goes on top.")
    if not _close(ratio, right_ratio, 1e-9 * right_ratio):
        raise Wrong("The ratio is not the summed 13C counts over the summed 12C counts of the organic-matter pixels.")
    right_se = right_ratio * np.sqrt(1 / total_n + 1 / total_d)
    if _close(se, right_ratio * np.sqrt(1 / total_n), 1e-9 * right_se):
        raise Wrong("The error leaves out the 12C counts: they are Poisson too, so 1/D belongs under the root.")
    if _close(se, right_ratio * (1 / total_n + 1 / total_d), 1e-9 * right_se):
        raise Wrong("The error is missing its square root.")
    if not _close(se, right_se, 1e-9 * right_se):
        raise Wrong("The ratio is right, the error is not R sqrt(1/N + 1/D) with the summed counts.")
    return "The ratio of summed counts and its Poisson error, as isotope_table reports them."


#: The Poisson means of exercise 08-2: minor and major isotope (true ratio 0.5).
_MINOR_MAJOR_08_2 = (60, 120)


def _coverage_draws_08_2() -> tuple[np.ndarray, np.ndarray]:
    """The 4000 minor and major counts of exercise 08-2, drawn as the exercise says."""
    rng = np.random.default_rng(1)
    minor, major = (rng.poisson(mean, size=4000) for mean in _MINOR_MAJOR_08_2)
    return minor, major


@exercise(
    "08-2",
    expects="a fraction between 0 and 1, from the draws of `np.random.default_rng(1)`",
    hints=(
        "Where the truth is known, an error formula can be checked: about 68 % of the +/- 1 SE intervals should cover it.",
        "Draw the 4000 minor and major counts with `rng.poisson`, compute each ratio and its error "
        "with the formula, and count how often `abs(ratio - 0.5) <= error`.",
        "`ratios = minor / major`, `errors = ratios * np.sqrt(1 / minor + 1 / major)`, "
        "`answer = np.mean(np.abs(ratios - 0.5) <= errors)`.",
    ),
)
def _check_08_2(answer):
    coverage = _number(answer, "the coverage")
    if 1 < coverage <= 100:
        raise Wrong("Give the coverage as a fraction between 0 and 1, not a percentage.")
    if not 0 <= coverage <= 1:
        raise Wrong("A coverage is a fraction of the intervals, between 0 and 1.")
    minor, major = _coverage_draws_08_2()
    ratios = minor / major
    errors = ratios * np.sqrt(1 / minor + 1 / major)
    if _close(coverage, np.mean(np.abs(ratios - 0.5) <= ratios * np.sqrt(1 / minor)), 1e-9):
        raise Wrong("Too few intervals cover the true ratio: the errors are too small. Is 1/D under the root?")
    if _close(coverage, np.mean(np.abs(ratios - 0.5) <= 2 * errors), 1e-9):
        raise Wrong("Too many intervals cover the true ratio: the interval is +/- 1 SE, not 2.")
    if not _close(coverage, np.mean(np.abs(ratios - 0.5) <= errors), 1e-9):
        raise Wrong("Not the share of the 4000 intervals ratio +/- SE that contain 0.5, with the counts drawn by "
                    "`rng = np.random.default_rng(1)` as the exercise says (minor first, then major).")
    return "About 68 % of the +/- 1 SE intervals cover the true ratio, as for a normal error."


@lru_cache(maxsize=1)
def _largest_15n_08_3() -> dict[str, float]:
    """The largest 15N/14N of the 4 clusters of exercise 08-3's flat image (one natural composition
    everywhere, as in lesson 08), three ways, and the true ratio."""
    from ...io.image import NanoSIMSImage
    from ...isotopes import AIR_15N_14N, DEFAULT_RATIOS, VPDB_13C_12C, isotope_table, ratio_of_sums
    from ...pipeline import cluster_image

    means = [300.0, 300.0 * VPDB_13C_12C, 50.0, 60.0, 60.0 * AIR_15N_14N]
    counts = np.random.default_rng(3).poisson(means, size=(96, 96, 5)).astype(float)
    flat = NanoSIMSImage(counts, ("12C", "13C", "16O", "12C14N", "12C15N"))
    split = cluster_image(flat, 4, ratios=DEFAULT_RATIOS)
    rows = isotope_table(flat, split, DEFAULT_RATIOS).query("isotope == '15N/14N'")
    all_counts = isotope_table(flat, split.labels.copy(), DEFAULT_RATIOS).query("isotope == '15N/14N'")
    circular = cluster_image(flat, 4).labels
    n, d = flat.channel("12C15N"), flat.channel("12C14N")
    return {
        "held_out": float(rows["ratio_of_sums"].max()),
        "others": tuple(rows["ratio_of_sums"].tolist()),
        "all_counts": float(all_counts["ratio_of_sums"].max()),
        "circular": max(ratio_of_sums(n[circular == c], d[circular == c])[0] for c in range(4)),
        "truth": AIR_15N_14N,
    }


@exercise(
    "08-3",
    expects="a ratio (a number)",
    hints=(
        "Counts that chose the clusters cannot also test them: give cluster_image the ratios you will test; "
        "it finds the clusters on half their masses' counts and keeps the other half, which isotope_table tests.",
        "Cluster with ratios=RATIOS (4 clusters, the default method and seed), make the table from the result, "
        "keep the rows whose isotope is 15N/14N and take the largest ratio_of_sums.",
        "`result = cluster_image(flat, 4, ratios=RATIOS)`; `answer = isotope_table(flat, result, RATIOS)"
        ".query(\"isotope == '15N/14N'\")['ratio_of_sums'].max()`.",
    ),
)
def _check_08_3(answer):
    value = _number(answer, "the ratio")
    found = _largest_15n_08_3()
    if _close(value, found["circular"], 1e-9):
        raise Wrong("That is the 15N/14N of clusters found on every count, tested on those same counts: the "
                    "clusters picked pixels whose 12C15N came out high by chance, so the ratio is biased. Hold "
                    "half the counts out of the clustering.")
    if _close(value, found["all_counts"], 1e-9):
        raise Wrong("The clusters were found on half the counts, but this ratio sums every count, the half that "
                    "chose the clusters included; give isotope_table the result itself, not a copy of its labels.")
    if _close(value, found["truth"], 1e-7):
        raise Wrong("That is the true 15N/14N of the image (air); the question asks what the table reports.")
    if _close(value, found["held_out"], 1e-9):
        return ("The held-out half never chose the clusters: even the largest cluster ratio lies near the truth, "
                "where clusters found and tested on the same counts reach several times it.")
    if any(_close(value, other, 1e-9) for other in found["others"]):
        raise Wrong("That is one cluster's 15N/14N on the held-out half, but not the largest.")
    raise Wrong("Not the largest held-out 15N/14N of cluster_image(flat, 4, ratios=RATIOS) with the default "
                "method and random_state.")

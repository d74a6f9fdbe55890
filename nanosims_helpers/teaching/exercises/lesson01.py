"""Lesson 01, loading and normalizing: the checks and hints of its exercises."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._framework import Wrong, exercise, _sample, _number, _close, _phases, _justified_choice


@exercise(
    "01-1",
    expects="a pair: a mass name such as '16O' and its share of zero pixels",
    hints=(
        "A pixel with no counts of a mass is 0 in that channel; the dimmest mass has the most of them.",
        "`image.counts == 0` is True where a pixel has no counts; its mean over the two image axes "
        "(`axis=(0, 1)`) is the share of zero pixels of each mass. Put it in a Series indexed by the masses.",
        "`share = pd.Series((image.counts == 0).mean(axis=(0, 1)), index=image.masses)`; "
        "`answer = (share.idxmax(), share.max())`.",
    ),
)
def _check_01_1(answer):
    image, _ = _sample("soil_512_labelled")
    share = pd.Series((image.counts == 0).mean(axis=(0, 1)), index=image.masses)
    mass = _justified_choice(answer, share, "the mass", "the share of zero pixels of {}")
    if mass == share.idxmin():
        raise Wrong("That is the mass with the FEWEST zero pixels: you want the largest share.")
    if mass != share.idxmax():
        raise Wrong(f"{mass} has {share[mass]:.1%} zero pixels; another mass has more. Compare all masses at once.")
    return f"{mass} has the lowest mean count, below one count per pixel, so most pixels get none."


def _flag_scores(min_denominator: float, factor: float) -> tuple[float, float]:
    """Precision and recall of flagging 12C15N/12C14N > factor x natural, as exercise 01-2 asks."""
    from ...preprocessing import ratio_image
    from ...synthetic import NATURAL_15N_RATIO

    image, truth = _sample("soil_512_labelled")
    ratio = np.nan_to_num(ratio_image(image, "12C15N", "12C14N", min_denominator=min_denominator))
    flagged = ratio > factor * NATURAL_15N_RATIO
    hotspot = _phases().index("labelled hotspot")
    precision = float((truth[flagged] == hotspot).mean()) if flagged.any() else 0.0
    return precision, float(flagged[truth == hotspot].mean())


@exercise(
    "01-2",
    expects="two numbers: (min_denominator, factor)",
    hints=(
        "Dim pixels give wild ratios from counting noise alone: one 12C15N count over ten 12C14N counts "
        "is already 27 times the natural ratio.",
        "Ask for more denominator counts, and for a higher factor: try min_denominator between 20 and 100 and a factor between 5 and 20; compute precision "
        "`(truth[flagged] == 4).mean()` and recall `flagged[truth == 4].mean()` for each pair.",
        "`for setting in [(20, 5), (50, 10), (100, 20)]: print(setting, flag_hotspots(*setting))` with "
        "`flag_hotspots` computing the ratio image with `min_denominator`, the flags `ratio > factor * NATURAL_15N`, "
        "and returning the precision and the recall; answer the first pair above 0.5 and 0.8.",
    ),
)
def _check_01_2(answer):
    min_denominator, factor = answer
    min_denominator, factor = _number(min_denominator, "min_denominator"), _number(factor, "the factor")
    if min_denominator <= 0 or factor <= 0:
        raise Wrong("Both numbers must be positive.")
    precision, recall = _flag_scores(min_denominator, factor)
    if recall == 0:
        raise Wrong("With these settings no hotspot pixel is flagged: the factor or min_denominator is too high.")
    if precision <= 0.5:
        raise Wrong(
            f"With these settings the precision is {precision:.2f}: most flagged pixels are not hotspots. "
            "Dim pixels are the noisy ones: ask for more 12C14N counts, or a higher factor."
        )
    if recall <= 0.8:
        raise Wrong(
            f"Precision {precision:.2f} is fine but the recall is {recall:.2f}: you miss true hotspot "
            "pixels. Loosen the setting that throws most of them away."
        )
    return f"Precision {precision:.2f}, recall {recall:.2f}."


@exercise(
    "01-3",
    expects="a dict {'max': after / before, 'percentile': after / before} of median ratios",
    hints=(
        "A maximum is set by one pixel; a percentile is not.",
        "Copy the counts, spoil one pixel of 12C14N, scale both copies with each method and compare the "
        "medians of the scaled 12C14N channel: divide the spoiled median by the original one.",
        "`np.median(preprocess(spoiled, 'max')[:, :, index])` divided by "
        "`np.median(preprocess(image.counts, 'max')[:, :, index])`, and the same with 'percentile'.",
    ),
)
def _check_01_3(answer):
    from ...preprocessing import preprocess

    image, _ = _sample("soil_512_labelled")
    index = image.mass_index("12C14N")
    spoiled = image.counts.copy()
    spoiled[0, 0, index] = 1e6
    for method in ("max", "percentile"):
        given = _number(answer[method], f"answer[{method!r}]")
        before = np.median(preprocess(image.counts, method)[:, :, index])
        after = np.median(preprocess(spoiled, method)[:, :, index])
        if _close(given, before / after, 1e-3 * before / after) and not _close(before, after, 1e-9 * before):
            raise Wrong(f"{method}: your ratio is upside down; divide the spoiled median by the original one.")
        if not _close(given, after / before, 1e-3 * max(after / before, 1e-9)):
            raise Wrong(
                f"{method}: not the ratio of the two medians. Spoil one pixel of 12C14N (and only that) in a "
                "copy, to 1,000,000 counts, and take the median of the scaled 12C14N channel of each."
            )
    return "One pixel squeezes the whole max-scaled channel towards 0; the percentiles do not move."

"""Lesson 07, real images: the checks and hints of its exercises."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from ._framework import Wrong, exercise, _sample, _number, _close


@lru_cache(maxsize=1)
def _openmims_halves():
    """The two halves of the kit's real single-plane file, split as exercise 07-1 asks."""
    from ...io.loading import load_image
    from ...io.real_data import DEFAULT_FOLDER
    from ...split_half import split_counts

    return split_counts(load_image(DEFAULT_FOLDER / "openmims_051117.im"), random_state=0)


@exercise(
    "07-1",
    expects="the ratio for 12C 15N (a number)",
    hints=(
        "For two independent Poisson halves of the same counts, the variance of their difference equals the mean of their sum.",
        "`first, second = split_counts(load_image(openmims), random_state=0)`; `first.counts` is (y, x, mass): "
        "average over the pixels with `.mean(axis=(0, 1))`, and pick the mass with `first.masses.index(...)`.",
        "`(((first.counts - second.counts) ** 2).mean(axis=(0, 1)) / (first.counts + second.counts)"
        ".mean(axis=(0, 1)))[first.masses.index('12C 15N')]`.",
    ),
)
def _check_07_1(answer):
    first, second = _openmims_halves()
    ratios = ((first.counts - second.counts) ** 2).mean(axis=(0, 1)) / (first.counts + second.counts).mean(axis=(0, 1))
    value = _number(answer, "the ratio")
    wanted = ratios[first.masses.index("12C 15N")]
    if _close(value, 1 / wanted, 1e-6) and not _close(value, wanted, 1e-6):
        raise Wrong("That is the mean of A + B over the mean of (A - B) ** 2: divide the other way round.")
    if not _close(value, wanted, 1e-6) and any(_close(value, other, 1e-6) for other in ratios):
        raise Wrong("That is the ratio of another mass; the question asks for 12C 15N.")
    if not _close(value, wanted, 1e-6):
        raise Wrong("Not the mean of (A - B) ** 2 over the mean of A + B for 12C 15N, with the halves of "
                    "split_counts(load_image(openmims), random_state=0).")
    return "Close to 1: each ion went to one half or the other independently, so the halves are Poisson."


@lru_cache(maxsize=1)
def _crop_scores_07_2() -> pd.DataFrame:
    from ...io.image import NanoSIMSImage
    from ...split_half import split_half_scores

    image = _sample("realistic_256")[0]
    crop = NanoSIMSImage.from_planes(image.planes[:, :128, :128], image.masses)
    return split_half_scores(crop, [6], random_state=0)


@exercise(
    "07-2",
    expects="the default pipeline's split-half F1 at k = 6 (a number)",
    hints=(
        "The split-half F1 is a column of the table split_half_scores returns, one row per k.",
        "`split_half_scores(crop, range(4, 8), random_state=0)` clusters the halves with the default pipeline; "
        "its column `split_half_f1` holds the score of each k.",
        "`default.loc[default['k'] == 6, 'split_half_f1'].item()`.",
    ),
)
def _check_07_2(answer):
    table = _crop_scores_07_2()
    value = _number(answer, "the split-half F1")
    if _close(value, table["split_half_ari"].item(), 1e-6) and not _close(value, table["split_half_f1"].item(), 1e-6):
        raise Wrong("That is the split-half ARI; the question asks for the split-half F1 (the worst-matched cluster).")
    if not _close(value, table["split_half_f1"].item(), 1e-6):
        raise Wrong("Not the default pipeline's split-half F1 at k = 6 on the top-left 128 x 128 crop "
                    "(random_state=0); is the crop the one of the exercise, with its planes?")
    return "The worst-matched cluster's F1: compare it with the other pipeline's at the same k."

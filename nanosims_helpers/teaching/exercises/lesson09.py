"""Lesson 09, the scikit-learn bridge: the self-check quiz on pixel tables."""

from __future__ import annotations

from ._framework import Wrong, exercise, _sample, _number


@exercise(
    "09-1",
    expects="a row number (int)",
    hints=(
        "`reshape(-1, n_masses)` lays the pixels out row after row of the image.",
        "Pixel (y, x) of an image `width` pixels wide is row y * width + x.",
        "`answer = 10 * image.shape[1] + 20`",
    ),
)
def _check_09_1(answer):
    width = _sample("soil_256")[0].shape[1]
    row = _number(answer, "the row number")
    if row == 20 * width + 10:
        raise Wrong("y and x are swapped: rows of the image come first, y * width + x.")
    if row != 10 * width + 20:
        raise Wrong("Not the row of pixel (y = 10, x = 20) in the table of soil_256.")
    return "table[row] holds the masses of pixel (10, 20); `np.unravel_index` goes the other way."


@exercise(
    "09-2",
    expects="two whole numbers: (rows, columns) of the pixel table of soil_512_labelled",
    hints=(
        "One row per pixel, one column per mass.",
        "The image is (y, x, mass): rows = y * x, columns = the number of masses.",
        "`answer = (image.shape[0] * image.shape[1], len(image.masses))`",
    ),
)
def _check_09_2(answer):
    image = _sample("soil_512_labelled")[0]
    rows, columns = (_number(value, "each size") for value in answer)
    if (rows, columns) == (len(image.masses), image.shape[0] * image.shape[1]):
        raise Wrong("Upside down: scikit-learn wants one ROW per pixel and one column per mass.")
    if rows != image.shape[0] * image.shape[1]:
        raise Wrong("Not the number of pixels of soil_512_labelled: one row per pixel.")
    if columns != len(image.masses):
        raise Wrong("Not the number of masses of soil_512_labelled: one column per mass.")
    return f"{int(rows):,} rows: why the slow methods of this lesson run on a sample of them."

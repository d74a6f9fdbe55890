"""The images every benchmark runs on: the 256 x 256 sample and the 512 x 512 labelled sample."""

from __future__ import annotations

import numpy as np

from nanosims_helpers.preprocessing import RECOMMENDED_PREPROCESSING, preprocess
from nanosims_helpers.teaching.samples import load_sample

#: Label used in the tables -> sample name.
IMAGES = {"256x256": "soil_256", "512x512": "soil_512_labelled"}


def sample_features(size: str) -> np.ndarray:
    """Preprocessed channels (y, x, mass) of the sample image of ``size`` ("256x256" or "512x512")."""
    image, _ = load_sample(IMAGES[size])
    return preprocess(image.counts, RECOMMENDED_PREPROCESSING)


def n_pixels(size: str) -> int:
    """Number of pixels of an image of ``size``."""
    rows, columns = (int(side) for side in size.split("x"))
    return rows * columns

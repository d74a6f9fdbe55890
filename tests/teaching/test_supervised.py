"""The supervised reference: features that ignore the ion yield, a classifier that learns what clustering cannot."""

import numpy as np
import pytest

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.teaching.realistic import REALISTIC_PHASES, RealisticSettings, simulate_realistic_image
from nanosims_helpers.teaching.supervised import SCALES, pixel_features, predict_phases, train_classifier

SHAPE = (64, 64)


def test_composition_features_do_not_see_the_ion_yield():
    """The yield multiplies every mass of a pixel alike: the centred log-ratios do not change."""
    rng = np.random.default_rng(0)
    counts = rng.uniform(500, 5000, size=(24, 24, 3))
    yield_field = np.exp(np.linspace(-0.7, 0.7, 24))[None, :, None]  # a factor 4 across the field
    plain = pixel_features(NanoSIMSImage(counts, ("12C", "16O", "12C14N")))
    ramped = pixel_features(NanoSIMSImage(counts * yield_field, ("12C", "16O", "12C14N")))
    per_scale = plain.shape[-1] // len(SCALES)
    composition = [s * per_scale + m for s in range(len(SCALES)) for m in range(3)]
    np.testing.assert_allclose(ramped[..., :3], plain[..., :3], atol=1e-3)  # the pixel itself
    # smoothed, a pixel's neighbours have a slightly other yield: the features move by a hundredth or two
    np.testing.assert_allclose(ramped[..., composition], plain[..., composition], atol=0.03)
    np.testing.assert_allclose(plain[..., composition].reshape(24, 24, len(SCALES), 3).sum(axis=-1), 0, atol=1e-4)


def test_two_organic_phases_that_differ_only_in_n_to_c_are_learned_apart():
    """Microbial matter at 1.6 times the N/C of plant debris, wide grain variation, few counts."""
    means = [list(row) for row in RealisticSettings().major_means]
    means[2][2] = means[5][2] = 0.15 * means[2][0]
    settings = RealisticSettings(major_means=tuple(map(tuple, means)), composition_sigma=0.18)
    train, test = (simulate_realistic_image((96, 96), count_scale=0.4, settings=settings, random_state=seed)
                   for seed in (1, 2))
    model = train_classifier([train.image], [train.truth], n_pixels=6000, random_state=0)
    learned = predict_phases(model, test.image)
    assert (learned == test.truth).mean() > 0.8
    for phase in ("plant debris", "microbial organic matter"):
        index = REALISTIC_PHASES.index(phase)
        truth, found = test.truth == index, learned == index
        assert 2 * (truth & found).sum() / (truth.sum() + found.sum()) > 0.6  # F1 of each, not one merged


@pytest.mark.parametrize("problem, match", [
    ("no images", "one truth map per image"),
    ("truth shape", r"truths\[0\]: expected whole phase indices"),
    ("float truth", r"truths\[0\]"),
    ("one phase", "one phase only"),
    ("masses", r"images\[1\]: masses"),
])
def test_bad_training_data_is_refused(problem, match):
    image = NanoSIMSImage(np.ones((20, 20, 2)), ("12C", "16O"))
    truth = np.tile([0, 1], (20, 10))
    images, truths = [image], [truth]
    if problem == "no images":
        images, truths = [], []
    if problem == "truth shape":
        truths = [truth[:10]]
    if problem == "float truth":
        truths = [truth.astype(float)]
    if problem == "one phase":
        truths = [np.zeros((20, 20), int)]
    if problem == "masses":
        images, truths = [image, NanoSIMSImage(np.ones((20, 20, 2)), ("12C", "13C"))], [truth, truth]
    with pytest.raises(NanoSIMSError, match=match):
        train_classifier(images, truths, n_pixels=200)


def test_an_image_with_other_masses_is_refused():
    sample = simulate_realistic_image((32, 32), random_state=0)
    model = train_classifier([sample.image], [np.minimum(sample.truth, 1)], n_pixels=500)
    with pytest.raises(NanoSIMSError, match="trained on"):
        predict_phases(model, sample.image.select(["12C", "16O"]))
    assert model.n_phases == 2 and predict_phases(model, sample.image).max() <= 1

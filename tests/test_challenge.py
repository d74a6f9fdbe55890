"""The challenge image, its scorer and the results table."""

import numpy as np
import pytest

from nanosims_helpers import challenge
from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.synthetic import PHASES
from nanosims_helpers.io.samples import list_samples, load_sample


def _truth():
    return challenge._simulate()[1]


def test_challenge_image_is_not_a_shipped_sample():
    image = challenge.challenge_image()
    assert image.shape == (384, 384, 7)
    for name in list_samples():
        sample, _ = load_sample(name)
        assert sample.shape[:2] != image.shape[:2]


def test_challenge_image_contains_every_phase_including_hotspots():
    assert set(np.unique(_truth())) == set(range(len(PHASES)))


def test_challenge_image_is_a_copy_each_time():
    first = challenge.challenge_image()
    first.counts[:] = 0
    assert challenge.challenge_image().counts.sum() > 0


def test_the_truth_scores_perfectly_whatever_its_label_values():
    scores = challenge.score_submission(_truth() * 10 + 7)
    assert scores["adjusted_rand"] == pytest.approx(1.0)
    assert scores["mean_f1"] == pytest.approx(1.0)
    assert scores["n_clusters"] == len(PHASES)


def test_random_labels_score_near_zero():
    labels = np.random.default_rng(0).integers(0, 5, size=_truth().shape)
    scores = challenge.score_submission(labels)
    assert abs(scores["adjusted_rand"]) < 0.01
    assert scores["mean_f1"] < 0.5


def test_merging_two_phases_lowers_the_score_and_their_f1():
    merged = _truth().copy()
    merged[merged == 3] = 2  # iron oxide counted as aluminosilicate
    scores = challenge.score_submission(merged)
    assert 0.3 < scores["adjusted_rand"] < 1
    assert scores["f1 organic matter"] == pytest.approx(1.0)
    assert scores["f1 iron oxide"] < 1 and scores["f1 aluminosilicate"] < 1


def test_best_match_f1_by_hand():
    # phase 0 = pixels 0-3, phase 1 = pixels 4-5; cluster 0 = pixels 0-1, cluster 1 = pixels 2-5.
    # Phase 0: cluster 0 gives 2*2/(4+2), cluster 1 gives 2*2/(4+4); the best is cluster 0.
    # Phase 1: cluster 1 gives 2*2/(2+4).
    f1 = challenge.best_match_f1([0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1])
    assert f1[0] == pytest.approx(4 / 6) and f1[1] == pytest.approx(4 / 6)
    assert np.isnan(f1[2:]).all()


@pytest.mark.parametrize("labels", [np.zeros((256, 256), int), np.zeros((384, 384)), "abc"])
def test_bad_submissions_are_explained(labels):
    with pytest.raises(NanoSIMSError, match="challenge_image"):
        challenge.score_submission(labels)


def test_results_table_orders_columns_and_rows():
    rows = [
        {"method": "one cluster", **challenge.score_submission(np.zeros((384, 384), int))},
        {"method": "truth", "notes": "cheating", **challenge.score_submission(_truth())},
    ]
    table = challenge.results_table(rows)
    assert list(table["method"]) == ["truth", "one cluster"]
    assert list(table.columns[:3]) == ["method", "notes", "adjusted_rand"]


def test_empty_results_table_shows_the_score_columns():
    table = challenge.results_table()
    assert len(table) == 0 and "adjusted_rand" in table.columns

"""clustering_entropy: its definition, and the properties that make it usable to choose k."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import entropy as shannon_entropy

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.metrics import clustering_entropy

TOLERANCE = 1e-9


def entropy_by_hand(values, labels, bins):
    """The definition, written as loops over clusters and features with numpy.histogram."""
    edges = [np.histogram_bin_edges(column, bins) for column in values.T]
    total = 0.0
    for cluster in np.unique(labels):
        members = values[labels == cluster]
        per_feature = [shannon_entropy(np.histogram(members[:, j], edges[j])[0]) for j in range(values.shape[1])]
        total += len(members) * sum(per_feature)
    return total / len(values)


def test_hand_computed_example():
    # feature 0 (edges 0, 0.5, 1) -> bins 0,0,1 | 1,0,1,1 ; feature 1 (edges 0, 2, 4) -> bins 0,1,1 | 1,1,1,1
    values = np.array([[0, 0], [0, 2], [1, 4], [1, 4], [0, 4], [1, 4], [1, 4]], dtype=float)
    labels = np.array([0, 0, 0, 1, 1, 1, 1])
    two_to_one = math.log(3) - 2 / 3 * math.log(2)  # entropy of a 2:1 histogram, in nats
    three_to_one = math.log(4) - 3 / 4 * math.log(3)
    # cluster 0 (3 pixels): two 2:1 histograms; cluster 1 (4 pixels): a 3:1 one and a constant one
    expected = (3 * 2 * two_to_one + 4 * three_to_one) / 7
    assert clustering_entropy(values, labels, bins=2) == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(3))
def test_matches_the_definition_on_random_data(seed):
    rng = np.random.default_rng(seed)
    values = rng.lognormal(size=(500, 4))
    values[:, 3] = 2.0  # a constant feature adds nothing
    labels = rng.integers(0, 5, 500)
    for bins in (1, 3, 10):
        assert clustering_entropy(values, labels, bins) == pytest.approx(entropy_by_hand(values, labels, bins))


def test_zero_when_every_feature_is_constant_inside_every_cluster():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 3))
    labels = rng.integers(0, 4, 200)
    assert clustering_entropy(centres[labels], labels) == 0.0
    assert clustering_entropy(centres[labels].reshape(10, 20, 3), labels.reshape(10, 20)) == 0.0


def test_bounded_by_features_times_log_bins():
    rng = np.random.default_rng(1)
    values = rng.uniform(size=(4000, 3))
    one_cluster = np.zeros(4000, dtype=int)
    value = clustering_entropy(values, one_cluster, bins=10)
    assert value <= 3 * math.log(10) + TOLERANCE
    assert value == pytest.approx(3 * math.log(10), rel=0.01)  # uniform data fill the bins evenly


def test_independent_of_label_names_and_pixel_order():
    rng = np.random.default_rng(2)
    values = rng.normal(size=(300, 2))
    labels = rng.integers(0, 4, 300)
    reference = clustering_entropy(values, labels)
    assert clustering_entropy(values, np.array([30, -1, 5, 8])[labels]) == pytest.approx(reference)
    order = rng.permutation(300)
    assert clustering_entropy(values[order], labels[order]) == pytest.approx(reference)


pixel_tables = st.integers(1, 4).flatmap(
    lambda n_features: arrays(
        np.float64,
        st.tuples(st.integers(2, 40), st.just(n_features)),
        elements=st.one_of(st.integers(-5, 5).map(float), st.floats(-1e6, 1e6, allow_nan=False)),
    )
)


@settings(max_examples=100, deadline=None)
@given(values=pixel_tables, data=st.data())
def test_splitting_a_cluster_never_raises_it(values, data):
    n_pixels = values.shape[0]
    labels = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n_pixels, max_size=n_pixels)))
    bins = data.draw(st.integers(1, 12))
    cluster = data.draw(st.sampled_from(sorted(set(labels.tolist()))))
    moved = np.array(data.draw(st.lists(st.booleans(), min_size=n_pixels, max_size=n_pixels)))
    split = np.where((labels == cluster) & moved, labels.max() + 1, labels)
    assert clustering_entropy(values, split, bins) <= clustering_entropy(values, labels, bins) + TOLERANCE


@settings(max_examples=40, deadline=None)
@given(values=pixel_tables, extra=st.data())
def test_adding_a_feature_never_lowers_it(values, extra):
    n_pixels = values.shape[0]
    labels = np.array(extra.draw(st.lists(st.integers(0, 3), min_size=n_pixels, max_size=n_pixels)))
    column = np.array(extra.draw(st.lists(st.floats(-100, 100), min_size=n_pixels, max_size=n_pixels)))
    wider = np.column_stack([values, column])
    assert clustering_entropy(wider, labels) >= clustering_entropy(values, labels) - TOLERANCE


def test_one_cluster_is_the_entropy_of_the_whole_image():
    values = np.array([[0.0], [1.0], [0.0], [1.0]])
    assert clustering_entropy(values, [0, 0, 0, 0], bins=2) == pytest.approx(math.log(2))


@pytest.mark.parametrize("bins", [0, -3, 2.5, "10", True])
def test_bins_must_be_a_positive_whole_number(bins):
    with pytest.raises(NanoSIMSError, match="bins"):
        clustering_entropy(np.zeros((4, 1)), [0, 0, 1, 1], bins=bins)

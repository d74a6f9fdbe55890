"""Naming and merging clusters."""

import numpy as np
import pytest

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.naming import merge_clusters, name_clusters


def test_names_fill_in_defaults_and_refuse_duplicates():
    assert name_clusters(2) == ["cluster 0", "cluster 1"]
    assert name_clusters(3, ["a", " ", "c"]) == ["a", "cluster 1", "c"]
    with pytest.raises(NanoSIMSError, match="merge them"):
        name_clusters(2, ["OM", "OM"])
    with pytest.raises(NanoSIMSError, match="no cluster 5"):
        name_clusters(2, {5: "x"})
    with pytest.raises(NanoSIMSError, match="give 3 names"):
        name_clusters(3, ["a", "b"])


def test_merge_keeps_the_lowest_number_and_closes_the_gap():
    labels = np.array([[0, 1, 2, 3, 4]])
    merged, names = merge_clusters(labels, [3, 1], ["a", "b", "c", "d", "e"])
    assert merged.tolist() == [[0, 1, 2, 1, 3]]
    assert names == ["a", "b + d", "c", "e"]
    merged, names = merge_clusters(labels, (0, 4), name="resin")
    assert merged.tolist() == [[0, 1, 2, 3, 0]] and names[0] == "resin" and len(names) == 4


@pytest.mark.parametrize("clusters", [[1], [1, 1], [0, 7]])
def test_merge_needs_two_existing_clusters(clusters):
    with pytest.raises(NanoSIMSError, match="two or more different clusters"):
        merge_clusters(np.array([0, 1, 2]), clusters)

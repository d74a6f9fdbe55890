"""Split-half reproducibility: two independent halves of the counts, their agreement per k, and -k auto."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from nanosims_helpers import count_split, pipeline
from nanosims_helpers.cli import main
from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.io.loading import load_image
from nanosims_helpers.io.real_data import DEFAULT_FOLDER
from nanosims_helpers.metrics import f1_matrix, matched_f1
from nanosims_helpers.split_half import (
    SPLIT_HALF_COLUMNS,
    SPLIT_HALF_THRESHOLD,
    hold_out_counts,
    near_f1_matrix,
    recommend_counted_k,
    recommend_k,
    remember_split,
    split_counts,
    split_half_scores,
    split_of,
)
from nanosims_helpers.teaching.samples import load_sample
from nanosims_helpers.teaching.synthetic import simulate_soil_image

MEAN = 20.0


def flat_planes(n_planes, shape=(64, 64), seed=0):
    """Poisson planes of a field without structure: every pixel and mass has the same mean."""
    return np.random.default_rng(seed).poisson(MEAN / n_planes, (n_planes, *shape, 2)).astype(float)


def assert_independent_poisson_halves(first, second, total):
    """Each half: mean about half the total, variance about its mean (Poisson); no correlation."""
    a, b = first.counts.ravel(), second.counts.ravel()
    assert np.array_equal(a + b, total.ravel())
    assert abs(a.mean() - MEAN / 2) < 0.2 and abs(b.mean() - MEAN / 2) < 0.2
    assert abs(a.var() / a.mean() - 1) < 0.1 and abs(b.var() / b.mean() - 1) < 0.1
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.05


def test_planes_split_into_even_and_odd_sums_that_are_independent():
    planes = flat_planes(4)
    image = NanoSIMSImage.from_planes(planes, ("12C", "16O"), pixel_size_um=0.1)
    first, second = split_counts(image)
    np.testing.assert_array_equal(first.counts, planes[0] + planes[2])
    np.testing.assert_array_equal(second.counts, planes[1] + planes[3])
    assert first.masses == image.masses and first.pixel_size_um == 0.1 and first.planes is None
    assert_independent_poisson_halves(first, second, image.counts)


def test_an_odd_last_plane_is_shared_out_so_both_halves_get_half_the_counts():
    planes = flat_planes(3)
    first, second = split_counts(NanoSIMSImage.from_planes(planes, ("12C", "16O")))
    assert_independent_poisson_halves(first, second, planes.sum(axis=0))


def test_a_single_plane_is_split_by_binomial_thinning():
    counts = flat_planes(1)[0]
    first, second = split_counts(NanoSIMSImage(counts, ("12C", "16O")), random_state=3)
    assert_independent_poisson_halves(first, second, counts)
    again, _ = split_counts(NanoSIMSImage(counts, ("12C", "16O")), random_state=3)
    np.testing.assert_array_equal(first.counts, again.counts)


@pytest.mark.parametrize("bad", [0.5, -1.0])
def test_counts_that_cannot_be_thinned_are_refused_with_the_way_out(bad):
    counts = flat_planes(1)[0]
    counts[3, 4, 0] = bad
    image = NanoSIMSImage(counts, ("12C", "16O"))
    with pytest.raises(NanoSIMSError, match="without the dead-time correction"):
        split_counts(image)


def test_a_dead_time_corrected_file_is_refused_and_the_raw_one_splits():
    path = DEFAULT_FOLDER / "openmims_051117.im"
    with pytest.raises(NanoSIMSError, match="dead-time"):
        split_counts(load_image(path, dead_time_correction=True))
    first, second = split_counts(load_image(path))
    assert first.counts.sum() > 0 and second.counts.sum() > 0


def test_too_small_and_too_sparse_images_get_a_clear_message():
    with pytest.raises(NanoSIMSError, match="too few to split"):
        split_counts(NanoSIMSImage(np.full((8, 8, 2), 50.0), ("12C", "16O")))
    sparse = NanoSIMSImage(np.random.default_rng(0).poisson(0.3, (64, 64, 2)).astype(float), ("12C", "16O"))
    with pytest.raises(NanoSIMSError, match="counts per pixel"):
        split_counts(sparse)
    with pytest.raises(NanoSIMSError, match="NanoSIMSImage"):
        split_counts(np.ones((32, 32, 2)))


@pytest.mark.parametrize("seed", [0, 1])
def test_the_split_half_score_peaks_at_the_known_number_of_phases(seed):
    image, truth = simulate_soil_image((64, 64), count_scale=0.1, random_state=seed)
    n_phases = np.unique(truth).size
    table = split_half_scores(image, range(2, n_phases + 4))
    assert list(table.columns) == list(SPLIT_HALF_COLUMNS)
    at_truth = table.loc[table["k"] == n_phases, "split_half_f1"].item()
    above = table.loc[table["k"] > n_phases, "split_half_f1"]
    assert at_truth >= SPLIT_HALF_THRESHOLD and at_truth - above.max() > 0.1
    assert recommend_k(image, max_clusters=12, random_state=seed).k == n_phases


def test_the_recommended_k_of_the_realistic_sample_is_within_one_of_its_phases():
    image, truth = load_sample("realistic_256")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        choice = recommend_k(image)
    n_phases = np.unique(truth).size
    assert abs(choice.k - n_phases) <= 1 and choice.k < choice.entropy_knee
    assert choice.split_half_f1 >= SPLIT_HALF_THRESHOLD


def test_halves_are_clustered_by_the_default_pipeline_unless_told(monkeypatch):
    image = simulate_soil_image((32, 32), count_scale=0.1)[0]
    calls = []

    def spy(half, k, **kwargs):
        calls.append((half.shape, k))
        return pipeline.cluster_features(np.log1p(half.counts), k, random_state=kwargs["random_state"])

    monkeypatch.setattr(pipeline, "cluster_image", spy)
    split_half_scores(image, [3])
    assert calls == [((32, 32, 7), 3)] * 2
    own = split_half_scores(image, [2, 3], cluster=lambda half, k, random_state: np.zeros(half.shape[:2], int))
    assert len(calls) == 2 and own["split_half_ari"].tolist() == [1.0, 1.0]


def test_the_split_half_f1_is_that_of_the_worst_matched_cluster():
    image = NanoSIMSImage(np.full((20, 20, 2), 10.0), ("12C", "16O"))
    maps = {"A": np.zeros((20, 20), int), "B": np.zeros((20, 20), int)}
    maps["A"][:4, :4] = 1  # a small cluster of 16 pixels in half A ...
    maps["B"][-4:, -4:] = 1  # ... that half B puts somewhere else
    halves = iter("AB")
    table = split_half_scores(image, [2], cluster=lambda half, k, random_state: maps[next(halves)], tolerance_px=0)
    # the big cluster comes back (F1 = 2 * 368 / (384 + 384) = 0.96); the small one's best match is
    # the other half's big cluster, which holds all its 16 pixels: F1 = 2 * 16 / (16 + 384) = 0.08
    assert table["split_half_f1"].item() == pytest.approx(0.08)


def test_recommend_k_falls_back_to_the_knee_when_the_image_cannot_be_split():
    counts = np.random.default_rng(0).poisson(1.0, (40, 40, 2)).astype(float) + 0.5  # not whole counts
    with pytest.warns(UserWarning, match="No split-half check"):
        choice = recommend_k(NanoSIMSImage(counts, ("12C", "16O")), max_clusters=8)
    assert choice.k == choice.entropy_knee and np.isnan(choice.split_half_f1)
    with pytest.raises(NanoSIMSError, match="max_clusters"):
        recommend_k(NanoSIMSImage(counts, ("12C", "16O")), max_clusters=3)


def test_command_line_reports_the_chosen_k_and_its_split_half_score(capsys, tmp_path):
    path = DEFAULT_FOLDER / "openmims_051117.im"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main([str(path), "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    scores = json.loads((tmp_path / "openmims_051117_scores.json").read_text())
    assert 2 <= scores["k"] < scores["entropy_knee"] and "split-half" in scores["k_chosen"]
    table = pd.DataFrame(scores["split_half_scores"])
    chosen = table.loc[table["k"] == scores["k"]].iloc[0]
    assert chosen["split_half_f1"] == scores["split_half_f1"] and chosen["split_half_ari"] == scores["split_half_ari"]
    assert table["k"].max() == scores["entropy_knee"]
    passed = table.loc[table["split_half_f1"] >= SPLIT_HALF_THRESHOLD, "k"]
    assert scores["k"] == (passed.max() if len(passed) else table.loc[table["split_half_f1"].idxmax(), "k"])
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary.loc[0, "split_half_f1"] == pytest.approx(scores["split_half_f1"])
    assert summary.loc[0, "entropy_knee"] == scores["entropy_knee"]


def test_command_line_with_a_given_k_has_no_split_half_score(capsys, tmp_path):
    path = DEFAULT_FOLDER / "openmims_051117.im"
    assert main([str(path), "--out", str(tmp_path), "-k", "3"]) == 0
    capsys.readouterr()
    scores = json.loads((tmp_path / "openmims_051117_scores.json").read_text())
    assert scores["k_chosen"] == "given" and scores["split_half_f1"] is None and scores["entropy_knee"] is None


def test_matched_f1_by_hand():
    # reference cluster 0 = pixels {0, 1}: best cluster {0, 1, 2}, F1 = 2*2 / (2 + 3)
    # reference cluster 1 = pixels {2, 3}: best cluster {3}, F1 = 2*1 / (2 + 1)
    np.testing.assert_allclose(matched_f1([0, 0, 0, 1], [0, 0, 1, 1]), [0.8, 2 / 3])


def test_the_overview_title_shows_the_split_half_score():
    from nanosims_helpers.runs.outputs import _overview_title

    image = NanoSIMSImage(np.ones((2, 2, 1)), ("12C",))
    assert _overview_title(image, {"method": "kmeans", "k": 3, "split_half_f1": 0.876}).endswith(
        "k = 3, split-half F1 0.88"
    )
    assert "split-half" not in _overview_title(image, {"method": "kmeans", "k": 3, "split_half_f1": None})


def test_without_tolerance_the_near_f1_is_the_usual_f1():
    rng = np.random.default_rng(0)
    first, second = rng.integers(0, 4, (30, 40)), rng.integers(0, 3, (30, 40))
    np.testing.assert_allclose(near_f1_matrix(first, second, 0), f1_matrix(first.ravel(), 4, second.ravel(), 3))


def test_a_boundary_moved_by_one_pixel_is_forgiven_a_moved_cluster_is_not():
    yy, xx = np.mgrid[:40, :40]
    cell = (yy - 20) ** 2 + (xx - 20) ** 2 <= 9  # a disk of radius 3, like a labelled cell
    first = cell.astype(int)
    shifted = np.roll(cell, 1, axis=1).astype(int)
    moved = np.roll(cell, 8, axis=1).astype(int)
    assert near_f1_matrix(first, shifted, 0)[1, 1] < SPLIT_HALF_THRESHOLD
    assert near_f1_matrix(first, shifted, 1)[1, 1] == 1.0
    assert near_f1_matrix(first, moved, 1)[1, 1] == 0.0


def test_held_out_counts_are_an_independent_poisson_half_of_the_named_masses_only():
    counts = flat_planes(1)[0]
    image = NanoSIMSImage(counts, ("12C", "16O"))
    split = hold_out_counts(image, ["16O"], random_state=3)
    assert split.held_out.masses == ("16O",) and split.kind == "binomial thinning" and split.random_state == 3
    np.testing.assert_array_equal(split.selection.channel("12C"), image.channel("12C"))  # not held out: whole
    # the same rule as split_counts: half A of 16O is split_counts' half A of 16O, for the same seed
    same_rule = split_counts(image.select(["16O"]), random_state=3)[0]
    np.testing.assert_array_equal(split.selection.channel("16O"), same_rule.channel("16O"))
    first, second = (NanoSIMSImage(np.repeat(part.channel("16O")[..., None], 2, axis=2), ("a", "b"))
                     for part in (split.selection, split.held_out))
    assert_independent_poisson_halves(first, second, np.repeat(image.channel("16O")[..., None], 2, axis=2))
    again = hold_out_counts(image, ["16O"], random_state=3)
    np.testing.assert_array_equal(again.held_out.counts, split.held_out.counts)


def test_held_out_counts_of_planes_are_the_even_planes_whatever_the_counts():
    planes = flat_planes(4) * 1.02  # dead-time corrected planes: fractions, which odd/even planes do not mind
    image = NanoSIMSImage.from_planes(planes, ("12C", "16O"))
    split = hold_out_counts(image, ["12C"])
    np.testing.assert_array_equal(split.held_out.channel("12C"), planes[1::2, ..., 0].sum(axis=0))
    assert split.describe() == "held-out half: odd/even planes" and split.record()["random_state"] is None
    with pytest.raises(NanoSIMSError, match="without the dead-time correction"):
        hold_out_counts(NanoSIMSImage(image.counts, image.masses), ["12C"])


def test_the_kit_remembers_which_split_its_maps_were_found_on_while_they_live():
    image = NanoSIMSImage(flat_planes(1)[0], ("12C", "16O"))
    split = hold_out_counts(image, ["16O"])
    labels = np.zeros((64, 64), int)
    remember_split(labels, split)
    assert split_of(labels) is split and split_of(labels.copy()) is None and split_of(labels[:10]) is None
    key = id(labels)
    del labels
    assert key not in count_split._SPLITS  # forgotten with the map


def test_recommend_counted_k_clusters_each_half_on_its_own_counts():
    """Two planes that disagree: the odd plane splits the field left from right, the even plane
    top from bottom. Their sum has three compositions (the two mixed quadrants alike), so the
    count is 3; each half of the counts, clustered alone, shows another map, and the check says
    so. Halves clustered on anything but their own counts would agree."""
    rng = np.random.default_rng(21)
    means = np.full((2, 32, 32, 2), 2.0)
    means[0, :, :16, 0] = means[0, :, 16:, 1] = 40.0
    means[1, :16, :, 0] = means[1, 16:, :, 1] = 40.0
    image = NanoSIMSImage.from_planes(rng.poisson(means).astype(float), ("12C", "16O"))
    with pytest.warns(UserWarning, match="worst-matched cluster"):
        choice = recommend_counted_k(image)
    assert choice.k == 3
    assert choice.split_half_f1 < 0.7

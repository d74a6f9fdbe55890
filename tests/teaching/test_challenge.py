"""The challenge's images and their design, the three tracks' scores, submissions and the self-study secret."""

import json

import numpy as np
import pytest
import tifffile
from scipy import ndimage
from sklearn.metrics import adjusted_rand_score, f1_score

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.io.loading import load_image, save_image_tiff
from nanosims_helpers.teaching import challenge
from nanosims_helpers.teaching.challenge import design, practice, scores
from nanosims_helpers.teaching.samples import load_sample

SMALL = (64, 64)
CELLS = "labelled cells"


@pytest.fixture(autouse=True)
def no_secret(monkeypatch):
    """Every test starts in the sealed mode, whatever the machine's environment holds."""
    monkeypatch.delenv(challenge.SECRET_VARIABLE, raising=False)
    monkeypatch.delenv(challenge.SECRET_FILE_VARIABLE, raising=False)


@pytest.fixture(scope="module")
def sample():
    return challenge.practice_sample().sample


def _submit(tmp_path, labels, image, name="team.tif", **kwargs):
    kwargs = {"team": "team", "justification": "because", **kwargs}
    return challenge.save_submission(labels, tmp_path / name, image=image, **kwargs)


# --- the practice image and its scores -----------------------------------------------------------


def test_practice_image_is_realistic_with_planes_and_not_the_shipped_sample(sample):
    image = challenge.challenge_image()
    assert image.shape == (*design.CHALLENGE_SHAPE, 7) and image.n_planes == 8
    assert image.name == "practice.tif"
    np.testing.assert_array_equal(image.counts, sample.image.counts)
    _, shipped_truth = load_sample("realistic_256")
    assert adjusted_rand_score(shipped_truth.ravel(), sample.truth.ravel()) < 0.2
    # the practice image holds every phase: the six of the realistic sample and the rare charcoal
    assert set(np.unique(sample.truth)) == set(range(len(sample.phase_names))) and len(sample.phase_names) == 7


def test_challenge_image_is_a_copy_each_time():
    first = challenge.challenge_image()
    first.counts[:] = 0
    first.planes[:] = 0
    assert challenge.challenge_image().counts.sum() > 0


def test_the_truth_scores_perfectly_on_every_track_whatever_its_label_values(sample):
    truth_atom = scores.true_cell_atom_percent(sample.expected, sample.cells)
    reported = {cell: float(truth_atom[cell - 1]) for cell in range(1, sample.cells.max() + 1)}
    result = challenge.score_submission(sample.truth * 10 + 7, cells=sample.cells * 3, cell_atom_percent={
        3 * cell: value for cell, value in reported.items()})
    assert result["mean_f1"] == pytest.approx(1.0) and result["adjusted_rand"] == pytest.approx(1.0)
    assert (result["cell_error"], result["cells_found"], result["false_regions"]) == (0.0, 1.0, 0)
    assert result["k_error"] == 0 and result["n_clusters"] == 7


def test_random_labels_and_no_cells_score_badly(sample):
    labels = np.random.default_rng(0).integers(0, 7, size=sample.truth.shape)
    result = challenge.score_submission(labels)
    assert abs(result["adjusted_rand"]) < 0.01 and result["mean_f1"] < 0.3
    assert result["cell_error"] == challenge.CELL_ERROR_CAP and result["cells_found"] == 0.0


def test_the_phase_map_score_weighs_the_small_cells_like_a_large_phase(sample):
    names = sample.phase_names
    merged = np.where(sample.truth == names.index(CELLS), names.index("microbial organic matter"), sample.truth)
    result = challenge.score_submission(merged)
    assert result["adjusted_rand"] > 0.95  # the cells are about 1 % of the pixels
    f1 = [result[f"f1 {phase}"] for phase in names]
    assert result[challenge.RANKING_SCORE] == pytest.approx(np.mean(f1)) and result["f1 labelled cells"] < 0.15
    assert result[challenge.RANKING_SCORE] < 1 - 0.85 / len(names)  # a seventh of the score lost


def test_best_match_f1_by_hand():
    # phase 0 = pixels 0-3, phase 1 = pixels 4-5; cluster 0 = pixels 0-1, cluster 1 = pixels 2-5.
    # Phase 0: cluster 0 gives 2*2/(4+2), cluster 1 gives 2*2/(4+4); the best is cluster 0.
    # Phase 1: cluster 1 gives 2*2/(2+4).
    f1 = challenge.best_match_f1([0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1], n_phases=5)
    assert f1[0] == pytest.approx(4 / 6) and f1[1] == pytest.approx(4 / 6)
    assert np.isnan(f1[2:]).all()


def test_best_match_f1_agrees_with_sklearn_per_pair():
    rng = np.random.default_rng(1)
    truth, labels = rng.integers(0, 4, 500), rng.integers(0, 6, 500)
    expected = [max(f1_score(truth == phase, labels == cluster) for cluster in range(6)) for phase in range(4)]
    np.testing.assert_allclose(challenge.best_match_f1(labels, truth, 4), expected)


def test_phase_map_is_scored_only_on_the_pixels_asked_for():
    truth = np.repeat([[0, 1]], 4, axis=0).repeat(4, axis=1)  # 4 x 8: left phase 0, right phase 1
    labels = truth.copy()
    labels[:2] = 1 - labels[:2]  # the top half wrong
    bottom = np.zeros(truth.shape, bool)
    bottom[2:] = True
    assert scores.phase_map_scores(labels, truth, ("a", "b"), bottom)["mean_f1"] == 1.0
    assert scores.phase_map_scores(labels, truth, ("a", "b"))["mean_f1"] == pytest.approx(0.5)


def _cell_error_by_hand(cells, reported, true_cells, true_atom, cap):
    """The cell track computed pixel by pixel with Python loops, as the rules say it."""
    entries = []
    for cell in range(1, true_cells.max() + 1):
        under = cells[true_cells == cell]
        overlapping = [region for region in set(under.tolist()) if region > 0]
        if not overlapping:
            entries.append(cap)
            continue
        best = max(overlapping, key=lambda region: (under == region).sum())
        entries.append(min(abs(reported[best] - true_atom[cell - 1]), cap))
    for region in set(cells[cells > 0].tolist()):
        if not np.any(true_cells[cells == region] > 0):
            entries.append(cap)
    return float(np.mean(entries))


def test_cell_error_agrees_with_a_hand_computation_on_random_maps():
    rng = np.random.default_rng(4)
    true_cells, _ = ndimage.label(rng.random((40, 40)) > 0.85)
    cells, _ = ndimage.label(rng.random((40, 40)) > 0.8)
    true_atom = rng.uniform(1, 10, true_cells.max())
    reported = {region: float(rng.uniform(0, 20)) for region in range(1, cells.max() + 1)}
    result = scores.cell_scores(cells, reported, true_cells, true_atom, cap=4.0)
    assert result["cell_error"] == pytest.approx(_cell_error_by_hand(cells, reported, true_cells, true_atom, 4.0))
    assert 0 < result["false_regions"] < cells.max() and 0 < result["cells_found"] < 1


def test_a_cell_is_matched_to_the_region_covering_most_of_it():
    true_cells = np.array([[1, 1, 1, 1, 1]])
    regions = np.array([[2, 3, 3, 3, 3]])  # region 2 touches the cell, region 3 covers most of it
    result = scores.cell_scores(regions, {2: 9.0, 3: 5.0}, true_cells, [5.0])
    assert (result["cell_error"], result["false_regions"]) == (0.0, 0)


def test_cell_error_is_capped_per_cell():
    true_cells = np.array([[1, 1, 0, 2, 2]])
    result = scores.cell_scores(true_cells, {1: 100.0, 2: 7.5}, true_cells, [5.0, 7.0], cap=3.0)
    assert result["cell_error"] == pytest.approx((3.0 + 0.5) / 2)


def test_true_cell_atom_percent_sums_the_expected_counts_of_each_cell(sample):
    atom = scores.true_cell_atom_percent(sample.expected, sample.cells)
    for cell in (1, sample.cells.max()):
        inside = sample.cells == cell
        c12, c13 = sample.expected[inside, 0].sum(), sample.expected[inside, 1].sum()
        assert atom[cell - 1] == pytest.approx(100 * c13 / (c12 + c13))
    # the practice cells are labelled with 3-8 atom % 13C, diluted at their rims by the beam blur
    assert 1.1 < atom.min() and atom.max() < 8.0 and np.median(atom) > 2.5


def test_k_error_counts_clusters_against_phases():
    assert scores.k_error([[0, 5, 5, 9]], [[1, 1, 2, 2]]) == 1
    assert scores.k_error(np.zeros((3, 3), int), np.arange(9).reshape(3, 3)) == 8


def test_results_table_orders_columns_and_rows_by_the_ranking_score():
    rows = [
        {"method": "b", "mean_f1": 0.5, "adjusted_rand": 0.9, "f1 clay": 0.2},
        {"method": "a", "notes": "n", "mean_f1": 0.7, "adjusted_rand": 0.1, "cell_error": 2.0},
        {"method": "c", "mean_f1": 0.5, "adjusted_rand": 0.95},
    ]
    table = challenge.results_table(rows)
    assert list(table["method"]) == ["a", "c", "b"]
    assert list(table.columns) == ["method", "notes", "mean_f1", "adjusted_rand", "cell_error", "f1 clay"]
    assert challenge.RANKING_SCORE in challenge.results_table().columns


# --- submissions ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small():
    return NanoSIMSImage(np.random.default_rng(0).poisson(20.0, (32, 48, 7)).astype(float),
                         ("12C", "13C", "16O", "12C14N", "12C15N", "27Al16O", "56Fe16O"), pixel_size_um=0.1)


def test_a_submission_keeps_labels_cells_team_and_the_image_hash(tmp_path, small):
    labels = np.arange(32 * 48).reshape(32, 48) % 3 * 37 - 5  # any whole numbers
    cells = np.zeros((32, 48), int)
    cells[2:5, 2:5], cells[10:12, 20:24] = 1, 4
    path = _submit(tmp_path, labels, small, team="Team Ward", justification="asinh, k = 3\nthen cells",
                   cells=cells, cell_atom_percent={1: 2.5, 4: 7.0})
    stored = challenge.read_submission(path)
    assert stored.labels.shape == (32, 48) and tifffile.imread(path, key=0).dtype == np.uint8
    assert adjusted_rand_score(stored.labels.ravel(), labels.ravel()) == 1.0
    np.testing.assert_array_equal(stored.cells, cells)
    assert stored.cell_atom_percent == {1: 2.5, 4: 7.0}
    assert (stored.team, stored.justification) == ("Team Ward", "asinh, k = 3\nthen cells")
    assert stored.image_hash == design.image_hash(small) and stored.image_name == "image"
    assert [p.name for p in tmp_path.iterdir()] == ["team.tif"]  # no temporary file left behind


def test_cell_atom_percent_comes_from_the_counts_when_not_given(tmp_path, small):
    cells = np.zeros((32, 48), int)
    cells[2:6, 2:6] = 1
    stored = challenge.read_submission(_submit(tmp_path, np.zeros((32, 48), int), small, cells=cells))
    c12, c13 = small.counts[2:6, 2:6, 0].sum(), small.counts[2:6, 2:6, 1].sum()
    assert stored.cell_atom_percent[1] == pytest.approx(100 * c13 / (c12 + c13))


def test_many_clusters_are_stored_in_16_bits(tmp_path, small):
    labels = np.arange(32 * 48).reshape(32, 48) % 300
    path = _submit(tmp_path, labels, small)
    assert tifffile.imread(path, key=0).dtype == np.uint16
    np.testing.assert_array_equal(challenge.read_submission(path).labels, labels)


@pytest.mark.parametrize("labels, message", [
    (np.zeros((16, 96), int), r"shape \(16, 96\).*32 x 48 pixels.*not a reshaped"),  # same size, wrong shape
    (np.zeros(32 * 48, int), r"shape \(1536,\)"),  # flat
    (np.zeros((32, 48)), r"float64 values; give integers \(labels.astype\(int\)"),
    (np.full((32, 48), np.nan), "NaN.*every pixel needs a whole number"),
    (np.zeros((32, 48), bool), "bool values; give whole numbers"),
    ("abc", "shape"),
])
def test_labels_that_do_not_fit_are_refused_before_writing(tmp_path, small, labels, message):
    with pytest.raises(NanoSIMSError, match=message):
        _submit(tmp_path, labels, small)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name, kwargs, message", [
    ("team.png", {}, "TIFF file; end the name in .tif"),
    ("team.tif", {"team": " "}, "team: give a non-empty text"),
    ("team.tif", {"justification": ""}, "justification"),
    ("team.tif", {"cells": np.ones((32, 48))}, "cells: float64"),
    ("team.tif", {"cells": -np.ones((32, 48), int)}, "cells: give region numbers"),
    ("team.tif", {"cell_atom_percent": {1: 3.0}}, "without cells"),
    ("team.tif", {"cells": np.ones((32, 48), int), "cell_atom_percent": {2: 3.0}}, "one 13C atom % .* each region"),
])
def test_bad_submission_arguments_are_refused_before_writing(tmp_path, small, name, kwargs, message):
    with pytest.raises(NanoSIMSError, match=message):
        challenge.save_submission(np.zeros((32, 48), int), tmp_path / name, image=small,
                                  **{"team": "t", "justification": "j", **kwargs})
    assert not list(tmp_path.iterdir())


def test_a_folder_or_no_image_is_refused(tmp_path, small):
    with pytest.raises(NanoSIMSError, match="is a folder; give a file name in it"):
        challenge.save_submission(np.zeros((32, 48), int), tmp_path, image=small, team="t", justification="j")
    with pytest.raises(NanoSIMSError, match="NanoSIMSImage you clustered"):
        challenge.save_submission(np.zeros((32, 48), int), tmp_path / "t.tif", image=small.counts, team="t",
                                  justification="j")


def test_files_that_are_not_submissions_are_refused_by_the_final_score(tmp_path):
    good = json.dumps({"kind": "nanosims-challenge submission", "team": "t"})
    tifffile.imwrite(tmp_path / "plain.tif", np.zeros((8, 8), np.uint8))
    tifffile.imwrite(tmp_path / "other.tif", np.zeros((8, 8), np.uint8), description=json.dumps({"a": 1}),
                     metadata=None)
    for name, values in (("float.tif", np.zeros((8, 8), np.float32)), ("nan.tif", np.full((8, 8), np.nan))):
        with tifffile.TiffWriter(tmp_path / name) as tif:
            tif.write(values, description=good, metadata=None)
            tif.write(values, metadata=None)
    (tmp_path / "text.tif").write_text("not a tiff")
    messages = {"plain.tif": "not written by save_submission", "other.tif": "not written by save_submission",
                "float.tif": "float32 .* not whole numbers", "nan.tif": "float64 .* not whole numbers",
                "text.tif": "not a challenge submission", "missing.tif": "no such submission file"}
    for name, message in messages.items():
        with pytest.raises(NanoSIMSError, match=message):
            challenge.final_score(tmp_path / name)


def test_the_final_score_of_a_practice_file_is_its_practice_score(tmp_path, sample):
    labels = np.where(sample.truth == 3, 2, sample.truth)
    result = challenge.final_score(_submit(tmp_path, labels, challenge.challenge_image()))
    assert result["image"] == "practice"
    assert result["mean_f1"] == pytest.approx(challenge.score_submission(labels)["mean_f1"])


def test_find_cells_takes_the_cluster_richest_in_13c(sample):
    image = challenge.challenge_image()
    cells = challenge.find_cells(image, sample.truth)
    found = cells > 0
    assert np.all(sample.truth[found] == sample.phase_names.index(CELLS))
    assert found.sum() > 0.95 * (sample.truth == sample.phase_names.index(CELLS)).sum()
    assert not challenge.find_cells(image, sample.truth, cluster=99).any()


# --- the held-out images: sealed by default, self-study with a secret ----------------------------


def test_without_a_secret_final_image_names_the_file_to_load():
    assert challenge.challenge_status().startswith("Sealed")
    with pytest.raises(NanoSIMSError, match=r"load_image\('challenge/image_b.tif', keep_planes=True\)"):
        challenge.final_image("image_b")
    with pytest.raises(NanoSIMSError, match="image_a"):
        challenge.final_image("held-out")


def test_self_study_with_a_secret_makes_and_scores_the_held_out_images(monkeypatch, tmp_path):
    monkeypatch.setenv(challenge.SECRET_VARIABLE, "correct horse battery staple")
    assert challenge.challenge_status().startswith("Self-study") and "staple" not in challenge.challenge_status()
    image = challenge.final_image("image_c")
    truth = design.challenge_sample("image_c", "correct horse battery staple").sample.truth
    result = challenge.final_score(_submit(tmp_path, truth, image))
    assert result["image"] == "image_c" and result["mean_f1"] == pytest.approx(1.0)
    monkeypatch.setenv(challenge.SECRET_VARIABLE, "another secret")
    with pytest.raises(NanoSIMSError, match=r"made for image_c.tif \(image hash [0-9a-f]{12}\).*practice"):
        challenge.final_score(tmp_path / "team.tif")


@pytest.mark.parametrize("problem", ["missing", "empty", "inside the kit", "both set"])
def test_a_badly_set_secret_is_explained(monkeypatch, tmp_path, problem):
    path = tmp_path / "secret.txt"
    if problem == "empty":
        path.write_text("  \n", encoding="utf-8")
    if problem == "inside the kit":
        path = practice._KIT_ROOT / "nanosims_helpers" / "challenge" / "practice.py"  # any file inside the kit
    if problem == "both set":
        path.write_text("one", encoding="utf-8")
        monkeypatch.setenv(challenge.SECRET_VARIABLE, "two")
    monkeypatch.setenv(challenge.SECRET_FILE_VARIABLE, str(path))
    with pytest.raises(NanoSIMSError, match=challenge.SECRET_FILE_VARIABLE):
        challenge.final_image()


# --- the design: settings drawn from ranges with the secret --------------------------------------


def test_the_secret_draws_the_settings_within_the_ranges_and_the_image():
    ranges = design.RANGES["image_b"]
    seen = []
    for secret in ("one", "two", "three"):
        made = design.challenge_sample("image_b", secret, shape=SMALL)
        for knob in ("n_planes", "count_scale", "rare_fraction", "rare_12c"):
            assert ranges[knob][0] <= made.settings[knob] <= ranges[knob][1]
        assert made.sample.image.n_planes == made.settings["n_planes"]
        seen.append(made)
    assert len({made.settings["count_scale"] for made in seen}) == 3
    assert adjusted_rand_score(seen[0].sample.truth.ravel(), seen[1].sample.truth.ravel()) < 0.2
    again = design.challenge_sample("image_b", "one", shape=SMALL)
    np.testing.assert_array_equal(again.sample.image.planes, seen[0].sample.image.planes)


def test_the_held_out_images_differ_in_character():
    made = {name: design.challenge_sample(name, "s", shape=(96, 96)).sample for name in design.HELD_OUT}
    carbon = {name: sample.image.channel("12C").mean() for name, sample in made.items()}
    assert carbon["image_b"] < 0.5 * min(carbon["image_a"], carbon["image_c"])  # low counts
    assert made["image_a"].image.n_planes >= 12  # many planes
    assert "iron oxide" not in {made["image_c"].phase_names[p] for p in np.unique(made["image_c"].truth)}
    assert "charcoal" in made["image_b"].phase_names


def test_a_held_out_image_needs_the_secret_and_the_practice_image_does_not():
    with pytest.raises(NanoSIMSError, match="load the image file your instructor handed out"):
        design.challenge_sample("image_a")
    with pytest.raises(NanoSIMSError, match="not an image of this challenge"):
        design.challenge_sample("image_z", "s")
    np.testing.assert_array_equal(design.challenge_sample("practice", "any", shape=SMALL).sample.truth,
                                  design.challenge_sample("practice", shape=SMALL).sample.truth)


def test_the_image_hash_survives_a_tiff_and_tells_images_apart(tmp_path):
    made = design.challenge_sample("image_a", "s", shape=SMALL).sample.image
    save_image_tiff(made, tmp_path / "image_a.tif")
    loaded = load_image(tmp_path / "image_a.tif", keep_planes=True)
    assert design.image_hash(loaded) == design.image_hash(made)
    other = design.challenge_sample("image_a", "t", shape=SMALL).sample.image
    assert design.image_hash(other) != design.image_hash(made)


@pytest.mark.parametrize("ranges, message", [
    ({"practice": {}}, "held-out images"),
    ({"image_a": {"n_planes": [4]}}, r"\['n_planes'\]=\[4\]: give \[low, high\]"),
    ({"image_a": {"planes": [4, 6]}}, "unknown knob 'planes'"),
    ({"Image A": {}}, "lower-case letters"),
    ({"image_a": {"without": ["granite"]}}, "name phases of"),
    ({"image_a": {"cell_13c": [0.5, 2.0]}}, "cell_13c"),
])
def test_bad_ranges_are_refused(ranges, message):
    with pytest.raises(NanoSIMSError, match=message):
        design.check_ranges(ranges)

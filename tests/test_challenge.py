"""The challenge images, the secret that makes them, the scorers, submissions and the ranking."""

import json

import numpy as np
import pytest
import tifffile
from sklearn.metrics import adjusted_rand_score

from nanosims_helpers import challenge
from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.io.samples import list_samples, load_sample
from nanosims_helpers.synthetic import PHASES, simulate_soil_image


@pytest.fixture(autouse=True)
def no_secret(monkeypatch):
    """Every test starts in practice mode, whatever the machine's environment holds."""
    monkeypatch.delenv(challenge.SECRET_VARIABLE, raising=False)
    monkeypatch.delenv(challenge.SECRET_FILE_VARIABLE, raising=False)


def _truth(image="practice"):
    return challenge._simulate(image)[1]


def _submit(tmp_path, labels, name="team.tif", team="team", justification="because"):
    return challenge.save_submission(labels, tmp_path / name, team=team, justification=justification)


def test_challenge_image_is_not_a_shipped_sample():
    image = challenge.challenge_image()
    assert image.shape == (384, 384, 7)
    for name in list_samples():
        sample, _ = load_sample(name)
        assert sample.shape[:2] != image.shape[:2]


@pytest.mark.parametrize("image", challenge.IMAGES)
def test_challenge_images_contain_every_phase_including_hotspots(image):
    assert set(np.unique(_truth(image))) == set(range(len(PHASES)))


def test_challenge_image_is_a_copy_each_time():
    first = challenge.challenge_image()
    first.counts[:] = 0
    assert challenge.challenge_image().counts.sum() > 0


def test_the_held_out_image_is_another_image_of_the_same_kind():
    practice, held_out = challenge.challenge_image(), challenge.final_image()
    assert held_out.shape == practice.shape and held_out.masses == practice.masses
    assert adjusted_rand_score(_truth().ravel(), _truth("held-out").ravel()) < 0.2
    # same settings: the mean counts of each mass agree within a few per cent
    np.testing.assert_allclose(held_out.counts.mean(axis=(0, 1)), practice.counts.mean(axis=(0, 1)), rtol=0.1)


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


def test_the_ranking_score_weighs_the_small_hotspots_like_a_large_phase():
    truth = _truth()
    no_hotspots = np.where(truth == PHASES.index("labelled hotspot"), PHASES.index("organic matter"), truth)
    scores = challenge.score_submission(no_hotspots)
    assert scores["adjusted_rand"] > 0.95  # hotspots are under 1 % of the pixels
    assert scores[challenge.RANKING_SCORE] < 0.85  # but a fifth of the mean F1
    f1 = [scores[f"f1 {phase}"] for phase in PHASES]
    assert scores["mean_f1"] == pytest.approx(np.mean(f1))


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


def test_results_table_orders_columns_and_rows_by_the_ranking_score():
    truth = _truth()
    no_hotspots = np.where(truth == PHASES.index("labelled hotspot"), PHASES.index("organic matter"), truth)
    iron_as_silicate = np.where(truth == PHASES.index("iron oxide"), PHASES.index("aluminosilicate"), truth)
    rows = [
        {"method": "no hotspots", **challenge.score_submission(no_hotspots)},
        {"method": "one cluster", **challenge.score_submission(np.zeros((384, 384), int))},
        {"method": "iron as silicate", "notes": "merged", **challenge.score_submission(iron_as_silicate)},
    ]
    # "no hotspots" has the higher adjusted Rand index, "iron as silicate" the higher mean F1
    assert rows[0]["adjusted_rand"] > rows[2]["adjusted_rand"] and rows[0]["mean_f1"] < rows[2]["mean_f1"]
    table = challenge.results_table(rows)
    assert list(table["method"]) == ["iron as silicate", "no hotspots", "one cluster"]
    assert list(table.columns[:4]) == ["method", "notes", challenge.RANKING_SCORE, "adjusted_rand"]


def test_empty_results_table_shows_the_score_columns():
    table = challenge.results_table()
    assert len(table) == 0 and challenge.RANKING_SCORE in table.columns


# --- the secret ----------------------------------------------------------------------------------


def test_without_a_secret_the_notebook_is_told_it_is_the_practice_truth():
    assert challenge.challenge_status().startswith("Practice truth")
    public = simulate_soil_image(challenge.CHALLENGE_SHAPE, **challenge._SETTINGS,
                                 random_state=challenge._PUBLIC_SEEDS["practice"])[1]
    np.testing.assert_array_equal(_truth(), public)


@pytest.mark.parametrize("image", challenge.IMAGES)
def test_the_secret_changes_the_truth_and_the_image(monkeypatch, image):
    practice_truth, practice_counts = _truth(image), challenge._simulate(image)[0].counts
    monkeypatch.setenv(challenge.SECRET_VARIABLE, "correct horse battery staple")
    first = _truth(image)
    assert adjusted_rand_score(practice_truth.ravel(), first.ravel()) < 0.2
    assert not np.array_equal(challenge._simulate(image)[0].counts, practice_counts)
    monkeypatch.setenv(challenge.SECRET_VARIABLE, "correct horse battery stapler")
    assert adjusted_rand_score(first.ravel(), _truth(image).ravel()) < 0.2
    monkeypatch.setenv(challenge.SECRET_VARIABLE, "correct horse battery staple")
    np.testing.assert_array_equal(_truth(image), first)  # the same secret, the same truth
    assert challenge.challenge_status().startswith("Secret truth")
    assert "staple" not in challenge.challenge_status()


def test_the_secret_truth_is_not_made_from_any_public_seed(monkeypatch):
    monkeypatch.setenv(challenge.SECRET_VARIABLE, "s3cret")
    secret_truth = _truth()
    for seed in (*challenge._PUBLIC_SEEDS.values(), 0, 1):
        public = simulate_soil_image(challenge.CHALLENGE_SHAPE, **challenge._SETTINGS, random_state=seed)[1]
        assert not np.array_equal(public, secret_truth)
    # the seed is a hash of the secret and the image's name, not the secret's characters
    assert challenge._seed("practice") not in (challenge._PUBLIC_SEEDS["practice"], challenge._seed("held-out"))
    assert challenge._seed("practice").bit_length() > 64


def test_the_secret_can_come_from_a_file_outside_the_kit(monkeypatch, tmp_path):
    monkeypatch.setenv(challenge.SECRET_VARIABLE, "from a file")
    expected = _truth()
    monkeypatch.delenv(challenge.SECRET_VARIABLE)
    (tmp_path / "secret.txt").write_text("from a file\n", encoding="utf-8")
    monkeypatch.setenv(challenge.SECRET_FILE_VARIABLE, str(tmp_path / "secret.txt"))
    np.testing.assert_array_equal(_truth(), expected)
    assert challenge.SECRET_FILE_VARIABLE in challenge.challenge_status()


@pytest.mark.parametrize("problem", ["missing", "empty", "inside the kit", "both set"])
def test_a_badly_set_secret_is_explained(monkeypatch, tmp_path, problem):
    path = tmp_path / "secret.txt"
    if problem == "empty":
        path.write_text("  \n", encoding="utf-8")
    if problem == "inside the kit":
        path = challenge._KIT_ROOT / "nanosims_helpers" / "challenge.py"  # any file inside the kit
    if problem == "both set":
        path.write_text("one", encoding="utf-8")
        monkeypatch.setenv(challenge.SECRET_VARIABLE, "two")
    monkeypatch.setenv(challenge.SECRET_FILE_VARIABLE, str(path))
    with pytest.raises(NanoSIMSError, match=challenge.SECRET_FILE_VARIABLE):
        challenge.challenge_image()


# --- submissions and the final score -------------------------------------------------------------


def test_the_held_out_truth_is_scored_only_by_the_final_score(tmp_path):
    held_out = _truth("held-out")
    assert challenge.score_submission(held_out)["mean_f1"] < 0.5  # the practice scorer cannot see it
    assert challenge.final_score(_submit(tmp_path, held_out))["mean_f1"] == pytest.approx(1.0)
    # and the practice truth does not score on the held-out image
    assert challenge.final_score(_submit(tmp_path, _truth(), "practice.tif"))["mean_f1"] < 0.5
    with pytest.raises(NanoSIMSError):
        challenge.score_submission(str(tmp_path / "team.tif"))  # a file is not a label map


def test_the_final_score_uses_the_secret(monkeypatch, tmp_path):
    path = _submit(tmp_path, _truth("held-out"))
    monkeypatch.setenv(challenge.SECRET_VARIABLE, "event day")
    assert challenge.final_score(path)["adjusted_rand"] < 0.2
    assert challenge.final_score(_submit(tmp_path, _truth("held-out"), "secret.tif"))["mean_f1"] == pytest.approx(1.0)


def test_a_submission_keeps_the_labels_team_and_justification(tmp_path):
    labels = (_truth("held-out") * 37 - 5).reshape(-1)  # any integers, flat or (y, x)
    path = _submit(tmp_path, labels, team="Team Ward", justification="asinh, k = 5\nthen hotspots by ratio")
    stored, info = challenge.read_submission(path)
    assert stored.shape == challenge.CHALLENGE_SHAPE and tifffile.imread(path).dtype == np.uint8
    np.testing.assert_array_equal(np.unique(stored), np.arange(len(PHASES)))
    assert adjusted_rand_score(stored.ravel(), labels) == 1.0
    assert info == {"team": "Team Ward", "justification": "asinh, k = 5\nthen hotspots by ratio"}
    assert [p.name for p in tmp_path.iterdir()] == ["team.tif"]  # no temporary file left behind


def test_many_clusters_are_stored_in_16_bits(tmp_path):
    labels = np.arange(np.prod(challenge.CHALLENGE_SHAPE)) % 300
    path = _submit(tmp_path, labels)
    assert tifffile.imread(path).dtype == np.uint16
    np.testing.assert_array_equal(challenge.read_submission(path)[0].ravel(), labels)


@pytest.mark.parametrize("name, labels, team, justification, message", [
    ("team.png", np.zeros((384, 384), int), "t", "j", "TIFF"),
    ("team.tif", np.zeros((256, 256), int), "t", "j", "final_image"),
    ("team.tif", np.zeros((384, 384)), "t", "j", "integer"),
    ("team.tif", np.zeros((384, 384), int), " ", "j", "team"),
    ("team.tif", np.zeros((384, 384), int), "t", "", "justification"),
])
def test_bad_submissions_are_refused_before_writing(tmp_path, name, labels, team, justification, message):
    with pytest.raises(NanoSIMSError, match=message):
        challenge.save_submission(labels, tmp_path / name, team=team, justification=justification)
    assert not list(tmp_path.iterdir())


def test_files_that_are_not_submissions_are_explained(tmp_path):
    tifffile.imwrite(tmp_path / "plain.tif", np.zeros((384, 384), np.uint8))
    tifffile.imwrite(tmp_path / "other.tif", np.zeros((384, 384), np.uint8), description=json.dumps({"a": 1}),
                     metadata=None)
    (tmp_path / "text.tif").write_text("not a tiff")
    for name in ("plain.tif", "other.tif", "text.tif", "missing.tif"):
        with pytest.raises(NanoSIMSError, match="save_submission|no such"):
            challenge.final_score(tmp_path / name)


def test_final_ranking_ranks_the_teams(tmp_path):
    truth = _truth("held-out")
    no_hotspots = np.where(truth == PHASES.index("labelled hotspot"), PHASES.index("organic matter"), truth)
    paths = [
        _submit(tmp_path, np.zeros(truth.shape, int), "a.tif", team="one cluster"),
        _submit(tmp_path, no_hotspots, "b.tif", team="no hotspots", justification="k-means, k = 4"),
        _submit(tmp_path, truth, "c.tif", team="perfect"),
    ]
    table = challenge.final_ranking(paths)
    assert list(table["team"]) == ["perfect", "no hotspots", "one cluster"]
    assert list(table["rank"]) == [1, 2, 3]
    assert table.loc[1, "justification"] == "k-means, k = 4" and table.loc[1, "file"] == "b.tif"
    with pytest.raises(NanoSIMSError, match="no submission"):
        challenge.final_ranking([])


# --- the rules as written down -------------------------------------------------------------------


def test_the_instructor_guide_and_lesson_11_state_what_the_code_does():
    root = challenge._KIT_ROOT
    guide = (root / "docs" / "instructors.md").read_text(encoding="utf-8")
    notebook = json.loads((root / "notebooks" / "11_hackathon_challenge.ipynb").read_text(encoding="utf-8"))
    lesson = "".join("".join(cell["source"]) for cell in notebook["cells"])
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    assert f"ranked by `{challenge.RANKING_SCORE}`" in guide
    assert f"**The ranking score** is `{challenge.RANKING_SCORE}`" in lesson
    for variable in (challenge.SECRET_VARIABLE, challenge.SECRET_FILE_VARIABLE):
        assert variable in guide
    present = makefile.split("\npresent:")[1].split("\n\n")[0]
    assert "notebooks/10_explorer.ipynb" in present and "cull_idle_timeout=600" in present  # as the guide says
    assert "cull_idle_timeout=600" in guide

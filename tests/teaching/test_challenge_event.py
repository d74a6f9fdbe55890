"""The sealed event: preparing the folders from a secret, nothing leaked, scoring, the log, the command line."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
from sklearn.metrics import adjusted_rand_score

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.io.loading import load_image
from nanosims_helpers.pipeline import cluster_image
from nanosims_helpers.teaching.challenge import event, find_cells, save_submission
from nanosims_helpers.teaching.challenge.cli import main
from nanosims_helpers.teaching.challenge.design import HELD_OUT, RANGES, challenge_sample
from nanosims_helpers.teaching.challenge.scores import CELL_ERROR_CAP
from nanosims_helpers.teaching.challenge.truths import read_truth_folder

SECRET = "a secret nobody guesses"
SIZE = 64


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A challenge of 64 x 64 images made with SECRET, without the (slow) reference rows."""
    out = tmp_path_factory.mktemp("event") / "challenge"
    participants, instructor = event.prepare_challenge(SECRET, out, shape=(SIZE, SIZE), baselines=False)
    return participants, instructor


def _truth_maps(instructor: Path) -> dict:
    """Every true map of the instructor's folder: phases, cells, public part; and the maps of another secret."""
    maps = {}
    for name in HELD_OUT:
        with tifffile.TiffFile(instructor / f"{name}_truth.tif") as tif:
            maps.update({f"{name} {page}": tif.pages[i].asarray() for i, page in enumerate(("phases", "cells"))})
    return maps


def _arrays(path: Path) -> list:
    """Every 2-D array a TIFF holds: each page, and each mass summed over the planes."""
    with tifffile.TiffFile(path) as tif:
        pages = [page.asarray() for page in tif.pages]
    image = load_image(path, keep_planes=True)
    return pages + [image.counts[..., m] for m in range(image.counts.shape[2])]


def test_the_participants_folder_holds_the_images_and_the_rules_only(prepared):
    participants, instructor = prepared
    assert sorted(p.name for p in participants.iterdir()) == ["README.md", *(f"{name}.tif" for name in HELD_OUT)]
    assert sorted(p.name for p in instructor.iterdir()) == ["challenge.json", *(f"{n}_truth.tif" for n in HELD_OUT)]
    for name in HELD_OUT:
        image = load_image(participants / f"{name}.tif", keep_planes=True)
        made = challenge_sample(name, SECRET, shape=(SIZE, SIZE)).sample.image
        np.testing.assert_array_equal(image.planes, made.planes)  # the measured counts and nothing else
        with tifffile.TiffFile(participants / f"{name}.tif") as tif:
            assert len(tif.pages) == image.n_planes * len(image.masses)


def test_nothing_handed_out_is_correlated_with_the_truth(prepared):
    """No label-like array: every page's ARI with every true map stays below what the counts themselves give.

    A page of raw counts does carry the phases (at low counts, 0, 1 or 2 counts of 12C14N already
    group the pixels), so each page is held to the ARI of a clustering of the image it belongs to;
    a handed-out truth map would score 1. Everything else must stay below 0.1.
    """
    participants, instructor = prepared
    truths = _truth_maps(instructor)
    for name in HELD_OUT:
        image = load_image(participants / f"{name}.tif", keep_planes=True)
        clustered = cluster_image(image, 5).labels.ravel()
        bound = max(adjusted_rand_score(truth.ravel(), clustered) for truth in truths.values())
        for array in _arrays(participants / f"{name}.tif"):
            for truth in truths.values():
                assert adjusted_rand_score(truth.ravel(), array.ravel()) < max(0.1, bound)
    readme = (participants / "README.md").read_text(encoding="utf-8")
    settings = json.loads((instructor / "challenge.json").read_text(encoding="utf-8"))["images"]
    assert SECRET not in readme and "random_state" not in readme
    for record in settings.values():
        for value in record["settings"].values():
            if isinstance(value, float):
                assert f"{value:.3f}" not in readme and f"{value:.2f}" not in readme


def test_the_instructor_folder_holds_the_truth_of_the_images_handed_out(prepared):
    participants, instructor = prepared
    truth = read_truth_folder(instructor)
    for name in HELD_OUT:
        made = challenge_sample(name, SECRET, shape=(SIZE, SIZE)).sample
        np.testing.assert_array_equal(truth.images[name].truth, made.truth)
        np.testing.assert_array_equal(truth.images[name].cells, made.cells)
        public = truth.public[name]
        assert public.mean() == 0.5 and not np.any(public & truth.images[name].scored)
    # another secret, other images and another split
    other = challenge_sample("image_a", "another secret", shape=(SIZE, SIZE)).sample
    assert adjusted_rand_score(other.truth.ravel(), truth.images["image_a"].truth.ravel()) < 0.2


def _team_files(participants: Path, folder: Path, instructor: Path) -> None:
    """Three teams: the truth itself, the kit's default at k = 5, one cluster everywhere."""
    truth = read_truth_folder(instructor)
    for name in HELD_OUT:
        image = load_image(participants / f"{name}.tif", keep_planes=True)
        true = truth.images[name]
        atom = {cell: float(value) for cell, value in enumerate(true.cell_atom_percent, start=1)}
        save_submission(true.truth, folder / f"perfect_{name}.tif", image=image, team="Perfect", justification="j",
                        cells=true.cells, cell_atom_percent=atom)
        labels = cluster_image(image, 5).labels
        save_submission(labels, folder / f"kit_{name}.tif", image=image, team="Kit", justification="j",
                        cells=find_cells(image, labels))
        save_submission(np.zeros(image.shape[:2], int), folder / f"one_{name}.tif", image=image, team="One",
                        justification="j")


def test_score_command_ranks_three_teams_and_writes_csv_and_picture(prepared, tmp_path, capsys):
    participants, instructor = prepared
    _team_files(participants, tmp_path / "submissions", instructor)
    code = main(["score", str(tmp_path / "submissions"), "--truth", str(instructor), "--out", str(tmp_path / "board")])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "") and "3 team(s) ranked, 0 file(s) refused" in out
    table = pd.read_csv(tmp_path / "board" / "leaderboard.csv")
    assert list(table["team"]) == ["Perfect", "Kit", "One"] and list(table["rank"]) == [1, 2, 3]
    perfect, one = table.iloc[0], table.iloc[2]
    assert (perfect["mean_f1"], perfect["cell_error"], perfect["k_error"]) == (1.0, 0.0, 0.0)
    assert one["cell_error"] == CELL_ERROR_CAP and one["mean_f1"] < 0.6
    assert one["k_error"] == pytest.approx(np.mean([read_truth_folder(instructor).images[n].n_phases - 1
                                                    for n in HELD_OUT]))
    assert table["rank_sum"].tolist() == [3, 6, 9]
    with open(tmp_path / "board" / "leaderboard.png", "rb") as picture:
        assert picture.read(8) == b"\x89PNG\r\n\x1a\n"
    log = pd.read_csv(instructor / event.LOG_FILE)
    assert len(log[log["mode"] == "final"]) >= 9 and set(log["team"]) >= {"Perfect", "Kit", "One"}


def test_a_submission_for_another_image_is_refused_naming_both(prepared, tmp_path, capsys):
    participants, instructor = prepared
    from nanosims_helpers.teaching.challenge import challenge_image

    practice = challenge_image()
    save_submission(np.zeros(practice.shape[:2], int), tmp_path / "s" / "wrong.tif", image=practice, team="Lost",
                    justification="j")
    image = load_image(participants / "image_a.tif", keep_planes=True)
    save_submission(np.zeros(image.shape[:2], int), tmp_path / "s" / "right.tif", image=image, team="Lost",
                    justification="j")
    code = main(["score", str(tmp_path / "s"), "--truth", str(instructor), "--out", str(tmp_path / "board")])
    out, err = capsys.readouterr()
    assert code == 1 and "1 team(s) ranked, 1 file(s) refused" in out
    line, = err.strip().splitlines()
    assert line.startswith("nanosims-challenge: refused: wrong.tif: made for practice (image hash ")
    assert "image_a (" in line and "image_c (" in line
    # the image's own file, scored through the library, names both images too
    from nanosims_helpers.teaching.challenge import final_score

    with pytest.raises(NanoSIMSError, match=r"made for practice .*not an image scored here: image_a"):
        final_score(tmp_path / "s" / "wrong.tif", truth=instructor)


def test_two_files_of_one_team_for_one_image_are_refused_until_one_is_removed(prepared, tmp_path):
    participants, instructor = prepared
    image = load_image(participants / "image_b.tif", keep_planes=True)
    for name in ("first.tif", "second.tif"):
        save_submission(np.zeros(image.shape[:2], int), tmp_path / name, image=image, team="Twice", justification="j")
    board = event.score_folder(tmp_path, instructor)
    assert board.refused and "first.tif, second.tif" in board.refused[0] and "Twice" not in set(board.table["team"])
    (tmp_path / "second.tif").unlink()
    board = event.score_folder(tmp_path, instructor)
    assert not board.refused and list(board.table["team"]) == ["Twice"]


def test_public_feedback_scores_public_pixels_and_caps_the_attempts(tmp_path_factory):
    out = tmp_path_factory.mktemp("public") / "challenge"
    participants, instructor = event.prepare_challenge("feedback", out, shape=(SIZE, SIZE), baselines=False)
    truth = read_truth_folder(instructor)
    image = load_image(participants / "image_a.tif", keep_planes=True)
    true, public = truth.images["image_a"].truth, truth.public["image_a"]
    # right on the public half, one cluster on the private half
    half_right = np.where(public, true, 99)
    folder = tmp_path_factory.mktemp("submissions")
    save_submission(half_right, folder / "a1.tif", image=image, team="Peeker", justification="j")
    board = event.score_folder(folder, instructor, public=True, max_attempts=2)
    assert board.table.loc[0, "mean_f1 image_a"] == 1.0 and "cell_error" not in board.table
    final = event.score_folder(folder, instructor)
    assert final.table.loc[0, "mean_f1 image_a"] < 0.6  # the private half decides
    # the same file again is not a new attempt; new files are, up to the cap
    assert not event.score_folder(folder, instructor, public=True, max_attempts=2).refused
    for attempt in (2, 3):
        save_submission(np.where(public, true, attempt), folder / f"a{attempt}.tif", image=image, team="Peeker",
                        justification="j")
        (folder / f"a{attempt - 1}.tif").unlink()
        board = event.score_folder(folder, instructor, public=True, max_attempts=2)
    assert len(board.refused) == 1 and "used its 2 scored attempts" in board.refused[0]
    log = pd.read_csv(instructor / event.LOG_FILE)
    public_rows = log[log["mode"] == "public"]
    assert public_rows["attempt"].tolist() == [1, 2] and public_rows["file"].tolist() == ["a1.tif", "a2.tif"]


def test_reference_rows_come_from_the_kit_and_the_supervised_model(tmp_path):
    ranges = {"image_a": RANGES["image_a"]}
    participants, instructor = event.prepare_challenge(SECRET, tmp_path / "c", shape=(SIZE, SIZE), ranges=ranges,
                                                       n_pixels=3000)
    image = load_image(participants / "image_a.tif", keep_planes=True)
    save_submission(np.zeros(image.shape[:2], int), tmp_path / "s" / "t.tif", image=image, team="T",
                    justification="j")
    table = event.score_folder(tmp_path / "s", instructor).table
    references = table[table["reference"]]
    assert list(references["team"]) == list(event.BASELINES)
    assert references["rank"].isna().all() and references["k_error"].notna().sum() == 1  # only "k auto" chose k
    supervised = references.set_index("team").loc["supervised reference"]
    assert supervised["mean_f1"] > table.set_index("team").loc["T", "mean_f1"]


def test_prepare_never_writes_over_a_challenge_and_leaves_nothing_when_it_fails(prepared, tmp_path, monkeypatch):
    participants, _ = prepared
    with pytest.raises(NanoSIMSError, match="already holds files"):
        event.prepare_challenge(SECRET, participants.parent, shape=(SIZE, SIZE), baselines=False)

    def broken(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(event, "write_truth_folder", broken)
    with pytest.raises(OSError):
        event.prepare_challenge(SECRET, tmp_path / "new", shape=(SIZE, SIZE), baselines=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, message", [
    (["prepare", "--secret-file", "{tmp}/missing.txt", "--out", "{tmp}/c"], "missing.txt: no such file"),
    (["prepare", "--secret-file", "{tmp}/empty.txt", "--out", "{tmp}/c"], "the file is empty"),
    (["prepare", "--secret-file", "{tmp}/secret.txt", "--out", "{tmp}"], "already holds files"),
    (["prepare", "--secret-file", "{tmp}/secret.txt", "--out", "{tmp}/c", "--size", "8"], "must be at least 64"),
    (["prepare", "--secret-file", "{tmp}/secret.txt", "--out", "{tmp}/c", "--ranges", "{tmp}/secret.txt"],
     "cannot read it as JSON"),
    (["score", "{tmp}", "--truth", "{tmp}"], "no challenge.json there"),
    (["score", "{tmp}/nowhere", "--truth", "{instructor}"], "nowhere: no such folder"),
    (["score", "{tmp}", "--truth", "{instructor}", "--max-attempts", "x"], "expected a whole number"),
    (["score"], "required"),
])
def test_bad_command_lines_get_one_line_and_exit_2(prepared, tmp_path, capsys, argv, message):
    (tmp_path / "secret.txt").write_text("s", encoding="utf-8")
    (tmp_path / "empty.txt").write_text(" ", encoding="utf-8")
    argv = [a.format(tmp=tmp_path, instructor=prepared[1]) for a in argv]
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and message in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("nanosims-challenge")


def test_a_folder_without_submissions_fails_with_one_line(prepared, tmp_path, capsys):
    assert main(["score", str(tmp_path), "--truth", str(prepared[1])]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nanosims-challenge: error: ") and "no .tif files" in err and len(err.splitlines()) == 1


def test_the_command_is_installed():
    result = subprocess.run([str(Path(sys.executable).with_name("nanosims-challenge")), "--help"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "prepare" in result.stdout and "score" in result.stdout


def test_an_unexpected_error_is_one_line_unless_the_traceback_is_asked_for(prepared, tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("bug")

    monkeypatch.setattr("nanosims_helpers.teaching.challenge.cli.score_folder", broken)
    argv = ["score", str(tmp_path), "--truth", str(prepared[1])]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("nanosims-challenge: unexpected KeyError") and len(err.splitlines()) == 1
    with pytest.raises(KeyError):
        main([*argv, "--traceback"])

"""Running the event: the participants' and the instructor's folders, the submission log, the leaderboard.

:func:`prepare_challenge` writes ``OUT/participants`` (the held-out images as TIFF stacks with
their planes, and a README of the rules: nothing from which the truth follows) and
``OUT/instructor`` (the truth, the reference rows as submission files): hand out the first, keep
the second. :func:`score_folder` scores every team's files against the truth and
:func:`write_leaderboard` writes the leaderboard as CSV and as a picture for the projector.

Each track ranks on its own (:data:`~nanosims_helpers.teaching.challenge.scores.TRACKS`): a team's score
on a track is its mean over the held-out images; an image a team did not submit counts as the
worst score (no phase found, every cell missed, k off by the number of phases). For one prize,
``rank_sum`` adds the three ranks (lower is better; the phase-map rank breaks ties).

Every file the scorer reads is written to ``submission_log.csv`` in the instructor's folder, with
the SHA-256 of its content: in the feedback mode (``public=True``) a team's new files count as
attempts, scored on the public part of the pixels only, up to ``max_attempts`` per team; the
same file scored twice counts once.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import NanoSIMSError
from ...io.files import PARTIAL_PREFIX, replacing
from ...io.loading import save_image_tiff
from .baselines import BASELINES, TOLD_K, baseline_maps
from .design import CHALLENGE_SHAPE, PRACTICE, challenge_sample, check_ranges, derive_seed, image_hash
from .design import RANGES as DEFAULT_RANGES
from .scores import CELL_ERROR_CAP, TRACKS, image_scores
from .submissions import read_submission, save_submission
from .truths import TruthFolder, match_submission, public_pixels, read_truth_folder, write_truth_folder

__all__ = ["LOG_FILE", "MAX_ATTEMPTS", "Leaderboard", "prepare_challenge", "score_folder", "write_leaderboard"]

#: The submission log in the instructor's folder.
LOG_FILE = "submission_log.csv"
_LOG_COLUMNS = ("time_utc", "mode", "team", "image", "file", "file_sha256", "attempt", "mean_f1_public")
#: Scored attempts per team in the feedback mode, unless told otherwise.
MAX_ATTEMPTS = 5
_BASELINE_FOLDER = "baselines"
_TRACK_COLUMNS = tuple(score for score, *_ in TRACKS.values())


# --- preparing -----------------------------------------------------------------------------------


def _participants_readme(held_out: dict, closes: str) -> str:
    rows = "\n".join(
        f"| `{name}.tif` | {image.shape[1]} x {image.shape[0]} | {image.n_planes} | `{image_hash(image)[:12]}` |"
        for name, image in held_out.items()
    )
    return _README.format(images=rows, closes=closes, cap=CELL_ERROR_CAP, practice=PRACTICE)


def prepare_challenge(secret: str, out, *, shape=CHALLENGE_SHAPE, ranges=None,
                      closes: str = "announced by your instructor", n_pixels: int = 60_000,
                      random_state=0, baselines: bool = True, progress=None) -> tuple[Path, Path]:
    """Write the participants' folder and the instructor's folder of a challenge made from ``secret``.

    Parameters
    ----------
    secret : str
        The instructor's secret: the same secret gives the same images.
    out : str or pathlib.Path
        A new (or empty) folder; ``OUT/participants`` and ``OUT/instructor`` are written in it.
        Everything is written aside first and moved into place at the end, so a failed run leaves
        nothing behind.
    shape : tuple of int
        Image size in pixels.
    ranges : dict, optional
        Knob ranges per image (:data:`~nanosims_helpers.teaching.challenge.design.RANGES` by default).
    closes : str
        When submissions close, written into the participants' README.
    n_pixels : int
        Training pixels of the supervised reference row.
    random_state : int
        Seed of the reference rows' clusterings.
    baselines : bool
        Compute the reference rows (about half a minute per 256 x 256 image on one thread).
    progress : callable, optional
        Called with one line of text as each image is done.

    Returns
    -------
    (pathlib.Path, pathlib.Path)
        The participants' folder and the instructor's folder.

    Raises
    ------
    NanoSIMSError
        If ``out`` already holds files, or the ranges are not valid.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise NanoSIMSError(f"--out {out}: already holds files; give a new folder (a challenge is never written "
                            "over another one).")
    ranges = check_ranges(DEFAULT_RANGES if ranges is None else ranges)
    names = [name for name in ranges if name != PRACTICE]
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f"{PARTIAL_PREFIX}{os.getpid()}-{out.name}"
    try:
        held_out = [challenge_sample(name, secret, ranges=ranges, shape=shape) for name in names]
        _write_participants(staging / "participants", held_out, closes)
        _write_instructor(staging / "instructor", secret, held_out)
        if baselines:
            for challenge in held_out:
                _write_reference_rows(staging / "instructor", challenge, secret, ranges, n_pixels, random_state)
                (progress or _quiet)(f"{challenge.name}: reference rows written")
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out / "participants", out / "instructor"


def _quiet(_line: str) -> None:
    """The default ``progress``: say nothing."""


def _write_participants(folder: Path, held_out: list, closes: str) -> None:
    folder.mkdir(parents=True)
    for challenge in held_out:
        save_image_tiff(challenge.sample.image, folder / f"{challenge.name}.tif")
    readme = _participants_readme({c.name: c.sample.image for c in held_out}, closes)
    (folder / "README.md").write_text(readme, encoding="utf-8")


def _write_instructor(folder: Path, secret: str, held_out: list) -> None:
    public = {c.name: public_pixels(c.sample.truth.shape, random_state=derive_seed(secret, c.name, "split"))
              for c in held_out}
    write_truth_folder(folder, held_out, public, image_hash(challenge_sample(PRACTICE).sample.image))


def _write_reference_rows(folder: Path, challenge, secret: str, ranges: dict, n_pixels: int, random_state) -> None:
    """The reference rows of one image, as submission files in the instructor's folder."""
    shape = challenge.sample.truth.shape
    training = challenge_sample(challenge.name, secret, ranges=ranges, shape=shape, purpose="training")
    maps = baseline_maps(challenge, training, random_state=random_state, n_pixels=n_pixels)
    for row, (labels, cells) in maps.items():
        save_submission(labels, folder / _BASELINE_FOLDER / f"{row}__{challenge.name}.tif",
                        image=challenge.sample.image, team=row, justification="reference row", cells=cells)


# --- scoring -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaderboard:
    """The result of :func:`score_folder`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per team, then the reference rows: ``rank`` (overall, by ``rank_sum``), ``team``,
        per track its score and rank (``mean_f1``/``phase map rank``, ``cell_error``/``labelled cells
        rank``, ``k_error``/``choosing k rank``), ``rank_sum``, tie-break columns, and the
        per-image phase-map scores; reference rows have no ranks.
    refused : list of str
        One line per file that was not scored, saying why.
    public : bool
        True for the feedback mode (public pixels, phase map only).
    """

    table: pd.DataFrame
    refused: list
    public: bool


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_log(path: Path) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame(columns=list(_LOG_COLUMNS))
    return pd.read_csv(path, dtype={"file_sha256": str, "team": str, "image": str})


def _append_log(path: Path, rows: list[dict]) -> None:
    if not rows:
        return
    new = not path.is_file()
    with path.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(_LOG_COLUMNS))
        if new:
            writer.writeheader()
        writer.writerows(rows)


def _collect(submissions: Path, truth: TruthFolder) -> tuple[list, list]:
    """Read and match every .tif file under ``submissions``: ([(submission, image truth)], refusal lines)."""
    if not submissions.is_dir():
        raise NanoSIMSError(f"{submissions}: no such folder; give the folder holding the teams' .tif files.")
    paths = sorted(p for p in submissions.rglob("*") if p.suffix.lower() in (".tif", ".tiff")
                   and not p.name.startswith(PARTIAL_PREFIX))
    if not paths:
        raise NanoSIMSError(f"{submissions}: no .tif files in it; collect the teams' submissions there first.")
    matched, refused = [], []
    for path in paths:
        try:
            submission = read_submission(path)
            matched.append((submission, match_submission(submission, truth.images, truth.others)))
        except NanoSIMSError as error:
            refused.append(str(error))
    return matched, refused


def _one_per_team_and_image(matched: list, refused: list) -> list:
    """Refuse every file of a team that handed in two or more files for one image (naming them)."""
    groups: dict = {}
    for submission, image in matched:
        groups.setdefault((submission.team, image.name), []).append((submission, image))
    kept = []
    for (team, image), entries in groups.items():
        if len(entries) == 1:
            kept.extend(entries)
            continue
        files = ", ".join(submission.path.name for submission, _ in entries)
        refused.append(f"team {team!r} handed in {len(entries)} files for {image} ({files}); keep the one that "
                       "counts in the folder, move the others out, and score again.")
    return kept


def score_folder(submissions, truth, *, public: bool = False, max_attempts: int = MAX_ATTEMPTS) -> Leaderboard:
    """Score every team's files in ``submissions`` against the instructor's folder ``truth``.

    Parameters
    ----------
    submissions : str or pathlib.Path
        Folder of the teams' ``.tif`` files (sub-folders are searched too), one per team and image.
    truth : str or pathlib.Path
        The instructor's folder written by :func:`prepare_challenge`.
    public : bool
        Feedback mode: score the phase map on the public part of the pixels only, count each new
        file as one of the team's attempts, and refuse files beyond ``max_attempts``.
    max_attempts : int
        Scored attempts per team in the feedback mode.

    Returns
    -------
    Leaderboard

    Raises
    ------
    NanoSIMSError
        If a folder is missing or holds no submission, or the truth cannot be read. A single bad
        file does not stop the scoring: it is listed in ``refused``.
    """
    truth_folder = read_truth_folder(truth)
    matched, refused = _collect(Path(submissions), truth_folder)
    matched = _one_per_team_and_image(matched, refused)
    truths = truth_folder.public_truths() if public else truth_folder.images
    log_path = truth_folder.folder / LOG_FILE
    log = _read_log(log_path)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    scored, new_rows = [], []
    for submission, image in matched:
        digest = _file_sha256(submission.path)
        scores = image_scores(submission.labels, submission.cells, submission.cell_atom_percent, truths[image.name])
        row = {"time_utc": now, "mode": "public" if public else "final", "team": submission.team,
               "image": image.name, "file": submission.path.name, "file_sha256": digest, "attempt": "",
               "mean_f1_public": round(scores["mean_f1"], 6) if public else ""}
        if public:
            row["attempt"] = _attempt(log, new_rows, submission.team, digest, max_attempts)
            if row["attempt"] is None:
                refused.append(f"{submission.path.name}: team {submission.team!r} has used its {max_attempts} "
                               "scored attempts; this file was not scored (the final ranking scores the file the "
                               "team hands in last).")
                continue
        if digest not in set(log["file_sha256"][log["mode"] == row["mode"]]):
            new_rows.append(row)
        scored.append((submission.team, image.name, scores))
    _append_log(log_path, new_rows)
    references = [] if public else _reference_scores(truth_folder)
    return Leaderboard(_table(scored, references, truth_folder, public), refused, public)


def _attempt(log: pd.DataFrame, new_rows: list, team: str, digest: str, max_attempts: int) -> int | None:
    """The attempt number of a file in the feedback mode: its old number if scored before, else the next
    one, or None when the team has used its attempts."""
    earlier = log[(log["mode"] == "public") & (log["team"] == team)]
    done = dict(zip(earlier["file_sha256"], earlier["attempt"]))
    done.update({row["file_sha256"]: row["attempt"] for row in new_rows if row["team"] == team})
    if digest in done:
        return int(done[digest])
    return len(done) + 1 if len(done) < max_attempts else None


def _reference_scores(truth: TruthFolder) -> list:
    folder = truth.folder / _BASELINE_FOLDER
    rows = []
    for path in sorted(folder.glob("*.tif")):
        submission = read_submission(path)
        image = match_submission(submission, truth.images)
        rows.append((submission.team, image.name, image_scores(submission.labels, submission.cells,
                                                               submission.cell_atom_percent, image)))
    return rows


def _worst(truth) -> dict:
    """The scores of an image a team did not submit."""
    return {"mean_f1": 0.0, "adjusted_rand": 0.0, "cell_error": CELL_ERROR_CAP, "cells_found": 0.0,
            "k_error": float(truth.n_phases)}


def _team_rows(scored: list, images: dict) -> pd.DataFrame:
    """One row per team: each track's columns averaged over the images, and each image's mean_f1."""
    by_team: dict = {}
    for team, image, scores in scored:
        by_team.setdefault(team, {})[image] = scores
    rows = []
    for team, per_image in by_team.items():
        filled = {name: per_image.get(name, _worst(truth)) for name, truth in images.items()}
        row = {"team": team, "images": len(per_image)}
        for column in ("mean_f1", "adjusted_rand", "cell_error", "cells_found", "k_error"):
            row[column] = float(np.mean([scores[column] for scores in filled.values()]))
        row.update({f"mean_f1 {name}": filled[name]["mean_f1"] for name in images})
        rows.append(row)
    return pd.DataFrame(rows)


def _rank(table: pd.DataFrame, column: str, higher: bool, tie: str, tie_higher: bool) -> pd.Series:
    """Competition ranks (1, 2, 2, 4) by ``column`` then ``tie``; NaN rows last and unranked."""
    ranked = table[column].notna()
    keys = table.loc[ranked, [column, tie]].copy()
    keys[column] = keys[column] if higher else -keys[column]
    keys[tie] = keys[tie] if tie_higher else -keys[tie]
    order = keys.apply(tuple, axis=1)
    ranks = order.map(lambda key: 1 + int((order > key).sum()))
    return ranks.reindex(table.index).astype("Int64")


def _table(scored: list, references: list, truth: TruthFolder, public: bool) -> pd.DataFrame:
    teams = _team_rows(scored, truth.images)
    if public:
        if teams.empty:
            return teams
        teams = teams[["team", "images", "mean_f1", "adjusted_rand", *[c for c in teams if c.startswith("mean_f1 ")]]]
        teams.insert(0, "rank", _rank(teams, "mean_f1", True, "adjusted_rand", True))
        return teams.sort_values(["rank", "team"], ignore_index=True)
    if not teams.empty:
        for track, (score, higher, tie, tie_higher) in TRACKS.items():
            teams[f"{track} rank"] = _rank(teams, score, higher, tie, tie_higher)
        teams["rank_sum"] = teams[[f"{track} rank" for track in TRACKS]].sum(axis=1)
        teams["rank"] = _rank(teams, "rank_sum", False, "phase map rank", False)
        teams = teams.sort_values(["rank", "team"], ignore_index=True)
    reference = _team_rows(references, truth.images)
    if not reference.empty:
        reference["k_error"] = reference["k_error"].where(~reference["team"].isin(TOLD_K))
        reference["team"] = pd.Categorical(reference["team"], categories=BASELINES, ordered=True)
        reference = reference.sort_values("team").assign(team=lambda t: t["team"].astype(str))
        reference["reference"] = True
    teams["reference"] = False
    table = pd.concat([teams, reference], ignore_index=True)
    columns = ["rank", "team", "reference", "images", "mean_f1", "phase map rank", "cell_error", "labelled cells rank",
               "k_error", "choosing k rank", "rank_sum", "adjusted_rand", "cells_found"]
    return table.reindex(columns=columns + [c for c in table.columns if c.startswith("mean_f1 ")])


# --- the leaderboard's files ---------------------------------------------------------------------


def write_leaderboard(board: Leaderboard, out) -> tuple[Path, Path]:
    """Write ``leaderboard.csv`` and ``leaderboard.png`` (``public_leaderboard.*`` in the feedback mode) into ``out``.

    Each file is written whole or not at all.

    Returns
    -------
    (pathlib.Path, pathlib.Path)
        The CSV file and the picture.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "public_leaderboard" if board.public else "leaderboard"
    csv_path, png_path = out / f"{stem}.csv", out / f"{stem}.png"
    with replacing(csv_path) as partial:
        board.table.to_csv(partial, index=False, float_format="%.4f")
    figure = _picture(board)
    try:
        with replacing(png_path) as partial:
            figure.savefig(partial, dpi=110, bbox_inches="tight", pad_inches=0.3)
    finally:
        import matplotlib.pyplot as plt

        plt.close(figure)
    return csv_path, png_path


def _cell_text(value, digits: int = 3) -> str:
    if value is None or pd.isna(value):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(int(value))


def _picture(board: Leaderboard):
    """A table for the projector: one line per team, the reference rows in grey at the bottom."""
    import matplotlib.pyplot as plt

    table = board.table
    if board.public:
        headers = ["rank", "team", "phase map F1\n(public pixels)", "images"]
        columns = ["rank", "team", "mean_f1", "images"]
        title = "Public leaderboard: phase maps on the public half of the pixels (the final ranks the other half)"
    else:
        headers = ["rank", "team", "phase map\nmean F1 (high)", "rank", "labelled cells\nerror, atom % (low)", "rank",
                   "choosing k\nerror (low)", "rank", "rank\nsum"]
        columns = ["rank", "team", "mean_f1", "phase map rank", "cell_error", "labelled cells rank", "k_error",
                   "choosing k rank", "rank_sum"]
        title = "Leaderboard: each track ranks on its own; the prize goes to the lowest rank sum"
    digits = {"mean_f1": 3, "cell_error": 2, "k_error": 2}
    text = [[_cell_text(row.get(column), digits.get(column, 0)) if column != "team" else str(row["team"])
             for column in columns] for _, row in table.iterrows()]
    height = 1.0 + 0.42 * max(len(text), 1)
    figure, axes = plt.subplots(figsize=(15, height))
    axes.axis("off")
    axes.set_title(title, fontsize=15, loc="left")
    if not text:
        axes.text(0.5, 0.5, "no submissions scored", ha="center", fontsize=18)
        return figure
    shown = axes.table(cellText=text, colLabels=headers, loc="upper center", cellLoc="center")
    shown.auto_set_font_size(False)
    shown.set_fontsize(15)
    shown.scale(1.0, 2.0)
    for column_index in range(len(headers)):
        shown[0, column_index].set_facecolor("#dde6f0")
        shown[0, column_index].set_height(shown[0, column_index].get_height() * 1.6)
    references = table["reference"].fillna(False).to_numpy() if "reference" in table else np.zeros(len(table), bool)
    for row_index, is_reference in enumerate(references, start=1):
        for column_index in range(len(headers)):
            cell = shown[row_index, column_index]
            if is_reference:
                cell.set_text_props(color="#666666", style="italic")
                cell.set_facecolor("#f2f2f2")
            elif row_index == 1:
                cell.set_facecolor("#fff3c4")
    shown.auto_set_column_width(list(range(len(headers))))
    return figure


_README = """# NanoSIMS clustering challenge: the held-out images

This folder holds the images the ranking is decided on. Their true phase maps are with your
instructor; nothing here, and nothing in the kit, tells them.

| file | size (x by y) | planes | image hash |
|---|---|---|---|
{images}

Load each with `load_image("image_a.tif", keep_planes=True)` (the kit's `nanosims_helpers.io.loading`),
cluster it, and save your submission with

```python
from nanosims_helpers.teaching.challenge import find_cells, save_submission
save_submission(labels, "submissions/TEAM_image_a.tif", image=image, team="TEAM",
                justification="three to five sentences: method, settings, why you trust them",
                cells=find_cells(image, labels))   # or your own cell regions
```

The file records the image's hash: a map saved with another image (the practice image, say)
is refused by the scorer, not scored low. Hand in one file per image; if you hand in two for one
image, neither is scored until you say which counts.

**Submissions close**: {closes}. Files that arrive later are not ranked.

## The phases

Each image holds some of: pore/resin, plant debris, microbial organic matter, clay, iron oxide,
labelled cells (small cells enriched in 13C) and charcoal (small carbon-rich particles). Not every
image holds every phase, and how many it holds is part of the challenge. The images differ from
the {practice} image (`challenge_image()` in the kit, whose truth is public) and from each other
in count level, number of planes, ion-yield gradients and how alike the phases are.

## Three tracks, each ranked on its own

1. **Phase map**: for every true phase, the F1 score of your best-matching cluster,
   `2 |phase and cluster| / (|phase| + |cluster|)`, averaged over the phases (`mean_f1`): a small
   phase weighs as much as a large one. Ties: the adjusted Rand index. Scored on half of the
   pixels, in blocks you are not told.
2. **Labelled cells**: for every true labelled cell, is it found (a region of your `cells` map
   overlaps it), and how far is the 13C atom % you report for that region (by default computed
   from the counts) from the cell's true atom %? Each cell costs its error, at most {cap} atom %;
   a missed cell costs {cap}, and so does a region that overlaps no cell. Lower is better; ties:
   the share of cells found.
3. **Choosing k**: the distance between your number of clusters and the true number of phases,
   averaged over the images. Lower is better; ties: the phase-map score.

A track's score is the mean over the images; an image you do not submit counts as the worst
score. The overall prize goes to the lowest sum of the three ranks (ties: the phase-map rank).

## Rules

- **Any method** is allowed: the kit's, your own, other libraries, supervised models.
- **Training on simulations you make yourself** is allowed and encouraged
  (`simulate_realistic_image` with your own `RealisticSettings`, the practice image and its truth).
- **No manual edits of a map** (painting pixels by hand, editing a map until it looks right):
  the point is a method that works on the next image too, and a hand-painted map tells nothing
  about that. Choosing k, masses or settings by looking at the images is fine: say so in the
  justification.
- Do not try to get the truth: the held-out images' truth is not in this folder or the kit.
- The justification (three to five sentences) is read by the jury for the open questions.

## The open questions (judged by the jury, 0 to 3 points each)

| criterion | 0 | 3 |
|---|---|---|
| question | vague, or no answer given | one clear question, answered in one sentence |
| evidence | one picture | the same comparison against a baseline, with scores and maps, on more than one image |
| physics | ignores how counts arise | counting statistics and matrix effects respected: no ratios of a few counts |
| honesty | only what worked | says where the method fails; the code runs top to bottom with fixed seeds |
"""

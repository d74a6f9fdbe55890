"""Lesson 11, the hackathon challenge: the self-check quiz on the scores and the ranking."""

from __future__ import annotations

import numpy as np

from ._framework import Wrong, exercise, _name, _number, _close

#: The ranks (phase map, labelled cells, choosing k) of the two teams of quiz 11-2.
RANKS_11_2 = {"A": (3, 1, 2), "B": (1, 3, 2)}


@exercise(
    "11-1",
    expects="two numbers: (mean_f1, k_error) of a map with one cluster",
    hints=(
        "A single cluster matches every phase a little: its F1 with each is 2 |phase| / (|phase| + all pixels).",
        "Score `np.zeros((256, 256), dtype=int)` with `score_submission` and read two of its keys.",
        "`scores = score_submission(np.zeros((256, 256), dtype=int))`; "
        "`answer = (scores['mean_f1'], scores['k_error'])`",
    ),
)
def _check_11_1(answer):
    from ...challenge import score_submission

    mean_f1, k_error = (_number(value, "each score") for value in answer)
    scores = score_submission(np.zeros((256, 256), dtype=int))
    if not _close(k_error, scores["k_error"], 1e-9):
        raise Wrong("k_error is the distance between your number of clusters (1) and the true number of phases.")
    if not _close(mean_f1, scores["mean_f1"], 5e-4):  # read off a printed table: three decimals
        raise Wrong("Not the mean over the phases of the single cluster's F1 with each phase.")
    return "A map that says nothing still scores above 0 on mean_f1: compare with the baselines, not with 0."


@exercise(
    "11-2",
    expects="a pair: the winning team ('A' or 'B') and its rank sum",
    hints=(
        "The three ranks add up; the lowest sum wins.",
        "Add each team's ranks; if the sums tie, the rules say what decides.",
        "`sums = {team: sum(ranks) for team, ranks in RANKS_11_2.items()}`; the tie goes to the better "
        "phase-map rank (the first of the three).",
    ),
)
def _check_11_2(answer):
    team, rank_sum = answer
    team = _name(team, RANKS_11_2, "the team")
    if _number(rank_sum, "the rank sum") != sum(RANKS_11_2[team]):
        raise Wrong(f"That is not team {team}'s rank sum: add its three ranks.")
    winner = min(RANKS_11_2, key=lambda name: (sum(RANKS_11_2[name]), RANKS_11_2[name][0]))
    if team != winner:
        raise Wrong("The rank sums tie; the rules break the tie by the phase-map rank.")
    return "Equal sums; the better phase map wins the tie."

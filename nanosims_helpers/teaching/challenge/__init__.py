"""The hackathon challenge: simulated images whose truth only the scorer knows, three tracks, a leaderboard.

Participants use the names below; the instructor runs the ``nanosims-challenge`` command
(:mod:`nanosims_helpers.teaching.challenge.cli`), which prepares the images from a secret and scores the
teams' files. The modules, from the ground up:

* :mod:`~nanosims_helpers.teaching.challenge.design`: which settings make each image, drawn from ranges with the secret;
* :mod:`~nanosims_helpers.teaching.challenge.scores`: the three tracks (phase map, labelled cells, choosing k);
* :mod:`~nanosims_helpers.teaching.challenge.submissions`: a team's file, written by :func:`save_submission`;
* :mod:`~nanosims_helpers.teaching.challenge.truths`: the instructor's folder, and matching files to images;
* :mod:`~nanosims_helpers.teaching.challenge.practice`: the practice image, its scores, the self-study mode;
* :mod:`~nanosims_helpers.teaching.challenge.baselines`: the reference rows (the kit's default, a supervised model);
* :mod:`~nanosims_helpers.teaching.challenge.event`: preparing the folders, the leaderboard and its picture;
* :mod:`~nanosims_helpers.teaching.challenge.cli`: the ``nanosims-challenge`` command.
"""

from ..._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__, ["baselines", "cli", "design", "event", "practice", "scores", "submissions", "truths"], {
        **dict.fromkeys(["SECRET_FILE_VARIABLE", "SECRET_VARIABLE", "challenge_image", "challenge_status",
                         "final_image", "final_score", "practice_sample", "results_table", "score_submission"],
                        "practice"),
        **dict.fromkeys(["CELL_ERROR_CAP", "RANKING_SCORE", "best_match_f1"], "scores"),
        **dict.fromkeys(["cell_atom_percent", "find_cells", "read_submission", "save_submission"], "submissions"),
    })

"""The ``nanosims-challenge`` command: prepare a sealed challenge from a secret, and score the teams' files.

``nanosims-challenge prepare --secret-file ~/secret.txt --out challenge/`` writes
``challenge/participants`` (hand it out) and ``challenge/instructor`` (keep it);
``nanosims-challenge score submissions/ --truth challenge/instructor`` writes the leaderboard
(``leaderboard.csv`` and ``leaderboard.png``). ``score --public`` scores the phase maps on the
public half of the pixels for feedback during the event, with at most ``--max-attempts`` scored
files per team, recorded in the instructor's ``submission_log.csv``.

Every problem is one line on the standard error. Exit status: 0 when all went well, 1 when the
run failed or a submission was refused (the others are still ranked), 2 for a bad command line
(a missing secret file, a folder that already holds a challenge, an unreadable truth folder).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...clustering import limit_threads
from ...defaults import DEFAULT_THREADS
from ...errors import NanoSIMSError
from ...validation import check_whole_number
from .design import CHALLENGE_SHAPE, read_ranges, read_secret_file
from .event import MAX_ATTEMPTS, prepare_challenge, score_folder, write_leaderboard
from .truths import read_truth_folder

PROG = "nanosims-challenge"
_MIN_SIZE = 64


def _whole_number(minimum: int):
    """An argparse type: a whole number of at least ``minimum``, as :func:`check_whole_number` checks it."""

    def parse(text: str) -> int:
        value = int(text) if text.strip().lstrip("+-").isdigit() else text
        try:
            return check_whole_number(value, "value", minimum=minimum)
        except NanoSIMSError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The command's parser, with its two sub-commands."""
    parser = argparse.ArgumentParser(prog=PROG, description="Prepare and score the NanoSIMS clustering challenge.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{prepare,score}")
    prepare = commands.add_parser("prepare", help="write the participants' and the instructor's folders",
                                  description="Write OUT/participants (hand it out) and OUT/instructor (keep it).")
    prepare.add_argument("--secret-file", type=Path, required=True, metavar="FILE",
                         help="text file holding the secret (outside any folder you share)")
    prepare.add_argument("--out", type=Path, required=True, metavar="DIR", help="a new folder for the challenge")
    prepare.add_argument("--size", type=_whole_number(_MIN_SIZE), default=CHALLENGE_SHAPE[0], metavar="N",
                         help=f"image side in pixels (default: {CHALLENGE_SHAPE[0]})")
    prepare.add_argument("--ranges", type=Path, metavar="FILE.json",
                         help="your own knob ranges per image (default: the kit's, in challenge/design.py)")
    prepare.add_argument("--closes", default="announced by your instructor", metavar="TEXT",
                         help="when submissions close, written into the participants' README")
    score = commands.add_parser("score", help="score the teams' files and write the leaderboard",
                                description="Score every .tif file under SUBMISSIONS against the truth.")
    score.add_argument("submissions", type=Path, metavar="SUBMISSIONS", help="folder of the teams' .tif files")
    score.add_argument("--truth", type=Path, required=True, metavar="DIR", help="the instructor's folder")
    score.add_argument("--out", type=Path, metavar="DIR", help="where the leaderboard goes (default: DIR/leaderboard)")
    score.add_argument("--public", action="store_true",
                       help="feedback during the event: phase maps on the public pixels, attempts counted")
    score.add_argument("--max-attempts", type=_whole_number(1), default=MAX_ATTEMPTS, metavar="N",
                       help=f"scored files per team with --public (default: {MAX_ATTEMPTS})")
    for command in (prepare, score):
        command.add_argument("--threads", type=_whole_number(1), default=DEFAULT_THREADS, metavar="N",
                             help=f"threads for the numerical libraries (default: {DEFAULT_THREADS})")
        command.add_argument("--traceback", action="store_true", help="show the traceback of an unexpected error")
    return parser


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _prepare(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        secret = read_secret_file(args.secret_file)
        ranges = read_ranges(args.ranges) if args.ranges is not None else None
    except NanoSIMSError as error:
        parser.error(_one_line(error))
    if args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())):
        parser.error(f"--out {args.out}: already holds files; give a new folder (a challenge is never written "
                     "over another one)")
    participants, instructor = prepare_challenge(secret, args.out, shape=(args.size, args.size), ranges=ranges,
                                                 closes=args.closes, progress=print)
    print(f"Hand out {participants} (the images and the rules). Keep {instructor} to yourself: it holds the truth.")
    return 0


def _score(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        read_truth_folder(args.truth)
    except NanoSIMSError as error:
        parser.error(_one_line(error))
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions}: no such folder; give the folder holding the teams' .tif files")
    board = score_folder(args.submissions, args.truth, public=args.public, max_attempts=args.max_attempts)
    for line in board.refused:
        print(f"{PROG}: refused: {_one_line(line)}", file=sys.stderr)
    csv_path, picture = write_leaderboard(board, args.out or args.truth / "leaderboard")
    teams = int((~board.table["reference"]).sum()) if "reference" in board.table else len(board.table)
    print(f"{teams} team(s) ranked, {len(board.refused)} file(s) refused; leaderboard in {csv_path} and {picture}")
    return 1 if board.refused else 0


def main(argv=None) -> int:
    """Run ``nanosims-challenge`` with ``argv`` (default: the command line); return the exit status.

    Examples
    --------
    ``nanosims-challenge score submissions --truth challenge/instructor`` from the shell is
    ``main(["score", "submissions", "--truth", "challenge/instructor"])`` from Python.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with limit_threads(args.threads):
            return _prepare(parser, args) if args.command == "prepare" else _score(parser, args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing was half-written (prepare again into a new folder).", file=sys.stderr)
        return 130
    except NanoSIMSError as error:
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"{PROG}: error: {error.filename or ''}: {error.strerror or error}; check the folder and the disk.",
              file=sys.stderr)
        return 1
    except Exception as error:  # a bug: one line, unless asked for the traceback
        if args.traceback:
            raise
        print(f"{PROG}: unexpected {type(error).__name__}: {_one_line(error)}; please report it (run again with "
              "--traceback to see where).", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

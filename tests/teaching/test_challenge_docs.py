"""The instructor guide, the README and lesson 11 state what the challenge's code does."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from nanosims_helpers.teaching.challenge import (
    CELL_ERROR_CAP,
    RANKING_SCORE,
    SECRET_FILE_VARIABLE,
    SECRET_VARIABLE,
    event,
)
from nanosims_helpers.teaching.challenge.design import HELD_OUT, RANGES
from nanosims_helpers.teaching.challenge.practice import SCORE_COLUMNS
from nanosims_helpers.teaching.challenge.scores import TRACKS
from nanosims_helpers.teaching.challenge.truths import BLOCK_PX

REPO = Path(__file__).resolve().parents[2]


def _read(*parts) -> str:
    return REPO.joinpath(*parts).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def lesson() -> str:
    notebook = json.loads(_read("notebooks", "11_hackathon_challenge.ipynb"))
    return "".join("".join(cell["source"]) for cell in notebook["cells"])


def _span(knob_range) -> str:
    return f"{knob_range[0]:g}-{knob_range[1]:g}"


def test_the_guide_states_the_commands_tracks_and_numbers_of_the_code():
    guide = _read("docs", "instructors.md")
    for text in ("nanosims-challenge prepare --secret-file", "nanosims-challenge score submissions/ --truth",
                 "--public --max-attempts 5", event.LOG_FILE, f"blocks of {BLOCK_PX} x {BLOCK_PX} pixels",
                 f"each cell capped at {CELL_ERROR_CAP:g}", SECRET_VARIABLE, SECRET_FILE_VARIABLE, "rank_sum"):
        assert text in guide, text
    assert f"--max-attempts {event.MAX_ATTEMPTS}" in guide
    for score, _, tie, _ in TRACKS.values():
        assert f"`{score}`" in guide and f"`{tie}`" in guide
    # the characters' ranges, as the design module holds them
    a, b, c = (RANGES[name] for name in HELD_OUT)
    for text in (f"{_span(a['n_planes'])} planes", f"factor {_span(a['yield_ramp'])}",
                 f"factor {_span(a['yield_tilt'])}",
                 f"({_span(a['microbial_n_to_c'])} against 0.09)", f"{_span(b['n_planes'])} planes",
                 f"count scale {_span(b['count_scale'])}, against {RANGES['practice']['count_scale'][0]:g} for the "
                 "practice image", f"({_span(c['microbial_n_to_c'])} against 0.09)",
                 f"sigma {_span(a['beam_sigma_px'])} pixels", *(f"at {_span([100 * v for v in r['cell_13c']])} atom %"
                                                                 for r in (a, b, c))):
        assert text in guide, text
    makefile = _read("Makefile")
    present = makefile.split("\npresent:")[1].split("\n\n")[0]
    assert "notebooks/10_explorer.ipynb" in present and "cull_idle_timeout=600" in present  # as the guide says
    assert "cull_idle_timeout=600" in guide


def _benchmark_rows(text: str) -> list[list[str]]:
    return [line.split("|")[1:-1] for line in text.splitlines() if re.match(r"\| image_[abc] \| \d \|", line)]


def test_the_measured_table_is_the_same_everywhere_and_meets_the_targets():
    tables = {name: _benchmark_rows(_read(*name.split("/"))) for name in
              ("README.md", "docs/instructors.md", "benchmarks/README.md")}
    rows = tables["README.md"]
    assert rows and all(table == rows for table in tables.values())
    default = np.mean([float(row[3].split()[0]) for row in rows])
    ceiling = np.mean([float(row[6]) for row in rows])
    assert default <= 0.85 and ceiling - default >= 0.08
    assert {row[0].strip() for row in rows} == set(HELD_OUT)


def test_lesson_11_states_the_tracks_and_rules_the_code_applies(lesson):
    assert f"(`{RANKING_SCORE}`, higher is better)" in lesson
    for column in SCORE_COLUMNS:
        assert f"`{column}`" in lesson, column
    for text in ("the lowest sum of the three ranks wins", "editing a map by hand", "Training on simulations you make",
                 "public half", "image=image"):
        assert text in lesson, text
    readme = event._README
    assert "{cap}" in readme and "No manual edits" in readme and "Training on simulations you make yourself" in readme

"""Notebooks are committed without outputs, so diffs stay readable and nothing stale is shown."""

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    path for folder in ("notebooks", "solutions", "exercises") for path in (REPO / folder).glob("*.ipynb")
)
HOW_TO_CLEAN = "clear them with: jupyter nbconvert --clear-output --inplace"


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_notebook_has_no_outputs(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    dirty = [
        number
        for number, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; {HOW_TO_CLEAN} {path.relative_to(REPO)}"

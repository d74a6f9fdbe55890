"""Shared fixtures: the folder of real Cameca .im files, and a headless matplotlib."""

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_IM_DIR = REPO.parent / "shared" / "data" / "cameca"


@pytest.fixture(scope="session")
def cameca_dir() -> Path:
    """Folder of real .im files: $NANOSIMS_IM_DIR, else ../shared/data/cameca beside the clone."""
    folder = Path(os.environ.get("NANOSIMS_IM_DIR", DEFAULT_IM_DIR))
    if not folder.is_dir():
        pytest.skip(
            f"no folder of real Cameca .im files at {folder}; "
            "set NANOSIMS_IM_DIR to a folder of .im files to run this test"
        )
    return folder


@pytest.fixture(scope="session")
def cameca_files(cameca_dir) -> list[Path]:
    """The .im files in ``cameca_dir``, sorted by name."""
    files = sorted(cameca_dir.glob("*.im"))
    if not files:
        pytest.skip(f"no .im files in {cameca_dir}; set NANOSIMS_IM_DIR to a folder that has some")
    return files


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test opened, so memory stays flat over the suite."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")

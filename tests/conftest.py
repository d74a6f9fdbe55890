"""Shared fixtures: the real Cameca .im files (the kit's data/cameca, plus $NANOSIMS_IM_DIR)."""

from pathlib import Path

import pytest

from nanosims_helpers.io import real_data


@pytest.fixture(scope="session")
def cameca_dir() -> Path:
    """Folder of real .im files; the test skips, saying how to provide one, when there is none."""
    folder = real_data.cameca_folder()
    if folder is None:
        pytest.skip(real_data.describe_real_data())
    return folder


@pytest.fixture(scope="session")
def cameca_files(cameca_dir) -> list[Path]:
    """The .im files in ``cameca_dir``, sorted by name."""
    files = real_data.cameca_files()
    if not files:
        pytest.skip(real_data.describe_real_data())
    return files

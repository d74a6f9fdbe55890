"""Shared fixtures: the real Cameca .im files (data/cameca, $NANOSIMS_IM_DIR) and the command run in-process."""

from pathlib import Path

import pytest

from nanosims_helpers.cli import main
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


@pytest.fixture
def run_cli(capsys):
    """Run the ``nanosims-cluster`` command in-process: ``run_cli(*argv)`` -> (exit status, stdout, stderr).

    Every argument is passed as ``str(argument)``, so paths and numbers can be given as they are.
    """

    def run(*argv):
        code = main([str(argument) for argument in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run

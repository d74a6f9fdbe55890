"""environment.yml (conda, Binder) is the full kit: pyproject.toml's dependencies and every extra."""

import re
import sys
from importlib import metadata
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _requirement(text: str) -> tuple[str, str]:
    """Split 'name>=1.2' into ('name', '>=1.2'), with the name in lower case."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", text)
    return match.group(1).lower(), match.group(2).replace(" ", "")


def _pyproject() -> tuple[list[str], str]:
    """The dependencies with every extra, and requires-python, of pyproject.toml.

    ``tomllib`` came with Python 3.11; on 3.10 (which the kit supports) the installed kit's
    metadata is read instead: pip wrote it from pyproject.toml (``make`` reinstalls on a change).
    """
    try:
        import tomllib
    except ModuleNotFoundError:
        requires = metadata.requires("nanosims-helpers")
        wanted = [r.split(";")[0] for r in requires]
        return wanted, metadata.metadata("nanosims-helpers")["Requires-Python"]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = [requirement for group in project["optional-dependencies"].values() for requirement in group]
    return project["dependencies"] + extras, project["requires-python"]


def _pyproject_requirements() -> dict[str, str]:
    return dict(_requirement(r) for r in _pyproject()[0])


def _environment() -> dict:
    return yaml.safe_load((REPO / "environment.yml").read_text())


def _environment_requirements() -> dict[str, str]:
    found = {}
    for entry in _environment()["dependencies"]:
        if isinstance(entry, dict):
            found.update(_requirement(r) for r in entry["pip"] if not r.startswith("-e"))
        elif not entry.startswith(("python=", "pip")):
            found.update([_requirement(entry)])
    return found


def test_same_packages_and_lower_bounds():
    assert _environment_requirements() == _pyproject_requirements()


def test_python_minor_version_is_pinned_and_allowed():
    pins = [e for e in _environment()["dependencies"] if isinstance(e, str) and e.startswith("python=")]
    assert len(pins) == 1
    major, minor = re.fullmatch(r"python=(\d+)\.(\d+)", pins[0]).groups()
    floor = _pyproject()[1]
    floor_minor = int(re.search(r">=\s*3\.(\d+)", floor).group(1))
    assert (int(major), int(minor)) >= (3, floor_minor)


def test_the_kit_itself_is_installed_from_the_repository():
    pip_entries = [e for e in _environment()["dependencies"] if isinstance(e, dict)][0]["pip"]
    assert "-e ." in pip_entries
    assert _environment()["channels"] == ["conda-forge"]


def test_python_3_10_reads_the_requirements_from_the_installed_metadata(monkeypatch):
    """Without tomllib (Python 3.10) the kit's metadata is read, where pip writes the extras as
    ``name>=x; extra == "test"``."""
    requires = ["numpy>=1.24", 'pytest>=7.4; extra == "test"', 'dask>=2024.1; extra == "dask"']
    monkeypatch.setattr(metadata, "requires", lambda name: requires)
    monkeypatch.setattr(metadata, "metadata", lambda name: {"Requires-Python": ">=3.10"})
    monkeypatch.setitem(sys.modules, "tomllib", None)  # as on Python 3.10
    assert _pyproject() == (["numpy>=1.24", "pytest>=7.4", "dask>=2024.1"], ">=3.10")


def test_the_core_install_is_the_library_and_the_command_line():
    """No notebook, widget, Dask or test tool in a plain ``pip install nanosims-helpers``."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    core = {_requirement(r)[0] for r in project["dependencies"]}
    assert {"numpy", "scikit-learn", "tifffile", "sims"} <= core
    assert core.isdisjoint({"jupyterlab", "ipywidgets", "voila", "dask", "distributed", "pytest", "playwright"})
    assert set(project["optional-dependencies"]) == {"lab", "dask", "test"}

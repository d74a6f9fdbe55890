"""Binder installs what the lessons need and nothing for the tests; CI runs every lesson in it."""

import re
from pathlib import Path

import tomllib
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
TEST_TOOLS = {"pytest", "nbval", "hypothesis", "ruff", "playwright", "pyyaml", "build"}


def _binder_requirements() -> dict[str, Requirement]:
    lines = (REPO / "binder" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    requirements = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    return {requirement.name.lower(): requirement for requirement in requirements}


def test_binder_installs_the_kits_dependencies_and_no_test_tools():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    texts = project["dependencies"] + extras["lab"] + extras["dask"]  # the library, the lessons' tools, Dask
    declared = {Requirement(text).name.lower(): Requirement(text) for text in texts}
    binder = _binder_requirements()
    assert set(binder) == set(declared)
    assert all(str(binder[name].specifier) == str(declared[name].specifier) for name in declared)
    assert not TEST_TOOLS & set(binder)
    assert not TEST_TOOLS & {Requirement(text).name.lower() for text in project["dependencies"]}


def test_binder_builds_from_its_own_folder_and_installs_the_kit_without_dependencies():
    # repo2docker reads binder/ and then ignores environment.yml at the top (which has the test tools)
    post_build = (REPO / "binder" / "postBuild").read_text(encoding="utf-8")
    assert re.search(r"pip install --no-deps .*-e \.", post_build)
    assert (REPO / "binder" / "postBuild").stat().st_mode & 0o111
    assert re.fullmatch(r"python-3\.\d+\s*", (REPO / "binder" / "runtime.txt").read_text())


def test_ci_runs_every_lesson_in_the_binder_environment_on_one_core():
    ci = (REPO / ".ci" / "binder").read_text(encoding="utf-8")
    assert "-r binder/requirements.txt" in ci and "binder/postBuild" in ci
    assert "taskset -c 0" in ci and "OMP_NUM_THREADS=1" in ci and "tools/run_lessons.py" in ci
    assert ".ci/binder" in (REPO / ".ci" / "run").read_text(encoding="utf-8")

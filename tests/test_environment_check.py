"""check_environment prints one line per requirement and fails only on real problems."""

import shutil
import subprocess
import sys

import pytest
from packaging.requirements import Requirement

from nanosims_helpers.io import real_data
from nanosims_helpers.teaching import environment_check


def test_this_environment_passes_and_prints_one_line_per_check(capsys):
    assert environment_check.check_environment() is True
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("All set")
    statuses = {line.split()[0] for line in lines[:-1]}
    assert statuses <= {"OK", "INFO"}
    assert any("numpy" in line for line in lines) and any("sample soil_256" in line for line in lines)


def test_every_declared_dependency_is_checked():
    checked = {check.requirement for check in environment_check.environment_checks()}
    for name in ("numpy", "scikit-learn", "kneed", "sims", "fastcluster"):
        assert any(requirement.startswith(name) for requirement in checked)


def test_missing_module_is_a_fail_with_a_fix():
    check = environment_check.check_dependency(Requirement("surely-not-installed-xyz>=1"))
    assert check.status == "FAIL" and "surely_not_installed_xyz" in check.detail and "environment.yml" in check.detail


def test_the_check_finds_dask_and_voila_without_importing_them():
    code = ("import sys; from nanosims_helpers.teaching.environment_check import environment_checks; "
            "checks = environment_checks(); "
            "print(sorted({'dask', 'distributed', 'voila', 'jupyterlab'} & set(sys.modules))); "
            "print(sorted(c.requirement for c in checks if c.requirement.startswith(('dask', 'voila'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    imported, checked = out.splitlines()
    assert imported == "[]" and "dask" in checked and "voila" in checked


def test_the_old_module_names_still_work_with_a_deprecation_warning():
    for old in ("nanosims_helpers.environment_check", "nanosims_helpers.exercises"):
        sys.modules.pop(old, None)
        with pytest.warns(DeprecationWarning, match="use module nanosims_helpers.teaching"):
            module = __import__(old, fromlist=["check_environment"])
        assert callable(getattr(module, "check_environment", None) or module.check)


def test_python_m_runs_the_check():
    result = subprocess.run([sys.executable, "-m", "nanosims_helpers.teaching.environment_check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.splitlines()[-1].startswith("All set")
    assert "DeprecationWarning" not in result.stderr


def test_too_old_version_is_a_fail():
    check = environment_check.check_dependency(Requirement("numpy>=999"))
    assert check.status == "FAIL" and "version" in check.detail


def test_a_failure_makes_check_environment_false(monkeypatch, capsys):
    failing = environment_check.Check("FAIL", "numpy", "missing")
    monkeypatch.setattr(environment_check, "environment_checks", lambda: [failing])
    assert environment_check.check_environment() is False
    assert "FAIL numpy: missing" in capsys.readouterr().out


def test_the_kit_ships_real_data_so_the_check_finds_it(monkeypatch, tmp_path):
    monkeypatch.setenv(real_data.ENV_VAR, str(tmp_path / "absent"))
    check = environment_check.check_real_data()
    assert check.status == "INFO" and "image_sun.im" in check.detail
    assert "is not a folder" in check.detail and real_data.ENV_VAR in check.detail


def test_the_environment_variable_adds_files_after_the_kits(monkeypatch, tmp_path):
    (tmp_path / "b.im").write_bytes(b"")
    (tmp_path / "a.IM").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an image")
    monkeypatch.setenv(real_data.ENV_VAR, str(tmp_path))
    assert real_data.cameca_folder() == real_data.DEFAULT_FOLDER
    assert real_data.cameca_folders() == [real_data.DEFAULT_FOLDER, tmp_path]
    names = [path.name for path in real_data.cameca_files()]
    assert names == ["image_sun.im", "openmims_051117.im", "a.IM", "b.im"]
    assert "4 real .im file(s)" in real_data.describe_real_data()


def test_a_second_copy_of_the_kits_files_is_listed_once(monkeypatch, tmp_path):
    shutil.copy(real_data.DEFAULT_FOLDER / "openmims_051117.im", tmp_path)
    monkeypatch.setenv(real_data.ENV_VAR, str(tmp_path))
    assert [path.parent for path in real_data.cameca_files()] == [real_data.DEFAULT_FOLDER] * 2


def test_no_real_data_gives_none_and_an_empty_list(monkeypatch, tmp_path):
    monkeypatch.setattr(real_data, "DEFAULT_FOLDER", tmp_path / "no kit data")
    monkeypatch.setenv(real_data.ENV_VAR, str(tmp_path / "absent"))
    assert real_data.cameca_folder() is None and real_data.cameca_files() == []
    assert "No real .im files found" in real_data.describe_real_data()


def test_the_kits_real_files_are_found_without_any_setting(monkeypatch):
    monkeypatch.delenv(real_data.ENV_VAR, raising=False)
    assert real_data.cameca_folder() == real_data.DEFAULT_FOLDER
    names = [path.name for path in real_data.cameca_files()]
    assert names == ["image_sun.im", "openmims_051117.im"]
    assert (real_data.DEFAULT_FOLDER / "LICENSE.md").is_file() and (real_data.DEFAULT_FOLDER / "README.md").is_file()

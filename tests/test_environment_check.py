"""check_environment prints one line per requirement and fails only on real problems."""

import pytest
from packaging.requirements import Requirement

from nanosims_helpers import environment_check
from nanosims_helpers.io import real_data


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


def test_too_old_version_is_a_fail():
    check = environment_check.check_dependency(Requirement("numpy>=999"))
    assert check.status == "FAIL" and "version" in check.detail


def test_a_failure_makes_check_environment_false(monkeypatch, capsys):
    failing = environment_check.Check("FAIL", "numpy", "missing")
    monkeypatch.setattr(environment_check, "environment_checks", lambda: [failing])
    assert environment_check.check_environment() is False
    assert "FAIL numpy: missing" in capsys.readouterr().out


def test_missing_real_data_is_info_not_fail(monkeypatch, tmp_path):
    monkeypatch.setenv(real_data.ENV_VAR, str(tmp_path / "absent"))
    check = environment_check.check_real_data()
    assert check.status == "INFO" and real_data.ENV_VAR in check.detail


def test_real_data_folder_from_the_environment_variable(monkeypatch, tmp_path):
    (tmp_path / "b.im").write_bytes(b"")
    (tmp_path / "a.IM").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an image")
    monkeypatch.setenv(real_data.ENV_VAR, str(tmp_path))
    assert real_data.cameca_folder() == tmp_path
    assert [path.name for path in real_data.cameca_files()] == ["a.IM", "b.im"]
    assert "2 real .im file(s)" in real_data.describe_real_data()


def test_no_real_data_gives_none_and_an_empty_list(monkeypatch, tmp_path):
    monkeypatch.setenv(real_data.ENV_VAR, str(tmp_path / "absent"))
    assert real_data.cameca_folder() is None and real_data.cameca_files() == []


def test_default_real_data_folder_is_beside_the_repository(monkeypatch, cameca_dir):
    monkeypatch.delenv(real_data.ENV_VAR, raising=False)
    if real_data.DEFAULT_FOLDER.resolve() != cameca_dir.resolve():
        pytest.skip("NANOSIMS_IM_DIR points elsewhere in this run")
    assert real_data.cameca_folder() == real_data.DEFAULT_FOLDER
    assert real_data.cameca_files()

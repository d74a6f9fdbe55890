"""Instant start: the package loads its modules when they are used, and the old spellings still work, warned."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import nanosims_helpers
from nanosims_helpers import _lazy

#: What ``import nanosims_helpers`` and ``nanosims-cluster --help`` must not load (seconds of start-up).
HEAVY = ("sklearn", "matplotlib", "pandas", "dask", "distributed", "skimage", "scipy.stats", "ipywidgets", "kneed")


def loaded_after(code: str) -> list[str]:
    """Run ``code`` in a fresh Python; return the modules of :data:`HEAVY` it left in ``sys.modules``."""
    check = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_importing_the_package_and_its_subpackages_loads_nothing_heavy():
    assert loaded_after("import nanosims_helpers, nanosims_helpers.plot, nanosims_helpers.explorer, "
                        "nanosims_helpers.runs, nanosims_helpers.io") == []


def test_the_command_lines_help_loads_nothing_heavy():
    code = ("import contextlib, io, sys\nfrom nanosims_helpers.__main__ import main\n"
            "sys.argv = ['nanosims-cluster', '--help']\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n    main()")
    assert loaded_after(code) == []


def test_a_bad_command_line_is_answered_before_anything_heavy_loads():
    code = ("import contextlib, io, sys\nfrom nanosims_helpers.cli import main\n"
            "with contextlib.redirect_stderr(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "    main(['a.tif', '--out', 'x', '-k', '1'])")
    assert loaded_after(code) == []


def test_using_a_name_loads_its_module():
    assert "sklearn" in loaded_after("from nanosims_helpers.pipeline import cluster_image")
    assert "matplotlib" in loaded_after("from nanosims_helpers.plot import plot_cluster_map")


def test_the_command_runs_from_its_installed_script(tmp_path):
    script = Path(sys.executable).with_name("nanosims-cluster")
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "--method" in done.stdout and "spatial" in done.stdout


def test_a_name_from_the_top_of_the_package_works_and_says_where_it_lives():
    from nanosims_helpers.pipeline import cluster_image

    with pytest.warns(DeprecationWarning, match="use from nanosims_helpers.pipeline import cluster_image"):
        assert nanosims_helpers.cluster_image is cluster_image
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        nanosims_helpers.no_such_name  # noqa: B018


def test_a_moved_module_is_the_new_module_under_its_old_name():
    old, new = "nanosims_helpers.io.image", "nanosims_helpers.image"
    code = (f"import warnings\nwarnings.simplefilter('error', DeprecationWarning)\n"
            f"try:\n    import {old}\nexcept DeprecationWarning as w:\n    print('warned:', w)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert f"warned: module {old} is deprecated: use module {new}" in done.stdout, done.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from nanosims_helpers.image import NanoSIMSImage
        from nanosims_helpers.io.image import NanoSIMSImage as OldSpelling
    assert OldSpelling is NanoSIMSImage and sys.modules[old] is sys.modules[new]
    assert sys.modules[new].__spec__.name == new  # the new module keeps its own name


def test_every_old_top_level_name_still_resolves():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for name in nanosims_helpers._OLD_NAMES:
            assert getattr(nanosims_helpers, name) is not None, name


def test_every_submodule_and_moved_module_imports():
    for name in nanosims_helpers.__all__:
        assert getattr(nanosims_helpers, name).__name__ == f"nanosims_helpers.{name}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for old, new in _lazy.MOVED_MODULES.items():
            assert __import__(old, fromlist=["_"]) is sys.modules[new]

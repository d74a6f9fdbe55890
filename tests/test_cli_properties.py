"""Random command lines thrown at ``nanosims-cluster``: whatever the options, an exit status of 0, 1 or 2,
no traceback, and no file written outside ``--out``.

The runs are in-process on one 16 x 16 image of three masses, so each takes well under a second.
``--traceback`` (which shows tracebacks on purpose), more than one worker (seconds to start) and
real scheduler addresses (nothing is sent anywhere) are left out.
"""

import contextlib
import io
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nanosims_helpers.cli import main
from nanosims_helpers.io.files import MANIFEST_NAME
from nanosims_helpers.io.loading import save_image_tiff
from nanosims_helpers.teaching.synthetic import simulate_soil_image

ODD_TEXT = st.sampled_from(["", " ", "-1", "0", "1", "2", "3", "auto", "x", "1.5", "1e3", "nan", "99999999999999999999",
                            "12C,,16O", "12C/12C", "13C/12C", "tcp://", "\u00b5", "../escape"])

OPTIONS = {
    "-k": st.one_of(ODD_TEXT, st.integers(-2, 40).map(str)),
    "--k-max": st.one_of(ODD_TEXT, st.integers(0, 12).map(str)),
    "--method": st.one_of(ODD_TEXT, st.sampled_from(["spatial", "kmeans", "pca-kmeans", "hierarchical"])),
    "--preprocessing": st.one_of(ODD_TEXT, st.sampled_from(["asinh", "composition", "max", "zscore"])),
    "--masses": st.one_of(ODD_TEXT, st.sampled_from(["12C,16O", "12C, 27Al16O", "16O", "99Xx", "SE"])),
    "--random-state": st.one_of(ODD_TEXT, st.integers(-5, 2**33).map(str)),
    "--seed": st.one_of(ODD_TEXT, st.integers(0, 10).map(str)),
    "--components": st.one_of(ODD_TEXT, st.integers(-1, 5).map(str)),
    "--threads": st.one_of(ODD_TEXT, st.integers(-1, 2).map(str)),
    "--ratios": st.one_of(ODD_TEXT, st.sampled_from(["13C/12C", "12C15N/12C14N", "16O/12C", "13C/12C,13C/12C"])),
    "--min-region-pixels": st.one_of(ODD_TEXT, st.integers(-1, 10**6).map(str)),
    "--sample-size": st.one_of(ODD_TEXT, st.integers(0, 3000).map(str)),
    "--workers": st.sampled_from(["0", "1", "-3", "x", ""]),
    "--scheduler": st.sampled_from(["", "nonsense", "inproc://x", "http://127.0.0.1:1/status", "tcp://h:0"]),
    "--model": st.sampled_from(["absent.json", "image.tif", "."]),
}
FLAGS = ["--joint", "--version", "--help"]

command_lines = st.tuples(
    st.dictionaries(st.sampled_from(sorted(OPTIONS)), st.none(), max_size=5).flatmap(
        lambda chosen: st.fixed_dictionaries({name: OPTIONS[name] for name in chosen})),
    st.lists(st.sampled_from(FLAGS), max_size=1, unique=True),
    st.booleans(),  # the image given as a file (True) or its folder
)


def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size
            for p in root.rglob("*") if "out" not in p.relative_to(root).parts}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command_lines)
def test_random_command_lines_exit_0_1_or_2_without_traceback_or_stray_files(tmp_path, monkeypatch, line):
    options, flags, as_file = line
    inputs = tmp_path / "inputs"
    if not inputs.exists():
        inputs.mkdir()
        save_image_tiff(simulate_soil_image((16, 16), random_state=0)[0].select(["12C", "13C", "16O", "27Al16O"]),
                        inputs / "image.tif")
    monkeypatch.chdir(tmp_path)
    before = _tree(tmp_path)
    argv = [str(inputs / "image.tif") if as_file else str(inputs), "--out", "out", *flags]
    for name, value in options.items():
        argv += [name, value] if not value.startswith("-") else [f"{name}={value}"]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code
    assert code in (0, 1, 2), (argv, code, err.getvalue())
    assert "Traceback" not in err.getvalue(), (argv, err.getvalue())
    assert _tree(tmp_path) == before, argv  # nothing outside out/
    out = tmp_path / "out"
    if out.exists():  # no temporary file or folder left in it
        assert [p.name for p in out.glob(".*")] in ([], [MANIFEST_NAME]), argv
        shutil.rmtree(out)

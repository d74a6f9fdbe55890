"""The reader of tests/MUTATIONS.md and the checks tools/mutations.py makes before running anything."""

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("mutations_tool", REPO / "tools" / "mutations.py")
tool = sys.modules["mutations_tool"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)

SECTION = """\
### {ident}: {summary}
- file: nanosims_helpers/x.py
- from: {before}
- to: {after}
- killed by: {tests}
"""


def section(ident="drop-weight", summary="drops a weight", before="`f(a, w)`", after="`f(a)`",
            tests="tests/test_x.py::test_y"):
    return SECTION.format(ident=ident, summary=summary, before=before, after=after, tests=tests)


def test_reads_every_field_of_every_section():
    text = "# Mutations\n\nSome prose.\n\n" + section() + "\n" + section("off-by-one", before="`n - 1`", after="`n`")
    first, second = tool.parse(text)
    assert (first.ident, first.summary, first.file) == ("drop-weight", "drops a weight", "nanosims_helpers/x.py")
    assert (first.before, first.after, first.tests) == ("f(a, w)", "f(a)", ("tests/test_x.py::test_y",))
    assert (second.ident, second.before, second.after) == ("off-by-one", "n - 1", "n")


def test_code_with_backticks_between_double_backticks_and_several_tests():
    (mutation,) = tool.parse(section(before="`` x = `a` ``", after="``y``",
                                     tests="tests/a.py::t1, tests/b.py::t2  `tests/c.py`"))
    assert (mutation.before, mutation.after) == ("x = `a`", "y")
    assert mutation.tests == ("tests/a.py::t1", "tests/b.py::t2", "tests/c.py")


def test_spaces_inside_the_code_are_kept_and_crlf_is_read():
    (mutation,) = tool.parse(section(before="`  a  +  b`", after="`a - b`").replace("\n", "\r\n"))
    assert mutation.before == "  a  +  b"


def test_an_example_in_a_fenced_block_is_not_a_mutation():
    text = "Add one like this:\n\n```\n" + section("example") + "```\n\n" + section("real")
    assert [mutation.ident for mutation in tool.parse(text)] == ["real"]


@pytest.mark.parametrize(
    "text, message",
    [
        (section().replace("- to: `f(a)`\n", ""), "lacks to"),
        (section(before="f(a, w)"), "between backticks"),
        (section(before="`f(a, w)"), "must end with"),
        (section(after="`f(a, w)`"), "the same code"),
        (section(tests=""), "names no test"),
        (section() + section(), "used twice"),
        (section() + "- file: other.py\n", "given twice"),
        ("### not an id with spaces: x\n", "expected '### short-id"),
    ],
)
def test_malformed_lists_are_refused_with_the_line(text, message):
    with pytest.raises(tool.ListError, match=message):
        tool.parse(text, "M.md")


def test_a_from_that_is_missing_or_repeated_is_reported(tmp_path):
    (tmp_path / "nanosims_helpers").mkdir()
    (tmp_path / "nanosims_helpers" / "x.py").write_text("a = f(a, w)\nb = f(a, w)\nc = n - 1\n")
    mutations = tool.parse(section() + section("gone", before="`absent`") + section("once", before="`n - 1`"))
    problems = tool.check_sources(mutations, tmp_path)
    assert problems == [
        "drop-weight: 'from' found 2 times in nanosims_helpers/x.py, expected exactly once",
        "gone: 'from' found 0 times in nanosims_helpers/x.py, expected exactly once",
    ]


def test_the_kits_own_list_is_well_formed_and_applies():
    mutations = tool.parse((REPO / "tests" / "MUTATIONS.md").read_text(encoding="utf-8"))
    assert len(mutations) >= 30
    assert tool.check_sources(mutations, REPO) == []
    for mutation in mutations:
        for test in mutation.tests:
            assert (REPO / test.split("::")[0]).is_file(), f"{mutation.ident}: no test file {test}"

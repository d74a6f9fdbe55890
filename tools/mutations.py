"""Re-apply the wrong implementations listed in ``tests/MUTATIONS.md`` and check a test catches each.

Every section of the list names a file, an exact piece of its code (``from``), the wrong version
(``to``) and the test(s) that must fail on it (``killed by``)::

    ### short-id: one line saying what the wrong version does
    - file: nanosims_helpers/x.py
    - from: `exact original code`
    - to: `mutated code`
    - killed by: tests/test_x.py::test_name

The repository (tracked and new, not ignored, files, as they are in the working tree) is copied
once into a temporary folder; each mutation is written into that copy, the named tests run there
with this Python, and the file is put back. The working tree is never edited. Code that holds a
backtick is written between double backticks (````a `b` c````); several tests are separated by
commas and the mutation is killed when any of them fails. Fenced code blocks are skipped, so the
list can show an example section.

Run ``python tools/mutations.py`` (or ``make mutations``). Exit status 0 when every mutation is
killed; 1 when one survives, the list is malformed, a ``from`` is not found exactly once in its
file, or the named tests already fail without any mutation.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_LIST = REPO / "tests" / "MUTATIONS.md"
FIELDS = ("file", "from", "to", "killed by")
#: Seconds a mutated test run may take; longer counts as killed (a wrong loop that never ends).
DEFAULT_TIMEOUT = 600


@dataclass(frozen=True)
class Mutation:
    """One wrong implementation: where, what it replaces, and which tests must catch it."""

    ident: str
    summary: str
    file: str
    before: str
    after: str
    tests: tuple[str, ...]
    line: int


class ListError(ValueError):
    """The mutation list is malformed; the message names the line."""


def _code(value: str, where: str) -> str:
    """The code between the backticks of ``- from: `...` ``, or between a longer run of them."""
    value = value.strip()
    fence = re.match(r"`+", value)
    if not fence:
        raise ListError(f"{where}: the code must be between backticks, got {value!r}")
    ticks = fence.group(0)
    if len(value) < 2 * len(ticks) or not value.endswith(ticks):
        raise ListError(f"{where}: the code opened with {ticks} must end with {ticks}: {value!r}")
    code = value[len(ticks):-len(ticks)]
    if len(ticks) > 1 and code.startswith(" ") and code.endswith(" ") and code.strip():
        code = code[1:-1]  # markdown's padding around code that starts or ends with a backtick
    if not code:
        raise ListError(f"{where}: empty code")
    return code


def parse(text: str, source: str = "MUTATIONS.md") -> list[Mutation]:
    """Read every ``### id: summary`` section of ``text``; raise :class:`ListError` if one is malformed."""
    mutations: list[Mutation] = []
    current: dict | None = None

    def finish():
        if current is None:
            return
        missing = [name for name in FIELDS if name not in current["fields"]]
        if missing:
            raise ListError(f"{source}:{current['line']}: mutation {current['ident']!r} lacks {', '.join(missing)}")
        fields = current["fields"]
        where = f"{source}:{current['line']} ({current['ident']})"
        tests = tuple(t.strip().strip("`") for t in re.split(r"[,\s]+", fields["killed by"]) if t.strip())
        if not tests:
            raise ListError(f"{where}: 'killed by' names no test")
        before, after = _code(fields["from"], where), _code(fields["to"], where)
        if before == after:
            raise ListError(f"{where}: 'from' and 'to' are the same code")
        mutations.append(Mutation(current["ident"], current["summary"], fields["file"].strip().strip("`"),
                                  before, after, tests, current["line"]))

    in_fence = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if re.match(r"^\s*```", line):  # an example in a fenced block is not a mutation
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        heading = re.match(r"^###\s+(.+?)\s*$", line)
        if heading:
            finish()
            ident, _, summary = heading.group(1).partition(":")
            if not ident.strip() or not re.fullmatch(r"[\w.+-]+", ident.strip()):
                raise ListError(f"{source}:{number}: expected '### short-id: summary', got {line!r}")
            current = {"ident": ident.strip(), "summary": summary.strip(), "line": number, "fields": {}}
            continue
        field = re.match(r"^\s*[-*]\s*(file|from|to|killed by)\s*:\s?(.*)$", line, flags=re.IGNORECASE)
        if field and current is not None:
            name = field.group(1).lower()
            if name in current["fields"]:
                raise ListError(f"{source}:{number}: {name!r} given twice for {current['ident']!r}")
            current["fields"][name] = field.group(2)
        elif line.startswith("#") and not line.startswith("###"):
            finish()  # a higher heading ends the section
            current = None
    finish()
    seen: set[str] = set()
    for mutation in mutations:
        if mutation.ident in seen:
            raise ListError(f"{source}:{mutation.line}: the id {mutation.ident!r} is used twice")
        seen.add(mutation.ident)
    return mutations


def repository_files(repo: Path) -> list[str]:
    """Tracked and new files of the working tree, without ignored ones (.venv, caches)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=repo, check=True, capture_output=True,
    ).stdout.decode().split("\0")
    return [name for name in listed if name and (repo / name).is_file()]


def copy_repository(repo: Path, target: Path) -> None:
    for name in repository_files(repo):
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / name, destination)


def check_sources(mutations: list[Mutation], root: Path) -> list[str]:
    """One problem line per mutation whose file is missing or whose ``from`` is not there exactly once."""
    problems = []
    for mutation in mutations:
        path = root / mutation.file
        if not path.is_file():
            problems.append(f"{mutation.ident}: file {mutation.file} not found")
            continue
        count = path.read_text(encoding="utf-8").count(mutation.before)
        if count != 1:
            problems.append(f"{mutation.ident}: 'from' found {count} times in {mutation.file}, expected exactly once")
    return problems


def _environment(root: Path) -> dict:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1")
    env.setdefault("OMP_NUM_THREADS", "1")
    # The copy is not beside ../shared as the repository is: point the real-data tests at it.
    shared = REPO.parent / "shared" / "data" / "cameca"
    if "NANOSIMS_IM_DIR" not in env and shared.is_dir():
        env["NANOSIMS_IM_DIR"] = str(shared)
    return env


def run_tests(tests, root: Path, timeout: float) -> tuple[str, str]:
    """Run ``tests`` in ``root``; return the outcome and the last lines of the output.

    The outcome is "passed", "failed", "timeout", "skipped" (some test did not run, so it could
    not catch anything) or "error" (pytest could not run the tests: a wrong test id).
    """
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-rfEs", "-p", "no:cacheprovider", "--doctest-modules",
               "-o", "addopts=", *tests]
    try:
        done = subprocess.run(command, cwd=root, env=_environment(root), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", f"still running after {timeout:g} s"
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
    if done.returncode == 0:
        return ("skipped" if re.search(r"\d+ skipped", done.stdout) else "passed"), tail
    if done.returncode in (4, 5):  # usage error, or no test collected: a wrong test id, not a kill
        return "error", tail
    return "failed", tail


def check_imports_copy(root: Path) -> None:
    """Make sure Python run in the copy imports the copy's package, not the installed one."""
    found = subprocess.run(
        [sys.executable, "-c", "import nanosims_helpers; print(nanosims_helpers.__file__)"],
        cwd=root, env=_environment(root), capture_output=True, text=True, check=True,
    ).stdout.strip()
    if not Path(found).resolve().is_relative_to(root.resolve()):
        raise SystemExit(f"mutations: Python in the copy imports {found}, not the copy; cannot test mutations")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", type=Path, default=DEFAULT_LIST,
                        help="the mutation list (default: tests/MUTATIONS.md)")
    parser.add_argument("--only", nargs="+", metavar="ID", help="run only these mutations")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per test run")
    parser.add_argument("--verbose", action="store_true", help="show the test output of surviving mutations")
    args = parser.parse_args(argv)

    try:
        mutations = parse(args.list.read_text(encoding="utf-8"), args.list.name)
    except (OSError, ListError) as exc:
        print(f"mutations: {exc}", file=sys.stderr)
        return 1
    if args.only:
        unknown = sorted(set(args.only) - {m.ident for m in mutations})
        if unknown:
            print(f"mutations: unknown id(s) {unknown}", file=sys.stderr)
            return 1
        mutations = [m for m in mutations if m.ident in args.only]
    if not mutations:
        print(f"mutations: no mutation in {args.list}", file=sys.stderr)
        return 1

    # Stopped from outside (kill, a CI timeout): leave through the `with` below, removing the copy.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="nanosims-mutations-") as folder:
        root = Path(folder)
        copy_repository(REPO, root)
        problems = check_sources(mutations, root)
        for problem in problems:
            print(f"BAD LIST   {problem}")
        runnable = [m for m in mutations if not any(p.startswith(f"{m.ident}:") for p in problems)]
        check_imports_copy(root)

        tests = sorted({test for m in runnable for test in m.tests})
        status, output = run_tests(tests, root, args.timeout)
        if status != "passed":
            print(f"mutations: the named tests do not all pass without mutations ({status}):\n{output}",
                  file=sys.stderr)
            return 1

        survived, errors = [], []
        for mutation in runnable:
            path = root / mutation.file
            original = path.read_text(encoding="utf-8")
            path.write_text(original.replace(mutation.before, mutation.after, 1), encoding="utf-8")
            start = time.perf_counter()
            try:
                status, output = run_tests(mutation.tests, root, args.timeout)
            finally:
                path.write_text(original, encoding="utf-8")
            seconds = time.perf_counter() - start
            label = {"failed": "killed", "timeout": "killed", "passed": "SURVIVED", "error": "ERROR",
                     "skipped": "SURVIVED"}[status]
            failed = re.search(r"^(?:FAILED|ERROR) (\S+)", output, flags=re.MULTILINE)
            note = " (timeout)" if status == "timeout" else f" [by {failed.group(1)}]" if failed else ""
            print(f"{label:<10} {mutation.ident:<32} {seconds:6.1f} s  {mutation.summary}{note}", flush=True)
            if status == "passed":
                survived.append(mutation)
                if args.verbose:
                    print(output)
            elif status == "error":
                errors.append(mutation)
                print(output)

    killed = len(runnable) - len(survived) - len(errors)
    print(f"\n{killed} of {len(mutations)} mutation(s) killed, {len(survived)} survived, "
          f"{len(errors)} test error(s), {len(problems)} not applicable")
    return 1 if survived or errors or problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""One OK/FAIL line per requirement of the kit, for the first cell of a hackathon.

Run ``check_environment()`` in a notebook (lesson 00) or ``python -m
nanosims_helpers.teaching.environment_check`` (``make check-env``) in a terminal. FAIL lines say what to install or fix;
INFO lines are facts that need no action.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from typing import NamedTuple

from packaging.requirements import Requirement
from packaging.version import Version

__all__ = ["Check", "check_dependency", "check_environment", "environment_checks"]

DISTRIBUTION = "nanosims-helpers"
# Distributions whose import name is not their name with "-" replaced by "_".
IMPORT_NAMES = {"scikit-learn": "sklearn", "scikit-image": "skimage"}
FIX = "Fix: conda env create -f environment.yml (or pip install -e . in the kit's folder)."


class Check(NamedTuple):
    """The outcome of one check: status "OK", "FAIL" or "INFO", what was checked, and details."""

    status: str
    requirement: str
    detail: str

    def line(self) -> str:
        """Return the check as one printable line."""
        return f"{self.status:<4} {self.requirement}: {self.detail}"


#: The extras the lessons use beside the library: JupyterLab, the widgets and Voila; Dask.
LESSON_EXTRAS = ("lab", "dask")


def _requirements() -> list[Requirement]:
    """The library's requirements and those of the lessons' extras, read from the installed package metadata."""
    declared = [Requirement(text) for text in importlib.metadata.requires(DISTRIBUTION) or []]
    return [requirement for requirement in declared if requirement.marker is None
            or any(requirement.marker.evaluate({"extra": extra}) for extra in LESSON_EXTRAS)]


def check_python() -> Check:
    """Check the running Python against the kit's ``requires-python``."""
    wanted = importlib.metadata.metadata(DISTRIBUTION).get("Requires-Python", "")
    running = ".".join(str(part) for part in sys.version_info[:3])
    ok = Requirement(f"python{wanted}").specifier.contains(running)
    return Check("OK" if ok else "FAIL", f"Python {wanted}", running if ok else f"{running}. {FIX}")


def check_dependency(requirement: Requirement) -> Check:
    """Find one dependency and compare its installed version with the requirement.

    The module is found (``importlib.util.find_spec``) but not imported: importing Dask, Voila and
    JupyterLab's server would take seconds, and the lessons import what they use anyway.
    """
    module_name = IMPORT_NAMES.get(requirement.name, requirement.name.replace("-", "_"))
    try:
        if importlib.util.find_spec(module_name) is None:
            raise ModuleNotFoundError(f"no module named {module_name!r}")
        version = importlib.metadata.version(requirement.name)
    except Exception as exc:  # any failure to find it is the user's problem to see, not ours to hide
        return Check("FAIL", str(requirement), f"cannot find {module_name} ({exc}). {FIX}")
    if requirement.specifier and not requirement.specifier.contains(Version(version), prereleases=True):
        return Check("FAIL", str(requirement), f"version {version} is too old or too new. {FIX}")
    return Check("OK", str(requirement), f"version {version}")


def check_samples() -> list[Check]:
    """Load every shipped sample image and its truth map."""
    from ..io.samples import list_samples, load_sample

    checks = []
    for name in list_samples():
        try:
            image, truth = load_sample(name)
        except Exception as exc:
            checks.append(Check("FAIL", f"sample {name}", f"cannot load ({exc}). Re-clone the kit."))
            continue
        detail = f"{image.shape[0]}x{image.shape[1]} pixels, masses {', '.join(image.masses)}"
        ok = truth.shape == image.shape[:2]
        checks.append(Check("OK" if ok else "FAIL", f"sample {name}", detail))
    return checks or [Check("FAIL", "samples", "no sample images found. Re-clone the kit.")]


def check_real_data() -> Check:
    """Say whether a folder of real ``.im`` files was found (never a failure)."""
    from ..io.real_data import describe_real_data

    return Check("INFO", "real .im files", describe_real_data())


def check_backend() -> Check:
    """Report the matplotlib backend: inline in Jupyter, Agg in scripts and tests."""
    import matplotlib

    backend = matplotlib.get_backend()
    if backend.lower() == "agg":
        return Check("INFO", "matplotlib backend", "agg: figures are drawn but not shown (fine for tests)")
    return Check("OK", "matplotlib backend", backend)


def environment_checks() -> list[Check]:
    """Run every check and return them in order, without printing.

    Returns
    -------
    list of Check
        Python version, each dependency, each sample, real data, matplotlib backend.
    """
    checks = [check_python()]
    checks += [check_dependency(requirement) for requirement in _requirements()]
    checks += check_samples()
    checks += [check_real_data(), check_backend()]
    return checks


def check_environment(verbose: bool = True) -> bool:
    """Print one OK/FAIL/INFO line per requirement; return True when nothing failed.

    Parameters
    ----------
    verbose : bool
        Print the lines (default). With False only the result is returned.

    Returns
    -------
    bool
        True when no check failed. INFO lines never count as failures.
    """
    checks = environment_checks()
    failed = [check for check in checks if check.status == "FAIL"]
    if verbose:
        for check in checks:
            print(check.line())
        print(f"{len(failed)} problem(s) found." if failed else "All set: every requirement is met.")
    return not failed


if __name__ == "__main__":
    sys.exit(0 if check_environment() else 1)

"""One name for each concept: the public signatures use the names of docs/contributing.md's "Names" table."""

import importlib
import inspect
import pkgutil
import re
import warnings
from pathlib import Path

import pytest

import nanosims_helpers

REPO = Path(__file__).resolve().parents[1]

#: Modules left out of the walk (none: every public module follows the table).
NOT_YET: set[str] = set()


def replaced_spellings() -> dict[str, str]:
    """Old spelling -> name, from the "not" column of the table in docs/contributing.md."""
    text = (REPO / "docs" / "contributing.md").read_text()
    table = next(block for block in text.split("## Names", 1)[1].split("\n\n") if block.startswith("| concept"))
    replaced = {}
    for row in table.splitlines()[2:]:
        _, name, old = (cell.strip() for cell in row.strip("|").split("|"))
        new = re.findall(r"`([a-z_]+)`", name)[0]
        for spelling in re.findall(r"`([a-z_]+)`( \(for that\)| \(in signatures\))?", old):
            replaced[spelling[0]] = new
    return replaced


def public_modules() -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        names = [m.name for m in pkgutil.walk_packages(nanosims_helpers.__path__, "nanosims_helpers.")]
        return [importlib.import_module(name) for name in names
                if name not in NOT_YET and not any(part.startswith("_") for part in name.split("."))]


def public_callables(module):
    """(qualified name, callable) of every public function, class and public method defined in ``module``."""
    for name, value in vars(module).items():
        if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(value):
            yield f"{module.__name__}.{name}", value
        elif inspect.isclass(value) and not _is_record(value):
            yield f"{module.__name__}.{name}", value
            for member, function in vars(value).items():
                if inspect.isfunction(function) and not member.startswith("_"):
                    yield f"{module.__name__}.{name}.{member}", function


def _is_record(cls) -> bool:
    """Results (frozen dataclasses, named tuples): their fields say what was found, not what to pass."""
    return hasattr(cls, "__dataclass_fields__") or hasattr(cls, "_fields")


def signatures():
    for module in public_modules():
        for name, value in public_callables(module):
            try:
                yield name, inspect.signature(value)
            except (TypeError, ValueError):
                continue


def test_the_names_table_is_read():
    replaced = replaced_spellings()
    assert replaced["k_values"] == replaced["ks"] == "n_clusters_range"
    assert replaced["seed"] == "random_state" and replaced["min_pixels"] == "min_region_pixels"
    assert replaced["method"] == "preprocessing" and replaced["reference"] == "truth"


def test_public_signatures_use_the_names_of_the_table():
    replaced = replaced_spellings()
    found = [f"{name}({parameter}): use {replaced[parameter]}" for name, signature in signatures()
             for parameter in signature.parameters if parameter in replaced
             and not _other_meaning(name, parameter)]
    assert found == []


def test_random_state_is_keyword_only_everywhere():
    positional = [name for name, signature in signatures()
                  if "random_state" in signature.parameters
                  and signature.parameters["random_state"].kind is not inspect.Parameter.KEYWORD_ONLY]
    assert positional == []


#: Where a replaced spelling means something else, as the table's note says: parameter -> functions.
OTHER_MEANINGS = {
    "n_phases": {"nanosims_helpers.teaching.challenge.scores.best_match_f1"},
    "reference": {"nanosims_helpers.isotopes.enrichment_test", "nanosims_helpers.metrics.adjusted_rand",
                  "nanosims_helpers.metrics.matched_f1", "nanosims_helpers.metrics.match_labels",
                  "nanosims_helpers.validation.check_label_map_pair", "nanosims_helpers.io.loading.estimate_shift"},
    "table": {"nanosims_helpers.isotopes.check_groups", "nanosims_helpers.isotopes.finish_table",
              "nanosims_helpers.isotopes.warn_undefined", "nanosims_helpers.runs.outputs.write_csv",
              "nanosims_helpers.plot.ratios.plot_atom_percent", "nanosims_helpers.choosing_k.find_knee",
              "nanosims_helpers.plot.scatter.plot_sweep", "nanosims_helpers.profiles.split_by_cluster",
              "nanosims_helpers.profiles.cluster_means"},
    "values": {"nanosims_helpers.regions.threshold_regions", "nanosims_helpers.profiles.cluster_profiles",
               "nanosims_helpers.profiles.profile_matrix", "nanosims_helpers.profiles.pixels_and_labels",
               "nanosims_helpers.plot.profiles.plot_cluster_profiles",
               "nanosims_helpers.plot.profiles.plot_parallel_coordinates",
               "nanosims_helpers.teaching.challenge.submissions.check_map"},
}


def _other_meaning(name: str, parameter: str) -> bool:
    """True where ``parameter`` of ``name`` has one of the other meanings the table's note lists."""
    return name in OTHER_MEANINGS.get(parameter, ()) or (
        parameter == "method" and name != "nanosims_helpers.preprocessing.preprocess")


@pytest.mark.parametrize("old, new, call", [
    ("method", "preprocessing", lambda f, **kw: f([[1.0, 2.0]], **kw)),
])
def test_an_old_argument_name_still_works_with_a_warning(old, new, call):
    from nanosims_helpers.preprocessing import preprocess

    words = f"preprocess\\({old}=...\\) is deprecated: use preprocess\\({new}=...\\)"
    with pytest.warns(DeprecationWarning, match=words):
        warned = call(preprocess, **{old: "max"})
    assert (warned == preprocess([[1.0, 2.0]], preprocessing="max")).all()

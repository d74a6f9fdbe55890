"""Secondary-electron and similar channels are loaded and drawn, but not clustered unless named."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from nanosims_helpers.cli import main
from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.image import NON_ION_CHANNELS, NanoSIMSImage, is_ion_channel
from nanosims_helpers.io.loading import load_image
from nanosims_helpers.io.real_data import DEFAULT_FOLDER
from nanosims_helpers.pipeline import cluster_image

ION_MASSES = ["12C", "16O", "18O", "12C 14N", "12C 15N"]


@pytest.fixture(scope="module")
def sun():
    return load_image(DEFAULT_FOLDER / "image_sun.im")


def test_every_listed_name_and_its_spellings_are_non_ion():
    for name in NON_ION_CHANNELS:
        assert not is_ion_channel(name) and not is_ion_channel(name.upper()) and not is_ion_channel(f" {name} ")
    assert all(is_ion_channel(mass) for mass in ("12C", "12C 14N", "32S", "28Si", "56Fe16O", "Se80"))


def test_se_is_loaded_but_not_clustered_by_default(sun):
    assert "SE" in sun.masses
    with pytest.warns(UserWarning, match=r"\['SE'\] are left out of clustering"):
        default = cluster_image(sun, 3)
    assert default.features.shape[2] == len(ION_MASSES)
    ions_only = cluster_image(sun, 3, masses=ION_MASSES)
    np.testing.assert_array_equal(default.labels, ions_only.labels)


def test_masses_can_still_include_se(sun):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # naming the masses is a choice: no warning
        result = cluster_image(sun, 3, masses=[*ION_MASSES, "SE"])
    assert result.features.shape[2] == len(ION_MASSES) + 1


def test_an_image_of_non_ion_channels_only_says_how_to_cluster_it():
    image = NanoSIMSImage(np.ones((4, 4, 2)), ("SE", "ESI"))
    with pytest.raises(NanoSIMSError, match=r"masses=\[\.\.\.\]"):
        image.for_clustering()
    assert image.for_clustering(["SE"]).masses == ("SE",)


def test_command_line_leaves_se_out_and_says_so(capsys, tmp_path):
    code = main([str(DEFAULT_FOLDER / "image_sun.im"), "--out", str(tmp_path), "-k", "3"])
    _, err = capsys.readouterr()
    assert code == 0 and "['SE'] are left out of clustering" in err
    scores = json.loads((tmp_path / "image_sun_scores.json").read_text())
    assert "SE" not in scores["masses"] and scores["masses_not_used"] == ["SE"]
    profiles = pd.read_csv(tmp_path / "image_sun_profiles.csv")
    assert "SE" not in set(profiles["mass"])
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert "SE" in summary.loc[0, "warnings"]


def test_explorer_controls_select_the_ion_masses_only(sun):
    pytest.importorskip("ipywidgets")
    from nanosims_helpers.explorer.widgets import SettingsControls

    controls = SettingsControls(sun)
    assert "SE" in controls.masses.options
    assert "SE" not in controls.settings().masses and len(controls.settings().masses) == len(ION_MASSES)


def test_explorer_state_clusters_the_ion_masses_unless_told_otherwise(sun):
    from nanosims_helpers.explorer.state import ExplorerState, Settings

    state = ExplorerState(sun)
    assert list(state.check(Settings(n_clusters=3)).masses) == ION_MASSES
    assert "SE" in state.check(Settings(n_clusters=3, masses=[*ION_MASSES, "SE"])).masses

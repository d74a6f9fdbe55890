"""Tests of the shipped sample images: files match the simulator, round trip, errors, separability."""

from pathlib import Path

import numpy as np
import pytest
import tifffile

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.io.loading import load_image
from nanosims_helpers.metrics import adjusted_rand
from nanosims_helpers.pipeline import cluster_image, reference_pipeline
from nanosims_helpers.teaching import samples
from nanosims_helpers.teaching.realistic import REALISTIC_PHASES, simulate_realistic_image
from nanosims_helpers.teaching.samples import (
    REALISTIC_SAMPLES,
    SAMPLES,
    list_samples,
    load_sample,
    read_truth,
    sample_paths,
    sample_phases,
    write_sample,
    write_truth,
)
from nanosims_helpers.teaching.synthetic import PHASES, PIXEL_SIZE_UM, SOIL_MASSES, simulate_soil_image

DATA = Path(__file__).resolve().parents[2] / "data"
HOTSPOT = PHASES.index("labelled hotspot")


@pytest.fixture(scope="module")
def soil_256():
    return load_sample("soil_256")


def test_list_samples():
    assert list_samples() == ["soil_256", "soil_512_labelled", "realistic_256"]


@pytest.mark.parametrize("name", ["soil_256", "soil_512_labelled"])
def test_shipped_files_equal_a_fresh_simulation(name):
    image, truth = load_sample(name)
    fresh, fresh_truth = simulate_soil_image(**SAMPLES[name])
    np.testing.assert_array_equal(image.counts, fresh.counts)
    np.testing.assert_array_equal(truth, fresh_truth)
    assert image.masses == SOIL_MASSES
    assert image.pixel_size_um == pytest.approx(PIXEL_SIZE_UM)
    assert image.path.name == f"{name}.tif"


def test_realistic_sample_equals_a_fresh_simulation_with_its_planes():
    image, truth = load_sample("realistic_256")
    fresh = simulate_realistic_image(**REALISTIC_SAMPLES["realistic_256"])
    np.testing.assert_array_equal(image.planes, fresh.image.planes)
    np.testing.assert_array_equal(image.counts, fresh.image.counts)
    np.testing.assert_array_equal(truth, fresh.truth)
    assert image.masses == fresh.image.masses
    assert image.pixel_size_um == pytest.approx(PIXEL_SIZE_UM)
    assert sample_phases("realistic_256") == REALISTIC_PHASES == fresh.phase_names
    assert sample_phases("soil_256") == PHASES


def test_write_realistic_sample_round_trip_keeps_the_planes(tmp_path):
    image_path, truth_path = write_sample("realistic_256", tmp_path)
    fresh = simulate_realistic_image(**REALISTIC_SAMPLES["realistic_256"])
    np.testing.assert_array_equal(load_image(image_path, keep_planes=True).planes, fresh.image.planes)
    np.testing.assert_array_equal(read_truth(truth_path, REALISTIC_PHASES), fresh.truth)


def test_realistic_sample_files_stay_small():
    for path in sample_paths("realistic_256"):
        assert path.stat().st_size < 3e6


def test_truth_of_another_phase_list_is_refused(tmp_path):
    path = tmp_path / "truth.tif"
    write_truth(np.zeros((4, 4), dtype=int), path, phases=REALISTIC_PHASES)
    np.testing.assert_array_equal(read_truth(path, REALISTIC_PHASES), np.zeros((4, 4)))
    with pytest.raises(NanoSIMSError, match="not a truth map"):
        read_truth(path)


def test_samples_differ_as_documented(soil_256):
    image, truth = soil_256
    labelled, labelled_truth = load_sample("soil_512_labelled")
    assert image.shape == (256, 256, 7) and labelled.shape == (512, 512, 7)
    assert HOTSPOT not in truth and HOTSPOT in labelled_truth
    assert np.median(labelled.channel("12C")) < 0.5 * np.median(image.channel("12C"))


def test_write_sample_round_trip(tmp_path):
    image_path, truth_path = write_sample("soil_256", tmp_path)
    image, truth = simulate_soil_image(**SAMPLES["soil_256"])
    np.testing.assert_array_equal(load_image(image_path).counts, image.counts)
    np.testing.assert_array_equal(read_truth(truth_path), truth)
    assert tifffile.imread(truth_path).dtype == np.uint8  # plain TIFF readers see it too


def test_readme_describes_every_data_file():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for path in DATA.glob("*.tif"):
        assert path.name in readme
    for name in list_samples():
        for path in sample_paths(name):
            assert path.is_file()


def test_unknown_sample_lists_the_names():
    with pytest.raises(NanoSIMSError, match="soil_256.*soil_512_labelled.*realistic_256"):
        load_sample("soil_1024")


def test_missing_files_say_to_use_a_clone(tmp_path, monkeypatch):
    monkeypatch.setattr(samples, "DATA_DIR", tmp_path)
    with pytest.raises(NanoSIMSError, match="clone"):
        load_sample("soil_256")


def test_truth_without_phase_names_is_refused(tmp_path):
    path = tmp_path / "labels.tif"
    tifffile.imwrite(path, np.zeros((4, 4), dtype=np.uint8))
    with pytest.raises(NanoSIMSError, match="labels.tif"):
        read_truth(path)
    write_truth(np.ones((4, 4), dtype=int), path)
    np.testing.assert_array_equal(read_truth(path), np.ones((4, 4)))


def test_phases_separate_after_variance_stabilising_but_not_after_max_scaling(soil_256):
    """The lesson the notebooks teach on this sample.

    Anscombe transform + z-score + KMeans at k = number of phases finds the phases; the
    reference notebook's pipeline (divide each channel by its maximum, then KMeans) does worse at
    its own k = 3 and at the true k alike: hot pixels set the maximum and heavy tails dominate
    the distances.
    """
    image, truth = soil_256
    n_phases = len(np.unique(truth))
    kit = cluster_image(image, n_phases, method="kmeans", preprocessing="anscombe+zscore", random_state=0)
    recommended = adjusted_rand(kit.labels, truth)
    assert recommended >= 0.9
    for k in (3, n_phases):  # the reference notebook's k, and the true number of phases
        assert adjusted_rand(reference_pipeline(image, k, random_state=0).labels, truth) < recommended - 0.2

"""One model for a study: fitting on a sample of every image, applying, saving, loading, mass sets, the command line."""

import json
import pickle

import numpy as np
import pandas as pd
import pytest
import tifffile

from nanosims_helpers.cli import main
from nanosims_helpers.clustering import kmeans_map
from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.io.image import NanoSIMSImage
from nanosims_helpers.io.loading import save_image_tiff
from nanosims_helpers.io.outputs import profiles_table
from nanosims_helpers.io.study_outputs import cluster_sums, study_profiles_table
from nanosims_helpers.metrics import adjusted_rand
from nanosims_helpers.pipeline import image_features, labels_from_centers
from nanosims_helpers.plot import cluster_colors, plot_cluster_fractions, plot_cluster_map
from nanosims_helpers.study import (
    StudyModel,
    apply_model,
    fit_model,
    fit_study,
    load_model,
    model_dict,
    sample_study,
    save_model,
)
from nanosims_helpers.synthetic import SOIL_MASSES, simulate_soil_image

SEEDS = (11, 12, 13)


@pytest.fixture(scope="module")
def simulated():
    """Three 64 x 64 images of the same kind of soil and their true phases."""
    return [simulate_soil_image((64, 64), random_state=seed) for seed in SEEDS]


@pytest.fixture(scope="module")
def model(simulated):
    return fit_study([image for image, _ in simulated], 4, sample_size=3000)


@pytest.fixture(scope="module")
def study_dir(simulated, tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    for seed, (image, _) in zip(SEEDS, simulated):
        save_image_tiff(image, folder / f"soil_{seed}.tif")
    return folder


def phase_to_cluster(labels, truth):
    """The cluster most pixels of each true phase fall in."""
    return tuple(int(np.bincount(labels[truth == phase]).argmax()) for phase in np.unique(truth))


# --- fitting and applying ---------------------------------------------------------------------


def test_one_model_gives_every_phase_the_same_cluster_in_every_image(model, simulated):
    unseen, unseen_truth = simulate_soil_image((64, 64), random_state=99)
    mappings = set()
    for image, truth in [*simulated, (unseen, unseen_truth)]:
        labels = apply_model(model, image).labels
        assert adjusted_rand(labels, truth) > 0.9
        mappings.add(phase_to_cluster(labels, truth))
    assert len(mappings) == 1
    assert sorted(mappings.pop()) == [0, 1, 2, 3]


def test_labels_are_the_nearest_centre_of_the_images_features(model, simulated):
    image = simulated[0][0]
    result = apply_model(model, image)
    features = image_features(image, preprocessing="asinh").reshape(-1, len(SOIL_MASSES))
    distances = ((features[:, None, :] - model.centers[None]) ** 2).sum(axis=2)
    assert np.array_equal(result.labels.ravel(), distances.argmin(axis=1))
    assert np.array_equal(result.features.reshape(-1, 7), features)


def test_labels_from_centers_breaks_ties_towards_the_lower_number_and_checks_widths():
    features = np.array([[[1.0], [0.0], [2.0]]])
    assert labels_from_centers(features, [[0.0], [2.0]]).tolist() == [[0, 0, 1]]
    assert labels_from_centers(features, [[2.0], [0.0]]).tolist() == [[0, 1, 0]]
    with pytest.raises(NanoSIMSError, match="2 feature"):
        labels_from_centers(features, [[0.0, 1.0], [2.0, 3.0]])


def test_every_image_gives_the_same_number_of_pixels_whatever_its_size():
    small = simulate_soil_image((32, 32), random_state=1)[0]
    large = simulate_soil_image((96, 96), random_state=2)[0]
    sample = sample_study([small, large, small], sample_size=900, random_state=4)
    assert [table.shape for table in sample.tables] == [(300, 7)] * 3
    assert sample.pixels.shape == (900, 7)
    # every sampled row is a pixel of its image's features
    rows = image_features(large).reshape(-1, 7)
    assert all((rows == row).all(axis=1).any() for row in sample.tables[1])
    # the same image at two places in the list is sampled at different pixels, the same each time
    assert not np.array_equal(sample.tables[0], sample.tables[2])
    again = sample_study([small, large, small], sample_size=900, random_state=4)
    assert all(np.array_equal(a, b) for a, b in zip(sample.tables, again.tables))


def test_the_sample_stays_bounded_as_images_are_added():
    images = [simulate_soil_image((32, 32), random_state=s)[0] for s in range(8)]
    sizes = [sample_study(images[:n], sample_size=400).pixels.shape[0] for n in (2, 4, 8)]
    assert sizes == [400, 400, 400]


def test_the_centres_are_kmeans_on_the_sample(simulated):
    sample = sample_study([image for image, _ in simulated], sample_size=3000, random_state=5)
    model = fit_model(sample, 4)
    expected = kmeans_map(sample.pixels[:, None, :], 4, random_state=5).centers
    assert np.array_equal(model.centers, expected)
    assert model.sample_pixels == 3000 and model.pixels_per_image == 1000 and model.random_state == 5


def test_a_bad_image_is_named_when_fitting(simulated, tmp_path):
    bad = tmp_path / "broken.tif"
    bad.write_bytes(b"not a tiff at all")
    with pytest.raises(NanoSIMSError, match="broken.tif"):
        fit_study([simulated[0][0], bad], 3, sample_size=500)
    sample = sample_study([simulated[0][0], bad], sample_size=500)
    assert len(sample.tables) == 1 and [f.index for f in sample.failures] == [1]


def test_bad_arguments_are_refused(simulated):
    images = [image for image, _ in simulated]
    for kwargs, message in [
        ({"sample_size": 0}, "sample_size"),
        ({"random_state": -1}, "random_state"),
        ({"preprocessing": "log"}, "preprocessing"),
    ]:
        with pytest.raises(NanoSIMSError, match=message):
            fit_study(images, 3, **kwargs)
    with pytest.raises(NanoSIMSError, match="no image"):
        fit_study([], 3)
    with pytest.raises(NanoSIMSError, match="n_clusters"):
        fit_study(images, 1, sample_size=300)


# --- masses -----------------------------------------------------------------------------------


def test_images_with_different_masses_are_clustered_on_the_shared_ones(simulated):
    full, _ = simulated[0]
    no_13c = simulated[1][0].select([m for m in SOIL_MASSES if m != "13C"])
    spaced = NanoSIMSImage(simulated[2][0].counts[:, :, ::-1], tuple(m.replace("C1", "C 1") for m in SOIL_MASSES[::-1]))
    sample = sample_study([full, no_13c, spaced], sample_size=600)
    assert sample.masses == tuple(m for m in SOIL_MASSES if m != "13C")
    assert sample.dropped_masses == (("13C", ("image",)),)
    model = fit_model(sample, 4)
    assert model.dropped_masses == ("13C",)
    # each image's sample is its features on the shared masses, in the model's order
    reordered = image_features(spaced, masses=model.masses).reshape(-1, 6)
    assert all((reordered == row).all(axis=1).any() for row in sample.tables[2])
    assert np.array_equal(apply_model(model, spaced).labels, apply_model(model, spaced.select(model.masses)).labels)


def test_images_sharing_no_mass_are_refused():
    one = NanoSIMSImage(np.arange(32.0).reshape(4, 4, 2), ("12C", "16O"))
    two = NanoSIMSImage(np.arange(32.0).reshape(4, 4, 2), ("27Al16O", "56Fe16O"))
    with pytest.raises(NanoSIMSError, match="no mass is in every image"):
        sample_study([one, two], sample_size=10)


def test_a_model_refuses_an_image_that_lacks_its_masses(model, simulated):
    image = simulated[0][0].select(["12C", "13C", "12C14N"])
    with pytest.raises(NanoSIMSError, match=r"lacks \['16O', '12C15N', '27Al16O', '56Fe16O'\]"):
        apply_model(model, image)


# --- saving and loading -----------------------------------------------------------------------


def test_a_saved_and_loaded_model_labels_exactly_as_before(model, simulated, tmp_path):
    path = save_model(model, tmp_path / "model.json")
    values = json.loads(path.read_text())  # plain JSON
    assert values["masses"] == list(SOIL_MASSES) and values["features"] == {"preprocessing": "asinh"}
    assert values["kit_version"] == model.kit_version and values["n_clusters"] == 4
    loaded = load_model(path)
    assert np.array_equal(loaded.centers, model.centers)
    image = simulate_soil_image((64, 64), random_state=42)[0]
    assert np.array_equal(apply_model(loaded, image).labels, apply_model(model, image).labels)
    assert model_dict(loaded) == model_dict(model)
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_a_model_is_read_only_also_after_a_trip_to_another_process(model):
    for copy in (model, pickle.loads(pickle.dumps(model))):
        with pytest.raises(ValueError):
            copy.centers[0, 0] = 1.0
        with pytest.raises(TypeError):
            copy.features["preprocessing"] = "max"
        with pytest.raises(AttributeError):
            copy.masses = ("12C",)
    assert np.array_equal(pickle.loads(pickle.dumps(model)).centers, model.centers)


def _edit(values, **changes):
    return {**values, **changes}


BAD_MODELS = {
    "not json": lambda v: "{masses: 12C",
    "a list": lambda v: json.dumps([1, 2]),
    "another format": lambda v: json.dumps(_edit(v, format="something-else")),
    "a key missing": lambda v: json.dumps({k: x for k, x in v.items() if k != "centers"}),
    "a newer format": lambda v: json.dumps(_edit(v, format_version=99)),
    "centres for other masses": lambda v: json.dumps(_edit(v, masses=v["masses"][:3])),
    "an unknown preprocessing": lambda v: json.dumps(_edit(v, features={"preprocessing": "log10"})),
    "an unknown feature setting": lambda v: json.dumps(_edit(v, features={"preprocessing": "asinh", "blur": 2})),
    "NaN in a centre": lambda v: json.dumps(_edit(v, centers=[[float("nan")] * 7] + v["centers"][1:])),
    "k that does not match": lambda v: json.dumps(_edit(v, n_clusters=5)),
    "repeated masses": lambda v: json.dumps(_edit(v, masses=["12C"] * 7)),
    "text centres": lambda v: json.dumps(_edit(v, centers="0 1 2")),
}
BAD_MESSAGES = {
    "not json": "not a JSON file", "a list": "not a study model", "another format": "not a study model",
    "a key missing": r"lacks \['centers'\]", "a newer format": "format 99", "centres for other masses": "give 3",
    "an unknown preprocessing": "log10", "an unknown feature setting": "blur", "NaN in a centre": "NaN",
    "k that does not match": "n_clusters is 5", "repeated masses": "distinct", "text centres": "centers",
}


@pytest.mark.parametrize("case", sorted(BAD_MODELS))
def test_bad_model_files_are_refused_with_the_file_named(case, model, tmp_path):
    path = tmp_path / "model.json"
    path.write_text(BAD_MODELS[case](model_dict(model)))
    with pytest.raises(NanoSIMSError, match=BAD_MESSAGES[case]) as error:
        load_model(path)
    assert str(path) in str(error.value)


def test_a_missing_model_file_and_another_kit_version(model, tmp_path):
    with pytest.raises(NanoSIMSError, match="cannot read"):
        load_model(tmp_path / "absent.json")
    path = tmp_path / "old.json"
    path.write_text(json.dumps(_edit(model_dict(model), kit_version="0.0.1")))
    with pytest.warns(UserWarning, match="0.0.1"):
        assert load_model(path).kit_version == "0.0.1"


# --- study tables and colours -----------------------------------------------------------------


def test_study_profiles_equal_statistics_over_all_pixels_of_the_study(model, simulated):
    results = [(image, apply_model(model, image)) for image, _ in simulated]
    sums = [cluster_sums(image.counts, r.features, r.labels, 4) for image, r in results]
    table = study_profiles_table(sums, model.masses)
    counts = np.concatenate([image.counts.reshape(-1, 7) for image, _ in results])
    features = np.concatenate([r.features.reshape(-1, 7) for _, r in results])
    labels = np.concatenate([r.labels.ravel() for _, r in results])
    for cluster in range(4):
        rows = table[table["cluster"] == cluster]
        inside = labels == cluster
        assert (rows["pixels"] == inside.sum()).all()
        assert rows["area_fraction"].iloc[0] == pytest.approx(inside.mean())
        assert rows["images"].iloc[0] == sum((r.labels == cluster).any() for _, r in results)
        np.testing.assert_allclose(rows["mean_counts"], counts[inside].mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(rows["std_counts"], counts[inside].std(axis=0), rtol=1e-9)
        np.testing.assert_allclose(rows["mean_scaled"], features[inside].mean(axis=0), rtol=1e-12)


def test_image_profiles_list_clusters_absent_from_the_image():
    counts = np.arange(12.0).reshape(2, 3, 2)
    labels = np.array([[0, 0, 2], [2, 2, 0]])
    table = profiles_table(counts, counts / 2, labels, ["12C", "16O"], n_clusters=4)
    assert table["cluster"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert table["pixels"].tolist() == [3, 3, 0, 0, 3, 3, 0, 0]
    assert table.loc[table["pixels"] == 0, "mean_counts"].isna().all()
    present = profiles_table(counts, counts / 2, np.array([[0, 0, 1], [1, 1, 0]]), ["12C", "16O"])
    np.testing.assert_array_equal(table.loc[table["cluster"] == 2, "mean_counts"],
                                  present.loc[present["cluster"] == 1, "mean_counts"])
    with pytest.raises(NanoSIMSError, match="n_clusters=2"):
        profiles_table(counts, counts, labels, ["12C", "16O"], n_clusters=2)


def test_fractions_bars_and_maps_share_the_cluster_colours():
    k = 12  # more clusters than tab10: colours are spread over a continuous map, by k
    ax = plot_cluster_fractions(np.full((3, k), 1 / k), ["a", "b", "c"])
    bar_colors = np.array([patch.get_facecolor() for patch in ax.patches[::3]])
    np.testing.assert_allclose(bar_colors, cluster_colors(k))
    labels = np.arange(9).reshape(3, 3)  # clusters 9..11 absent from this image
    image = plot_cluster_map(labels, n_clusters=k).get_images()[0]
    np.testing.assert_allclose(image.cmap(image.norm(np.arange(9))), cluster_colors(k)[:9])
    with pytest.raises(NanoSIMSError, match="summing to 1"):
        plot_cluster_fractions([[0.5, 0.2]])


# --- the command line -------------------------------------------------------------------------


def test_joint_writes_the_study_files_and_they_agree_with_the_maps(run_cli, study_dir, tmp_path):
    out = tmp_path / "joint"
    code, stdout, err = run_cli(study_dir, "--out", out, "--joint", "-k", 4, "--sample-size", 3000)
    assert (code, err) == (0, "") and "3 of 3" in stdout
    model = load_model(out / "model.json")
    fractions = pd.read_csv(out / "study_fractions.csv")
    assert fractions["output_prefix"].tolist() == [f"soil_{seed}" for seed in SEEDS]
    for row in fractions.itertuples():
        labels = tifffile.imread(out / f"{row.output_prefix}_labels.tif")
        image = simulate_soil_image((64, 64), random_state=int(row.output_prefix[5:]))[0]
        assert np.array_equal(labels, apply_model(model, image).labels)
        expected = np.bincount(labels.ravel(), minlength=4) / labels.size
        np.testing.assert_allclose([getattr(row, f"cluster_{c}") for c in range(4)], expected)
        scores = json.loads((out / f"{row.output_prefix}_scores.json").read_text())
        assert scores["k"] == 4 and scores["model"] == "model.json" and scores["masses"] == list(SOIL_MASSES)
    profiles = pd.read_csv(out / "study_profiles.csv")
    assert profiles.groupby("cluster")["pixels"].first().sum() == 3 * 64 * 64
    assert (out / "study_fractions.png").read_bytes().startswith(b"\x89PNG")
    assert not list(out.glob(".partial-*"))


def test_a_saved_model_labels_new_images_as_in_the_study(run_cli, study_dir, tmp_path):
    first = tmp_path / "first"
    assert run_cli(study_dir, "--out", first, "--joint", "-k", 4, "--sample-size", 3000)[0] == 0
    again = tmp_path / "again"
    code, _, err = run_cli(study_dir / "soil_12.tif", "--out", again, "--model", first / "model.json")
    assert (code, err) == (0, "")
    assert (again / "soil_12_labels.tif").read_bytes() == (first / "soil_12_labels.tif").read_bytes()
    assert not (again / "model.json").exists() and (again / "study_fractions.csv").exists()


def test_model_option_reports_images_without_its_masses(run_cli, study_dir, tmp_path):
    assert run_cli(study_dir, "--out", tmp_path / "a", "--joint", "-k", 3, "--sample-size", 900)[0] == 0
    few = tmp_path / "few.tif"
    save_image_tiff(simulate_soil_image((64, 64), random_state=5)[0].select(["12C", "16O"]), few)
    code, _, err = run_cli(few, study_dir / "soil_11.tif", "--out", tmp_path / "b", "--model",
                           tmp_path / "a" / "model.json")
    assert code == 1 and err.count("\n") == 1
    assert "few.tif" in err and "lacks" in err and "13C" in err
    summary = pd.read_csv(tmp_path / "b" / "summary.csv")
    assert summary["status"].tolist() == ["failed", "ok"]


@pytest.mark.parametrize("argv, message", [
    (["--joint", "--method", "hierarchical"], "--joint fits k-means"),
    (["--model", "m.json", "-k", "3"], "--model fixes k"),
    (["--joint", "--model", "m.json"], "not allowed with"),
    (["--sample-size", "100"], "--sample-size applies only to --joint"),
    (["--workers", "2", "--scheduler", "tcp://x:1"], "not allowed with"),
    (["--workers", "0"], "use 1 or more"),
])
def test_study_options_that_do_not_fit_together(capsys, study_dir, tmp_path, argv, message):
    with pytest.raises(SystemExit) as stop:
        main([str(study_dir), "--out", str(tmp_path), *argv])
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_a_bad_model_file_is_a_bad_command_line(capsys, study_dir, tmp_path):
    (tmp_path / "model.json").write_text("{}")
    with pytest.raises(SystemExit) as stop:
        main([str(study_dir), "--out", str(tmp_path / "out"), "--model", str(tmp_path / "model.json")])
    assert stop.value.code == 2 and "not a study model" in capsys.readouterr().err


def test_help_shows_every_study_option_with_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for option, example in [("--joint", "--joint -k 5"), ("--model", "--model results/model.json"),
                            ("--sample-size", "--sample-size 200000"), ("--workers", "--workers 4"),
                            ("--scheduler", "--scheduler tcp://")]:
        assert option in text and example in text, option


def test_study_model_class_checks_its_values():
    with pytest.raises(NanoSIMSError, match="at least 2 centres"):
        StudyModel(np.zeros((1, 2)), ("12C", "16O"))
    with pytest.raises(NanoSIMSError, match="NaN"):
        StudyModel(np.full((2, 2), np.nan), ("12C", "16O"))


def test_joint_says_which_masses_it_left_out(run_cli, study_dir, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for seed in SEEDS[:2]:
        (images / f"soil_{seed}.tif").write_bytes((study_dir / f"soil_{seed}.tif").read_bytes())
    image = simulate_soil_image((64, 64), random_state=7)[0]
    save_image_tiff(image.select([m for m in SOIL_MASSES if m != "13C"]), images / "no_13c.tif")
    code, _, err = run_cli(images, "--out", tmp_path / "out", "--joint", "-k", 3, "--sample-size", 900)
    assert code == 0 and err.count("\n") == 1
    assert "warning: masses left out of the study model: 13C (not in" in err and "no_13c.tif" in err
    values = json.loads((tmp_path / "out" / "model.json").read_text())
    assert values["dropped_masses"] == ["13C"] and "13C" not in values["masses"]
    scores = json.loads((tmp_path / "out" / "soil_11_scores.json").read_text())
    assert scores["masses_not_used"] == ["13C"]

"""One model for a study: fitting on a sample of every image, applying, saving, loading, mass sets, the command line."""

import dataclasses
import json
import pickle

import numpy as np
import pytest
from scipy import ndimage

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.metrics import adjusted_rand
from nanosims_helpers.pipeline import cluster_image
from nanosims_helpers.plot import cluster_colors, plot_cluster_fractions, plot_cluster_map
from nanosims_helpers.preprocessing import composition_transform
from nanosims_helpers.runs.study_outputs import cluster_sums, study_profiles_table
from nanosims_helpers.spatial import FIT_SMOOTHING_PX, core_mask, core_phases, phase_centers, smooth_counts
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
from nanosims_helpers.teaching.challenge import best_match_f1
from nanosims_helpers.teaching.realistic import REALISTIC_PHASES, simulate_realistic_image
from nanosims_helpers.teaching.synthetic import SOIL_MASSES, simulate_soil_image

SEEDS = (11, 12, 13)


@pytest.fixture(scope="module")
def simulated():
    """Three 64 x 64 images of the same kind of soil and their true phases."""
    return [simulate_soil_image((64, 64), random_state=seed) for seed in SEEDS]


@pytest.fixture(scope="module")
def model(simulated):
    return fit_study([image for image, _ in simulated], 4, sample_size=3000)


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


def composition(counts, sigma_px, reference_total):
    """The study features before standardizing, written out: smoothed counts, each pixel rescaled to
    ``reference_total`` (or to a quarter of the image's mean total if it has fewer counts), asinh(x / 10)."""
    smoothed = ndimage.gaussian_filter(counts, (sigma_px, sigma_px, 0), mode="reflect")
    totals = smoothed.sum(axis=2, keepdims=True)
    floor = counts.sum(axis=2).mean() / 4
    return np.arcsinh(smoothed * reference_total / np.maximum(totals, floor) / 10)


def lonely_pixels(labels):
    """Pixels that at most 2 of their 8 neighbours agree with (salt and pepper)."""
    padded = np.pad(labels, 1, mode="edge")
    same = sum(padded[1 + dy:1 + dy + labels.shape[0], 1 + dx:1 + dx + labels.shape[1]] == labels
               for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0))
    return int(np.sum(same <= 2))


def test_features_are_the_composition_standardized_over_the_study(model, simulated):
    image = simulated[0][0]
    result = apply_model(model, image)
    expected = (composition(image.counts, 0.35, model.reference_total) - model.feature_mean) / model.feature_scale
    np.testing.assert_allclose(result.features, expected, rtol=1e-10, atol=1e-12)
    # without the Potts step every pixel takes its nearest centre; with it, on 3 % of the
    # counts, far fewer pixels stand alone
    nearest = ((expected[:, :, None, :] - model.centers) ** 2).sum(axis=3).argmin(axis=2)
    assert np.array_equal(apply_model(dataclasses.replace(model, beta=0.0), image).labels, nearest)
    dim = NanoSIMSImage(np.random.default_rng(0).binomial(image.counts.astype(int), 0.03).astype(float), image.masses)
    potts, alone = (apply_model(m, dim).labels for m in (model, dataclasses.replace(model, beta=0.0)))
    assert lonely_pixels(potts) < lonely_pixels(alone) / 3


def test_a_study_of_one_image_sampled_whole_labels_it_as_the_default_method(simulated):
    """With every pixel in the sample, the study's total, scale and core are the image's own: the same
    phases and map as cluster_image (numbered by their share of the core sample, not of the map)."""
    image, _ = simulated[2]
    model = fit_study([image], 4, sample_size=64 * 64, random_state=3)
    alone = cluster_image(image, 4, random_state=3)
    labels = apply_model(model, image).labels
    assert adjusted_rand(labels, alone.labels) == 1.0
    renumber = [int(np.bincount(alone.labels[labels == c]).argmax()) for c in range(4)]
    np.testing.assert_allclose(model.centers, alone.centers[renumber], rtol=1e-12, atol=1e-12)


def test_the_study_scale_and_total_weigh_every_image_the_same():
    small = simulate_soil_image((32, 32), random_state=1)[0]
    large = simulate_soil_image((96, 96), random_state=2)[0]
    bright = NanoSIMSImage(large.counts * 3.0, large.masses)
    images = [small, large, bright]
    model = fit_study(images, 3, sample_size=3 * 32 * 32)  # every pixel of the small image
    totals = [image.counts.sum(axis=2).mean() for image in images]
    assert model.reference_total == pytest.approx(np.median(totals))
    # the small image gives all its pixels; the two large ones as many, drawn at random: their
    # mean and spread differ from the whole image's by sampling noise only
    per_image = [composition(image.counts, 0.35, model.reference_total).reshape(-1, 7) for image in images]
    expected_mean = np.mean([features.mean(axis=0) for features in per_image], axis=0)
    expected_scale = np.sqrt(np.mean([(features**2).mean(axis=0) for features in per_image], axis=0)
                             - expected_mean**2)
    assert (np.abs(model.feature_mean - expected_mean) < 0.03 * expected_scale).all()
    np.testing.assert_allclose(model.feature_scale, expected_scale, rtol=0.05)


def test_an_image_counted_longer_or_with_a_yield_gradient_gets_the_same_phases(model, simulated):
    image, truth = simulated[1]
    labels = apply_model(model, image).labels
    longer = NanoSIMSImage(image.counts * 3.0, image.masses)  # three times the dwell time, no new noise
    assert np.array_equal(apply_model(model, longer).labels, labels)
    gradient = np.linspace(1.0, 3.0, image.shape[1])[None, :, None]  # the ion yield grows across the field
    tilted = apply_model(model, NanoSIMSImage(image.counts * gradient, image.masses)).labels
    assert adjusted_rand(tilted, labels) > 0.95


@pytest.fixture(scope="module")
def realistic_study():
    """Three realistic images counted for 1, 3 and 0.5 times as long, and one model for them."""
    sims = [simulate_realistic_image((192, 192), count_scale=scale, random_state=seed)
            for seed, scale in ((1, 1.0), (2, 3.0), (3, 0.5))]
    return sims, fit_study([sim.image for sim in sims], len(REALISTIC_PHASES), random_state=0)


def test_a_study_model_is_as_good_as_the_default_on_each_realistic_image(realistic_study):
    """Phases and labelled cells found as well as by clustering each image alone, at every count level."""
    sims, model = realistic_study
    cells = REALISTIC_PHASES.index("labelled cells")
    for sim in sims:
        study = apply_model(model, sim.image).labels
        alone = cluster_image(sim.image, len(REALISTIC_PHASES)).labels
        study_f1 = best_match_f1(study, sim.truth, n_phases=len(REALISTIC_PHASES))[cells]
        alone_f1 = best_match_f1(alone, sim.truth, n_phases=len(REALISTIC_PHASES))[cells]
        print(f"count scale {sim.image.counts.sum() / sims[0].image.counts.sum():.1f}: study model ARI "
              f"{adjusted_rand(study, sim.truth):.3f}, cell F1 {study_f1:.3f}; each image alone ARI "
              f"{adjusted_rand(alone, sim.truth):.3f}, cell F1 {alone_f1:.3f}")
        assert adjusted_rand(study, sim.truth) >= min(0.88, adjusted_rand(alone, sim.truth) - 0.03)
        assert study_f1 >= min(0.8, alone_f1 - 0.05)


def test_a_study_model_gives_every_realistic_phase_one_cluster_in_every_image(realistic_study):
    sims, model = realistic_study
    mappings = {phase_to_cluster(apply_model(model, sim.image).labels, sim.truth) for sim in sims}
    assert len(mappings) == 1 and len(set(mappings.pop())) == len(REALISTIC_PHASES)


def test_every_image_gives_the_same_number_of_pixels_whatever_its_size():
    small = simulate_soil_image((32, 32), random_state=1)[0]
    large = simulate_soil_image((96, 96), random_state=2)[0]
    sample = sample_study([small, large, small], sample_size=900, random_state=4)
    for kind in ("fit_core", "assign_core", "fit_any", "assign_any"):
        assert [getattr(image, kind).shape for image in sample.images] == [(300, 7)] * 3
    # the core rows are core pixels of the image, smoothed for finding the phases
    fit = smooth_counts(large.counts, FIT_SMOOTHING_PX)
    core_rows = fit[core_mask(composition_transform(fit))]
    assert all((core_rows == row).all(axis=1).any() for row in sample.images[1].fit_core)
    # the same image at two places in the list is sampled at different pixels, the same each time
    assert not np.array_equal(sample.images[0].fit_core, sample.images[2].fit_core)
    again = sample_study([small, large, small], sample_size=900, random_state=4)
    assert all(np.array_equal(a.assign_any, b.assign_any) for a, b in zip(sample.images, again.images))


def test_the_sample_stays_bounded_as_images_are_added():
    images = [simulate_soil_image((32, 32), random_state=s)[0] for s in range(8)]
    sizes = [sample_study(images[:n], sample_size=400).features("fit_core").shape[0] for n in (2, 4, 8)]
    assert sizes == [400, 400, 400]


def test_the_phases_are_found_on_the_standardized_core_sample(simulated):
    sample = sample_study([image for image, _ in simulated], sample_size=3000, random_state=5)
    model = fit_model(sample, 4)
    fit_any, assign_any = sample.features("fit_any"), sample.features("assign_any")
    fit_core = (sample.features("fit_core") - fit_any.mean(axis=0)) / fit_any.std(axis=0)
    groups = core_phases(fit_core, 4, random_state=5)
    assign_core = (sample.features("assign_core") - assign_any.mean(axis=0)) / assign_any.std(axis=0)
    centers = phase_centers(assign_core, groups, 4)
    order = np.argsort(-np.bincount(groups[groups >= 0], minlength=4), kind="stable")  # largest first
    np.testing.assert_allclose(model.centers, centers[order], rtol=1e-12)
    assert model.sample_pixels == 3000 and model.pixels_per_image == 1000 and model.random_state == 5


def test_a_bad_image_is_named_when_fitting(simulated, tmp_path):
    bad = tmp_path / "broken.tif"
    bad.write_bytes(b"not a tiff at all")
    with pytest.raises(NanoSIMSError, match="broken.tif"):
        fit_study([simulated[0][0], bad], 3, sample_size=500)
    sample = sample_study([simulated[0][0], bad], sample_size=500)
    assert len(sample.images) == 1 and [f.index for f in sample.failures] == [1]


def test_bad_arguments_are_refused(simulated):
    images = [image for image, _ in simulated]
    for kwargs, message in [
        ({"sample_size": 0}, "sample_size"),
        ({"random_state": -1}, "random_state"),
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
    # each image's sample is its counts of the shared masses, in the model's order
    reordered = smooth_counts(spaced.select(model.masses).counts, FIT_SMOOTHING_PX).reshape(-1, 6)
    assert all((reordered == row).all(axis=1).any() for row in sample.images[2].fit_any)
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
    assert values["masses"] == list(SOIL_MASSES) and values["feature_scale"] == model.feature_scale.tolist()
    assert (values["method"], values["preprocessing"]) == ("spatial", "composition")
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
        with pytest.raises(ValueError):
            copy.feature_scale[0] = 2.0
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
    "a k-means model of an earlier kit": lambda v: json.dumps(_edit(v, format_version=1)),
    "not json (a list)": lambda v: json.dumps([1, 2]),
}
#: One field changed at a time: (field, value, what the message says; a field that disagrees with
#: another makes the message name the field that holds the numbers, the centres).
BAD_FIELDS = {
    "format version as text": ("format_version", "2", "the whole number 2"),
    "format version 2.0": ("format_version", 2.0, "the whole number 2"),
    "another method": ("method", "kmeans", '"spatial"'),
    "another preprocessing": ("preprocessing", "asinh", '"composition"'),
    "a kit version that is a number": ("kit_version", 1, "text"),
    "centres for other masses": ("masses", ["12C", "13C", "16O"], "centers.*lists of 3 finite numbers"),
    "repeated masses": ("masses", ["12C"] * 7, "distinct, non-empty mass names"),
    "an empty mass name": ("masses", ["12C", "13C", "16O", "12C14N", "12C15N", "27Al16O", " "], "non-empty"),
    "masses as text": ("masses", "12C,13C", "a list of distinct"),
    "no masses": ("masses", [], "a list of distinct"),
    "k that does not match": ("n_clusters", 5, "centers.*n_clusters \\(5\\) lists"),
    "k of 1": ("n_clusters", 1, "2 or more"),
    "k as text": ("n_clusters", "4", "a whole number of clusters"),
    "NaN in a centre": ("centers", [[float("nan")] * 7] * 4, "finite numbers"),
    "a short centre": ("centers", [[0.0] * 6] * 4, "lists of 7 finite numbers"),
    "text centres": ("centers", "0 1 2", "lists of 7"),
    "a scale of 0": ("feature_scale", [0.0] * 7, "above 0"),
    "a scale for other masses": ("feature_mean", [0.0] * 6, "7 finite numbers"),
    "an infinite mean": ("feature_mean", [float("inf")] * 7, "7 finite numbers"),
    "no reference total": ("reference_total", 0, "above 0"),
    "reference total as text": ("reference_total", "300", "a finite number above 0"),
    "a negative Potts weight": ("beta", -1, "0 or more"),
    "Potts weight true": ("beta", True, "a finite number"),
    "a negative smoothing": ("smoothing_px", -0.5, "0 or more"),
    "seed as text": ("random_state", "x", "a whole number from 0 to 4294967295"),
    "a negative seed": ("random_state", -1, "from 0"),
    "a fractional seed": ("random_state", 1.5, "a whole number"),
    "a huge seed": ("random_state", 10**23, "to 4294967295"),
    "images as a number": ("images", 5, "a list of file names"),
    "dropped masses as a number": ("dropped_masses", 5, "a list of mass names"),
    "pixels per image negative": ("pixels_per_image", -3, "0 or more"),
    "sample pixels as text": ("sample_pixels", "many", "a whole number"),
}
BAD_MESSAGES = {
    "not json": "not a JSON file", "a list": "not a study model", "not json (a list)": "not a study model",
    "another format": "not a study model", "a key missing": r"lacks \['centers'\]", "a newer format": "format 99",
    "a k-means model of an earlier kit": "earlier kit",
}


@pytest.mark.parametrize("case", sorted(BAD_FIELDS))
def test_every_field_of_a_model_file_is_checked_and_named(case, model, tmp_path):
    field, value, expected = BAD_FIELDS[case]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(_edit(model_dict(model), **{field: value})))
    named = "centers" if expected.startswith("centers") else field
    with pytest.raises(NanoSIMSError, match=f'"{named}" is .*expected .*{expected.removeprefix("centers.*")}') \
            as error:
        load_model(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and "\n" not in message


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

def test_study_model_class_checks_its_values():
    with pytest.raises(NanoSIMSError, match="at least 2 centres"):
        StudyModel(np.zeros((1, 2)), ("12C", "16O"), [0.0, 0.0], [1.0, 1.0], 100.0)
    with pytest.raises(NanoSIMSError, match="NaN"):
        StudyModel(np.full((2, 2), np.nan), ("12C", "16O"), [0.0, 0.0], [1.0, 1.0], 100.0)
    with pytest.raises(NanoSIMSError, match="one feature per mass"):  # 3 features for 2 masses
        StudyModel(np.zeros((2, 3)), ("12C", "16O"), [0.0, 0.0], [1.0, 1.0], 100.0)

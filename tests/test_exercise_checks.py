"""The exercises' self-checks: right answers pass, typical mistakes are caught with a reason, an
untouched answer cell is "not answered yet", and no message gives the expected answer away."""

import numpy as np
import pandas as pd
import pytest

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.hierarchical import compare_with_exact, cut_tree, regroup_clusters, ward_tree
from nanosims_helpers.metrics import adjusted_rand
from nanosims_helpers.pipeline import cluster_image
from nanosims_helpers.preprocessing import preprocess
from nanosims_helpers.teaching.exercises import (
    EXERCISES,
    HINT_LEVELS,
    NOT_ANSWERED,
    check,
    evaluate,
    hint,
    scalings_04_1,
)
from nanosims_helpers.teaching.samples import load_sample
from nanosims_helpers.teaching.synthetic import PHASES


@pytest.fixture(scope="module")
def soil():
    return load_sample("soil_256")


@pytest.fixture(scope="module")
def labelled():
    return load_sample("soil_512_labelled")


@pytest.fixture(scope="module")
def features(soil):
    return preprocess(soil[0].counts)


def _right(exercise_id, answer):
    verdict = evaluate(exercise_id, answer)
    assert verdict.status == "right", verdict.message
    return verdict


def _wrong(exercise_id, answer, reason):
    verdict = evaluate(exercise_id, answer)
    assert verdict.status == "wrong"
    assert reason in verdict.message, verdict.message
    return verdict


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
@pytest.mark.parametrize("untouched", [..., None])
def test_an_untouched_answer_is_not_answered_yet(exercise_id, untouched):
    assert evaluate(exercise_id, untouched).status == NOT_ANSWERED


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_every_exercise_has_three_different_hints(exercise_id, capsys):
    texts = []
    for level in HINT_LEVELS:
        hint(exercise_id) if level == 1 else hint(exercise_id, level)
        out = capsys.readouterr().out
        assert out.startswith(f"{exercise_id}, hint {level}: ")
        texts.append(out.split(": ", 1)[1])
    assert len(set(texts)) == 3 == len(HINT_LEVELS)


def test_unknown_exercise_and_hint_level_say_what_exists():
    with pytest.raises(NanoSIMSError, match="unknown; the exercises are"):
        check("99-9", 1)
    with pytest.raises(NanoSIMSError, match=r"use 1 \(.*\), 2 \(.*\), 3 \(the code\)"):
        hint("02-1", 4)


def test_check_prints_one_line_with_the_verdict(capsys):
    check("04-2", (1.0, 0.5))
    out = capsys.readouterr().out
    assert out.startswith("04-2: wrong. ") and out.count("\n") == 1


def test_an_answer_of_the_wrong_kind_is_wrong_not_an_error():
    verdict = evaluate("04-2", "one")
    assert verdict.status == "wrong" and verdict.message.startswith("Expected two numbers")


def test_01_1_zero_pixels(labelled):
    image, _ = labelled
    share = pd.Series((image.counts == 0).mean(axis=(0, 1)), index=image.masses)
    best = share.idxmax()
    _right("01-1", (best, share.max()))
    _right("01-1", (best.replace("C", "C ", 1).lower(), share.max()))  # spaces and case do not matter
    _wrong("01-1", best, "a pair")  # a name alone is a guess
    _wrong("01-1", (best, share.max() + 0.05), "Your number is not the share")
    _wrong("01-1", (share.idxmin(), share.min()), "FEWEST")
    other = share.drop([best, share.idxmin()]).index[0]
    assert best not in _wrong("01-1", (other, share[other]), "another mass has more").message
    _wrong("01-1", (share, 0.5), "as a string")
    _wrong("01-1", ("99Zz", 0.5), "is not one of")


def test_01_2_hotspot_flags():
    _right("01-2", (50, 10))
    _wrong("01-2", (5, 5), "precision")  # the exercise's starting point: noisy dim pixels
    _wrong("01-2", (500, 10), "recall")
    _wrong("01-2", (50, 200), "no hotspot pixel")
    _wrong("01-2", (0, 5), "positive")


def test_01_3_hot_pixel(labelled):
    image, _ = labelled
    index = image.mass_index("12C14N")
    spoiled = image.counts.copy()
    spoiled[0, 0, index] = 1e6
    ratio = {}
    for method in ("max", "percentile"):
        before = np.median(preprocess(image.counts, method)[:, :, index])
        ratio[method] = np.median(preprocess(spoiled, method)[:, :, index]) / before
    _right("01-3", ratio)
    _wrong("01-3", {"max": 1 / ratio["max"], "percentile": ratio["percentile"]}, "upside down")
    _wrong("01-3", {"max": 1.0, "percentile": 1.0}, "not the ratio")


def test_02_1_phases_sharing_a_cluster(soil):
    image, truth = soil
    labels = cluster_image(image, 3, method="kmeans", masses=["12C", "16O", "12C14N"], random_state=0).labels
    main = pd.crosstab(labels.ravel(), truth.ravel()).idxmax()
    shared = [PHASES[p] for p in main.index if (main == main[p]).sum() == 2]
    share = float((labels == main[PHASES.index(shared[0])]).mean())
    _right("02-1", (*shared, share))
    _right("02-1", (*reversed(shared), share))
    _wrong("02-1", tuple(shared), "two phase names and a share")
    _wrong("02-1", (*shared, share + 0.05), "Your number is not the share")
    apart = [PHASES[p] for p in main.index if (main == main[p]).sum() == 1][:1] + shared[:1]
    _wrong("02-1", (*apart, share), "different clusters")
    _wrong("02-1", shared[0], "two phase names")
    _wrong("02-1", (shared[0], shared[0], share), "same phase twice")


def test_02_2_cluster_richest_in_nitrogen(soil):
    image, truth = soil
    labels = cluster_image(image, 4, method="kmeans", random_state=0).labels
    cn = image.counts[:, :, image.mass_index("12C14N")]
    medians = np.array([np.median(cn[labels == c]) for c in range(4)])
    richest, poorest = int(np.argmax(medians)), int(np.argmin(medians))
    verdict = _right("02-2", (richest, medians[richest]))
    assert "organic matter" in verdict.message
    _wrong("02-2", richest, "a pair")
    _wrong("02-2", (richest, medians[richest] + 3), "Your number is not the median")
    _wrong("02-2", (poorest, medians[poorest]), "LOWEST")
    _wrong("02-2", ("organic matter", 1), "number")
    _wrong("02-2", (7, 1), "not a cluster number")


def test_03_1_components_for_90_percent(features):
    table = features.reshape(-1, features.shape[-1])
    centred = table - table.mean(axis=0)
    singular = np.linalg.svd(centred, compute_uv=False)
    share = np.cumsum(singular**2) / np.sum(singular**2)
    n = int(np.argmax(share >= 0.9)) + 1
    _right("03-1", (n, share[n - 1]))
    _wrong("03-1", n, "a pair")
    _wrong("03-1", (n, share[n - 2]), "Your number is not the share")
    _wrong("03-1", (n - 1, share[n - 2]), "less than 90 %")  # the off-by-one of a position counted from 0
    _wrong("03-1", (n + 1, share[n]), "smallest number")
    _wrong("03-1", (2.5, 0.9), "whole number")


def test_03_2_mass_of_the_third_component(soil, features):
    image, _ = soil
    table = features.reshape(-1, features.shape[-1])
    _, _, rows = np.linalg.svd(table - table.mean(axis=0), full_matrices=False)
    weights = np.abs(rows[:, :])
    top, bottom = int(np.argmax(weights[2])), int(np.argmin(weights[2]))
    _right("03-2", (image.masses[top], weights[2, top]))
    _right("03-2", (image.masses[top], -weights[2, top]))  # the sign of a loading is arbitrary
    _wrong("03-2", image.masses[top], "a pair")
    _wrong("03-2", (image.masses[top], weights[2, top] / 2), "Your number is not the absolute loading")
    first = int(np.argmax(weights[0]))
    if first != top:
        _wrong("03-2", (image.masses[first], weights[2, first]), "first component")
    _wrong("03-2", (image.masses[bottom], weights[2, bottom]), "smallest weight")


def test_03_2_signed_largest_loading_is_caught_when_it_differs(soil, features):
    image, _ = soil
    table = features.reshape(-1, features.shape[-1])
    _, _, rows = np.linalg.svd(table - table.mean(axis=0), full_matrices=False)
    for signed in (rows[2], -rows[2]):  # the sign of a component is arbitrary
        if np.argmax(signed) != np.argmax(np.abs(rows[2])):
            index = int(np.argmax(signed))
            assert evaluate("03-2", (image.masses[index], abs(rows[2, index]))).status == "wrong"


def test_04_1_best_scaling_includes_the_default(soil):
    from nanosims_helpers.preprocessing import RECOMMENDED_PREPROCESSING

    image, truth = soil
    assert {"asinh", RECOMMENDED_PREPROCESSING, "max"} <= set(scalings_04_1())
    ari = pd.Series({
        name: adjusted_rand(cluster_image(image, 4, method="kmeans", preprocessing=name, random_state=0).labels, truth)
        for name in scalings_04_1()
    })
    _right("04-1", (ari.idxmax(), ari.max()))
    _wrong("04-1", ari.idxmax(), "a pair")
    _wrong("04-1", (ari.idxmax(), ari.max() - 0.02), "Your number is not the adjusted Rand index")
    _wrong("04-1", (ari.idxmin(), ari.min()), "LOWEST")
    for name in ari.index.drop([ari.idxmax(), ari.idxmin()]):  # within 0.01 of the best is a tie, so right
        if ari.max() - ari[name] > 0.01:
            _wrong("04-1", (name, ari[name]), "another scaling agrees better")
        else:
            assert "within 0.01" in _right("04-1", (name, ari[name])).message
    _wrong("04-1", ("log", 0.5), "is not one of")


def test_04_2_what_the_ari_ignores(soil):
    _, truth = soil
    chance = adjusted_rand(np.random.default_rng(1).integers(0, 4, size=truth.shape), truth)
    organic, resin = PHASES.index("organic matter"), PHASES.index("pore/resin")
    merged = np.where(truth == resin, organic, truth)
    by_hand = {old: new for new, old in enumerate(np.unique(merged))}  # renumbered another way: same grouping
    renumbered = np.vectorize(by_hand.get)(merged)
    value = adjusted_rand(renumbered, truth)
    assert 0.2 < value < 0.99  # merging costs something, renumbering nothing
    _right("04-2", (value, chance))
    _wrong("04-2", (1.0, 0.0), "renumbering alone")  # the two values the lesson states
    _wrong("04-2", (float(np.mean(merged == truth)), chance), "compare with adjusted_rand")
    _wrong("04-2", (value, 0.25), "share of equal labels")


def test_05_1_best_number_of_groups(soil, features):
    _, truth = soil
    from nanosims_helpers.clustering import kmeans_map

    many = kmeans_map(features, 12, random_state=0)
    ari = {n: adjusted_rand(regroup_clusters(many.labels, many.centers, n_clusters=n).labels, truth)
           for n in range(2, 7)}
    best = max(ari, key=ari.get)
    worst = min(ari, key=ari.get)
    _right("05-1", (best, ari[best]))
    _wrong("05-1", best, "a pair")
    _wrong("05-1", (best, ari[best] - 0.05), "Your number is not the adjusted Rand index")
    _wrong("05-1", (worst, ari[worst]), "compare them all")
    _wrong("05-1", (12, 0.5), "from 2 to 6")


def test_05_2_regroup_by_meaning(soil, features):
    image, truth = soil
    from nanosims_helpers.clustering import kmeans_map

    many = kmeans_map(features, 12, random_state=0)
    column = {mass: i for i, mass in enumerate(image.masses)}
    means = np.stack([features[many.labels == c].mean(axis=0) for c in range(12)])
    scores = np.stack([means[:, column["12C14N"]], means[:, column["27Al16O"]], means[:, column["56Fe16O"]],
                       means[:, column["12C"]] - means[:, column["12C14N"]]], axis=1)
    per_cluster = np.argmax(scores, axis=1)
    _right("05-2", per_cluster[many.labels])
    _wrong("05-2", per_cluster, "one group per CLUSTER")
    _wrong("05-2", many.labels, "still has the 12 clusters")
    _wrong("05-2", np.argmin(scores, axis=1)[many.labels], "WEAKEST")
    by_distance = regroup_clusters(many.labels, many.centers, n_clusters=4).labels
    if adjusted_rand(by_distance, per_cluster[many.labels]) < 1:  # merging by distance is another answer
        _wrong("05-2", by_distance, "differ from naming")
    _wrong("05-2", truth[:10], "shape")


def test_06_1_height_that_gives_four_clusters(features):
    tree = ward_tree(features, random_state=0)
    heights = tree.linkage[:, 2]
    _right("06-1", (heights[-4] + heights[-3]) / 2)
    _wrong("06-1", (heights[-5] + heights[-4]) / 2, "cut higher")  # off by one merge: 5 clusters
    _wrong("06-1", (heights[-3] + heights[-2]) / 2, "cut lower")
    _wrong("06-1", -1, "positive")
    assert len(np.unique(cut_tree(tree, height=(heights[-4] + heights[-3]) / 2))) == 4


def test_06_2_lower_agreement_of_two_crops(features):
    agreements = [compare_with_exact(crop, n_clusters=4, random_state=0).adjusted_rand
                  for crop in (features[:64, :64], features[-64:, -64:])]
    _right("06-2", min(agreements))
    if max(agreements) - min(agreements) > 1e-6:
        _wrong("06-2", max(agreements), "HIGHER")
    _wrong("06-2", 0.5, "Not the agreement")


def test_messages_of_wrong_answers_never_contain_the_right_mass(labelled, soil):
    image, _ = labelled
    share = pd.Series((image.counts == 0).mean(axis=(0, 1)), index=image.masses)
    for mass in image.masses:
        verdict = evaluate("01-1", (mass, share[mass]))
        if verdict.status == "wrong":
            assert share.idxmax() not in verdict.message


def test_a_long_answer_of_the_wrong_kind_is_quoted_short():
    verdict = evaluate("04-2", np.arange(10_000.0))
    assert verdict.status == "wrong" and len(verdict.message) < 250


def test_08_1_ratio_and_error_by_hand(labelled):
    image, truth = labelled
    organic = truth == PHASES.index("organic matter")
    n, d = image.channel("13C")[organic], image.channel("12C")[organic]
    big_n, big_d = n.sum(), d.sum()
    ratio = big_n / big_d
    _right("08-1", (ratio, ratio * np.sqrt(1 / big_n + 1 / big_d)))
    _wrong("08-1", (np.mean(n[d > 0] / d[d > 0]), 0.001), "mean of the pixels")
    _wrong("08-1", (big_d / big_n, 0.001), "upside down")
    _wrong("08-1", (ratio, ratio * np.sqrt(1 / big_n)), "leaves out the 12C")
    _wrong("08-1", (ratio, ratio * (1 / big_n + 1 / big_d)), "square root")
    _wrong("08-1", (ratio, 2 * ratio * np.sqrt(1 / big_n + 1 / big_d)), "error is not")
    _wrong("08-1", 0.0112, "two numbers")


def test_08_2_coverage_of_one_standard_error():
    rng = np.random.default_rng(1)
    minor, major = rng.poisson(60, size=4000), rng.poisson(120, size=4000)
    ratios = minor / major
    _right("08-2", np.mean(np.abs(ratios - 0.5) <= ratios * np.sqrt(1 / minor + 1 / major)))
    _wrong("08-2", np.mean(np.abs(ratios - 0.5) <= ratios * np.sqrt(1 / minor)), "too small")
    _wrong("08-2", np.mean(np.abs(ratios - 0.5) <= 2 * ratios * np.sqrt(1 / minor + 1 / major)), "not 2")
    _wrong("08-2", 68.0, "not a percentage")
    _wrong("08-2", 0.68, "Not the share")  # the textbook value is not what these draws give
    other = np.random.default_rng(2)
    minor, major = other.poisson(60, size=4000), other.poisson(120, size=4000)
    ratios = minor / major
    _wrong("08-2", np.mean(np.abs(ratios - 0.5) <= ratios * np.sqrt(1 / minor + 1 / major)), "default_rng(1)")
def test_07_1_ratio_of_the_halves_of_a_single_plane():
    from nanosims_helpers.io.loading import load_image
    from nanosims_helpers.io.real_data import DEFAULT_FOLDER
    from nanosims_helpers.split_half import split_counts

    first, second = split_counts(load_image(DEFAULT_FOLDER / "openmims_051117.im"), random_state=0)
    ratios = ((first.counts - second.counts) ** 2).mean(axis=(0, 1)) / (first.counts + second.counts).mean(axis=(0, 1))
    wanted = ratios[first.masses.index("12C 15N")]
    _right("07-1", wanted)
    _wrong("07-1", 1 / wanted, "divide the other way")
    _wrong("07-1", ratios[first.masses.index("12C")], "another mass")
    _wrong("07-1", 0.5, "Not the mean")


def test_07_2_split_half_f1_of_the_default_pipeline_on_a_crop():
    from nanosims_helpers.io.image import NanoSIMSImage
    from nanosims_helpers.split_half import split_half_scores

    image, _ = load_sample("realistic_256")
    crop = NanoSIMSImage.from_planes(image.planes[:, :128, :128], image.masses)
    table = split_half_scores(crop, [6], random_state=0)
    _right("07-2", table["split_half_f1"].item())
    if abs(table["split_half_ari"].item() - table["split_half_f1"].item()) > 1e-6:
        _wrong("07-2", table["split_half_ari"].item(), "ARI")
    _wrong("07-2", 0.123, "Not the default")


def test_08_3_the_held_out_ratio_passes_and_the_circular_ones_fail():
    from nanosims_helpers.image import NanoSIMSImage
    from nanosims_helpers.isotopes import AIR_15N_14N, VPDB_13C_12C, isotope_table, ratio_of_sums
    from nanosims_helpers.pipeline import cluster_image

    ratios = [("13C", "12C"), ("12C15N", "12C14N")]
    means = [300.0, 300.0 * VPDB_13C_12C, 50.0, 60.0, 60.0 * AIR_15N_14N]
    flat = NanoSIMSImage(np.random.default_rng(3).poisson(means, size=(96, 96, 5)).astype(float),
                         ("12C", "13C", "16O", "12C14N", "12C15N"))
    result = cluster_image(flat, 4, ratios=ratios)
    rows = isotope_table(flat, result, ratios).query("isotope == '15N/14N'")
    _right("08-3", rows["ratio_of_sums"].max())
    _wrong("08-3", rows["ratio_of_sums"].min(), "not the largest")
    found_on_all = cluster_image(flat, 4).labels
    n, d = flat.channel("12C15N"), flat.channel("12C14N")
    circular = max(ratio_of_sums(n[found_on_all == c], d[found_on_all == c])[0] for c in range(4))
    _wrong("08-3", circular, "tested on those same counts")
    every_count = isotope_table(flat, result.labels.copy(), ratios).query("isotope == '15N/14N'")
    _wrong("08-3", every_count["ratio_of_sums"].max(), "the half that chose the clusters")
    _wrong("08-3", AIR_15N_14N, "true 15N/14N")

"""Depth profiles: per plane counts and ratios, dead-time and QSA corrections, clear errors."""

import numpy as np
import pytest

from nanosims_helpers.depth import depth_profile
from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.io import cameca
from nanosims_helpers.io.loading import load_image


def _planes(n_planes=4, rng=None):
    rng = rng or np.random.default_rng(0)
    planes = np.zeros((n_planes, 8, 8, 2))
    planes[..., 0] = rng.poisson(500.0, size=(n_planes, 8, 8))
    # 13C/12C grows with depth in the right half only (a labelled cell under an unlabelled coat)
    truth = np.where(np.arange(8) >= 4, 1.0, 0.0)[None, None, :] * np.linspace(0.0, 0.05, n_planes)[:, None, None]
    planes[..., 1] = rng.poisson(500.0 * (0.011 + truth), size=(n_planes, 8, 8))
    labels = np.repeat((np.arange(8) >= 4).astype(int)[None, :], 8, axis=0)
    return NanoSIMSImage.from_planes(planes, ("12C", "13C")), labels


def test_depth_profile_follows_the_ratio_plane_by_plane_with_poisson_errors():
    image, labels = _planes()
    profile = depth_profile(image, labels, ratios="13C/12C", names=["coat", "cell"])
    assert len(profile) == 4 * 2
    cell = profile[profile["name"] == "cell"].sort_values("plane")
    coat = profile[profile["name"] == "coat"]
    expected = 0.011 + np.linspace(0.0, 0.05, 4)
    assert np.all(np.abs(cell["ratio_of_sums"].to_numpy() - expected) < 3 * cell["ratio_se"].to_numpy())
    assert np.all(np.abs(coat["ratio_of_sums"] - 0.011) < 3 * coat["ratio_se"])
    # the planes add up to the image
    summed = profile.groupby("cluster")["denominator_counts"].sum()
    assert summed[1] == image.channel("12C")[labels == 1].sum()


def test_count_errors_are_the_spread_of_repeated_measurements():
    # 400 clusters of the same sample, 20 pixels each: the spread of their counts is the error reported
    rng = np.random.default_rng(7)
    planes = rng.poisson([400.0, 5.0], size=(3, 20, 400, 2)).astype(float)
    labels = np.repeat(np.arange(400)[None, :], 20, axis=0)
    profile = depth_profile(NanoSIMSImage.from_planes(planes, ("12C", "13C")), labels, ratios="13C/12C")
    for plane, rows in profile.groupby("plane"):
        for column in ("numerator", "denominator"):
            spread = rows[f"{column}_counts"].std()
            assert rows[f"{column}_se"].mean() == pytest.approx(spread, rel=0.1), (plane, column)


def test_a_plane_without_numerator_counts_reports_an_upper_limit_not_a_zero_error():
    planes = np.zeros((2, 1, 4, 2))
    planes[..., 0] = 250.0
    planes[0, :, 2:, 1] = 3.0  # 13C in cluster 1 in the first plane only
    profile = depth_profile(NanoSIMSImage.from_planes(planes, ("12C", "13C")), np.array([[0, 0, 1, 1]]),
                            ratios="13C/12C")
    none = profile[(profile["plane"] == 1) & (profile["cluster"] == 1)].iloc[0]
    assert none["ratio_of_sums"] == 0 and none[["numerator_se", "ratio_se", "atom_percent_se"]].isna().all()
    assert none["ratio_upper_limit"] == pytest.approx(1.841 / 500, rel=1e-3)  # Gehrels (1986): 1.841 counts


def test_regions_get_their_own_numbers():
    image, labels = _planes()
    regions = labels.copy()  # region 1 = right half, left half outside
    profile = depth_profile(image, regions=regions, ratios="13C/12C")
    assert set(profile["region"]) == {1} and profile["pixels"].eq(32).all()


def test_dead_time_is_corrected_in_every_plane_not_on_the_sum():
    planes = np.full((3, 2, 2, 2), 1000.0)
    image = NanoSIMSImage.from_planes(planes, ("12C", "13C"))
    profile = depth_profile(image, np.zeros((2, 2), int), ratios="13C/12C", dead_time_s=44e-9, dwell_time_s=1e-3)
    per_plane = 4 * 1000.0 / (1 - 1000.0 * 44e-9 / 1e-3)
    np.testing.assert_allclose(profile["denominator_counts"], per_plane)


def test_dead_time_option_matches_load_image_on_a_real_file(cameca_files):
    path = cameca_files[0]
    plain = load_image(path, keep_planes=True)
    corrected = load_image(path, keep_planes=True, dead_time_correction=True)
    keywords = cameca.read_cameca(path, True)[3].keywords
    labels = np.zeros(plain.shape[:2], int)
    labels[:, plain.shape[1] // 2:] = 1
    ratio = "12C15N/12C14N"
    by_option = depth_profile(plain, labels, ratios=ratio, dead_time_s=keywords["dead_time_s"],
                              dwell_time_s=keywords["dwell_time_s"])
    on_loading = depth_profile(corrected, labels, ratios=ratio)
    np.testing.assert_allclose(by_option["denominator_counts"], on_loading["denominator_counts"])
    assert (by_option["denominator_counts"] > depth_profile(plain, labels, ratios=ratio)["denominator_counts"]).all()


def test_planes_corrected_on_loading_are_not_corrected_again(cameca_files):
    path = cameca_files[0]
    corrected = load_image(path, keep_planes=True, dead_time_correction=True)
    keywords = cameca.read_cameca(path, True)[3].keywords
    with pytest.raises(NanoSIMSError, match="dead-time corrected already.*add the lost ions twice"):
        depth_profile(corrected, np.zeros(corrected.shape[:2], int), ratios="12C15N/12C14N",
                      dead_time_s=keywords["dead_time_s"], dwell_time_s=keywords["dwell_time_s"])


def test_an_electron_multiplier_without_a_dead_time_is_named_in_a_warning(tmp_path):
    detectors = {"EM1": {"em deadtime": 44}, "EM2": {}}
    trolleys = [{"detector": "EM", "detector label": "EM1"}, {"detector": "EM", "detector label": "EM2"},
                {"detector": "FC", "detector label": "FC1"}, {"detector": "EM", "detector label": "EM2"}]
    header = {"MassTable": {name: {"trolley index": i} for i, name in enumerate(("12C", "13C", "16O", "SE"))},
              "BFields": [{"time per pixel": 1e-3, "Trolleys": trolleys}], "Detectors": detectors}
    with pytest.warns(UserWarning, match=r"no dead time for the electron multiplier\(s\) of \['13C'\]"):
        dead_times, _ = cameca._dead_time_parameters(tmp_path / "x.im", header, ("12C", "13C", "16O", "SE"))
    np.testing.assert_allclose(dead_times, [44e-9, 0.0, 0.0, 0.0])  # SE is not an ion count: no warning for it


def test_qsa_raises_the_major_isotope_most():
    planes = np.zeros((2, 2, 2, 2))
    planes[..., 0], planes[..., 1] = 600.0, 6.0
    image = NanoSIMSImage.from_planes(planes, ("12C", "13C"))
    labels = np.zeros((2, 2), int)
    plain = depth_profile(image, labels, ratios="13C/12C")
    qsa = depth_profile(image, labels, ratios="13C/12C", qsa_beta=0.5, primary_ions=6000.0)
    np.testing.assert_allclose(qsa["denominator_counts"], 4 * 600.0 * (1 + 0.5 * 0.1))
    np.testing.assert_allclose(qsa["numerator_counts"], 4 * 6.0 * (1 + 0.5 * 0.001))
    assert (qsa["ratio_of_sums"] < plain["ratio_of_sums"]).all()


def test_clear_errors():
    image, labels = _planes()
    summed = NanoSIMSImage(image.counts, image.masses)
    with pytest.raises(NanoSIMSError, match="keep_planes=True"):
        depth_profile(summed, labels, ratios="13C/12C")
    with pytest.raises(NanoSIMSError, match="either labels"):
        depth_profile(image, labels, regions=labels, ratios="13C/12C")
    with pytest.raises(NanoSIMSError, match="needs both"):
        depth_profile(image, labels, ratios="13C/12C", qsa_beta=0.5)
    with pytest.raises(NanoSIMSError, match="give both"):
        depth_profile(image, labels, ratios="13C/12C", dead_time_s=44e-9)
    with pytest.raises(NanoSIMSError, match=r"no mass '12C15N'.*\['12C', '13C'\]"):
        depth_profile(image, labels)


def test_a_plane_without_denominator_counts_gives_nan_and_a_warning():
    planes = np.full((2, 1, 4, 2), 50.0)
    planes[1, :, 2:, 0] = 0.0  # no 12C in cluster 1 in the second plane
    image = NanoSIMSImage.from_planes(planes, ("12C", "13C"))
    with pytest.warns(UserWarning, match=r"cluster 1 \(13C/12C\)"):
        profile = depth_profile(image, np.array([[0, 0, 1, 1]]), ratios="13C/12C")
    assert profile["ratio_of_sums"].isna().tolist() == [False, False, False, True]
    assert not np.isinf(profile.select_dtypes("number").to_numpy()).any()

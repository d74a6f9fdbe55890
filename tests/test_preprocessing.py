"""Tests of nanosims_helpers.preprocessing: each scaling's defining property, warnings, ratios."""

import warnings

import numpy as np
import pytest

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.preprocessing import (
    PREPROCESSING,
    RECOMMENDED_PREPROCESSING,
    anscombe_transform,
    asinh_transform,
    preprocess,
    ratio_image,
    scale_max,
    scale_percentile,
    scale_zscore,
)

TRANSFORMS = sorted(set(PREPROCESSING) - {"none"})


@pytest.fixture
def counts():
    """Poisson counts (32, 32, 3) with very different means per channel and one hot pixel."""
    rng = np.random.default_rng(0)
    values = rng.poisson([2.0, 50.0, 1000.0], size=(32, 32, 3)).astype(float)
    values[3, 4, 1] = 5000.0
    return values


def test_scale_max_gives_channel_maximum_one(counts):
    scaled = scale_max(counts)
    assert scaled.shape == counts.shape
    np.testing.assert_allclose(scaled.max(axis=(0, 1)), 1.0)
    np.testing.assert_allclose(scaled * counts.max(axis=(0, 1)), counts)


def test_scale_max_rejects_channels_without_positive_values():
    with pytest.raises(NanoSIMSError, match="positive maximum"):
        scale_max([[1.0, -2.0], [3.0, 0.0]])


def test_scale_max_is_driven_by_one_hot_pixel(counts):
    # The hot pixel (100 times the channel mean) squeezes every other pixel of channel 1 below 0.02.
    scaled = scale_max(counts)
    others = np.delete(scaled[:, :, 1].ravel(), 3 * 32 + 4)
    assert others.max() < 0.02


def test_scale_percentile_is_clipped_to_unit_interval(counts):
    scaled = scale_percentile(counts, lower=1.0, upper=99.0)
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    for channel in range(3):
        values = counts[:, :, channel]
        low, high = np.percentile(values, [1.0, 99.0])
        inside = (values >= low) & (values <= high)
        expected = (values[inside] - low) / (high - low)
        np.testing.assert_allclose(scaled[:, :, channel][inside], expected)
        assert np.all(scaled[:, :, channel][values > high] == 1.0)
        assert np.all(scaled[:, :, channel][values < low] == 0.0)


def test_scale_percentile_ignores_the_hot_pixel(counts):
    # Unlike max scaling, the typical pixel of channel 1 keeps a mid-range value.
    assert 0.3 < np.median(scale_percentile(counts)[:, :, 1]) < 0.7


def test_scale_percentile_falls_back_to_min_max_when_percentiles_are_equal():
    values = np.zeros((200, 2))
    values[:, 0] = np.arange(200)
    values[-1, 1] = 7.0  # 199 zeros: the 1st and 99th percentiles are both 0
    with pytest.warns(UserWarning, match=r"channel 1 \(13C\).*percentiles are equal"):
        scaled = scale_percentile(values, masses=["12C", "13C"])
    assert scaled[-1, 1] == 1.0 and np.all(scaled[:-1, 1] == 0.0)


@pytest.mark.parametrize("lower, upper", [(50, 50), (60, 40), (-1, 99), (1, 101)])
def test_scale_percentile_rejects_bad_percentiles(counts, lower, upper):
    with pytest.raises(NanoSIMSError, match="percentiles"):
        scale_percentile(counts, lower=lower, upper=upper)


def test_scale_zscore_gives_mean_zero_std_one(counts):
    scaled = scale_zscore(counts.reshape(-1, 3))
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(axis=0), 1.0)


@pytest.mark.parametrize("mean", [5.0, 20.0, 100.0, 1000.0])
def test_anscombe_makes_poisson_variance_about_one(mean):
    samples = np.random.default_rng(1).poisson(mean, size=(200_000, 1)).astype(float)
    assert samples.var() == pytest.approx(mean, rel=0.02)
    assert anscombe_transform(samples).var() == pytest.approx(1.0, abs=0.05)


def test_anscombe_rejects_negative_counts():
    with pytest.raises(NanoSIMSError, match="asinh"):
        anscombe_transform([[1.0, -2.0], [3.0, 4.0]])


def test_asinh_is_linear_for_few_counts_and_logarithmic_for_many():
    values = np.array([[0.01], [1e4], [1e5]])
    result = asinh_transform(values, cofactor=5.0).ravel()
    assert result[0] == pytest.approx(0.01 / 5.0, rel=1e-4)
    # log-like: a factor of 10 in counts adds log(10), whatever the counts
    assert result[2] - result[1] == pytest.approx(np.log(10.0), rel=1e-6)


def test_asinh_is_odd_for_negative_values():
    values = np.array([[-3.0, 1.0], [3.0, 2.0]])
    result = asinh_transform(values)
    assert result[0, 0] == pytest.approx(-result[1, 0])
    assert np.isfinite(result).all()


@pytest.mark.parametrize("cofactor", [0.0, -1.0, float("nan")])
def test_asinh_rejects_bad_cofactor(counts, cofactor):
    with pytest.raises(NanoSIMSError, match="cofactor"):
        asinh_transform(counts, cofactor)


@pytest.mark.parametrize("method", sorted(PREPROCESSING))
def test_every_method_keeps_the_shape_of_images_and_pixel_tables(counts, method):
    assert preprocess(counts, method).shape == counts.shape
    assert preprocess(counts.reshape(-1, 3), method).shape == (32 * 32, 3)


@pytest.mark.parametrize("method", TRANSFORMS)
@pytest.mark.parametrize("constant_value", [0.0, 7.0])
def test_constant_channel_warns_once_and_gives_zeros(counts, method, constant_value):
    counts[:, :, 1] = constant_value
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = preprocess(counts, method, masses=["12C", "13C", "16O"])
    assert len(caught) == 1 and issubclass(caught[0].category, UserWarning)
    assert "channel 1 (13C)" in str(caught[0].message)
    assert np.all(result[:, :, 1] == 0.0)
    assert np.isfinite(result).all()
    np.testing.assert_allclose(result[:, :, [0, 2]], preprocess(counts[:, :, [0, 2]], method))


def test_all_channels_constant_gives_zeros_and_names_them():
    with pytest.warns(UserWarning, match="channel 0, channel 1"):
        result = scale_zscore(np.ones((4, 2)))
    assert np.all(result == 0.0)


def test_preprocess_defaults_to_asinh_of_counts_over_five(counts):
    """The documented default, written out: arcsinh(counts / 5), channel by channel."""
    assert RECOMMENDED_PREPROCESSING == "asinh"
    np.testing.assert_allclose(preprocess(counts), np.arcsinh(counts / 5.0), rtol=1e-12)


def test_combined_methods_apply_the_transform_then_the_zscore(counts):
    np.testing.assert_allclose(preprocess(counts, "asinh+zscore"), scale_zscore(asinh_transform(counts)))
    np.testing.assert_allclose(preprocess(counts, "anscombe+zscore"), scale_zscore(anscombe_transform(counts)))


@pytest.mark.parametrize("method", ["maximum", "", None, "MAX"])
def test_unknown_method_lists_the_names(counts, method):
    with pytest.raises(NanoSIMSError, match="anscombe") as info:
        preprocess(counts, method)
    assert "percentile" in str(info.value) and "preprocessing=" in str(info.value)


@pytest.mark.parametrize("bad", [np.full((4, 4, 2), np.nan), np.zeros(5), np.zeros((2, 2, 2, 2)), "counts"])
def test_bad_counts_raise(bad):
    with pytest.raises(NanoSIMSError, match="counts"):
        scale_max(bad)


@pytest.fixture
def isotopes():
    """2 x 3 image: 12C15N and 12C 14N counts, one pixel with a 14N count below 1."""
    counts = np.zeros((2, 3, 2))
    counts[:, :, 0] = [[1.0, 2.0, 0.0], [5.0, 3.0, 4.0]]
    counts[:, :, 1] = [[4.0, 8.0, 2.0], [0.5, 0.0, 100.0]]
    return NanoSIMSImage(counts, ("12C15N", "12C 14N"))


def test_ratio_image_values_and_nan_below_min_denominator(isotopes):
    ratio = ratio_image(isotopes, "12C 15N", "12C14N")
    expected = np.array([[0.25, 0.25, 0.0], [np.nan, np.nan, 0.04]])
    np.testing.assert_allclose(ratio, expected)


def test_ratio_image_min_denominator_masks_more_pixels(isotopes):
    ratio = ratio_image(isotopes, "12C15N", "12C14N", min_denominator=5.0)
    assert np.isnan(ratio).tolist() == [[True, False, True], [True, True, False]]
    assert ratio[0, 1] == 0.25


@pytest.mark.parametrize("min_denominator", [0.0, -1.0])
def test_ratio_image_rejects_non_positive_min_denominator(isotopes, min_denominator):
    with pytest.raises(NanoSIMSError, match="min_denominator"):
        ratio_image(isotopes, "12C15N", "12C14N", min_denominator=min_denominator)


def test_ratio_image_with_no_usable_pixel_raises(isotopes):
    with pytest.raises(NanoSIMSError, match="no pixel"):
        ratio_image(isotopes, "12C15N", "12C14N", min_denominator=1000.0)


def test_ratio_image_unknown_mass_lists_the_masses(isotopes):
    with pytest.raises(NanoSIMSError, match="13C"):
        ratio_image(isotopes, "13C", "12C14N")


def test_ratio_image_needs_an_image(isotopes):
    with pytest.raises(NanoSIMSError, match="NanoSIMSImage"):
        ratio_image(isotopes.counts, "12C15N", "12C14N")

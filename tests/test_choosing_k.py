"""Choosing k: the sweep table, its scores, the fast sweep against the plain loop, and the knee."""

import warnings

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from nanosims_helpers.choosing_k import SWEEP_COLUMNS, _farthest_from_chord, find_knee, sweep_k
from nanosims_helpers.clustering import kmeans_map, pca_components
from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.metrics import calinski_harabasz, clustering_entropy, davies_bouldin, silhouette
from nanosims_helpers.preprocessing import RECOMMENDED_PREPROCESSING, preprocess
from nanosims_helpers.teaching.samples import load_sample


@pytest.fixture(autouse=True)
def _one_thread():
    """Run KMeans on one thread: on a CPU shared with other jobs (CI), 2 OpenMP threads made the
    plain loop several times slower. Results do not depend on the number of threads."""
    with threadpool_limits(1):
        yield


def blob_image(shape=(40, 40), n_clusters=4, noise=0.05, seed=0):
    """An image whose pixels take one of ``n_clusters`` compositions, plus a little noise."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_clusters, shape)
    centres = rng.uniform(0, 5, (n_clusters, 3))
    return centres[truth] + noise * rng.standard_normal(shape + (3,)), truth


@pytest.mark.parametrize("fast", [True, False])
def test_sweep_has_one_row_per_k_and_the_documented_columns(fast):
    image, _ = blob_image()
    table = sweep_k(image, range(2, 7), fast=fast, progress=False)
    assert list(table.columns) == list(SWEEP_COLUMNS)
    assert table["k"].tolist() == [2, 3, 4, 5, 6]
    assert table.notna().all().all()


def test_plain_sweep_scores_are_those_of_kmeans_map():
    image, _ = blob_image(noise=0.8)  # 1600 pixels: the sweep's silhouette uses them all
    table = sweep_k(image, range(2, 5), fast=False, progress=False).set_index("k")
    for k in (2, 3, 4):
        labels = kmeans_map(image, k).labels
        pixels, flat = image.reshape(-1, 3), labels.ravel()
        means = np.array([pixels[flat == c].mean(axis=0) for c in range(k)])
        row = table.loc[k]
        assert row["inertia"] == pytest.approx(((pixels - means[flat]) ** 2).sum())
        assert row["entropy"] == pytest.approx(clustering_entropy(image, labels))
        assert row["calinski_harabasz"] == pytest.approx(calinski_harabasz(image, labels))
        assert row["davies_bouldin"] == pytest.approx(davies_bouldin(image, labels))
        assert row["silhouette"] == pytest.approx(silhouette(image, labels, exact=True), abs=1e-5)


@pytest.mark.parametrize("fast", [True, False])
def test_sweep_finds_the_number_of_compositions(fast):
    image, _ = blob_image((128, 128))  # more pixels than the fast sweep fits on
    table = sweep_k(image, range(2, 11), fast=fast, progress=False)
    assert find_knee(table, "entropy") == 4
    assert find_knee(table, "inertia") == 4
    assert table.set_index("k")["silhouette"].idxmax() == 4


def test_fast_sweep_is_close_to_the_plain_loop_on_every_pixel():
    image, _ = blob_image((128, 128), noise=0.5)
    fast = sweep_k(image, range(2, 7), progress=False)
    plain = sweep_k(image, range(2, 7), fast=False, progress=False)
    assert np.allclose(fast["inertia"], plain["inertia"], rtol=0.02)
    assert np.allclose(fast["entropy"], plain["entropy"], rtol=0.02)


def test_fast_sweep_fits_on_pixels_from_the_whole_image():
    """A third composition only in the bottom rows: a fit on the first 10,000 pixels would never
    see it, a fit on pixels drawn from the whole image does, as the plain loop does."""
    image, _ = blob_image((150, 100), n_clusters=2, noise=0.05)
    image[100:] = [9.0, 9.0, 9.0] + 0.05 * np.random.default_rng(1).standard_normal((50, 100, 3))
    fast = sweep_k(image, [3], progress=False)
    plain = sweep_k(image, [3], fast=False, progress=False)
    assert fast["inertia"].item() == pytest.approx(plain["inertia"].item(), rel=0.05)


def test_sweep_is_reproducible_and_accepts_a_pixel_table():
    image, _ = blob_image(noise=0.5)
    first = sweep_k(image, range(2, 6), random_state=3, progress=False)
    pd.testing.assert_frame_equal(first, sweep_k(image, range(2, 6), random_state=3, progress=False))
    pd.testing.assert_frame_equal(first, sweep_k(image.reshape(-1, 3), range(2, 6), random_state=3, progress=False))


def test_k_values_are_sorted_and_repeats_dropped():
    image, _ = blob_image()
    assert sweep_k(image, [4, 2, 4, 3], progress=False)["k"].tolist() == [2, 3, 4]


def test_progress_bar_only_when_asked(capsys):
    image, _ = blob_image((16, 16))
    sweep_k(image, range(2, 4), progress=False)
    assert capsys.readouterr().err == ""
    sweep_k(image, range(2, 4), progress=True)
    assert "KMeans for each k" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("k_values", "message"),
    [
        ([], "empty"),
        ([1, 2], "at least 2"),
        ([2, 500], "only 256 pixels"),
        ([2.5], "whole number"),
        (5, "list or range"),
    ],
)
def test_bad_k_values_are_explained(k_values, message):
    image, _ = blob_image((16, 16))
    with pytest.raises(NanoSIMSError, match=message):
        sweep_k(image, k_values, progress=False)


@pytest.mark.parametrize("fast", [True, False])
def test_more_clusters_than_distinct_pixels_is_an_error(fast):
    image = np.zeros((8, 8, 2))
    image[:4] = 1.0  # two distinct pixel values
    with pytest.raises(NanoSIMSError, match="distinct"):
        sweep_k(image, range(2, 5), fast=fast, progress=False)


def test_sweep_rejects_nan_values():
    image, _ = blob_image((16, 16))
    image[3, 3, 0] = np.nan
    with pytest.raises(NanoSIMSError, match="NaN"):
        sweep_k(image, progress=False)


def soil_features(kind):
    image, _ = load_sample("soil_256")
    channels = preprocess(image.counts, RECOMMENDED_PREPROCESSING)
    return pca_components(channels, 2)[0] if kind == "pca" else channels


@pytest.fixture(scope="module", params=["pca", "channels"])
def soil_sweeps(request):
    """The fast and the plain sweep of the soil sample, on 2 PCA components or on 7 channels."""
    features = soil_features(request.param)
    return request.param, sweep_k(features, progress=False), sweep_k(features, fast=False, progress=False)


def test_fast_and_plain_sweeps_find_the_same_inertia_knee_on_the_soil_sample(soil_sweeps):
    _, fast, plain = soil_sweeps
    assert find_knee(fast, "inertia") == find_knee(plain, "inertia")


def test_fast_and_plain_sweeps_find_the_same_entropy_knee_on_the_soil_sample(soil_sweeps):
    kind, fast, plain = soil_sweeps
    if kind == "pca":
        assert find_knee(fast, "entropy") == find_knee(plain, "entropy")
    else:
        # On 7 channels the entropy curve bends gradually: over 10 seeds the plain loop's own
        # knee ranged over 9-12, so here the two sweeps can only be asked to agree within 2.
        assert abs(find_knee(fast, "entropy") - find_knee(plain, "entropy")) <= 2


def smooth_convex_curve(k):
    return 10 * np.exp(-k / 3) + 1


def kneedle_knee(k, y):
    """The Kneedle knee of a smooth decreasing convex curve: farthest below the normalised chord."""
    x_scaled = (k - k[0]) / (k[-1] - k[0])
    y_scaled = (y - y.min()) / (y.max() - y.min())
    return int(k[np.argmax((1 - x_scaled) - y_scaled)])


def test_knee_of_a_smooth_convex_curve():
    k = np.arange(2, 32)
    y = smooth_convex_curve(k)
    expected = kneedle_knee(k, y)
    assert 4 < expected < 12  # a knee inside the range, not at its ends
    assert find_knee(pd.DataFrame({"k": k, "entropy": y})) == expected
    rising = pd.DataFrame({"k": k, "score": 20 - y})
    assert find_knee(rising, "score", curve="concave", direction="increasing") == expected


def test_knee_of_a_noisy_curve_is_mostly_the_knee_of_the_curve_underneath():
    """KMeans' local optima leave bumps on a sweep curve; the polynomial fit irons them out. With
    noise of 0.08 on the smooth curve, the knee stays put for 7 of 10 seeds (Kneedle on the
    unsmoothed points: 1 of 10)."""
    k = np.arange(2, 32)
    smooth = smooth_convex_curve(k)
    expected = find_knee(pd.DataFrame({"k": k, "entropy": smooth}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        noisy = [smooth + np.random.default_rng(seed).normal(0, 0.08, k.size) for seed in range(10)]
        knees = [find_knee(pd.DataFrame({"k": k, "entropy": curve})) for curve in noisy]
    assert sum(knee == expected for knee in knees) >= 6


def test_knee_reads_the_named_column_and_ignores_row_order():
    k = np.arange(2, 32)
    table = pd.DataFrame({"k": k, "inertia": smooth_convex_curve(k), "entropy": np.linspace(5, 1, k.size)})
    knee = find_knee(table.iloc[::-1], "inertia")
    assert knee == kneedle_knee(k, smooth_convex_curve(k))
    assert isinstance(knee, int)


def test_no_knee_warns_and_falls_back_to_the_smallest_k():
    table = pd.DataFrame({"k": range(2, 12), "entropy": np.linspace(5.0, 1.0, 10)})
    with pytest.warns(UserWarning, match=r"'entropy'.*k=2, the smallest k"):
        assert find_knee(table) == 2


def test_fallback_is_the_k_farthest_from_the_chord():
    k = np.arange(2, 12)
    bent = np.array([10, 6, 4, 3, 2.5, 2.2, 2, 1.9, 1.8, 1.7])  # far below the chord at k=4..5
    gap_below_chord = 10 + (1.7 - 10) * (k - 2) / 9 - bent
    assert _farthest_from_chord(k, bent, "convex") == k[np.argmax(gap_below_chord)]
    assert _farthest_from_chord(k, np.linspace(3, 1, 10), "convex") is None
    assert _farthest_from_chord(k, bent, "concave") is None  # nothing above the chord


def test_knee_found_without_a_warning_on_a_real_bend():
    k = np.arange(2, 32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        find_knee(pd.DataFrame({"k": k, "entropy": smooth_convex_curve(k)}))


@pytest.mark.parametrize(
    ("table", "kwargs", "message"),
    [
        ({"k": [2, 3, 4], "entropy": [3, 2, 1]}, {}, "DataFrame"),
        (pd.DataFrame({"entropy": [3, 2, 1]}), {}, "'k' column"),
        (pd.DataFrame({"k": [2, 3, 4], "entropy": [3, 2, 1]}), {"column": "silhouete"}, "entropy"),
        (pd.DataFrame({"k": [2, 3], "entropy": [3, 1]}), {}, "at least 3"),
        (pd.DataFrame({"k": [2, 3, 4], "entropy": [3, np.nan, 1]}), {}, "NaN"),
        (pd.DataFrame({"k": [2, 3, 4], "entropy": [3, 2, 1]}), {"curve": "convx"}, "convex"),
        (pd.DataFrame({"k": [2, 3, 4], "entropy": [3, 2, 1]}), {"direction": "down"}, "decreasing"),
    ],
)
def test_find_knee_explains_bad_input(table, kwargs, message):
    with pytest.raises(NanoSIMSError, match=message):
        find_knee(table, **kwargs)

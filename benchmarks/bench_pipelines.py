"""Which clustering pipeline recovers the phases of realistic images: every candidate, same run.

Run from the repository root: ``python -m benchmarks.bench_pipelines [--quick] [--scale]``.

Each candidate clusters, in a fresh process (:mod:`benchmarks._measure`):

* 5 seeds of the realistic sample (``simulate_realistic_image``, 256 x 256, 6 phases, k = 6);
* the same 5 seeds with a rare phase (``RealisticSettings(rare_fraction=0.006)``: small bright
  charcoal particles on 0.6 % of the pixels, 7 phases, k = 7);
* ``soil_256`` (k = 4).

The table gives the adjusted Rand index (ARI) against the truth, the F1 of the cluster that best
matches the labelled cells and the charcoal, the boundary-cluster share (the largest share of
any cluster's pixels lying within 1 pixel of a true boundary, and the same less the share of the
phase the cluster matches best: the labelled cells and the charcoal particles are two-thirds
boundary pixels themselves), the median time and the peak memory. The supervised ceiling is a
random forest on multi-scale features, trained on the truth of two other seeds (100 and 101).
Then the counting model and the spatial default at 256 x 256 and 512 x 512, timed interleaved on
one thread. ``--quick``: 2 seeds, no 512; ``--scale``: also the counting model alone on a
2048 x 2048 image (an 8 x 8 mosaic of 256 x 256 realistic tiles); ``--starts N``: only the
counting model on the 5 seeds with and without the rare phase, from ``N`` different starts
(``random_state`` 0 .. N-1), for how much its result depends on the random sample its starting
micro-clusters are fitted on. The figures quoted in README.md, ``nanosims_helpers.poisson_model``
and ``cluster_image`` come from here.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.special import xlogy
from sklearn.metrics import adjusted_rand_score

from benchmarks._measure import measure, measure_interleaved, print_table
from nanosims_helpers import poisson_model
from nanosims_helpers.clustering import kmeans_map
from nanosims_helpers.hierarchical import regroup_clusters
from nanosims_helpers.metrics import f1_matrix
from nanosims_helpers.pipeline import cluster_image, reference_pipeline
from nanosims_helpers.preprocessing import preprocess
from nanosims_helpers.spatial import smooth_counts, spatial_map
from nanosims_helpers.teaching.realistic import REALISTIC_PHASES, RealisticSettings, simulate_realistic_image
from nanosims_helpers.teaching.samples import load_sample

SEEDS = (0, 1, 2, 3, 4)
CELLS = REALISTIC_PHASES.index("labelled cells")
RARE = len(REALISTIC_PHASES)  # the charcoal, after the six phases
RARE_SETTINGS = RealisticSettings(rare_fraction=0.006)
#: Seeds of the images the supervised ceiling is trained on (none of them is scored).
TRAINING_SEEDS = (100, 101)


def _smoothed_kmeans(counts, k, preprocessing, sigma=0.7):
    return kmeans_map(preprocess(smooth_counts(counts, sigma), preprocessing), k).labels


def _micro(counts, preprocessing="composition", sigma=0.7, n_micro=20):
    features = preprocess(smooth_counts(counts, sigma), preprocessing)
    result = kmeans_map(features, n_micro)
    return features, result.labels, result.centers


def _ward_merge(counts, k):
    _, labels, centers = _micro(counts)
    return regroup_clusters(labels, centers, k).labels


def _pooled(counts, labels, n):
    table, flat = counts.reshape(-1, counts.shape[-1]), labels.ravel()
    return np.stack([np.bincount(flat, weights=column, minlength=n) for column in table.T], axis=1)


def _counting_merge(counts, k):
    """Merge micro-clusters greedily by the multinomial likelihood-ratio (G) of their pooled counts."""
    _, labels, centers = _micro(counts)
    pooled = {i: row for i, row in enumerate(_pooled(counts, labels, centers.shape[0])) if row.sum() > 0}
    mapping = np.arange(centers.shape[0])

    def loglik(n):
        return xlogy(n, n).sum() - xlogy(n.sum(), n.sum())

    while len(pooled) > k:
        keys = list(pooled)
        cost, a, b = min((loglik(pooled[a]) + loglik(pooled[b]) - loglik(pooled[a] + pooled[b]), a, b)
                         for i, a in enumerate(keys) for b in keys[i + 1:])
        pooled[a] = pooled[a] + pooled.pop(b)
        mapping[mapping == b] = a
    return np.unique(mapping, return_inverse=True)[1][labels]


def _multinomial_em(counts, k, n_iter=30, seed=0):
    """Hard EM of a multinomial mixture on the raw counts (yield-invariant), random start."""
    table = counts.reshape(-1, counts.shape[-1])
    labels = np.random.default_rng(seed).integers(k, size=table.shape[0])
    for _ in range(n_iter):
        pooled = _pooled(table, labels, k) + 0.5
        updated = (table @ np.log(pooled / pooled.sum(axis=1, keepdims=True)).T).argmax(axis=1)
        if np.array_equal(updated, labels):
            break
        labels = updated
    return labels.reshape(counts.shape[:2])


def _yield_corrected(counts, k, n_iter=2, sigma_px=20.0):
    """KMeans, divide each pixel by a smooth yield field estimated from its cluster's total, repeat."""
    from scipy import ndimage

    corrected = counts
    labels = kmeans_map(preprocess(counts, "asinh+zscore"), k).labels
    totals = counts.sum(axis=2)
    for _ in range(n_iter):
        typical = np.bincount(labels.ravel(), weights=totals.ravel(), minlength=k) / np.maximum(
            np.bincount(labels.ravel(), minlength=k), 1)
        ratio = np.log(np.maximum(totals, 0.5) / np.maximum(typical[labels], 0.5))
        field = ndimage.gaussian_filter(ratio, sigma_px, mode="nearest")
        corrected = counts / np.exp(field - field.mean())[:, :, None]
        labels = kmeans_map(preprocess(corrected, "asinh+zscore"), k).labels
    return labels


def _model_without(part: str):
    """The counting model with one part switched off, to measure what the part brings."""

    def cluster(image, k):
        from unittest import mock

        patches = {
            "yield field": mock.patch.object(poisson_model, "update_yield", lambda model, *a: None),
            "blur": mock.patch.multiple(poisson_model, BEAM_SIGMA_PX=0.0, BEAM_SIGMAS_PX=(0.0,)),
            "overdispersion": mock.patch.object(poisson_model, "update_dispersion",
                                                lambda model, expected: setattr(model, "phi", 0.0)),
            "births": mock.patch.object(poisson_model, "_births", lambda *a: None),
        }
        with patches[part]:
            return poisson_model.poisson_map(image.counts, k).labels

    return cluster


def _multiscale_features(counts):
    """asinh counts, compositions and brightness against the local mean, at 4 scales (supervised ceiling)."""
    from scipy import ndimage

    totals = counts.sum(axis=-1)
    local = ndimage.gaussian_filter(np.log1p(totals), 16)
    brightness = (np.log1p(totals) - local)[..., None]
    scaled = np.arcsinh(counts / np.exp(local)[..., None] * 100)
    composition = np.arcsinh(counts / np.maximum(totals, 1)[..., None] * 100)
    layers = [ndimage.gaussian_filter(layer, (sigma, sigma, 0)) if sigma else layer
              for sigma in (0, 1, 2, 4) for layer in (scaled, composition, brightness)]
    return np.concatenate(layers, axis=-1).reshape(totals.size, -1)


def _supervised(settings):
    """A random forest trained on the truth of other seeds' images (not timed), as a classifier."""
    from sklearn.ensemble import RandomForestClassifier

    samples = [simulate_realistic_image((256, 256), settings=settings, random_state=seed) for seed in TRAINING_SEEDS]
    table = np.concatenate([_multiscale_features(sample.image.counts) for sample in samples])
    truth = np.concatenate([sample.truth.ravel() for sample in samples])
    chosen = np.random.default_rng(0).choice(truth.size, 60_000, replace=False)
    forest = RandomForestClassifier(200, min_samples_leaf=2, n_jobs=1, random_state=0).fit(table[chosen], truth[chosen])
    return lambda image, k: forest.predict(_multiscale_features(image.counts)).reshape(image.shape[:2])


SUPERVISED = "supervised ceiling: random forest, trained on 2 other seeds"

#: name -> function(image, k) -> labels. Today's pixel-by-pixel methods first, the counting model last.
CANDIDATES = {
    "asinh + KMeans": lambda image, k: cluster_image(image, k, method="kmeans").labels,
    "reference notebook: max + KMeans": lambda image, k: reference_pipeline(image, k).labels,
    "asinh+zscore + KMeans": lambda image, k: cluster_image(image, k, method="kmeans",
                                                            preprocessing="asinh+zscore").labels,
    "asinh + hierarchical (micro-clusters, Ward)": lambda image, k: cluster_image(image, k,
                                                                                  method="hierarchical").labels,
    "Gaussian 0.7 px + asinh+zscore + KMeans": lambda image, k: _smoothed_kmeans(image.counts, k, "asinh+zscore"),
    "yield-field correction + asinh+zscore + KMeans": lambda image, k: _yield_corrected(image.counts, k),
    "multinomial mixture (hard EM) on counts": lambda image, k: _multinomial_em(image.counts, k),
    "composition + KMeans": lambda image, k: cluster_image(image, k, method="kmeans",
                                                           preprocessing="composition").labels,
    "Gaussian 0.7 px + composition + KMeans": lambda image, k: _smoothed_kmeans(image.counts, k, "composition"),
    "20 micro-clusters + Ward merge (all pixels)": lambda image, k: _ward_merge(image.counts, k),
    "20 micro-clusters + counting-statistics merge": lambda image, k: _counting_merge(image.counts, k),
    "spatial, phases from all pixels (no core)": lambda image, k: spatial_map(image.counts, k,
                                                                             core_quantile=1.0).labels,
    "spatial without Potts clean-up": lambda image, k: spatial_map(image.counts, k, beta=0.0).labels,
    "spatial (default)": lambda image, k: cluster_image(image, k).labels,
    "counting model without the yield field": _model_without("yield field"),
    "counting model without the beam blur": _model_without("blur"),
    "counting model, Poisson (no overdispersion)": _model_without("overdispersion"),
    "counting model without births": _model_without("births"),
    "counting model, k from the counts": lambda image, k: poisson_model.poisson_map(image.counts, None).labels,
    SUPERVISED: None,
    "counting model (method=\"poisson\")": lambda image, k: cluster_image(image, k, method="poisson").labels,
}


def _images(seeds, size: int = 256, soil: bool = True, rare: bool = True):
    """(variant, image, truth) for every image a candidate clusters."""
    for variant, settings in (("realistic", None), ("rare", RARE_SETTINGS))[: 2 if rare else 1]:
        for seed in seeds:
            sample = simulate_realistic_image((size, size), settings=settings, random_state=seed)
            yield variant, sample.image, sample.truth
    if soil:
        yield ("soil", *load_sample("soil_256"))


def pipeline_case(name: str, seeds, size: int = 256, soil: bool = True, rare: bool = True):
    """Setup (not timed): the images; returns the timed call of candidate ``name`` on each.

    One process per candidate runs every image, timing each clustering, so the peak memory is
    the candidate's largest over the images. The supervised ceiling trains here, per variant.
    """
    images = list(_images(seeds, size, soil, rare))
    if name == SUPERVISED:
        # no forest for soil_256: its phases are not those of the training images
        methods = {"realistic": _supervised(None), "rare": _supervised(RARE_SETTINGS), "soil": None}
    else:
        methods = dict.fromkeys(("realistic", "rare", "soil"), CANDIDATES[name])

    def run():
        results = []
        for variant, image, truth in images:
            if methods[variant] is None:
                continue
            start = time.perf_counter()
            labels = methods[variant](image, np.unique(truth).size)
            results.append((variant, np.asarray(labels), truth, time.perf_counter() - start))
        return results

    return run


def near_boundary(truth: np.ndarray) -> np.ndarray:
    """True for the pixels with a pixel of another phase among their 8 neighbours (within 1 pixel)."""
    from scipy import ndimage

    return ndimage.maximum_filter(truth, 3, mode="nearest") != ndimage.minimum_filter(truth, 3, mode="nearest")


def scores(labels, truth) -> dict:
    """ARI, best-match F1 of every phase, and the boundary shares (see the module docstring)."""
    n_phases = int(truth.max()) + 1
    codes = np.unique(labels.ravel(), return_inverse=True)[1]
    f1 = f1_matrix(truth.ravel(), n_phases, codes, codes.max() + 1)
    boundary = near_boundary(truth).ravel()
    cluster_share = np.bincount(codes, weights=boundary) / np.bincount(codes)
    phase_share = np.bincount(truth.ravel(), weights=boundary) / np.maximum(np.bincount(truth.ravel()), 1)
    return {"ari": adjusted_rand_score(truth.ravel(), labels.ravel()), "f1": f1.max(axis=1),
            "share": cluster_share.max(), "excess": (cluster_share - phase_share[f1.argmax(axis=0)]).max(),
            "k": codes.max() + 1}


def _row(name, results) -> list:
    by_variant = {}
    for variant, labels, truth, seconds in results:
        by_variant.setdefault(variant, []).append((scores(labels, truth), seconds))
    realistic, rare = by_variant["realistic"], by_variant.get("rare", [])
    soil = f"{by_variant['soil'][0][0]['ari']:.3f}" if "soil" in by_variant else "-"

    def per_seed(found, pick):
        return " ".join(f"{pick(score):.2f}" for score, _ in found)

    every = [score for found in by_variant.values() for score, _ in found]
    return [
        name, per_seed(realistic, lambda s: s["ari"]), per_seed(realistic, lambda s: s["f1"][CELLS]),
        per_seed(rare, lambda s: s["ari"]), per_seed(rare, lambda s: s["f1"][CELLS]),
        per_seed(rare, lambda s: s["f1"][RARE]), soil,
        f"{max(s['share'] for s in every):.2f} / {max(s['excess'] for s in every):.2f}",
        " ".join(str(s["k"]) for s, _ in realistic + rare) if name.endswith("from the counts") else "",
        f"{np.median([seconds for found in by_variant.values() for _, seconds in found]):.2f}",
    ]


def timing_case(method: str, size: int):
    """One clustering of the realistic sample (seed 0) of ``size`` with ``method``, for the interleaved timing."""
    image = simulate_realistic_image((size, size), random_state=0).image
    return lambda: cluster_image(image, len(REALISTIC_PHASES), method=method).labels


def mosaic_case(tiles: int = 8, method: str = "poisson"):
    """``method`` alone on a mosaic of ``tiles`` x ``tiles`` realistic 256 x 256 tiles (seeds 0, 1, ...).

    The tiles are written one by one into the mosaic, so that what the process holds before the
    call is the mosaic (7 masses in float64), its truth and the libraries.
    """
    counts = truth = None
    for seed in range(tiles * tiles):
        sample = simulate_realistic_image((256, 256), random_state=seed)
        if counts is None:
            counts = np.zeros((256 * tiles, 256 * tiles, sample.image.counts.shape[2]))
            truth = np.zeros(counts.shape[:2], dtype=np.int16)
        rows, cols = divmod(seed, tiles)
        place = (slice(256 * rows, 256 * rows + 256), slice(256 * cols, 256 * cols + 256))
        counts[place], truth[place] = sample.image.counts, sample.truth
    return lambda: (adjusted_rand_score(truth.ravel(), cluster_image(counts, 6, method=method).labels.ravel()),
                    counts.shape)


def starts(n_starts: int) -> None:
    """The counting model from ``n_starts`` starts on every realistic image, with and without the rare phase."""
    rows, cells, charcoal = [], [], []
    for seed in SEEDS:
        found = []
        for settings, phase, kept in ((None, CELLS, cells), (RARE_SETTINGS, RARE, charcoal)):
            sample = simulate_realistic_image((256, 256), settings=settings, random_state=seed)
            k = np.unique(sample.truth).size
            for start in range(n_starts):
                labels = poisson_model.poisson_map(sample.image.counts, k, random_state=start).labels
                kept.append(scores(labels, sample.truth)["f1"][phase])
            found.append(" ".join(f"{f1:.2f}" for f1 in kept[-n_starts:]))
        rows.append([str(seed)] + found)
    rows.append(["all: median (lowest)", f"{np.median(cells):.3f} ({min(cells):.3f})",
                 f"{np.median(charcoal):.3f} ({min(charcoal):.3f})"])
    print_table(f"The counting model from random_state 0 .. {n_starts - 1}: labelled-cell F1 (k = 6) and charcoal "
                "F1 (k = 7)", ["seed", "cell F1 per start", "charcoal F1 per start"], rows)


def main(quick: bool = False, scale: bool = False, only=None, timing_only: bool = False) -> None:
    if timing_only:
        timing(scale)
        return
    seeds = SEEDS[:2] if quick else SEEDS
    rows = []
    for name in [name for name in CANDIDATES if not only or any(text in name for text in only)]:
        m = measure("benchmarks.bench_pipelines:pipeline_case", name, seeds)
        rows.append(_row(name, m.result) + [f"{m.peak_mib:.0f}"])
        print(f"  {name}: done", flush=True)
    print_table(
        f"Realistic sample 256 x 256 (k = 6) and with a rare phase (k = 7), seeds {', '.join(map(str, seeds))}; "
        "soil_256 at k = 4",
        ["pipeline", "ARI", "cell F1", "ARI, rare", "cell F1, rare", "charcoal F1", "soil_256 ARI",
         "boundary share / excess", "k chosen", "median time (s)", "peak (MiB)"],
        rows,
        ["per seed; boundary share: largest share of a cluster's pixels within 1 px of a true boundary, over all "
         "images; excess: the same less the share of the phase the cluster matches best"],
    )
    if quick:
        return
    timing(scale)


def timing(scale: bool = False) -> None:
    """The counting model and the spatial default at 256 and 512, interleaved, one thread; ``scale``: 2048."""
    cases = {f"{method}, {size} x {size}": ("benchmarks.bench_pipelines:timing_case", (method, size), {}, 1)
             for size in (256, 512) for method in ("poisson", "spatial")}
    found = measure_interleaved(cases, repeat=3)
    print_table("Realistic sample, seed 0, k = 6: the counting model and the spatial default, one thread, interleaved",
                ["method, size", "time (s): median (range) of 3", "peak (MiB)"],
                [[name, m.timing(), f"{m.peak_mib:.0f}"] for name, m in found.items()])
    if scale:
        m = measure("benchmarks.bench_pipelines:mosaic_case", threads=1)
        ari, shape = m.result
        print_table("The counting model alone on a 2048 x 2048 x 7 mosaic of 64 realistic tiles, k = 6, one thread",
                    ["image", "ARI", "time (s)", "peak (MiB)", "before the call (MiB)"],
                    [[" x ".join(map(str, shape)), f"{ari:.3f}", f"{m.seconds:.1f}", f"{m.peak_mib:.0f}",
                      f"{m.setup_mib:.0f}"]])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, no 512 x 512 run")
    parser.add_argument("--scale", action="store_true", help="also the default on a 2048 x 2048 mosaic")
    parser.add_argument("--only", nargs="+", metavar="TEXT",
                        help="only the candidates whose name contains one of these texts")
    parser.add_argument("--timing", action="store_true", help="only the interleaved timing (and --scale)")
    parser.add_argument("--starts", type=int, metavar="N", help="only the counting model from N starts")
    arguments = parser.parse_args()
    if arguments.starts:
        starts(arguments.starts)
    else:
        main(arguments.quick, arguments.scale, arguments.only, arguments.timing)

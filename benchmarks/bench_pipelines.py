"""Which clustering pipeline recovers the phases of realistic images: every candidate, same run.

Run from the repository root: ``python -m benchmarks.bench_pipelines [--quick]``.

Each candidate clusters 5 seeds of the realistic sample (``simulate_realistic_image``, 256 x 256,
6 phases, k = 6 = the true number) and ``soil_256`` (k = 4), in a fresh process per candidate
(:mod:`benchmarks._measure`). The table gives the adjusted Rand index (ARI) against the truth,
the F1 of the cluster that best matches the labelled cells, the median time and the peak
memory; then the default and the previous default at 512 x 512. ``--quick``: 2 seeds, no 512.
The figures quoted in README.md, ``nanosims_helpers.spatial`` and ``cluster_image`` come from here.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.special import xlogy
from sklearn.metrics import adjusted_rand_score

from benchmarks._measure import measure, print_table
from nanosims_helpers.challenge import best_match_f1
from nanosims_helpers.clustering import kmeans_map
from nanosims_helpers.hierarchical import regroup_clusters
from nanosims_helpers.io.samples import load_sample
from nanosims_helpers.pipeline import cluster_image, reference_pipeline
from nanosims_helpers.preprocessing import preprocess
from nanosims_helpers.realistic import REALISTIC_PHASES, simulate_realistic_image
from nanosims_helpers.spatial import smooth_counts, spatial_map

SEEDS = (0, 1, 2, 3, 4)
CELLS = REALISTIC_PHASES.index("labelled cells")


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


#: name -> function(image, k) -> labels. Today's pixel-by-pixel methods first, the default last.
CANDIDATES = {
    "asinh + KMeans (previous default)": lambda image, k: cluster_image(image, k, method="kmeans").labels,
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
}


def pipeline_case(name: str, seeds, size: int = 256, soil: bool = True):
    """Setup (not timed): the images; returns the timed call of candidate ``name`` on each.

    One process per candidate runs every seed (and ``soil_256``), timing each clustering, so
    the peak memory is the candidate's largest over the images.
    """
    images = [(simulated.image, simulated.truth) for simulated in
              (simulate_realistic_image((size, size), random_state=seed) for seed in seeds)]
    if soil:
        images.append(load_sample("soil_256"))

    def run():
        results = []
        for image, truth in images:
            start = time.perf_counter()
            labels = CANDIDATES[name](image, np.unique(truth).size)
            results.append((labels, truth, time.perf_counter() - start))
        return results

    return run


def _scores(labels, truth) -> tuple[float, float]:
    ari = adjusted_rand_score(truth.ravel(), labels.ravel())
    return ari, best_match_f1(labels, truth, n_phases=len(REALISTIC_PHASES))[CELLS]


def main(quick: bool = False) -> None:
    seeds = SEEDS[:2] if quick else SEEDS
    rows = []
    for name in CANDIDATES:
        m = measure("benchmarks.bench_pipelines:pipeline_case", name, seeds)
        *realistic, (soil_labels, soil_truth, _) = m.result
        aris, f1s = zip(*(_scores(labels, truth) for labels, truth, _ in realistic))
        rows.append([
            name, " ".join(f"{a:.2f}" for a in aris), f"{min(aris):.3f}", " ".join(f"{f:.2f}" for f in f1s),
            f"{min(f1s):.3f}", f"{adjusted_rand_score(soil_truth.ravel(), soil_labels.ravel()):.3f}",
            f"{np.median([seconds for *_, seconds in realistic]):.2f}", f"{m.peak_mib:.0f}",
        ])
        print(f"  {name}: done", flush=True)
    print_table(
        f"Realistic sample 256 x 256, k = 6, seeds {', '.join(map(str, seeds))}; soil_256 at k = 4",
        ["pipeline", "ARI per seed", "min ARI", "cell F1 per seed", "min F1", "soil_256 ARI",
         "median time (s)", "peak (MiB)"],
        rows,
    )
    if quick:
        return
    rows = []
    for name in ("asinh + KMeans (previous default)", "spatial (default)"):
        m = measure("benchmarks.bench_pipelines:pipeline_case", name, (0, 0, 0), size=512, soil=False)
        ari, f1 = _scores(*m.result[0][:2])
        rows.append([name, f"{ari:.2f}", f"{f1:.2f}", f"{np.median([r[2] for r in m.result]):.2f}",
                     f"{m.peak_mib:.0f}"])
    print_table("Realistic 512 x 512, k = 6, seed 0 (median of 3 runs in one process)",
                ["pipeline", "ARI", "cell F1", "time (s)", "peak (MiB)"], rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, no 512 x 512 run")
    main(parser.parse_args().quick)

"""False discoveries and power of the enrichment tests, before and after holding out counts.

Run from the repository root: ``python -m benchmarks.bench_enrichment [--quick]``.

1. **False discoveries.** Unlabelled images, where no cluster is enriched (100 of each kind, 20 of
   them also with ``-k auto``, which takes several seconds an image, and 500 more through the same
   route in Python, for a closer estimate of the rate): 96 x 96 images of one
   natural composition (one plane: the held-out half is made by binomial thinning), and 128 x 128
   realistic images (:func:`nanosims_helpers.teaching.realistic.simulate_realistic_image`, 6 planes: odd
   and even planes) whose 13C and 15N are natural everywhere, the cells included (counts drawn
   again from the simulator's expected counts). "Before": the default method's clusters tested on
   the counts they were found on (what the kit did). "After": ``nanosims-cluster DIR --ratios
   13C/12C,12C15N/12C14N`` (the default method), at a fixed k and at ``-k auto`` (its default),
   its ``STEM_isotopes.csv`` read back. Reported: the fraction of images with any cluster called
   enriched (nominal 5 %), and of rows whose ratio lies within 2 standard errors of the truth.
2. **Power.** Realistic images with 13C/15N-labelled cells (8 atom %): is the cluster that holds
   most labelled-cell pixels called enriched in 13C and in 15N, before and after?
3. **The size of the held-out part.** On 256 x 256 realistic images summed to one plane, the
   clustering keeps a fraction eps of the tested masses' counts and the test the rest:
   eps = 0.5 (the kit) against 0.7, and all counts (circular, for scale). Reported: the F1 of the
   labelled cells' cluster (how well the clustering still finds them), the z-score of that
   cluster's 13C test and how often it is called enriched, at 8, 3 and 1.5 atom % (faint labels;
   natural carbon is 1.1 atom % 13C).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile
from scipy import stats

from benchmarks._measure import print_table
from nanosims_helpers.cli import main as command
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.io.loading import save_image_tiff
from nanosims_helpers.isotopes import AIR_15N_14N, VPDB_13C_12C, isotope_table
from nanosims_helpers.pipeline import cluster_image
from nanosims_helpers.split_half import CountSplit
from nanosims_helpers.teaching.realistic import REALISTIC_PHASES, simulate_realistic_image

RATIOS = "13C/12C,12C15N/12C14N"
TRUE = {"13C/12C": VPDB_13C_12C, "12C15N/12C14N": AIR_15N_14N}
UNIFORM_MASSES = ("12C", "13C", "16O", "12C14N", "12C15N")
CELLS = REALISTIC_PHASES.index("labelled cells")


def uniform_image(seed: int, shape=(96, 96)) -> NanoSIMSImage:
    """One natural composition everywhere: 12C 300, 16O 50, 12C14N 60 counts, 13C and 12C15N at the references."""
    means = np.array([300.0, 300.0 * VPDB_13C_12C, 50.0, 60.0, 60.0 * AIR_15N_14N])
    counts = np.random.default_rng(seed).poisson(means, (*shape, len(means))).astype(float)
    return NanoSIMSImage(counts, UNIFORM_MASSES, pixel_size_um=0.1)


def unlabelled_realistic(seed: int, shape=(128, 128)) -> NanoSIMSImage:
    """A realistic image whose 13C/12C and 15N/14N are the references in every pixel, cells included."""
    sample = simulate_realistic_image(shape, random_state=seed)
    image, expected = sample.image, sample.expected.copy()
    c12, c13, n14, n15 = (image.mass_index(m) for m in ("12C", "13C", "12C14N", "12C15N"))
    expected[..., c13], expected[..., n15] = expected[..., c12] * VPDB_13C_12C, expected[..., n14] * AIR_15N_14N
    n_planes = image.n_planes
    planes = np.random.default_rng(seed).poisson(expected / n_planes, (n_planes, *expected.shape)).astype(float)
    return NanoSIMSImage.from_planes(planes, image.masses, pixel_size_um=image.pixel_size_um)


def command_tables(images, k, folder: Path) -> tuple[list[pd.DataFrame], float]:
    """``nanosims-cluster`` on the images (as TIFFs) with ``--ratios``: each image's isotope table, and the time."""
    inputs, out = folder / f"in_{k}", folder / f"out_{k}"
    inputs.mkdir(exist_ok=True)
    for number, image in enumerate(images):
        save_image_tiff(image, inputs / f"image_{number:03d}.tif")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        command([str(inputs), "--out", str(out), "--ratios", RATIOS, "-k", str(k)])
    seconds = time.perf_counter() - start
    return [pd.read_csv(out / f"image_{number:03d}_isotopes.csv") for number in range(len(images))], seconds


def circular(image, k) -> tuple[np.ndarray, pd.DataFrame]:
    """Before: the default method's clusters, and their table tested on every count, the ones they were found on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = cluster_image(image, k).labels.copy()  # a copy: the kit would refuse its own map
        return labels, isotope_table(image, labels, RATIOS)


def _unlabelled_row(name, route, tables) -> list:
    flagged = sum(table["enriched"].any() for table in tables)
    low, high = stats.binomtest(flagged, len(tables)).proportion_ci(0.95)
    within = np.concatenate([np.abs(t["ratio_of_sums"] - t["ratio"].map(TRUE)) <= 2 * t["ratio_se"] for t in tables])
    raw = np.concatenate([t["p_value"] < 0.05 for t in tables])
    return [name, route, f"{flagged} of {len(tables)} ({flagged / len(tables):.0%}; {low:.0%}-{high:.0%})",
            f"{within.mean():.0%}", f"{raw.mean():.1%}"]


def held_out(image, k) -> pd.DataFrame:
    """After, in Python: what ``--ratios`` runs, ``cluster_image(..., ratios=...)`` then ``isotope_table``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return isotope_table(image, cluster_image(image, k, ratios=RATIOS), RATIOS)


def false_discoveries(n_images: int, n_auto: int, n_python: int, folder: Path) -> None:
    """Table 1: unlabelled images, before and after: the command on ``n_images`` (``-k auto`` on the first
    ``n_auto``), and the same route in Python on ``n_python`` images, for a closer estimate of the rate."""
    rows = []
    for name, make, k in (("uniform 96 x 96, 1 plane", uniform_image, 3),
                          ("realistic 128 x 128, unlabelled", unlabelled_realistic, 6)):
        images = [make(seed) for seed in range(n_images)]
        rows.append(_unlabelled_row(name, f"before: -k {k}, tested on the counts clustered",
                                    [circular(image, k)[1] for image in images]))
        for k_option, some in ((k, images), ("auto", images[:n_auto])):
            tables, seconds = command_tables(some, k_option, folder / name.split()[0])
            rows.append(_unlabelled_row(name, f"after: nanosims-cluster -k {k_option} --ratios "
                                        f"({seconds / len(some):.1f} s per image)", tables))
        more = [held_out(make(seed), k) for seed in range(n_images, n_images + n_python)]
        rows.append(_unlabelled_row(name, f"after, in Python: cluster_image(..., {k}, ratios=...), other images",
                                    more))
    print_table("False discoveries: unlabelled images (no cluster is enriched)",
                ["images", "route", "images with an enriched cluster (95 % interval)", "rows within 2 SE of the truth",
                 "tests with p < 0.05"], rows,
                ["Nominal: 5 % of images (Benjamini-Hochberg at 0.05 over the image's rows; with every row "
                 "unenriched this bounds the chance of any call), 95 % of rows within 2 SE; the exact binomial "
                 "test of discrete counts is a little conservative, so fewer than 5 % of single tests. The "
                 "interval is Clopper-Pearson's."])


def _cells_cluster(labels, truth) -> int:
    return int(np.bincount(labels[truth == CELLS]).argmax())


def power(n_images: int, folder: Path) -> None:
    """Table 2: labelled cells, before and after."""
    samples = [simulate_realistic_image((128, 128), random_state=100 + seed) for seed in range(n_images)]
    before = [circular(sample.image, 6) for sample in samples]
    tables, _ = command_tables([sample.image for sample in samples], 6, folder / "labelled")
    written = [tifffile.imread(folder / "labelled" / "out_6" / f"image_{i:03d}_labels.tif").astype(int)
               for i in range(n_images)]
    rows = []
    for route, results in (("before: tested on the counts clustered", before),
                           ("after: nanosims-cluster -k 6 --ratios", list(zip(written, tables)))):
        found = 0
        for (labels, table), sample in zip(results, samples):
            cells = table[table["cluster"] == _cells_cluster(labels, sample.truth)]
            found += bool(cells.set_index("ratio")["enriched"].reindex(list(TRUE)).all())
        rows.append(["realistic 128 x 128, cells at 8 atom %", route, f"{found} of {n_images}"])
    print_table("Power: the cluster holding most labelled-cell pixels, called enriched in 13C and 15N",
                ["images", "route", "found enriched in both"], rows)


def _split_with(image: NanoSIMSImage, eps: float, seed: int) -> CountSplit:
    """The alternative measured: each ion of the tested masses kept for the clustering with probability eps."""
    masses = ["13C", "12C", "12C15N", "12C14N"]
    indices = [image.mass_index(m) for m in masses]
    kept = np.random.default_rng(seed).binomial(image.counts[..., indices].astype(np.int64), eps).astype(float)
    selection = image.counts.copy()
    selection[..., indices] = kept
    held_out = NanoSIMSImage(image.counts[..., indices] - kept, tuple(masses))
    return CountSplit(NanoSIMSImage(selection, image.masses), held_out, image.masses, f"thinning eps {eps}", seed)


def held_out_size(n_images: int, enrichments=(0.08, 0.03, 0.015)) -> None:
    """Table 3: eps 0.5 against 0.7 (and all counts), clustering quality and power, at each atom % of the cells."""
    rows = []
    for enrichment in enrichments:
        results = {}
        for seed in range(n_images):
            sample = simulate_realistic_image((256, 256), enrichment=enrichment, random_state=200 + seed)
            image = NanoSIMSImage(sample.image.counts, sample.image.masses)  # one plane: thinning
            cells = sample.truth == CELLS
            for eps in (0.5, 0.7, 1.0):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if eps == 1.0:
                        labels = cluster_image(image, 6).labels.copy()
                        table = isotope_table(image, labels, RATIOS)
                    else:
                        split = _split_with(image, eps, seed)
                        labels = cluster_image(split.selection, 6).labels.copy()
                        table = isotope_table(image, labels, RATIOS, split=split)
                cluster = _cells_cluster(labels, sample.truth)
                f1 = 2 * np.sum((labels == cluster) & cells) / (np.sum(labels == cluster) + cells.sum())
                row = table[(table["cluster"] == cluster) & (table["ratio"] == "13C/12C")].iloc[0]
                results.setdefault(eps, []).append((f1, row["z"], row["enriched"]))
        for eps, values in results.items():
            f1, z, enriched = (np.array(column) for column in zip(*values))
            route = "all counts (circular)" if eps == 1.0 else f"eps {eps}" + (" (the kit)" if eps == 0.5 else "")
            rows.append([f"{100 * enrichment:.3g} %", route, f"{np.median(f1):.2f} ({f1.min():.2f}-{f1.max():.2f})",
                         f"{np.median(z):.1f}", f"{enriched.sum()} of {len(enriched)}"])
    print_table("Size of the held-out part: 256 x 256 realistic images, one plane, k = 6",
                ["cells' atom %", "counts the clustering keeps", "cells' F1, median (range)",
                 "13C z of the cells' cluster, median", "cells' cluster enriched in 13C"], rows,
                ["eps: the fraction of the tested masses' counts the clustering keeps; the test has the rest."])


def main(quick: bool = False) -> None:
    """Print the three tables."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for sub in ("uniform", "realistic", "labelled"):
            (folder / sub).mkdir()
        false_discoveries(20 if quick else 100, 8 if quick else 20, 40 if quick else 500, folder)
        power(4 if quick else 10, folder)
    held_out_size(3, (0.08, 0.03)) if quick else held_out_size(8)
    print(f"\n({(time.perf_counter() - start) / 60:.1f} min)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images (20 + 8 unlabelled, 4 labelled, 3 for eps)")
    main(parser.parse_args().quick)

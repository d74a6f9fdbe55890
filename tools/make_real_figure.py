"""Draw docs/image_sun_poisson.png, the counting model on a real file in the README.

Run from the root of the kit's repository::

    python tools/make_real_figure.py

``nanosims-cluster data/cameca/image_sun.im --method poisson --confidence`` (k from the counting
model's own count, ``-k auto``), then the 16O ion image, the cluster map and the confidence map
side by side, from the files the command wrote.
"""

import json
import tempfile
from pathlib import Path

import matplotlib
import numpy as np
import tifffile

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from nanosims_helpers.cli import main as nanosims_cluster  # noqa: E402
from nanosims_helpers.io.loading import load_image  # noqa: E402
from nanosims_helpers.plot.maps import CONFIDENCE_RANGE, plot_cluster_map  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data" / "cameca" / "image_sun.im"
FIGURE = ROOT / "docs" / "image_sun_poisson.png"


def main() -> None:
    """Cluster the file with the command line and draw its 16O image, clusters and confidence."""
    with tempfile.TemporaryDirectory() as name:
        status = nanosims_cluster([str(SOURCE), "--out", name, "--method", "poisson", "--confidence"])
        if status != 0:
            raise SystemExit(f"nanosims-cluster exited with {status}")
        labels = tifffile.imread(Path(name) / "image_sun_labels.tif")
        confidence = tifffile.imread(Path(name) / "image_sun_confidence.tif")
        record = json.loads((Path(name) / "image_sun_scores.json").read_text())
    oxygen = load_image(SOURCE).channel("16O")
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.6), layout="constrained")
    axes[0].imshow(oxygen, cmap="viridis", vmax=np.percentile(oxygen, 99.5))
    axes[0].set_title("16O counts")
    plot_cluster_map(labels, ax=axes[1])
    axes[1].set_title(f"--method poisson, k = {record['k']} (its own count)")
    shown = axes[2].imshow(confidence, cmap="magma", vmin=CONFIDENCE_RANGE[0], vmax=CONFIDENCE_RANGE[1])
    axes[2].set_title("confidence: probability of its cluster")
    figure.colorbar(shown, ax=axes[2], shrink=0.8)
    for ax in axes:
        ax.set_axis_off()
    figure.savefig(FIGURE, dpi=60)
    print(f"k = {record['k']}, split-half F1 {record['split_half_f1']:.2f}; cluster areas (pixels):",
          np.bincount(labels.ravel()).tolist())
    print(f"wrote {FIGURE}")


if __name__ == "__main__":
    main()

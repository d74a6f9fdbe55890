"""Draw docs/study_fractions.png, the example of ``nanosims-cluster --joint`` in the README.

Run from the root of the kit's repository::

    python tools/make_study_figure.py

Six simulated 128 x 128 soil plots (seeds 0-5) with 0, 0, 15, 30, 45 and 60 13C/15N-labelled
hotspots, two of them counted three times longer, clustered with one study model
(``--joint -k 5``); the figure the command writes is copied to docs/.
"""

import shutil
import tempfile
from pathlib import Path

from nanosims_helpers.cli import main as nanosims_cluster
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.io.loading import save_image_tiff
from nanosims_helpers.teaching.synthetic import simulate_soil_image

HOTSPOTS = (0, 0, 15, 30, 45, 60)
LONGER = (1, 4)  # plots counted three times longer: the same phases, more ions
FIGURE = Path(__file__).resolve().parents[1] / "docs" / "study_fractions.png"


def main() -> None:
    """Simulate the plots, run the command on them and copy its fractions figure to docs/."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name) / "plots"
        folder.mkdir()
        for seed, hotspots in enumerate(HOTSPOTS):
            image = simulate_soil_image((128, 128), n_hotspots=hotspots, random_state=seed)[0]
            if seed in LONGER:
                image = NanoSIMSImage(image.counts * 3.0, image.masses)
            save_image_tiff(image, folder / f"plot_{seed}_{hotspots:02d}_hotspots.tif")
        out = Path(name) / "out"
        status = nanosims_cluster([str(folder), "--out", str(out), "--joint", "-k", "5"])
        if status != 0:
            raise SystemExit(f"nanosims-cluster exited with {status}")
        shutil.copyfile(out / "study_fractions.png", FIGURE)
        print((out / "study_fractions.csv").read_text())
    print(f"wrote {FIGURE}")


if __name__ == "__main__":
    main()

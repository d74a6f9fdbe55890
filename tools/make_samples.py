"""Write the sample images and their truth maps to data/ (deterministic).

Run from the root of the kit's repository::

    python tools/make_samples.py

The parameters of each sample are in ``nanosims_helpers.teaching.samples.SAMPLES`` and
``REALISTIC_SAMPLES``; the tests check that the files in data/ equal a fresh simulation with them.
"""

from nanosims_helpers.teaching.samples import DATA_DIR, list_samples, write_sample


def main() -> None:
    """Write every sample to ``data/`` and print the files written."""
    for name in list_samples():
        for path in write_sample(name, DATA_DIR):
            print(f"{path.relative_to(DATA_DIR.parent)}: {path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()

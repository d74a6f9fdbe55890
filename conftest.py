"""Settings for every test the suite runs, the doctests of nanosims_helpers included."""

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test opened, so memory stays flat over the suite."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")

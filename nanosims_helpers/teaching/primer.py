"""The schematic of lesson 00's primer: how a NanoSIMS turns a sample into an image of counts."""

from __future__ import annotations

#: The seven masses drawn on the detectors, lightest first (the kit's soil samples measure these).
DETECTOR_MASSES = ("12C", "13C", "16O", "12C14N", "12C15N", "27Al16O", "56Fe16O")

#: The labelled steps of the schematic: (x, y) of the label, and its text.
STEPS = {
    "beam": ((0.9, 3.9), "1  Cs+ primary beam,\n~100 nm spot, pixel by pixel"),
    "sputter": ((0.2, 0.55), "2  sputtering: a few nm of the surface;\nsome atoms leave as negative ions\n"
                             "(ion yield: matrix effects)"),
    "magnet": ((4.1, 3.7), "3  magnet: sorts the ions by mass"),
    "detectors": ((6.4, 0.2), "4  seven detectors, one mass each:\ndead time and QSA lose counts"),
    "image": ((8.9, 4.15), "5  counts (y, x, mass),\none plane per scan;\nPoisson noise: N +/- sqrt(N)"),
}


def plot_nanosims_schematic(ax=None):
    """Draw the instrument as five labelled steps, from the primary beam to the image of counts.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure of 12 x 5 inches if not given.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with one text per step (:data:`STEPS`) and one per detector (:data:`DETECTOR_MASSES`).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_nanosims_schematic()
    >>> sorted(text.get_text() for text in ax.texts if text.get_text() in DETECTOR_MASSES)[:2]
    ['12C', '12C14N']
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Arc, FancyArrowPatch, Rectangle

    if ax is None:
        _, ax = plt.subplots(figsize=(12, 5), layout="constrained")
    arrow = {"arrowstyle": "-|>", "mutation_scale": 14, "linewidth": 2}
    ax.add_patch(Rectangle((0.2, 1.3), 2.6, 0.5, color="0.55"))  # the sample
    ax.text(1.5, 1.55, "sample", ha="center", va="center", color="white")
    ax.add_patch(FancyArrowPatch((1.2, 3.6), (1.5, 1.85), color="tab:red", **arrow))
    ax.add_patch(FancyArrowPatch((1.7, 1.85), (3.4, 2.9), color="tab:blue", **arrow))
    ax.add_patch(Arc((4.9, 2.9), 3.0, 2.2, theta1=0, theta2=180, linewidth=8, color="0.75"))
    for index, mass in enumerate(DETECTOR_MASSES):  # fan of ion paths, lightest bent most
        x = 5.2 + 0.45 * index
        ax.add_patch(FancyArrowPatch((3.6, 3.0), (x, 1.35), connectionstyle="arc3,rad=-0.35",
                                     color=plt.cm.viridis(index / len(DETECTOR_MASSES)), **arrow))
        ax.add_patch(Rectangle((x - 0.18, 0.95), 0.36, 0.35, color="0.3"))
        ax.text(x, 0.85, mass, rotation=90, ha="center", va="top", fontsize=8)
    for row in range(3):  # the image: a stack of count maps
        ax.add_patch(Rectangle((9.1 + 0.25 * row, 1.0 + 0.25 * row), 1.4, 1.4, facecolor="white", edgecolor="0.2"))
    ax.add_patch(FancyArrowPatch((8.4, 1.2), (9.0, 1.6), color="0.2", **arrow))
    for (x, y), text in STEPS.values():
        ax.text(x, y, text, fontsize=9, va="top")
    ax.set_xlim(0, 11.5)
    ax.set_ylim(-0.9, 4.2)
    ax.set_axis_off()
    return ax

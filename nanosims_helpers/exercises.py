"""Self-checks and hints for the exercise notebooks in ``exercises/``.

Every exercise ends with ``answer = ...`` and a cell ``check("02-1", answer)``. The check says
"not answered yet" while ``answer`` is still ``...`` (or ``None``), and otherwise right or wrong
and why, without printing the expected answer: each check recomputes what it needs from the
sample images with the kit's own functions (so it follows the kit's defaults), and compares
properties of the answer, with a tolerance for floats. ``hint("02-1")`` gives a first hint that
points the way; ``hint("02-1", 2)`` a second one that is nearly the answer.

How to add an exercise
----------------------
1. In ``solutions/NN_*_exercises.ipynb``, end the solution part of the exercise cell (after
   ``# -- exercise --``) with one line ``answer = VALUE  # what to give``: the generator
   ``tools/make_exercises.py`` keeps that line as ``answer = ...  # what to give``. Follow the
   cell with a plain cell ``check("NN-M", answer)`` and give the exercise's markdown the line
   ``Stuck? hint("NN-M"), then hint("NN-M", 2).``
2. Register the check here, under the lesson's heading::

       @exercise("NN-M", expects="a mass name such as '16O'", hints=("guides", "nearly the answer"))
       def _check_nn_m(answer):
           if answer_is_wrong:
               raise Wrong("what is wrong and where to look")  # never the expected value
           return "why it is right"

   A check may raise :class:`Wrong` for each typical mistake with its own message; any other
   exception while reading the answer is reported as "expected <expects>".
3. Add the right answer and the typical wrong ones to ``tests/test_exercise_checks.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np
import pandas as pd

from .errors import NanoSIMSError
from .io.image import normalize_mass_name

__all__ = ["EXERCISES", "Exercise", "Verdict", "Wrong", "check", "evaluate", "exercise", "hint"]

NOT_ANSWERED = "not answered yet"


class Wrong(Exception):
    """Raised by a check: the answer is wrong; the message says why, not what is right."""


@dataclass(frozen=True)
class Exercise:
    """One registered exercise: its check, what the answer should be, and two hints."""

    exercise_id: str
    check: Callable[[object], str]
    expects: str
    hints: tuple[str, str]


@dataclass(frozen=True)
class Verdict:
    """What :func:`evaluate` found: ``status`` is "right", "wrong" or "not answered yet"."""

    exercise_id: str
    status: str
    message: str

    @property
    def right(self) -> bool:
        return self.status == "right"

    def __str__(self) -> str:
        return f"{self.exercise_id}: {self.status}. {self.message}".rstrip()


#: Exercise id ("02-1": lesson 02, exercise 1) -> :class:`Exercise`.
EXERCISES: dict[str, Exercise] = {}


def exercise(exercise_id: str, *, expects: str, hints: tuple[str, str]):
    """Register the decorated function as the check of ``exercise_id``.

    Raises
    ------
    NanoSIMSError
        If the id is already taken or there are not exactly two hints.

    Examples
    --------
    >>> @exercise("99-1", expects="a number", hints=("Add them.", "2 + 2."))
    ... def _check(answer):
    ...     if answer != 4:
    ...         raise Wrong("add the two numbers")
    ...     return "two and two make four."
    >>> evaluate("99-1", 5).status
    'wrong'
    >>> del EXERCISES["99-1"]
    """
    if exercise_id in EXERCISES:
        raise NanoSIMSError(f"exercise {exercise_id!r} is registered twice; give the new one another id.")
    if len(hints) != 2:
        raise NanoSIMSError(
            f"exercise {exercise_id!r}: give exactly two hints (one that guides, one nearly the answer)."
        )

    def register(function):
        EXERCISES[exercise_id] = Exercise(exercise_id, function, expects, tuple(hints))
        return function

    return register


def _exercise(exercise_id) -> Exercise:
    try:
        return EXERCISES[exercise_id]
    except (KeyError, TypeError):
        raise NanoSIMSError(
            f"exercise {exercise_id!r}: unknown; the exercises are {sorted(EXERCISES)} "
            "(lesson number, dash, exercise number)."
        ) from None


def evaluate(exercise_id: str, answer) -> Verdict:
    """Return the :class:`Verdict` on ``answer`` without printing it (what :func:`check` prints).

    ``...`` and ``None`` mean the answer cell has not been filled in.

    Examples
    --------
    >>> evaluate("04-2", ...).status
    'not answered yet'
    """
    entry = _exercise(exercise_id)
    if answer is ... or answer is None:
        return Verdict(
            exercise_id, NOT_ANSWERED, "Replace the `...` after `answer =` by your answer, then run this again."
        )
    try:
        reason = entry.check(answer)
    except Wrong as wrong:
        return Verdict(exercise_id, "wrong", str(wrong))
    except Exception as error:  # noqa: BLE001 - an answer of the wrong kind, reported to the learner
        return Verdict(exercise_id, "wrong", f"Expected {entry.expects}; could not use {_short(answer)} ({error}).")
    return Verdict(exercise_id, "right", reason)


def _short(answer, limit: int = 60) -> str:
    """``repr`` of an answer, cut to ``limit`` characters (an answer may be a whole image)."""
    text = " ".join(repr(answer).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check(exercise_id: str, answer) -> None:
    """Print whether ``answer`` to exercise ``exercise_id`` is right, wrong (and why) or not given yet.

    Examples
    --------
    >>> check("04-2", ...)
    04-2: not answered yet. Replace the `...` after `answer =` by your answer, then run this again.
    """
    print(evaluate(exercise_id, answer))


def hint(exercise_id: str, level: int = 1) -> None:
    """Print hint ``level`` (1: which way to go, 2: nearly the answer) of exercise ``exercise_id``.

    Examples
    --------
    >>> hint("04-2")
    04-2, hint 1: ...
    """
    entry = _exercise(exercise_id)
    if level not in (1, 2):
        raise NanoSIMSError(f"level={level!r}: use 1 (a first hint) or 2 (nearly the answer).")
    print(f"{exercise_id}, hint {level}: {entry.hints[level - 1]}")


# --- helpers for the checks ------------------------------------------------------------------


@lru_cache(maxsize=None)
def _sample(name: str):
    from .io.samples import load_sample

    return load_sample(name)


@lru_cache(maxsize=None)
def _default_features(name: str) -> np.ndarray:
    """The sample's counts with :func:`preprocess`'s default, as the exercises compute them."""
    from .preprocessing import preprocess

    return preprocess(_sample(name)[0].counts)


def _name(answer, choices, what: str) -> str:
    """Return the choice ``answer`` names (spaces and case ignored), or raise Wrong."""
    if not isinstance(answer, str):
        raise Wrong(f"Give {what} as a string (in quotes), not a {type(answer).__name__}; `.idxmax()` gives one.")
    for choice in choices:
        if normalize_mass_name(choice).lower() == normalize_mass_name(answer).lower():
            return choice
    raise Wrong(f"{answer!r} is not one of {list(choices)}.")


def _number(answer, what: str) -> float:
    value = float(answer)
    if not np.isfinite(value):
        raise Wrong(f"{what} is {value}: a finite number is expected.")
    return value


def _close(value: float, expected: float, tolerance: float) -> bool:
    return abs(value - expected) <= tolerance


def _phases() -> tuple[str, ...]:
    from .synthetic import PHASES

    return PHASES


# --- lesson 01: loading and normalizing ------------------------------------------------------


@exercise(
    "01-1",
    expects="a mass name such as '16O'",
    hints=(
        "`image.counts == 0` is True where a pixel has no counts; its mean over the two image axes "
        "is the share of zero pixels of each mass.",
        "`pd.Series((image.counts == 0).mean(axis=(0, 1)), index=image.masses)`, then `.idxmax()` "
        "names the mass with the largest share.",
    ),
)
def _check_01_1(answer):
    image, _ = _sample("soil_512_labelled")
    share = pd.Series((image.counts == 0).mean(axis=(0, 1)), index=image.masses)
    mass = _name(answer, image.masses, "the mass")
    if mass == share.idxmin():
        raise Wrong("That is the mass with the FEWEST zero pixels: you want the largest share.")
    if mass != share.idxmax():
        raise Wrong(f"{mass} has {share[mass]:.1%} zero pixels; another mass has more. Compare all masses at once.")
    return f"{mass} has the lowest mean count, below one count per pixel, so most pixels get none."


def _flag_scores(min_denominator: float, factor: float) -> tuple[float, float]:
    """Precision and recall of flagging 12C15N/12C14N > factor x natural, as exercise 01-2 asks."""
    from .preprocessing import ratio_image
    from .synthetic import NATURAL_15N_RATIO

    image, truth = _sample("soil_512_labelled")
    ratio = np.nan_to_num(ratio_image(image, "12C15N", "12C14N", min_denominator=min_denominator))
    flagged = ratio > factor * NATURAL_15N_RATIO
    hotspot = _phases().index("labelled hotspot")
    precision = float((truth[flagged] == hotspot).mean()) if flagged.any() else 0.0
    return precision, float(flagged[truth == hotspot].mean())


@exercise(
    "01-2",
    expects="two numbers: (min_denominator, factor)",
    hints=(
        "Dim pixels give wild ratios from counting noise alone: one 12C15N count over ten 12C14N counts "
        "is already 27 times the natural ratio. Ask for more denominator counts, and for a higher factor.",
        "Try min_denominator between 20 and 100 and a factor between 5 and 20; compute precision "
        "`(truth[flagged] == 4).mean()` and recall `flagged[truth == 4].mean()` for each pair.",
    ),
)
def _check_01_2(answer):
    min_denominator, factor = answer
    min_denominator, factor = _number(min_denominator, "min_denominator"), _number(factor, "the factor")
    if min_denominator <= 0 or factor <= 0:
        raise Wrong("Both numbers must be positive.")
    precision, recall = _flag_scores(min_denominator, factor)
    if recall == 0:
        raise Wrong("With these settings no hotspot pixel is flagged: the factor or min_denominator is too high.")
    if precision <= 0.5:
        raise Wrong(
            f"With these settings the precision is {precision:.2f}: most flagged pixels are not hotspots. "
            "Dim pixels are the noisy ones: ask for more 12C14N counts, or a higher factor."
        )
    if recall <= 0.8:
        raise Wrong(
            f"Precision {precision:.2f} is fine but the recall is {recall:.2f}: you miss true hotspot "
            "pixels. Loosen the setting that throws most of them away."
        )
    return f"Precision {precision:.2f}, recall {recall:.2f}."


@exercise(
    "01-3",
    expects="a dict {'max': after / before, 'percentile': after / before} of median ratios",
    hints=(
        "Copy the counts, spoil one pixel of 12C14N, scale both copies with each method and compare the "
        "medians of the scaled 12C14N channel: divide the spoiled median by the original one.",
        "`np.median(preprocess(spoiled, 'max')[:, :, index])` divided by "
        "`np.median(preprocess(image.counts, 'max')[:, :, index])`, and the same with 'percentile'.",
    ),
)
def _check_01_3(answer):
    from .preprocessing import preprocess

    image, _ = _sample("soil_512_labelled")
    index = image.mass_index("12C14N")
    spoiled = image.counts.copy()
    spoiled[0, 0, index] = 1e6
    for method in ("max", "percentile"):
        given = _number(answer[method], f"answer[{method!r}]")
        before = np.median(preprocess(image.counts, method)[:, :, index])
        after = np.median(preprocess(spoiled, method)[:, :, index])
        if _close(given, before / after, 1e-3 * before / after) and not _close(before, after, 1e-9 * before):
            raise Wrong(f"{method}: your ratio is upside down; divide the spoiled median by the original one.")
        if not _close(given, after / before, 1e-3 * max(after / before, 1e-9)):
            raise Wrong(
                f"{method}: not the ratio of the two medians. Spoil one pixel of 12C14N (and only that) in a "
                "copy, to 1,000,000 counts, and take the median of the scaled 12C14N channel of each."
            )
    return "One pixel squeezes the whole max-scaled channel towards 0; the percentiles do not move."


# --- lesson 02: clustering with k-means ------------------------------------------------------


@exercise(
    "02-1",
    expects="the names of the two phases that share a cluster, e.g. ('organic matter', 'pore/resin')",
    hints=(
        "Cross-tabulate clusters against true phases: `pd.crosstab(labels.ravel(), truth.ravel())`. "
        "For every phase, in which cluster are most of its pixels?",
        "`table.idxmax()` gives the main cluster of every phase (column); two phases have the same one. "
        "`PHASES[p]` names phase p.",
    ),
)
def _check_02_1(answer):
    from .pipeline import cluster_image

    image, truth = _sample("soil_256")
    if isinstance(answer, str) or len(answer) != 2:
        raise Wrong("Give two phase names, e.g. ('organic matter', 'pore/resin').")
    phases = _phases()
    given = {_name(name, phases, "a phase") for name in answer}
    labels = cluster_image(image, 3, method="kmeans", masses=["12C", "16O", "12C14N"], random_state=0).labels
    table = pd.crosstab(labels.ravel(), truth.ravel())
    main_cluster = {phases[p]: table[p].idxmax() for p in table.columns}
    if len(given) != 2:
        raise Wrong("You named the same phase twice.")
    first, second = sorted(given)
    if main_cluster[first] != main_cluster[second]:
        raise Wrong(f"Most {first} pixels and most {second} pixels are in different clusters; look again at the table.")
    return "Without 27Al16O and 56Fe16O both minerals are 'oxygen, little carbon', so k-means cannot part them."


@exercise(
    "02-2",
    expects="a cluster number (int)",
    hints=(
        "`cluster_profiles(image.counts, labels, image.masses)` describes the clusters in counts; pivot it "
        "to one row per cluster and one column per mass.",
        "`profiles.pivot(index='cluster', columns='mass', values='median')['12C14N'].idxmax()`; then "
        "`np.bincount(truth[labels == c]).argmax()` is the main phase of cluster c.",
    ),
)
def _check_02_2(answer):
    from .pipeline import cluster_image

    image, truth = _sample("soil_256")
    labels = cluster_image(image, 4, method="kmeans", random_state=0).labels
    cn = image.counts[:, :, image.mass_index("12C14N")]
    medians = pd.Series([np.median(cn[labels == c]) for c in range(labels.max() + 1)])
    if isinstance(answer, str):
        raise Wrong("Give the cluster's number, not a name: the phase comes after, from the truth.")
    cluster = int(answer)
    if cluster != answer or not 0 <= cluster < len(medians):
        raise Wrong(f"{answer!r} is not a cluster number: they run from 0 to {len(medians) - 1}.")
    if cluster == medians.idxmin():
        raise Wrong("That is the cluster with the LOWEST median 12C14N.")
    if cluster != medians.idxmax():
        raise Wrong(
            "Another cluster has a higher median 12C14N count. "
            "Did you use method='kmeans', 4 clusters and random_state=0?"
        )
    phase = _phases()[np.bincount(truth[labels == cluster]).argmax()]
    return f"Cluster {cluster} is mostly {phase}: nitrogen (12C14N) marks organic matter."


# --- lesson 03: reducing dimensions with PCA -------------------------------------------------


def _pca_of_default_features() -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (largest first) and eigenvectors (columns) of the covariance of the pixels."""
    table = _default_features("soil_256").reshape(-1, _sample("soil_256")[0].counts.shape[-1])
    values, vectors = np.linalg.eigh(np.cov(table, rowvar=False))
    return values[::-1], vectors[:, ::-1]


@exercise(
    "03-1",
    expects="a number of components (int)",
    hints=(
        "The cumulative sum of `pca.explained_variance_ratio_` says how much the first 1, 2, 3, ... "
        "components explain together. Which is the first to reach 0.9?",
        "`np.searchsorted(np.cumsum(ratios), 0.9)` is the POSITION (counted from 0) of the first sum that "
        "reaches 0.9: the number of components is one more.",
    ),
)
def _check_03_1(answer):
    values, _ = _pca_of_default_features()
    cumulative = np.cumsum(values / values.sum())
    n = int(answer)
    if n != answer or not 1 <= n <= len(values):
        raise Wrong(f"{answer!r}: give a whole number of components between 1 and {len(values)}.")
    if cumulative[n - 1] < 0.9:
        raise Wrong(
            f"{n} component(s) explain {cumulative[n - 1]:.1%}, less than 90 %. Counting from 0 is the usual "
            "cause: a position from searchsorted is one less than a number of components."
        )
    if n > 1 and cumulative[n - 2] >= 0.9:
        raise Wrong(f"{n - 1} components already explain {cumulative[n - 2]:.1%}: you want the smallest number.")
    return f"{n} components explain {cumulative[n - 1]:.1%}, {n - 1} only {cumulative[n - 2] if n > 1 else 0:.1%}."


@exercise(
    "03-2",
    expects="a mass name such as '16O'",
    hints=(
        "The loadings of PC3 are `pca.components_[2]` (the third row: rows count from 0). The sign of a "
        "loading is arbitrary: compare absolute values.",
        "`pd.Series(pca.components_[2], index=image.masses).abs().idxmax()`.",
    ),
)
def _check_03_2(answer):
    image, _ = _sample("soil_256")
    mass = _name(answer, image.masses, "the mass")
    _, vectors = _pca_of_default_features()
    weights = pd.Series(np.abs(vectors[:, 2]), index=image.masses)
    if mass != weights.idxmax():
        for position, name in (("first", 0), ("second", 1)):
            if mass == image.masses[int(np.argmax(np.abs(vectors[:, name])))]:
                raise Wrong(f"That mass drives the {position} component. PC3 is the third row, `components_[2]`.")
        if mass == weights.idxmin():
            raise Wrong("That mass has the smallest weight on PC3. Compare absolute loadings, largest first.")
        raise Wrong(f"{mass} is not the largest absolute loading of PC3 (the sign does not matter).")
    return "Its loading is the largest of PC3, whatever the sign."


# --- lesson 04: judging a clustering ---------------------------------------------------------

#: ARI differences up to this count as a tie in exercise 04-1: on one image they are noise.
TIE_04_1 = 0.01

#: The scalings exercise 04-1 compares; RECOMMENDED_PREPROCESSING is added when it is not among them.
SCALINGS_04_1 = ("max", "percentile", "zscore", "asinh", "anscombe+zscore")


def scalings_04_1() -> tuple[str, ...]:
    """The scalings of exercise 04-1: :data:`SCALINGS_04_1` and the kit's default preprocessing for k-means."""
    from .preprocessing import RECOMMENDED_PREPROCESSING

    return tuple(dict.fromkeys((*SCALINGS_04_1, RECOMMENDED_PREPROCESSING)))


@lru_cache(maxsize=None)
def _ari_by_scaling() -> pd.Series:
    from .metrics import adjusted_rand
    from .pipeline import cluster_image

    image, truth = _sample("soil_256")
    return pd.Series({
        name: adjusted_rand(cluster_image(image, 4, method="kmeans", preprocessing=name, random_state=0).labels, truth)
        for name in scalings_04_1()
    })


@exercise(
    "04-1",
    expects="the name of a scaling, such as 'zscore'",
    hints=(
        "Cluster with k-means and each scaling (same k = 4, same random_state), compute the adjusted Rand index of "
        "each label map with the truth, and compare.",
        "`pd.Series({name: adjusted_rand(cluster_image(image, 4, method='kmeans', preprocessing=name, "
        "random_state=0).labels, truth) for name in scalings_04_1()})`, then `.idxmax()`.",
    ),
)
def _check_04_1(answer):
    ari = _ari_by_scaling()
    scaling = _name(answer, ari.index, "the scaling")
    if scaling == ari.idxmin():
        raise Wrong(f"{scaling} gives the LOWEST agreement with the truth of all; compare every scaling's ARI.")
    if ari.max() - ari[scaling] > TIE_04_1:
        raise Wrong(f"{scaling} gives ARI {ari[scaling]:.3f}, but another scaling agrees better with the truth.")
    ties = [name for name in ari.index if ari.max() - ari[name] <= TIE_04_1]
    tie = f"; {len(ties)} scalings are within {TIE_04_1} of each other: one image cannot settle that" * (len(ties) > 1)
    return f"ARI {ari[scaling]:.3f}{tie}; max scaling only {ari['max']:.3f}."


@exercise(
    "04-2",
    expects="two numbers: (ARI of the renumbered truth, ARI of random labels)",
    hints=(
        "Renumber the truth so that every phase gets another number, e.g. `3 - truth`, and compare it with "
        "`adjusted_rand(renumbered, truth)`. Draw random labels with a seeded generator.",
        "`adjusted_rand(3 - truth, truth)` and "
        "`adjusted_rand(np.random.default_rng(0).integers(0, 4, size=truth.shape), truth)`.",
    ),
)
def _check_04_2(answer):
    renumbered, chance = (_number(value, "each ARI") for value in answer)
    if not _close(renumbered, 1.0, 1e-9):
        raise Wrong(
            f"The renumbered map gives {renumbered:.3f}. A renumbering keeps every group of pixels together: "
            "compare with adjusted_rand, not with `==` on the labels."
        )
    if not abs(chance) < 0.01:
        raise Wrong(
            f"Random labels give {chance:.3f}? Expected about 0 for any seed. A share of equal labels (about "
            "1/4 for 4 clusters) is not the adjusted Rand index."
        )
    return "The ARI ignores cluster numbers, and is near 0 (it can be negative) for chance."


# --- lesson 05: choosing the number of clusters ----------------------------------------------


@lru_cache(maxsize=None)
def _over_split():
    from .clustering import kmeans_map

    return kmeans_map(_default_features("soil_256"), n_clusters=12, random_state=0)


@exercise(
    "05-1",
    expects="a number of groups (int)",
    hints=(
        "Regroup the same 12 clusters into n = 2, ..., 6 groups and compute, for each n, the adjusted Rand "
        "index of the regrouped labels with the truth.",
        "`pd.Series({n: adjusted_rand(regroup_clusters(many.labels, many.centers, n_groups=n).labels, truth) "
        "for n in range(2, 7)}).idxmax()`.",
    ),
)
def _check_05_1(answer):
    from .hierarchical import regroup_clusters
    from .metrics import adjusted_rand

    _, truth = _sample("soil_256")
    many = _over_split()
    ari = pd.Series({n: adjusted_rand(regroup_clusters(many.labels, many.centers, n_groups=n).labels, truth)
                     for n in range(2, 7)})
    n = int(answer)
    if n != answer or n not in ari.index:
        raise Wrong(f"{answer!r}: give a number of groups from 2 to 6.")
    if n != ari.idxmax():
        raise Wrong(f"With {n} groups the ARI is {ari[n]:.3f}; another n agrees better with the truth.")
    return f"ARI {ari[n]:.3f}, the best of n = 2 to 6; the truth has {len(np.unique(truth))} phases."


@exercise(
    "05-2",
    expects="a label map of the image's shape (y, x): one group number per pixel",
    hints=(
        "Name each of the 12 clusters from its mean profile (as in lesson 02: the phase whose signature mass "
        "is strongest), then give every pixel the name of its cluster.",
        "`names = signatures.idxmax(axis=1)`; `np.unique(names, return_inverse=True)[1]` numbers the names; "
        "index that array with `many.labels` to get one group number per pixel.",
    ),
)
def _check_05_2(answer):
    from .metrics import adjusted_rand
    from .profiles import profile_matrix

    image, truth = _sample("soil_256")
    many = _over_split()
    named = np.asarray(answer)
    if named.shape != truth.shape:
        if named.shape == (12,):
            raise Wrong("That is one group per CLUSTER: index it with `many.labels` to get one per pixel.")
        raise Wrong(f"Your map has shape {named.shape}; the image is {truth.shape}, one group per pixel.")
    means = pd.DataFrame(profile_matrix(many.features, many.labels), columns=image.masses)
    signatures = pd.DataFrame({
        "organic matter": means["12C14N"],
        "aluminosilicate": means["27Al16O"],
        "iron oxide": means["56Fe16O"],
        "pore/resin": means["12C"] - means["12C14N"],
    })
    expected = np.unique(signatures.idxmax(axis=1), return_inverse=True)[1][many.labels]
    if adjusted_rand(named, many.labels) == 1.0:
        raise Wrong("Your map still has the 12 clusters: merge the clusters that get the same name.")
    if adjusted_rand(named, expected) != 1.0:
        if adjusted_rand(named, np.unique(signatures.idxmin(axis=1), return_inverse=True)[1][many.labels]) == 1.0:
            raise Wrong("You named every cluster after its WEAKEST signature: take the largest.")
        raise Wrong(
            "These groups differ from naming every cluster after its strongest signature (mean profiles of "
            "`many.features`, the four signatures of lesson 02)."
        )
    return (f"ARI with the truth {adjusted_rand(named, truth):.3f}, against "
            f"{adjusted_rand(many.labels, truth):.3f} for the 12 clusters.")


# --- lesson 06: hierarchical clustering ------------------------------------------------------


@lru_cache(maxsize=None)
def _tree():
    from .hierarchical import ward_tree

    return ward_tree(_default_features("soil_256"), random_state=0)


@exercise(
    "06-1",
    expects="a height (a number)",
    hints=(
        "`tree.linkage[:, 2]` lists the merge heights, lowest first. A cut between two merge heights keeps "
        "every merge below it and undoes every merge above it.",
        "The last 3 merges join the 4 clusters into one: any height between the 4th-last and the 3rd-last "
        "merge heights, `tree.linkage[-4, 2]` and `tree.linkage[-3, 2]`, works.",
    ),
)
def _check_06_1(answer):
    from .hierarchical import cut_tree
    from .metrics import adjusted_rand

    tree = _tree()
    height = _number(answer, "the height")
    if height <= 0:
        raise Wrong("Heights are positive distances.")
    by_height = cut_tree(tree, height=height)
    n = len(np.unique(by_height))
    if n > 4:
        raise Wrong(f"That height gives {n} clusters: cut higher up the tree.")
    if n < 4:
        raise Wrong(f"That height gives {n} cluster(s): cut lower down the tree.")
    if adjusted_rand(by_height, cut_tree(tree, n_clusters=4)) != 1.0:
        raise Wrong("4 clusters, but not the same as cutting into 4: is `tree` the one of the exercise?")
    return "Any height between the 4th-last and the 3rd-last merge gives the same 4 clusters."


@exercise(
    "06-2",
    expects="the lower of the two agreements (a number)",
    hints=(
        "`compare_with_exact(crop, n_clusters=4, random_state=0).adjusted_rand` is the agreement of the "
        "fast method with exact Ward on one crop; do both crops and keep the lower.",
        "`min(compare_with_exact(features[:64, :64], ...).adjusted_rand, "
        "compare_with_exact(features[-64:, -64:], ...).adjusted_rand)`.",
    ),
)
def _check_06_2(answer):
    from .hierarchical import compare_with_exact

    features = _default_features("soil_256")
    agreements = [compare_with_exact(crop, n_clusters=4, random_state=0).adjusted_rand
                  for crop in (features[:64, :64], features[-64:, -64:])]
    value = _number(answer, "the agreement")
    if _close(value, max(agreements), 1e-6) and not _close(value, min(agreements), 1e-6):
        raise Wrong("That is the HIGHER of the two agreements; the question asks for the lower.")
    if not _close(value, min(agreements), 1e-6):
        raise Wrong(
            "Not the agreement of either crop. Compare the fast method with exact Ward (compare_with_exact "
            "does both) on each 64 x 64 crop, 4 clusters, random_state=0; the truth map is not needed."
        )
    return "On small crops the fast method and exact Ward agree closely."


# --- lesson 07: real images ------------------------------------------------------------------


@lru_cache(maxsize=1)
def _openmims_halves():
    """The two halves of the kit's real single-plane file, split as exercise 07-1 asks."""
    from .io.loading import load_image
    from .io.real_data import DEFAULT_FOLDER
    from .split_half import split_counts

    return split_counts(load_image(DEFAULT_FOLDER / "openmims_051117.im"), random_state=0)


@exercise(
    "07-1",
    expects="the ratio for 12C 15N (a number)",
    hints=(
        "`first, second = split_counts(load_image(openmims), random_state=0)`; `first.counts` is (y, x, mass): "
        "average over the pixels with `.mean(axis=(0, 1))`, and pick the mass with `first.masses.index(...)`.",
        "`(((first.counts - second.counts) ** 2).mean(axis=(0, 1)) / (first.counts + second.counts)"
        ".mean(axis=(0, 1)))[first.masses.index('12C 15N')]`.",
    ),
)
def _check_07_1(answer):
    first, second = _openmims_halves()
    ratios = ((first.counts - second.counts) ** 2).mean(axis=(0, 1)) / (first.counts + second.counts).mean(axis=(0, 1))
    value = _number(answer, "the ratio")
    wanted = ratios[first.masses.index("12C 15N")]
    if _close(value, 1 / wanted, 1e-6) and not _close(value, wanted, 1e-6):
        raise Wrong("That is the mean of A + B over the mean of (A - B) ** 2: divide the other way round.")
    if not _close(value, wanted, 1e-6) and any(_close(value, other, 1e-6) for other in ratios):
        raise Wrong("That is the ratio of another mass; the question asks for 12C 15N.")
    if not _close(value, wanted, 1e-6):
        raise Wrong("Not the mean of (A - B) ** 2 over the mean of A + B for 12C 15N, with the halves of "
                    "split_counts(load_image(openmims), random_state=0).")
    return "Close to 1: each ion went to one half or the other independently, so the halves are Poisson."


@lru_cache(maxsize=1)
def _crop_scores_07_2() -> pd.DataFrame:
    from .io.image import NanoSIMSImage
    from .split_half import split_half_scores

    image = _sample("realistic_256")[0]
    crop = NanoSIMSImage.from_planes(image.planes[:, :128, :128], image.masses)
    return split_half_scores(crop, [6], random_state=0)


@exercise(
    "07-2",
    expects="the default pipeline's split-half F1 at k = 6 (a number)",
    hints=(
        "`split_half_scores(crop, range(4, 8), random_state=0)` clusters the halves with the default pipeline; "
        "its column `split_half_f1` holds the score of each k.",
        "`default.loc[default['k'] == 6, 'split_half_f1'].item()`.",
    ),
)
def _check_07_2(answer):
    table = _crop_scores_07_2()
    value = _number(answer, "the split-half F1")
    if _close(value, table["split_half_ari"].item(), 1e-6) and not _close(value, table["split_half_f1"].item(), 1e-6):
        raise Wrong("That is the split-half ARI; the question asks for the split-half F1 (the worst-matched cluster).")
    if not _close(value, table["split_half_f1"].item(), 1e-6):
        raise Wrong("Not the default pipeline's split-half F1 at k = 6 on the top-left 128 x 128 crop "
                    "(random_state=0); is the crop the one of the exercise, with its planes?")
    return "The worst-matched cluster's F1: compare it with the other pipeline's at the same k."


# --- lesson 08: isotope ratios ---------------------------------------------------------------


def _organic_13c_counts() -> tuple[np.ndarray, np.ndarray]:
    """13C and 12C counts of the organic-matter pixels of the labelled sample (exercise 08-1)."""
    image, truth = _sample("soil_512_labelled")
    organic = truth == _phases().index("organic matter")
    return image.channel("13C")[organic], image.channel("12C")[organic]


@exercise(
    "08-1",
    expects="two numbers: (ratio, standard error)",
    hints=(
        "Sum the 13C counts and the 12C counts of the organic-matter pixels first (N and D), then "
        "divide; both counts are Poisson, so both add to the error.",
        "`N, D = n.sum(), d.sum()`, `R = N / D`, `se = R * np.sqrt(1 / N + 1 / D)`; answer `(R, se)`.",
    ),
)
def _check_08_1(answer):
    ratio, se = answer
    ratio, se = _number(ratio, "the ratio"), _number(se, "the standard error")
    n, d = _organic_13c_counts()
    total_n, total_d = float(n.sum()), float(d.sum())
    right_ratio = total_n / total_d
    if _close(ratio, float(np.mean(n[d > 0] / d[d > 0])), 1e-9 * right_ratio):
        raise Wrong("That is the mean of the pixels' own ratios, biased at low counts: sum the counts, then divide.")
    if _close(ratio, total_d / total_n, 1e-6 * total_d / total_n):
        raise Wrong("The ratio is upside down: the minor isotope (13C) goes on top.")
    if not _close(ratio, right_ratio, 1e-9 * right_ratio):
        raise Wrong("The ratio is not the summed 13C counts over the summed 12C counts of the organic-matter pixels.")
    right_se = right_ratio * np.sqrt(1 / total_n + 1 / total_d)
    if _close(se, right_ratio * np.sqrt(1 / total_n), 1e-9 * right_se):
        raise Wrong("The error leaves out the 12C counts: they are Poisson too, so 1/D belongs under the root.")
    if _close(se, right_ratio * (1 / total_n + 1 / total_d), 1e-9 * right_se):
        raise Wrong("The error is missing its square root.")
    if not _close(se, right_se, 1e-9 * right_se):
        raise Wrong("The ratio is right, the error is not R sqrt(1/N + 1/D) with the summed counts.")
    return "The ratio of summed counts and its Poisson error, as isotope_table reports them."


@exercise(
    "08-2",
    expects="a fraction between 0 and 1",
    hints=(
        "Draw the 4000 minor and major counts with `rng.poisson`, compute each ratio and its error "
        "with the formula, and count how often `abs(ratio - 0.5) <= error`.",
        "`ratios = minor / major`, `errors = ratios * np.sqrt(1 / minor + 1 / major)`, "
        "`answer = np.mean(np.abs(ratios - 0.5) <= errors)`.",
    ),
)
def _check_08_2(answer):
    coverage = _number(answer, "the coverage")
    if 1 < coverage <= 100:
        raise Wrong("Give the coverage as a fraction between 0 and 1, not a percentage.")
    if not 0 <= coverage <= 1:
        raise Wrong("A coverage is a fraction of the intervals, between 0 and 1.")
    if coverage < 0.64:
        raise Wrong("Too few intervals cover the true ratio: the errors are too small. Is 1/D under the root?")
    if coverage > 0.72:
        raise Wrong("Too many intervals cover the true ratio: the errors are too large (the interval is +/- 1 SE).")
    return "About 68 % of the +/- 1 SE intervals cover the true ratio, as for a normal error."


@lru_cache(maxsize=1)
def _largest_15n_08_3() -> dict[str, float]:
    """The largest 15N/14N of the 4 clusters of exercise 08-3's flat image (one natural composition
    everywhere, as in lesson 08), three ways, and the true ratio."""
    from .io.image import NanoSIMSImage
    from .isotopes import AIR_15N_14N, DEFAULT_RATIOS, VPDB_13C_12C, isotope_table, ratio_of_sums
    from .pipeline import cluster_image

    means = [300.0, 300.0 * VPDB_13C_12C, 50.0, 60.0, 60.0 * AIR_15N_14N]
    counts = np.random.default_rng(3).poisson(means, size=(96, 96, 5)).astype(float)
    flat = NanoSIMSImage(counts, ("12C", "13C", "16O", "12C14N", "12C15N"))
    split = cluster_image(flat, 4, ratios=DEFAULT_RATIOS)
    rows = isotope_table(flat, split, DEFAULT_RATIOS).query("isotope == '15N/14N'")
    all_counts = isotope_table(flat, split.labels.copy(), DEFAULT_RATIOS).query("isotope == '15N/14N'")
    circular = cluster_image(flat, 4).labels
    n, d = flat.channel("12C15N"), flat.channel("12C14N")
    return {
        "held_out": float(rows["ratio_of_sums"].max()),
        "others": tuple(rows["ratio_of_sums"].tolist()),
        "all_counts": float(all_counts["ratio_of_sums"].max()),
        "circular": max(ratio_of_sums(n[circular == c], d[circular == c])[0] for c in range(4)),
        "truth": AIR_15N_14N,
    }


@exercise(
    "08-3",
    expects="a ratio (a number)",
    hints=(
        "Give cluster_image the ratios you will test: it finds the clusters on half their masses' counts and "
        "keeps the other half, which isotope_table then tests.",
        "Cluster with ratios=RATIOS (4 clusters, the default method and seed), make the table from the result, "
        "keep the rows whose isotope is 15N/14N and take the largest ratio_of_sums.",
    ),
)
def _check_08_3(answer):
    value = _number(answer, "the ratio")
    found = _largest_15n_08_3()
    if _close(value, found["circular"], 1e-9):
        raise Wrong("That is the 15N/14N of clusters found on every count, tested on those same counts: the "
                    "clusters picked pixels whose 12C15N came out high by chance, so the ratio is biased. Hold "
                    "half the counts out of the clustering.")
    if _close(value, found["all_counts"], 1e-9):
        raise Wrong("The clusters were found on half the counts, but this ratio sums every count, the half that "
                    "chose the clusters included; give isotope_table the result itself, not a copy of its labels.")
    if _close(value, found["truth"], 1e-7):
        raise Wrong("That is the true 15N/14N of the image (air); the question asks what the table reports.")
    if _close(value, found["held_out"], 1e-9):
        return ("The held-out half never chose the clusters: even the largest cluster ratio lies near the truth, "
                "where clusters found and tested on the same counts reach several times it.")
    if any(_close(value, other, 1e-9) for other in found["others"]):
        raise Wrong("That is one cluster's 15N/14N on the held-out half, but not the largest.")
    raise Wrong("Not the largest held-out 15N/14N of cluster_image(flat, 4, ratios=RATIOS) with the default "
                "method and random_state.")

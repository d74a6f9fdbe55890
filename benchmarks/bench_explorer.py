"""The explorer's update after the k slider moved: cached steps against recomputing everything.

Run from the repository root: ``python -m benchmarks.bench_explorer [--repeat 5]``.

Both time one call of :func:`nanosims_helpers.explorer.views.cluster_view` for k = 5 (cluster
map, scores and the profile figure as PNG) on the 256 x 256 sample, in a fresh process each:

* naive: a fresh :class:`~nanosims_helpers.explorer.state.ExplorerState`, so the update
  preprocesses the channels again (and, for hierarchical, builds the Ward tree again); one
  untimed update on another state first, so that both pay no first-call costs (imports, fonts);
* kit: a state that already showed k = 4, as after the user moved the slider from 4 to 5:
  preprocessing and Ward tree come from the cache; only the clustering for the new k (KMeans,
  or a new cut of the tree), its scores and its images are computed.

A third column times a k seen before (labels and scores cached too). All must give the same
scores (column "same result"). The target is under 0.5 s for the kit on an idle 2-core machine.
Every case runs with the explorer on one thread and on all threads, the cases taking turns.
"""

from __future__ import annotations

import argparse

from benchmarks._measure import LOAD_NOTE, THREAD_SETTINGS, measure_interleaved, print_table, ratio, threads_label
from nanosims_helpers.explorer.state import ExplorerState, Settings
from nanosims_helpers.explorer.views import cluster_view
from nanosims_helpers.teaching.samples import load_sample

SAMPLE = "soil_256"
FROM_K, TO_K = 4, 5
METHODS = ("kmeans", "hierarchical")


def _update(state: ExplorerState, method: str):
    """The timed call: what the widget does after k changed; returns the scores to compare."""
    def run():
        view = cluster_view(state, Settings(n_clusters=TO_K, method=method))
        return view.scores["value"].to_dict()
    return run


def naive_case(method: str, threads: int):
    """Setup: an explorer with empty caches (after one untimed update elsewhere warmed the libraries)."""
    image, truth = load_sample(SAMPLE)
    cluster_view(ExplorerState(image, truth=truth, n_threads=threads), Settings(n_clusters=FROM_K))
    return _update(ExplorerState(image, truth=truth, n_threads=threads), method)


def cached_case(method: str, threads: int):
    """Setup: an explorer that already showed k = FROM_K with the same settings."""
    image, truth = load_sample(SAMPLE)
    state = ExplorerState(image, truth=truth, n_threads=threads)
    cluster_view(state, Settings(n_clusters=FROM_K, method=method))
    return _update(state, method)


def revisit_case(method: str, threads: int):
    """Setup: an explorer that showed k = TO_K, then FROM_K: the slider goes back to a k seen before."""
    image, truth = load_sample(SAMPLE)
    state = ExplorerState(image, truth=truth, n_threads=threads)
    for k in (TO_K, FROM_K):
        cluster_view(state, Settings(n_clusters=k, method=method))
    return _update(state, method)


def main(repeat: int = 5) -> None:
    cases = {(kind, method, threads): (f"benchmarks.bench_explorer:{kind}_case", (method, threads), {}, None)
             for threads in THREAD_SETTINGS for method in METHODS for kind in ("naive", "cached", "revisit")}
    found = measure_interleaved(cases, repeat=repeat)
    rows = []
    for threads in THREAD_SETTINGS:
        for method in METHODS:
            naive, cached, revisit = (found[(kind, method, threads)] for kind in ("naive", "cached", "revisit"))
            same = naive.result == cached.result == revisit.result
            rows.append([
                method, threads_label(threads), naive.timing(3), cached.timing(3), ratio(naive.seconds, cached.seconds),
                revisit.timing(3), "yes" if same else "NO", f"{naive.peak_mib:.0f} / {cached.peak_mib:.0f}",
            ])
    print_table(
        f"Explorer: update after k {FROM_K} -> {TO_K} on {SAMPLE} "
        f"(median (range) of {repeat} interleaved fresh processes)",
        ["method", "threads", "recompute all s", "cached s", "ratio", "k seen before s", "same result",
         "peak MiB naive / cached"],
        rows,
        ["Times include the scores and the PNG images; peak memory is the process' maximum RSS. "
         "threads = ExplorerState(threads=...), the explorer's own setting (default 1).",
         "'k seen before': labels and scores come from the cache too; only the images are drawn.", LOAD_NOTE],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    main(parser.parse_args().repeat)

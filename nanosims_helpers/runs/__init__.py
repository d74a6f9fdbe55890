"""Runs that produce a folder of results: the per-image run, the study run, their files and summary.

* :mod:`~nanosims_helpers.runs.one_image`: load, cluster, score and write one input
  (:func:`~nanosims_helpers.runs.one_image.cluster_file`, the per-image record);
* :mod:`~nanosims_helpers.runs.many_images`: every input of a run, the summary, and what the
  output folder keeps (:func:`~nanosims_helpers.runs.many_images.finish_run`);
* :mod:`~nanosims_helpers.runs.outputs`: the files of one clustered image;
* :mod:`~nanosims_helpers.runs.study_outputs`: the files of a study clustered with one model.

The ``nanosims-cluster`` command (:mod:`nanosims_helpers.cli`) parses its arguments and hands
them to these modules; in a notebook, the writers save a result the same way.
"""

from .._lazy import attach

#: The command whose runs these are, as its messages name it.
PROG = "nanosims-cluster"

#: What the command says when Ctrl-C stops it before any input ran.
INTERRUPTED_WHILE_STARTING = f"{PROG}: interrupted while starting; nothing was written"

#: The file written over all inputs of a run, one row per input.
SUMMARY_NAME = "summary.csv"

__getattr__, __dir__, __all__ = attach(__name__, ["many_images", "one_image", "outputs", "study_outputs"])
__all__ = ["INTERRUPTED_WHILE_STARTING", "PROG", "SUMMARY_NAME", *__all__]

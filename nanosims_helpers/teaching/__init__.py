"""The course beside the library: the lessons' samples, simulators, checks and the hackathon.

* :mod:`~nanosims_helpers.teaching.samples`: the sample images and their true phases (``load_sample``);
* :mod:`~nanosims_helpers.teaching.synthetic` and :mod:`~nanosims_helpers.teaching.realistic`:
  simulated NanoSIMS images whose truth is known;
* :mod:`~nanosims_helpers.teaching.supervised`: a classifier trained on a simulated truth, the
  ceiling the clustering methods are measured against;
* :mod:`~nanosims_helpers.teaching.challenge`: the hackathon challenge and its command,
  ``nanosims-challenge``;
* :mod:`~nanosims_helpers.teaching.exercises`: the lessons' checks and hints (the framework and one
  module per lesson), :mod:`~nanosims_helpers.teaching.environment_check` (lesson 00's first cell)
  and :mod:`~nanosims_helpers.teaching.primer` (lesson 00's schematic of the instrument).

The library (:mod:`nanosims_helpers` outside this subpackage) never imports it; lessons, tests,
benchmarks and docstring examples do.
"""

from .._lazy import attach

_SUBMODULES = ["challenge", "environment_check", "exercises", "primer", "realistic", "samples", "supervised",
               "synthetic"]
__getattr__, __dir__, __all__ = attach(__name__, _SUBMODULES)

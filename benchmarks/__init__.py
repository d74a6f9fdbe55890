"""Benchmarks of the kit against the naive approach: ``python -m benchmarks.run_all [--quick]``."""

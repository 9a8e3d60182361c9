"""Benchmarks: printed numbers and ratios, never pass/fail. `make bench` runs them all."""

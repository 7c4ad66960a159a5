"""Benchmarks: run each as `.ci/dev python -m bench.<name>` from the repository root."""

"""The performance bench (`.ci/dev bench`): the gateway as users run it, against a
hand-written floor. Other benchmarks run as `.ci/dev python -m bench.<name>`."""

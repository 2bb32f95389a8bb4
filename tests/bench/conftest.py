"""The benchmarks are scripts (`python tests/bench/broadcast.py --help`), not tests."""

collect_ignore_glob = ["*.py"]

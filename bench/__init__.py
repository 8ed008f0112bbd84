"""Benchmarks (`make bench`): each prints our path next to a bare baseline measured in the same run."""

"""Benchmarks (`make bench`): sync speed, API calls and start-up, against the targets."""

"""Tooling around the backend: local stack, spec, bootstrap, seed, benchmarks."""
